"""EsClient against the sandbox in process (`httpx.ASGITransport`): the real request path.

Assertions are on what the server ends up holding, read back through the same API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reconciler.client import ConflictError, EsClient
from reconciler.errors import NotFoundError, PermanentApiError, TemporaryApiError
from reconciler.retry import RetryPolicy
from reconciler.sandbox import SandboxApp
from reconciler.sandbox.faults import FaultRule
from reconciler.secrets import Secret
from reconciler.target import Target
from tests.fixtures.sandbox import make_sandbox_app

pytestmark = pytest.mark.anyio

GOOD_KEY = "sk-good-0123456789abcdef"
EMBEDDING = {"service": "openai", "service_settings": {"model_id": "text-embedding-3-small"}}
CHAT = {"service": "openai", "service_settings": {"model_id": "gpt-4o-mini"}}


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def sandbox(sleeps: Sleeps) -> AsyncIterator[tuple[SandboxApp, EsClient]]:
    app = make_sandbox_app(openai_keys={GOOD_KEY})
    async with client_for(app, sleeps) as es:
        yield app, es
    await app.aclose()


def client_for(app: SandboxApp, sleeps: Sleeps) -> EsClient:
    policy = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=4.0)
    transport = httpx.ASGITransport(app=app)
    return EsClient(Target("http://sandbox"), transport=transport, retry=policy, sleep=sleeps)


async def test_lifecycle_put_get_update_delete(sandbox: tuple[SandboxApp, EsClient]) -> None:
    _app, es = sandbox
    created = await es.put_endpoint("completion", "comp", CHAT, Secret(GOOD_KEY), "30s")
    assert created.body["service_settings"]["rate_limit"] == {"requests_per_minute": 500}
    assert "api_key" not in json.dumps(created.body)

    updated = await es.update_endpoint("completion", "comp", {"task_settings": {"user": "bob"}})
    assert updated.body["task_settings"] == {"user": "bob"}
    assert (await es.get_endpoint("completion", "comp")).body["task_settings"] == {"user": "bob"}

    result = await es.delete_endpoint("completion", "comp")
    assert result.acknowledged
    with pytest.raises(NotFoundError):
        await es.get_endpoint("completion", "comp")


async def test_listing_includes_preconfigured_endpoints(
    sandbox: tuple[SandboxApp, EsClient],
) -> None:
    _app, es = sandbox
    await es.put_endpoint("text_embedding", "emb", EMBEDDING, Secret(GOOD_KEY))
    before = es.request_count
    endpoints = {e.inference_id: e for e in await es.list_endpoints()}
    assert es.request_count - before == 1
    assert endpoints["emb"].body["service_settings"]["dimensions"] > 0
    assert any(e.preconfigured for e in endpoints.values())
    assert all(e.service != "openai" for e in endpoints.values() if e.preconfigured)


async def test_update_rotates_the_key(sandbox: tuple[SandboxApp, EsClient]) -> None:
    app, es = sandbox
    await es.put_endpoint("completion", "comp", CHAT, Secret(GOOD_KEY))
    new_key = "sk-rotated-fedcba9876543210"
    app.keys.allow(new_key)
    await es.update_endpoint("completion", "comp", {}, api_key=Secret(new_key))
    app.keys.revoke(GOOD_KEY)
    out = await es.infer("completion", "comp", "still there?")
    assert out.text


@pytest.mark.parametrize("version", ["8.18.0", "8.19.0", "9.0.0", "9.1.0"])
async def test_put_timeout_is_sent_only_where_the_server_knows_it(
    sleeps: Sleeps, version: str
) -> None:
    app = make_sandbox_app(es_version=version)
    async with client_for(app, sleeps) as es:
        live = await es.put_endpoint("text_embedding", "e", EMBEDDING, Secret(GOOD_KEY), "45s")
    await app.aclose()
    assert live.inference_id == "e"


async def test_a_bad_key_fails_without_leaking_it(
    sandbox: tuple[SandboxApp, EsClient], canary_key: str
) -> None:
    _app, es = sandbox
    with pytest.raises(PermanentApiError) as caught:
        await es.put_endpoint("text_embedding", "emb", EMBEDDING, Secret(canary_key))
    assert caught.value.status == 400
    assert canary_key not in str(caught.value)
    with pytest.raises(NotFoundError):
        await es.get_endpoint("text_embedding", "emb")


async def test_in_use_and_forced_delete(sandbox: tuple[SandboxApp, EsClient]) -> None:
    _app, es = sandbox
    await es.put_endpoint("text_embedding", "emb", EMBEDDING, Secret(GOOD_KEY))
    mapping = {"properties": {"body": {"type": "semantic_text", "inference_id": "emb"}}}
    await es.create_index("docs", mapping)

    in_use = await es.in_use("text_embedding", "emb")
    assert in_use.indexes == ("docs",)
    assert (await es.get_endpoint("text_embedding", "emb")).inference_id == "emb"  # dry run

    with pytest.raises(ConflictError, match="docs"):
        await es.delete_endpoint("text_embedding", "emb")
    assert (await es.delete_endpoint("text_embedding", "emb", force=True)).acknowledged


async def test_inference_for_every_task_type(sandbox: tuple[SandboxApp, EsClient]) -> None:
    _app, es = sandbox
    await es.put_endpoint("text_embedding", "emb", EMBEDDING, Secret(GOOD_KEY))
    await es.put_endpoint("completion", "comp", CHAT, Secret(GOOD_KEY))
    await es.put_endpoint("chat_completion", "chat", CHAT, Secret(GOOD_KEY))
    embedding = await es.infer("text_embedding", "emb", "hello")
    live = await es.get_endpoint("text_embedding", "emb")
    assert len(embedding.embeddings[0]) == live.body["service_settings"]["dimensions"]
    assert (await es.infer("completion", "comp", "hello")).text
    chat = await es.infer("chat_completion", "chat", "hello")
    assert chat.text and chat.chunks >= 1


async def test_429_from_the_server_is_retried_after_retry_after(
    sandbox: tuple[SandboxApp, EsClient], sleeps: Sleeps
) -> None:
    app, es = sandbox
    app.faults.add(
        FaultRule(method="GET", path="/_inference/_all", status=429, retry_after=3, count=2)
    )
    await es.list_endpoints()
    assert sleeps.delays == [3.0, 3.0]


async def test_put_safely_after_a_failed_put(
    sandbox: tuple[SandboxApp, EsClient], sleeps: Sleeps
) -> None:
    app, es = sandbox
    app.faults.add(FaultRule(method="PUT", path="/_inference/*", status=503, count=1))
    live = await es.put_endpoint_safely("completion", "comp", CHAT, Secret(GOOD_KEY))
    assert live.inference_id == "comp"
    assert len(sleeps.delays) == 1


async def test_dropped_connections_are_temporary(sandbox: tuple[SandboxApp, EsClient]) -> None:
    app, es = sandbox
    app.faults.add(FaultRule(method="GET", path="/_inference/_all", kind="drop"))
    with pytest.raises(TemporaryApiError, match="gave up after 3 attempts"):
        await es.list_endpoints()


async def test_documents_and_concurrency_control(sandbox: tuple[SandboxApp, EsClient]) -> None:
    _app, es = sandbox
    assert await es.create_index("s", {"properties": {"kind": {"type": "keyword"}}})
    assert not await es.create_index("s", {"properties": {}})
    first = await es.put_doc("s", "a", {"kind": "x"}, op_type="create", refresh="true")
    with pytest.raises(ConflictError):
        await es.put_doc("s", "a", {"kind": "y"}, op_type="create")
    stale: dict[str, Any] = {"if_seq_no": first.seq_no, "if_primary_term": first.primary_term}
    await es.put_doc("s", "a", {"kind": "z"}, refresh="true", **stale)
    with pytest.raises(ConflictError):
        await es.put_doc("s", "a", {"kind": "w"}, **stale)
    docs, total = await es.search("s", {"term": {"kind": "z"}}, size=10)
    assert (total, docs[0].source) == (1, {"kind": "z"})
    with pytest.raises(ConflictError):
        await es.delete_doc("s", "a", **stale)
    assert await es.delete_doc("s", "a")
    assert await es.get_doc("s", "a") is None
