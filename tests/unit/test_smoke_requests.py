"""The smoke inference of any service's endpoint, through the real client against a fake
transport: what is sent per task type (rerank's `query` and documents), and what is judged.
No service-specific code: the endpoints below are of four services, checked by task type."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.model import DesiredEndpoint, LiveEndpoint, Location, Options
from reconciler.smoke import DEFAULT_DOCUMENTS, DEFAULT_QUERY, smoke_test
from reconciler.target import Target

pytestmark = pytest.mark.anyio

CANARY = "canary-key-0123456789abcdef"


def desired(
    inference_id: str, task_type: str, service: str, options: Options | None = None, **settings: Any
) -> DesiredEndpoint:
    return DesiredEndpoint(
        inference_id=inference_id,
        task_type=task_type,
        body={"service": service, "service_settings": {"model_id": "m", **settings}},
        secrets={},
        options=options or Options(),
        origin=Location(f"{inference_id}.yaml"),
    )


ANSWERS: dict[str, Any] = {
    "rerank": {
        "rerank": [
            {"index": 1, "relevance_score": 0.9, "text": "b"},
            {"index": 0, "relevance_score": 0.1, "text": "a"},
        ]
    },
    "sparse_embedding": {"sparse_embedding": [{"is_truncated": False, "embedding": {"x": 0.5}}]},
    "text_embedding": {"text_embedding_bits": [{"embedding": [1, 2, 3, 4]}]},
    "completion": {"completion": [{"result": f"leaked {CANARY}"}]},
}


async def run(pairs: list[tuple[DesiredEndpoint, LiveEndpoint | None]], **kw: Any) -> Any:
    sent: dict[str, Any] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        task_type = request.url.path.split("/")[2]
        sent[task_type] = json.loads(request.content)
        return httpx.Response(200, json=ANSWERS[task_type])

    client = EsClient(Target("http://es.test"), transport=httpx.MockTransport(answer))
    async with client:
        results = await smoke_test(client, pairs, **kw)
    return sent, {r.inference_id: r for r in results}


async def test_each_service_is_smoke_tested_by_its_task_type() -> None:
    pairs: list[tuple[DesiredEndpoint, LiveEndpoint | None]] = [
        (
            desired(
                "rr", "rerank", "cohere", Options(smoke_input=("a", "b"), smoke_query="which?")
            ),
            None,
        ),
        (desired("sp", "sparse_embedding", "elasticsearch"), None),
        (desired("te", "text_embedding", "cohere", embedding_type="bit", dimensions=32), None),
    ]
    sent, results = await run(pairs)
    assert sent["rerank"] == {"input": ["a", "b"], "query": "which?"}
    assert sent["sparse_embedding"] == {"input": "reconcile smoke test"}
    assert {i: (r.ok, r.detail) for i, r in results.items()} == {
        "rr": (True, "ranked 2 inputs, top: input 1"),
        "sp": (True, "1 sparse vector of 1 tokens"),
        "te": (True, "1 bit vector of 32 dimensions"),
    }


async def test_rerank_without_a_request_sends_the_defaults_and_checks_all_three() -> None:
    sent, results = await run([(desired("rr", "rerank", "googlevertexai"), None)])
    assert sent["rerank"] == {"input": list(DEFAULT_DOCUMENTS), "query": DEFAULT_QUERY}
    assert results["rr"].ok is False  # the fake ranks two of the three defaults
    assert results["rr"].detail == "input 2 missing from the ranking"


async def test_what_the_server_says_back_is_scrubbed_of_known_secrets() -> None:
    from reconciler.secrets import Secret

    endpoint = DesiredEndpoint(
        inference_id="c",
        task_type="completion",
        body={"service": "amazonbedrock", "service_settings": {"model_id": "m"}},
        secrets={("service_settings", "secret_key"): Secret(CANARY)},
        options=Options(),
        origin=Location("c.yaml"),
    )
    _, results = await run([(endpoint, None)])
    assert results["c"].ok and CANARY not in repr(results)
