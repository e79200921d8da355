"""Conformance of the `elastic` service (the Elastic Inference Service): cluster-level
authorization, preconfigured `.…-elastic` endpoints per release, and the `metadata` GET adds
(`server/src/main/java/org/elasticsearch/inference/metadata/EndpointMetadata.java` @303f1c6a).
Sources: elastic/elasticsearch `…/services/elastic/ElasticInferenceService.java`, PR #120847
(`.rainbow-sprinkles-elastic`), elastic/docs-content#7618 (`.jina-embeddings-v5-text-small`)."""

from __future__ import annotations

import pytest

from reconciler.sandbox.es.chunking import DEFAULT_SETTINGS
from tests.sandbox._es import client_for, error_of
from tests.sandbox._services import get_one, put_ok, update

pytestmark = pytest.mark.anyio

ELSER = {"service": "elastic", "service_settings": {"model_id": "elser_model_2"}}
CHAT = {"service": "elastic", "service_settings": {"model_id": "rainbow-sprinkles"}}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("8.17.0", []),
        ("8.18.0", [".elser-2-elastic", ".rainbow-sprinkles-elastic"]),
        (
            "9.4.0",
            [".elser-2-elastic", ".jina-embeddings-v5-text-small", ".rainbow-sprinkles-elastic"],
        ),
    ],
)
async def test_preconfigured_eis_endpoints_per_release(version: str, expected: list[str]) -> None:
    """Listed only while EIS authorizes the cluster (`InternalPreconfiguredEndpoints`); the
    sandbox's cluster is authorized unless started with `eis=False` / `--no-eis`."""
    async with client_for(es_version=version, eis=True) as (_app, client):
        listed = (await client.get("/_inference/_all")).json()["endpoints"]
        assert [e["inference_id"] for e in listed if e["service"] == "elastic"] == expected
    async with client_for(es_version=version, eis=False) as (_app, client):
        listed = (await client.get("/_inference/_all")).json()["endpoints"]
        assert not [e for e in listed if e["service"] == "elastic"]


async def test_eis_put_get_shapes_and_metadata_from_9_4() -> None:
    """spec `RateLimitSetting` (elastic chat_completion 240); `EndpointMetadata`."""
    async with client_for(es_version="9.4.0", eis=True) as (_app, client):
        sparse = await put_ok(client, "sp", "sparse_embedding", ELSER)
        assert sparse["service_settings"] == {"model_id": "elser_model_2"}
        assert sparse["chunking_settings"] == DEFAULT_SETTINGS
        heuristics = sparse["metadata"]["heuristics"]
        assert heuristics["status"] == "ga" and "release_date" in heuristics
        assert list(sparse) == ["inference_id", "task_type", "service", "service_settings",
                                "chunking_settings", "metadata"]  # fmt: skip
        chat = await put_ok(client, "ch", "chat_completion", CHAT)
        assert chat["service_settings"] == {
            "model_id": "rainbow-sprinkles", "rate_limit": {"requests_per_minute": 240},
        }  # fmt: skip
    async with client_for(es_version="9.3.0", eis=True) as (_app, client):
        assert "metadata" not in await put_ok(client, "sp", "sparse_embedding", ELSER)


async def test_eis_metadata_changes_by_itself_end_of_life() -> None:
    """`EndpointMetadata.heuristics.end_of_life_date`: set by EIS, never by the user."""
    async with client_for(es_version="9.4.0", eis=True) as (_app, client):
        await put_ok(client, "ch", "chat_completion", CHAT)
        before = await get_one(client, "ch")
        assert "end_of_life_date" not in before["metadata"]["heuristics"]
        lifecycle = {"end_of_life_date": "2026-12-31", "status": "deprecated"}
        changed = await client.put("/_sandbox/eis/models/rainbow-sprinkles", json=lifecycle)
        assert changed.status_code == 200
        after = await get_one(client, "ch")
        assert after["metadata"]["heuristics"]["end_of_life_date"] == "2026-12-31"
        assert after["metadata"]["heuristics"]["status"] == "deprecated"
        assert after["service_settings"] == before["service_settings"]
        pre = await get_one(client, ".rainbow-sprinkles-elastic")
        assert pre["metadata"]["heuristics"]["end_of_life_date"] == "2026-12-31"


