"""Conformance of the sandbox to the PUT check against semantic_text `model_settings`
(`TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId`, elastic/elasticsearch#137055:
8.19.7, 9.1.7, 9.2.1 and 9.3+; the release boundaries are in `test_conformance_releases.py`), and
to how those `model_settings` are recorded. Tests without a version run on the default release,
which has the check.

Upstream sources (elastic/elasticsearch), named in each test:
* `TransportPutInferenceModelAction.findIndicesWithIncompatibleMappings` / `buildErrorString`
  (the check, between parsing and the validation call; a `HashSet` of index names);
* `SemanticTextInfoExtractor.getModelSettingsForIndicesReferencingInferenceEndpoints`
  (`inference_id` or `search_inference_id`);
* `MinimalServiceSettings` (`toXContent`, `canMergeWith`, the constructor's required fields);
* ITs: `InferenceCrudIT.testCreateEndpoint_withInferenceIdReferencedBySemanticText` and
  `CreateInferenceEndpointIT` (fails on incompatible task type / dimensions / similarity,
  succeeds on same settings, other model_id or api_key, and when no document used the field).
"""

# Exact error texts stay on one line each, so they can be grepped for.
# ruff: noqa: E501

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SandboxApp
from reconciler.sandbox.es.semantic import java_hash_order, java_string_hash
from tests.fixtures.sandbox import make_sandbox_app, start_sandbox_thread
from tests.sandbox._es import chat_body, client_for, emb_body, error_of, put, put_emb

pytestmark = pytest.mark.anyio

SETTINGS_64 = {
    "service": "openai",
    "task_type": "text_embedding",
    "dimensions": 64,
    "similarity": "dot_product",
    "element_type": "float",
}


def _incompatible(inference_id: str, indices: str) -> str:
    return f"Inference endpoint [{inference_id}] could not be created because the inference_id is being used in mappings with incompatible settings for indices: [{indices}]. Please either use a different inference_id or update the index mappings to refer to a different inference_id."


async def _index(client: httpx.AsyncClient, name: str, **field: Any) -> None:
    mappings = {"properties": {"body": {"type": "semantic_text", **field}}}
    response = await client.put(f"/{name}", json={"mappings": mappings})
    assert response.status_code == 200, response.text


async def _doc(client: httpx.AsyncClient, index: str, body: Any = "hello world") -> httpx.Response:
    return await client.post(f"/{index}/_doc?refresh=true", json={"body": body, "n": 1})


async def _field(client: httpx.AsyncClient, index: str) -> dict[str, Any]:
    mappings = (await client.get(f"/{index}/_mapping")).json()[index]["mappings"]
    return dict(mappings["properties"]["body"])


async def _force_delete(client: httpx.AsyncClient, inference_id: str) -> None:
    response = await client.delete(f"/_inference/{inference_id}?force=true")
    assert response.status_code == 200, response.text


def _embedding_calls(app: SandboxApp) -> int:
    return len([e for e in app.upstream_log.entries() if e.path == "/v1/embeddings"])


# -- model_settings in the mapping -------------------------------------------------------


async def test_put_mappings_check_model_settings_recorded_by_the_first_document_with_the_field(
    sandbox_client: httpx.AsyncClient,
) -> None:
    """`ShardBulkInferenceActionFilter` stores `new MinimalServiceSettings(model)`; the mapper
    writes it with `MinimalServiceSettings.toXContent` (service first, 8.18+)."""
    await put_emb(sandbox_client, "e", dimensions=64)
    await _index(sandbox_client, "docs", inference_id="e")
    assert "model_settings" not in await _field(sandbox_client, "docs")

    without_field = await sandbox_client.post("/docs/_doc", json={"title": "no body"})
    assert without_field.status_code == 201
    assert "model_settings" not in await _field(sandbox_client, "docs")

    assert (await _doc(sandbox_client, "docs")).status_code == 201
    field = await _field(sandbox_client, "docs")
    assert field == {"type": "semantic_text", "inference_id": "e", "model_settings": SETTINGS_64}
    assert list(field) == ["type", "inference_id", "model_settings"]


async def test_put_mappings_check_model_settings_before_8_18_have_no_service() -> None:
    """`SemanticTextField.ModelSettings` (before `MinimalServiceSettings`, PR #120560)."""
    async with client_for(es_version="8.17.0") as (_app, client):
        await put_emb(client, "e", dimensions=64)
        await _index(client, "docs", inference_id="e")
        await _doc(client, "docs")
        settings = (await _field(client, "docs"))["model_settings"]
    assert settings == {k: v for k, v in SETTINGS_64.items() if k != "service"}


async def test_put_mappings_check_model_settings_persist_with_the_mapping(tmp_path: Path) -> None:
    app = make_sandbox_app(data_dir=tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        await put_emb(c, "e", dimensions=64)
        await _index(c, "docs", inference_id="e")
        await _doc(c, "docs")
    await app.aclose()
    again = make_sandbox_app(data_dir=tmp_path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=again), base_url="http://s"
    ) as c:
        assert (await _field(c, "docs"))["model_settings"] == SETTINGS_64
    await again.aclose()