async def test_eis_task_types_per_release_and_authorization() -> None:
    """8.18: sparse_embedding and chat_completion; text_embedding from 9.2 (picked). Without
    EIS authorization no task type is offered."""
    async with client_for(es_version="8.18.0", eis=True) as (_app, client):
        body = {"service": "elastic", "service_settings": {"model_id": "jina-embeddings-v3"}}
        response = await client.put("/_inference/text_embedding/x", json=body)
        assert (
            error_of(response)[2]
            == "The [elastic] service does not support task type [text_embedding]"
        )
    async with client_for(es_version="9.2.0", eis=True) as (_app, client):
        body = {"service": "elastic", "service_settings": {"model_id": "jina-embeddings-v3"}}
        got = await put_ok(client, "te", "text_embedding", body)
        assert got["service_settings"]["dimensions"] == 1024
    async with client_for(es_version="9.2.0", eis=False) as (_app, client):
        response = await client.put("/_inference/sparse_embedding/x", json=ELSER)
        assert (
            error_of(response)[2]
            == "The [elastic] service does not support task type [sparse_embedding]"
        )
        enable = await client.put("/_sandbox/eis", json={"enabled": True})
        assert enable.status_code == 200
        assert (await client.put("/_inference/sparse_embedding/x", json=ELSER)).status_code == 200


async def test_eis_preconfigured_refused_on_put_update_delete() -> None:
    async with client_for(es_version="9.4.0", eis=True) as (_app, client):
        put = await client.put("/_inference/chat_completion/.rainbow-sprinkles-elastic", json=CHAT)
        assert put.status_code == 400
        upd = await update(client, ".elser-2-elastic", "sparse_embedding", {"task_settings": {}})
        assert upd.status_code == 400
        upd = await update(client, ".elser-2-elastic", "sparse_embedding",
                           {"service_settings": {"max_batch_size": 2}})  # fmt: skip
        assert "Invalid inference_id; '.elser-2-elastic'" in error_of(upd)[2]
        assert (await client.delete("/_inference/.elser-2-elastic")).status_code == 400


async def test_eis_inference_shapes_and_9_5_max_batch_size_update() -> None:
    async with client_for(es_version="9.5.0", eis=True) as (_app, client):
        await put_ok(client, "sp", "sparse_embedding", ELSER)
        result = (await client.post("/_inference/sp", json={"input": "hello"})).json()
        assert result["sparse_embedding"][0]["embedding"]
        got = await update(
            client, "sp", "sparse_embedding", {"service_settings": {"max_batch_size": 16}}
        )
        assert got.json()["service_settings"] == {"model_id": "elser_model_2", "max_batch_size": 16}
        refused = await update(
            client, "sp", "sparse_embedding", {"service_settings": {"model_id": "x"}}
        )
        assert refused.status_code == 400


OMNI = {"service": "elastic", "service_settings": {"model_id": "jina-embeddings-v5-omni-small"}}


async def test_eis_multimodal_embedding_from_9_5() -> None:
    """The `embedding` task type (spec branch 9.5, `TaskType.EMBEDDING`; EIS docs in
    elastic/elasticsearch PR #154174): dense settings filled as for text_embedding, results
    under `embeddings` (spec `Results.ts`); unknown as a task type before 9.5."""
    async with client_for(es_version="9.5.0", eis=True) as (_app, client):
        got = await put_ok(client, "mm", "embedding", OMNI)
        assert got["service_settings"] == {
            "model_id": "jina-embeddings-v5-omni-small", "similarity": "cosine",
            "dimensions": 1024,
        }  # fmt: skip
        assert got["chunking_settings"] == DEFAULT_SETTINGS
        answer = await client.post("/_inference/embedding/mm", json={"input": ["a", "b"]})
        vectors = answer.json()["embeddings"]
        assert [len(item["embedding"]) for item in vectors] == [1024, 1024]
    async with client_for(es_version="9.4.0", eis=True) as (_app, client):
        response = await client.put("/_inference/embedding/mm", json=OMNI)
        assert response.status_code == 400