async def test_put_mappings_check_indexing_into_a_field_whose_endpoint_is_missing_is_404(
    sandbox_client: httpx.AsyncClient,
) -> None:
    """`ShardBulkInferenceActionFilter`: `Inference id [{}] not found for field [{}]`."""
    await _index(sandbox_client, "docs", inference_id="nope")
    response = await _doc(sandbox_client, "docs")
    assert error_of(response) == (
        404,
        "resource_not_found_exception",
        "Inference id [nope] not found for field [body]",
    )
    assert (await sandbox_client.post("/docs/_count")).json()["count"] == 0


# -- the PUT check --------------------------------------------------------------------------


async def test_put_mappings_check_incompatible_dimensions_refused_naming_only_the_indices_that_use_the_id(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    """`InferenceCrudIT.testCreateEndpoint_withInferenceIdReferencedBySemanticText`: the id
    counts as `inference_id` and as `search_inference_id` (whose recorded settings are the
    other endpoint's); an index using another endpoint is not named. The check runs before
    the validation call (no upstream request) and the message lists a Java `HashSet`."""
    await put_emb(sandbox_client, "e", dimensions=64, similarity="dot_product")
    await put_emb(sandbox_client, "other", dimensions=48)
    await _index(sandbox_client, "docs-a", inference_id="e")
    await _index(sandbox_client, "docs-b", inference_id="e")
    await _index(sandbox_client, "docs-c", inference_id="other", search_inference_id="e")
    await _index(sandbox_client, "unrelated", inference_id="other")
    for index in ("docs-a", "docs-b", "docs-c", "unrelated"):
        assert (await _doc(sandbox_client, index)).status_code == 201
    await _force_delete(sandbox_client, "e")
    calls = _embedding_calls(sandbox_app)

    body = emb_body(dimensions=32, similarity="dot_product")
    response = await put(sandbox_client, "e", body, "text_embedding")

    # HashSet order: docs-a, docs-c, docs-b fall in buckets 0, 14, 15 of a 16-slot table
    assert error_of(response) == (
        400,
        "status_exception",
        _incompatible("e", "docs-a, docs-c, docs-b"),
    )
    assert _embedding_calls(sandbox_app) == calls
    assert (await sandbox_client.get("/_inference/e")).status_code == 404


@pytest.mark.parametrize(
    ("body", "task_type"),
    [
        (emb_body(dimensions=64, similarity="cosine"), "text_embedding"),
        (chat_body(), "completion"),
    ],
    ids=["similarity", "task-type"],
)
async def test_put_mappings_check_other_similarity_or_task_type_is_refused(
    sandbox_client: httpx.AsyncClient, body: dict[str, Any], task_type: str
) -> None:
    """`CreateInferenceEndpointIT` `..._andSimilarityIsIncompatible` / `..._andTaskTypeIsIncompatible`."""
    await put_emb(sandbox_client, "e", dimensions=64, similarity="dot_product")
    await _index(sandbox_client, "docs", inference_id="e")
    await _doc(sandbox_client, "docs")
    await _force_delete(sandbox_client, "e")
    response = await put(sandbox_client, "e", body, task_type)
    assert error_of(response) == (400, "status_exception", _incompatible("e", "docs"))


@pytest.mark.parametrize(
    "settings",
    [
        {"dimensions": 64, "similarity": "dot_product"},
        {"dimensions": 64, "similarity": "dot_product", "model_id": "text-embedding-3-large"},
    ],
    ids=["same-settings", "other-model-same-size"],
)
async def test_put_mappings_check_compatible_recreate_is_accepted(
    sandbox_client: httpx.AsyncClient, settings: dict[str, Any]
) -> None:
    """`CreateInferenceEndpointIT` `..._succeeds_..._andAllSettingsAreTheSame` /
    `..._andModelIdIsDifferent`: `canMergeWith` ignores the model."""
    await put_emb(sandbox_client, "e", dimensions=64)
    await _index(sandbox_client, "docs", inference_id="e")
    await _doc(sandbox_client, "docs")
    await _force_delete(sandbox_client, "e")
    response = await put(sandbox_client, "e", emb_body(**settings), "text_embedding")
    assert response.status_code == 200, response.text


async def test_put_mappings_check_no_documents_yet_means_any_settings_are_accepted(
    sandbox_client: httpx.AsyncClient,
) -> None:
    """`CreateInferenceEndpointIT.testCreateInferenceEndpoint_succeeds_whenNoDocumentsUsingSemanticTextHaveBeenIndexed`:
    documents without the field record nothing."""
    await put_emb(sandbox_client, "e", dimensions=64)
    await _index(sandbox_client, "docs", inference_id="e")
    assert (await sandbox_client.post("/docs/_doc", json={"title": "x"})).status_code == 201
    await _force_delete(sandbox_client, "e")
    body = emb_body(dimensions=32, similarity="l2_norm")
    assert (await put(sandbox_client, "e", body, "text_embedding")).status_code == 200


async def test_put_mappings_check_a_field_inside_an_object_is_never_checked(
    sandbox_client: httpx.AsyncClient,
) -> None:
    """`getModelSettingsForIndicesReferencingInferenceEndpoints` reads
    `properties.<full name>.model_settings`: `meta.body` is not a key there, so no settings."""
    await put_emb(sandbox_client, "e", dimensions=64)
    nested = {"properties": {"body": {"type": "semantic_text", "inference_id": "e"}}}
    await sandbox_client.put("/docs", json={"mappings": {"properties": {"meta": nested}}})
    assert (
        await sandbox_client.post("/docs/_doc", json={"meta": {"body": "x"}})
    ).status_code == 201
    mappings = (await sandbox_client.get("/docs/_mapping")).json()["docs"]["mappings"]
    assert mappings["properties"]["meta"]["properties"]["body"]["model_settings"] == SETTINGS_64
    await _force_delete(sandbox_client, "e")
    body = emb_body(dimensions=32, similarity="dot_product")
    assert (await put(sandbox_client, "e", body, "text_embedding")).status_code == 200


async def test_put_mappings_check_is_not_checked_before_9_1() -> None:
    """9.0 has no mappings check: the incompatible re-create is accepted."""
    async with client_for(es_version="9.0.0") as (_app, client):
        await put_emb(client, "e", dimensions=64)
        await _index(client, "docs", inference_id="e")
        await _doc(client, "docs")
        await _force_delete(client, "e")
        body = emb_body(dimensions=32, similarity="dot_product")
        response = await put(client, "e", body, "text_embedding")
        assert response.status_code == 200, response.text
        assert (await _field(client, "docs"))["model_settings"]["dimensions"] == 64


@pytest.mark.parametrize(
    "settings",
    [{}, {"dimensions": 32}, {"similarity": "dot_product"}],
    ids=["neither", "no-similarity", "no-dimensions"],
)
async def test_put_mappings_check_without_dimensions_and_similarity_the_put_is_never_answered(
    sandbox_app: SandboxApp,
    sandbox_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    settings: dict[str, Any],
) -> None:
    """The check builds `new MinimalServiceSettings(model)` from the parsed request, before the
    validation call fills `dimensions`/`similarity` (`parseRequestConfig` → `existingUsesListener`
    → `modelValidatingListener`). For text_embedding the constructor requires both and throws
    `IllegalArgumentException` on the `inference_utility` thread, where no listener hears of
    it: Elasticsearch never answers. Any index using the id triggers it, even with no
    documents (the map holds it with null settings)."""
    await put_emb(sandbox_client, "e", dimensions=64)
    await _index(sandbox_client, "docs", inference_id="e")
    await _force_delete(sandbox_client, "e")
    calls = _embedding_calls(sandbox_app)

    request = put(sandbox_client, "e", emb_body(**settings), "text_embedding")
    with (
        caplog.at_level(logging.WARNING, logger="reconciler.sandbox"),
        pytest.raises(TimeoutError),
    ):
        await asyncio.wait_for(request, 0.3)

    missing = "dimensions" if "dimensions" not in settings else "similarity"
    assert (
        f"java.lang.IllegalArgumentException: required [{missing}] field is missing for task_type [TEXT_EMBEDDING]"
        in caplog.text
    )
    assert _embedding_calls(sandbox_app) == calls
    assert (await sandbox_client.get("/_inference/e")).status_code == 404
    # without an index using the id nothing is built, and the same request succeeds
    assert (
        await put(sandbox_client, "f", emb_body(**settings), "text_embedding")
    ).status_code == 200


async def test_put_mappings_check_the_stalled_put_ends_when_a_real_client_gives_up() -> None:
    """Under a real server the held request is released when the client disconnects."""
    with start_sandbox_thread() as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await put_emb(client, "e", dimensions=64)
            await _index(client, "docs", inference_id="e")
            await _force_delete(client, "e")
            with pytest.raises(httpx.ReadTimeout):
                await client.put("/_inference/text_embedding/e", json=emb_body(), timeout=0.3)
            # the server is still healthy and answers the next request
            assert (await client.get("/_inference/_all")).status_code == 200


# -- java.util.HashSet order -------------------------------------------------------------


def test_java_string_hash_and_hash_set_order() -> None:
    """`"docs".hashCode()` is 3088955; a HashSet iterates by bucket of the (spread) hash."""
    assert java_string_hash("docs") == 3088955
    assert java_string_hash("\u00e9t\u00e9") == (0xE9 * 31 * 31 + ord("t") * 31 + 0xE9)
    assert java_hash_order(["docs-a", "docs-b", "docs-c"]) == ["docs-a", "docs-c", "docs-b"]
    assert java_hash_order(["products", "reviews"]) == ["reviews", "products"]
    many = [f"index-{i}" for i in range(13)]  # 13 > 12: the table doubled to 32
    assert sorted(java_hash_order(many)) == sorted(many)
