"""Conformance of the sandbox's Elasticsearch emulation to the upstream source, area by area.

Paths are in elastic/elasticsearch unless noted; `…/inference/` stands for
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/`. Every test name
starts with the area it checks:

| Tests | What | Upstream source |
|---|---|---|
| `test_routes_*` | put with/without task type, every GET form, `_services`, `_update`/`_stream`/`_unified` per version, client URL forms | `…/inference/rest/Paths.java` and the `Rest*Action.java` beside it; elastic/elasticsearch-py `elasticsearch/_sync/client/inference.py` |
| `test_put_body_*` | missing service_settings, legacy `task_settings.model`, fields not accepted per task type, rate_limit keys, `headers` (9.2+) | `OpenAiEmbeddingsServiceSettings`, `OpenAiChatCompletionServiceSettings`, `OpenAiEmbeddingsTaskSettings`, `RateLimitSettings`; elastic/elasticsearch-specification `specification/inference/put_openai/PutOpenAiRequest.ts` |
| `test_put_order_*` | id check first, missing/unknown service, existence check after the validation call | `…/inference/action/TransportPutInferenceModelAction.java`, `ModelRegistry` |
| `test_task_type_*` | every path/body combination, case-insensitivity, chat_completion before 8.18 | `ServiceUtils.resolveTaskType`, `server/src/main/java/org/elasticsearch/inference/TaskType.java` |
| `test_put_inference_id_*` | upper case, edges, `_all`, dots, no length limit | `PutInferenceModelAction.Request.validate`, `MlStrings` |
| `test_put_fields_*` | each field error message, accumulation, model_id hides api_key, secret scope per version, url rules, leftovers, non-objects | `OpenAiService.parseRequestConfig`, `ServiceUtils`, `DefaultSecretSettings` |
| `test_chunking_*` | defaults, strategies, bounds per version, none/recursive (9.1+), separator groups | `…/inference/chunking/ChunkingSettingsBuilder.java`, `*ChunkingSettings.java`, `SeparatorGroup.java` |
| `test_put_answers_*`, `test_put_timeout_*` | bare object equal to the GET entry, `timeout` per version and its effect | `PutInferenceModelAction.Response`, `ModelConfigurations.toFilteredXContent`; `TransportVersions.INFERENCE_ADD_TIMEOUT_PUT_ENDPOINT_8_19` |
| `test_validation_call_*` | request per task type, no call for completion on 8.15, dimension fill/mismatch, wrapped failures | `…/inference/services/validation/` (`TextEmbeddingModelValidator`, `ChatCompletionModelValidator`); elastic/elasticsearch#113137, #123044 |
| `test_get_*` | always `endpoints`, sorted, empty lists; unknown id, wrong task type | `TransportGetInferenceModelAction`, `ModelRegistry`, `InferenceExceptions`; `InferenceCrudIT` |
| `test_get_endpoint_*` | key order, never api_key/dimensions_set_by_user, echo-only-if-sent, empty task_settings omitted (8.16+) | `OpenAiEmbeddingsServiceSettings.toXContentFragmentOfExposedFields`, `OpenAiChatCompletionServiceSettings`; elastic/elasticsearch#114389 |
| `test_preconfigured_*` | per version, shape, reserved | `ModelRegistry.defaultConfigs`, `ElasticsearchInternalService`; elastic/elasticsearch#117939 |
| `test_delete_*` | response, 404, task type, dry_run, 409 texts (pipelines, indexes, both), force, 8.15 texts, reserved | `…/inference/action/TransportDeleteInferenceEndpointAction.java` (`buildErrorString`), `InferenceCrudIT` |
| `test_update_*` | availability, api_key rotation, task_settings merge, silently ignored keys, required api_key, body rules, no-op without upstream call and failure keeps config (9.4+); per-release differences are in `test_conformance_releases.py` | `UpdateInferenceModelAction.Request.getContentAsSettings`, `TransportUpdateInferenceModelAction`, `ServiceSettings.updateServiceSettings`; elastic/elasticsearch#121231 |
| `test_inference_*` | embedding/completion shapes, input rules, chat_completion on POST, SSE framing, chat chunks, `_unified`, stream errors | `InferenceAction.Request.validate`, `BaseInferenceAction`, `ServerSentEventsRestActionListener`, `StreamingUnifiedChatCompletionResults` |
| `test_outbound_*` | headers, `dimensions` only when set by user, chat body, default vs explicit url | `…/inference/services/openai/request/OpenAiEmbeddingsRequest.java`, `OpenAiUnifiedChatCompletionRequestEntity.java` |
| `test_upstream_errors_*` | each status row, retries, connection failure, PUT wraps as 400 | `…/inference/services/openai/OpenAiResponseHandler.java`, `…/inference/external/http/retry/BaseResponseHandler.java`, `RetrySettings.java` |
| `test_crud_response_shapes`, `test_put_never_updates_in_place`, `test_preconfigured_never_openai` | what a drift-free diff relies on, not pinned above | `PutInferenceModelAction.Response`, `ModelRegistry` (`ResourceAlreadyExistsException`), `ModelRegistry.defaultConfigs` |
| `test_rest_*` | unrecognized params, unknown route/method, product header, media types, NRT search, optimistic concurrency, auto-creation | `BaseRestHandler`, `RestController`; https://www.elastic.co/docs/manage-data/data-store/near-real-time-search |
"""

# Elasticsearch's exact error texts stay on one line each, so they can be grepped for.
# ruff: noqa: E501

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SandboxApp
from tests.sandbox._es import (
    CHAT_MODEL,
    EMB_MODEL,
    KEY,
    chat_body,
    client_for,
    emb_body,
    error_of,
    fault,
    put,
    put_chat,
    put_emb,
    sse_events,
)

pytestmark = pytest.mark.anyio

DEFAULT_CHUNKING = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
PLAINTEXT = ["(?<!\\n)\\n\\n(?!\\n)", "(?<!\\n)\\n(?!\\n)"]


def _calls(app: SandboxApp, path: str | None = None) -> list[Any]:
    return [e for e in app.upstream_log.entries() if path is None or e.path == path]


# ======================================================================================
# Routes (`…/inference/rest/Paths.java`)
# ======================================================================================


async def test_routes_put_with_task_type_in_path(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", emb_body(), "text_embedding")
    assert response.status_code == 200
    assert response.json()["task_type"] == "text_embedding"


async def test_routes_put_without_task_type_reads_body(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", {**chat_body(), "task_type": "completion"})
    assert response.status_code == 200
    assert response.json()["task_type"] == "completion"


@pytest.mark.parametrize(
    "path",
    ["/_inference", "/_inference/_all", "/_inference/*", "/_inference/text_embedding/_all",
     "/_inference/text_embedding/*", "/_inference/emb", "/_inference/text_embedding/emb"],
)  # fmt: skip
async def test_routes_every_get_form_answers_endpoints(
    sandbox_client: httpx.AsyncClient, path: str
) -> None:
    await put_emb(sandbox_client, "emb")
    response = await sandbox_client.get(path)
    assert response.status_code == 200
    ids = [e["inference_id"] for e in response.json()["endpoints"]]
    assert "emb" in ids


async def test_routes_services_lists_openai_task_types(sandbox_client: httpx.AsyncClient) -> None:
    services = (await sandbox_client.get("/_inference/_services")).json()
    openai = next(s for s in services if s["service"] == "openai")
    assert openai["task_types"] == ["text_embedding", "completion", "chat_completion"]
    assert openai["configurations"]["api_key"]["sensitive"] is True
    filtered = (await sandbox_client.get("/_inference/_services/rerank")).json()
    assert filtered and all("rerank" in s["task_types"] for s in filtered)
    assert "openai" not in [s["service"] for s in filtered]


async def test_routes_update_route_absent_before_8_17() -> None:
    async with client_for(es_version="8.16.0") as (_app, client):
        with_type = await client.put("/_inference/text_embedding/x/_update", json={})
        assert with_type.status_code == 400
        assert with_type.json() == {
            "error": "no handler found for uri [/_inference/text_embedding/x/_update] and method [PUT]"
        }
        # Without the task type the path is PUT _inference/{task_type}/{inference_id}.
        without = await client.put("/_inference/x/_update", json={"service_settings": {}})
        assert error_of(without) == (400, "status_exception", "Unknown task_type [x]")


@pytest.mark.parametrize(
    ("version", "stream", "unified"),
    [
        ("8.15.0", False, False),
        ("8.16.0", True, False),
        ("8.18.0", True, True),
        ("9.1.0", True, True),
    ],
)
async def test_routes_stream_and_unified_routes_per_version(
    version: str, stream: bool, unified: bool
) -> None:
    async with client_for(es_version=version) as (_app, client):
        for suffix, present in (("_stream", stream), ("_unified", unified)):
            response = await client.post(
                f"/_inference/completion/nope/{suffix}", json={"input": "x"}
            )
            assert (response.status_code == 404) is present, (suffix, response.text)


async def test_routes_client_url_for_task_type_listing(sandbox_client: httpx.AsyncClient) -> None:
    """elasticsearch-py `get(task_type=...)` calls `/_inference/{task_type}/_all`."""
    await put_emb(sandbox_client, "emb")
    await put_chat(sandbox_client, "comp")
    response = await sandbox_client.get("/_inference/completion/_all")
    assert [e["inference_id"] for e in response.json()["endpoints"]] == ["comp"]


# ======================================================================================
# PUT body fields (`OpenAi*ServiceSettings`, `RateLimitSettings`)
# ======================================================================================


async def test_put_body_missing_service_settings(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", {"service": "openai"}, "completion")
    assert error_of(response) == (
        400,
        "status_exception",
        "Missing required field [service_settings]",
    )


async def test_put_body_legacy_task_settings_model_moves_to_model_id(
    sandbox_client: httpx.AsyncClient,
) -> None:
    body = {
        "service": "openai",
        "service_settings": {"api_key": KEY},
        "task_settings": {"model": EMB_MODEL},
    }
    response = await put(sandbox_client, "legacy", body, "text_embedding")
    assert response.status_code == 200, response.text
    assert response.json()["service_settings"]["model_id"] == EMB_MODEL
    assert "task_settings" not in response.json()


@pytest.mark.parametrize(("key", "value"), [("dimensions", 128), ("similarity", "cosine")])
async def test_put_body_embedding_only_fields_rejected_on_completion(
    sandbox_client: httpx.AsyncClient, key: str, value: Any
) -> None:
    response = await put(sandbox_client, "c", chat_body(**{key: value}), "completion")
    assert error_of(response) == (
        400,
        "status_exception",
        f"Model configuration contains settings [{{{key}={value}}}] unknown to the [openai] service",
    )


async def test_put_body_dimensions_set_by_user_is_not_a_request_field(
    sandbox_client: httpx.AsyncClient,
) -> None:
    response = await put(
        sandbox_client, "e", emb_body(dimensions_set_by_user=True), "text_embedding"
    )
    assert error_of(response)[2] == (
        "Model configuration contains settings [{dimensions_set_by_user=true}] unknown to the [openai] service"
    )


async def test_put_body_rate_limit_unknown_key(sandbox_client: httpx.AsyncClient) -> None:
    body = chat_body(rate_limit={"requests_per_minute": 10, "burst": 2})
    response = await put(sandbox_client, "c", body, "completion")
    assert (
        error_of(response)[2]
        == "Model configuration contains settings [{burst=2}] unknown to the [openai] service"
    )


async def test_put_body_rate_limit_override_echoed(sandbox_client: httpx.AsyncClient) -> None:
    created = await put_chat(sandbox_client, "c", rate_limit={"requests_per_minute": 42})
    assert created["service_settings"]["rate_limit"] == {"requests_per_minute": 42}


async def test_put_body_task_headers_only_from_9_2() -> None:
    body = {**chat_body(), "task_settings": {"headers": {"X-Team": "search"}}}
    async with client_for(es_version="9.1.0") as (_app, client):
        old = await put(client, "c", body, "completion")
        assert error_of(old)[2] == (
            "Model configuration contains settings [{headers={X-Team=search}}] unknown to the [openai] service"
        )
    async with client_for(es_version="9.2.0") as (_app, client):
        new = await put(client, "c", body, "completion")
        assert new.json()["task_settings"] == {"headers": {"X-Team": "search"}}


# ======================================================================================
# PUT processing order (`TransportPutInferenceModelAction`)
# ======================================================================================


async def test_put_order_id_is_checked_before_anything_else(
    sandbox_client: httpx.AsyncClient,
) -> None:
    response = await put(sandbox_client, "Bad", {"no": "service"}, "completion")
    assert error_of(response)[1] == "action_request_validation_exception"


async def test_put_order_missing_service(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", {"service_settings": {}}, "completion")
    assert error_of(response) == (
        400,
        "status_exception",
        "Inference endpoint configuration is missing the [service] setting",
    )


async def test_put_order_unknown_service(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(
        sandbox_client, "a", {"service": "nope", "service_settings": {}}, "completion"
    )
    assert error_of(response) == (400, "status_exception", "Unknown service [nope]")


async def test_put_order_existence_checked_after_validation_call(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "dup")
    sandbox_app.keys.revoke(KEY)
    again = await put(sandbox_client, "dup", emb_body(), "text_embedding")
    # The upstream refused the key: the validation error wins over "already exists".
    assert error_of(again)[2].startswith("Could not complete inference endpoint creation")
    sandbox_app.keys.allow(KEY)
    third = await put(sandbox_client, "dup", emb_body(), "text_embedding")
    assert error_of(third) == (
        400,
        "resource_already_exists_exception",
        "Inference endpoint [dup] already exists",
    )
    assert len(_calls(sandbox_app, "/v1/embeddings")) == 3


# ======================================================================================
# Task type in path vs body (`ServiceUtils.resolveTaskType`)
# ======================================================================================


async def test_task_type_no_task_type_anywhere(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", chat_body())
    assert error_of(response) == (
        400,
        "status_exception",
        "model is missing required setting [task_type]",
    )


async def test_task_type_body_task_type_any(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", {**chat_body(), "task_type": "any"})
    assert error_of(response)[2] == "task_type [any] is not valid type for inference"


async def test_task_type_conflicting_task_types(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(
        sandbox_client, "a", {**chat_body(), "task_type": "text_embedding"}, "completion"
    )
    assert error_of(response)[2] == (
        "Cannot resolve conflicting task_type parameter in the request URL [completion] and the "
        "request body [text_embedding]"
    )


async def test_task_type_body_equal_to_url(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(
        sandbox_client, "a", {**chat_body(), "task_type": "completion"}, "completion"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("where", ["url", "body"])
async def test_task_type_unknown_task_type(sandbox_client: httpx.AsyncClient, where: str) -> None:
    if where == "url":
        response = await put(sandbox_client, "a", chat_body(), "bad")
    else:
        response = await put(sandbox_client, "a", {**chat_body(), "task_type": "bad"})
    assert error_of(response) == (400, "status_exception", "Unknown task_type [bad]")


async def test_task_type_unsupported_by_openai(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "a", chat_body(), "sparse_embedding")
    assert (
        error_of(response)[2]
        == "The [openai] service does not support task type [sparse_embedding]"
    )


async def test_task_type_case_insensitive_echoed_lower(
    sandbox_client: httpx.AsyncClient,
) -> None:
    response = await put(sandbox_client, "a", emb_body(), "TEXT_EMBEDDING")
    assert response.json()["task_type"] == "text_embedding"


async def test_task_type_chat_completion_unknown_before_8_18() -> None:
    async with client_for(es_version="8.17.0") as (_app, client):
        response = await put(client, "a", chat_body(), "chat_completion")
        assert error_of(response)[2] == "Unknown task_type [chat_completion]"


# ======================================================================================
# inference_id rules (`PutInferenceModelAction.Request.validate`, `MlStrings`)
# ======================================================================================


def _invalid_id(inference_id: str) -> str:
    return (
        f"Validation Failed: 1: Invalid inference_id; '{inference_id}' can contain lowercase "
        "alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric;"
    )


async def test_put_inference_id_rejects_upper_case(sandbox_client: httpx.AsyncClient) -> None:
    response = await put(sandbox_client, "My-Id", chat_body(), "completion")
    assert error_of(response) == (400, "action_request_validation_exception", _invalid_id("My-Id"))


@pytest.mark.parametrize("inference_id", ["-a", "a-", "_a", "a.", ".dot", "_all", "a b"])
async def test_put_inference_id_edges_rejected(
    sandbox_client: httpx.AsyncClient, inference_id: str
) -> None:
    response = await put(sandbox_client, inference_id, chat_body(), "completion")
    assert error_of(response)[2] == _invalid_id(inference_id)


@pytest.mark.parametrize("inference_id", ["a", "a.b", "a_b-c.9", "x" * 300])
async def test_put_inference_id_accepted(
    sandbox_client: httpx.AsyncClient, inference_id: str
) -> None:
    response = await put(sandbox_client, inference_id, chat_body(), "completion")
    assert response.status_code == 200, response.text


# ======================================================================================
# Field validation (`OpenAiService.parseRequestConfig`, `ServiceUtils`)
# ======================================================================================


async def _put_error(
    client: httpx.AsyncClient, body: dict[str, Any], task_type: str = "text_embedding"
) -> tuple[int, str, str]:
    return error_of(await put(client, "f", body, task_type))


async def test_put_fields_missing_model_id_hides_missing_api_key(
    sandbox_client: httpx.AsyncClient,
) -> None:
    body = {"service": "openai", "service_settings": {}}
    assert await _put_error(sandbox_client, body) == (
        400,
        "validation_exception",
        "Validation Failed: 1: [service_settings] does not contain the required setting [model_id];",
    )


@pytest.mark.parametrize(
    ("version", "scope"), [("8.16.0", "service_settings"), ("8.17.0", "secret_settings")]
)
async def test_put_fields_missing_api_key_scope_per_version(version: str, scope: str) -> None:
    body = {"service": "openai", "service_settings": {"model_id": EMB_MODEL}}
    async with client_for(es_version=version) as (_app, client):
        assert (await _put_error(client, body))[2] == (
            f"Validation Failed: 1: [{scope}] does not contain the required setting [api_key];"
        )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model_id": ""}, "[service_settings] Invalid value empty string. [model_id] must be a non-empty string"),
        ({"api_key": ""}, "[secret_settings] Invalid value empty string. [api_key] must be a non-empty string"),
        ({"dimensions": "128"}, "field [dimensions] is not of the expected type. The value [128] cannot be converted to a [Integer]"),
        ({"model_id": 5}, "field [model_id] is not of the expected type. The value [5] cannot be converted to a [String]"),
        ({"dimensions": 0}, "[service_settings] Invalid value [0]. [dimensions] must be a positive integer"),
        ({"max_input_tokens": -1}, "[service_settings] Invalid value [-1]. [max_input_tokens] must be a positive integer"),
        ({"similarity": "foo"}, "[service_settings] Invalid value [foo] received. [similarity] must be one of [cosine, dot_product, l2_norm]"),
        ({"url": "http://a b"}, "[service_settings] Invalid url [http://a b] received for field [url]. Error: unable to parse url [http://a b]. Reason: Illegal character in authority"),
        ({"rate_limit": {"requests_per_minute": 0}}, "[rate_limit] Invalid value [0]. [requests_per_minute] must be a positive long"),
        ({"rate_limit": {"requests_per_minute": "x"}}, "field [requests_per_minute] is not of one of the expected types. The value [x] cannot be converted to one of [Integer, Long]"),
        ({"dimensions": 1.5}, "field [dimensions] is not of the expected type. The value [1.5] cannot be converted to a [Integer]"),
    ],
)  # fmt: skip
async def test_put_fields_field_error_messages(
    sandbox_client: httpx.AsyncClient, settings: dict[str, Any], message: str
) -> None:
    assert await _put_error(sandbox_client, emb_body(**settings)) == (
        400,
        "validation_exception",
        f"Validation Failed: 1: {message};",
    )


async def test_put_fields_user_empty(sandbox_client: httpx.AsyncClient) -> None:
    body = {**emb_body(), "task_settings": {"user": ""}}
    assert (await _put_error(sandbox_client, body))[2] == (
        "Validation Failed: 1: [task_settings] Invalid value empty string. [user] must be a non-empty string;"
    )


async def test_put_fields_field_errors_accumulate(sandbox_client: httpx.AsyncClient) -> None:
    body = emb_body(dimensions=0, similarity="bad", model_id="")
    assert (await _put_error(sandbox_client, body))[2] == (
        "Validation Failed: 1: [service_settings] Invalid value [bad] received. [similarity] must be "
        "one of [cosine, dot_product, l2_norm];2: [service_settings] Invalid value [0]. [dimensions] "
        "must be a positive integer;3: [service_settings] Invalid value empty string. [model_id] must "
        "be a non-empty string;"
    )


async def test_put_fields_similarity_case_insensitive_echoed_lower(
    sandbox_client: httpx.AsyncClient,
) -> None:
    created = await put_emb(sandbox_client, "s", similarity="COSINE")
    assert created["service_settings"]["similarity"] == "cosine"


async def test_put_fields_relative_url_fails_at_validation_call(
    sandbox_client: httpx.AsyncClient,
) -> None:
    status, kind, reason = await _put_error(sandbox_client, emb_body(url="not-a-url"))
    assert (status, kind) == (400, "status_exception")
    assert reason == (
        "Could not complete inference endpoint creation as validation call to service threw an exception."
    )


async def test_put_fields_chunking_on_completion_is_unknown(
    sandbox_client: httpx.AsyncClient,
) -> None:
    body = {
        **chat_body(),
        "chunking_settings": {"strategy": "word", "max_chunk_size": 100, "overlap": 10},
    }
    assert (await _put_error(sandbox_client, body, "completion"))[2] == (
        "Model configuration contains settings [{chunking_settings={strategy=word, max_chunk_size=100, "
        "overlap=10}}] unknown to the [openai] service"
    )


async def test_put_fields_unknown_top_level_and_task_settings(
    sandbox_client: httpx.AsyncClient,
) -> None:
    top = {**emb_body(), "extra": 1}
    assert (await _put_error(sandbox_client, top))[2].startswith(
        "Model configuration contains settings [{extra=1}]"
    )
    task = {**emb_body(), "task_settings": {"temperature": 0.5}}
    assert (await _put_error(sandbox_client, task))[2].startswith(
        "Model configuration contains settings [{temperature=0.5}]"
    )


async def test_put_fields_non_object_service_settings_is_a_500(
    sandbox_client: httpx.AsyncClient,
) -> None:
    body = {"service": "openai", "service_settings": "x"}
    assert (await _put_error(sandbox_client, body))[0] == 500


# ======================================================================================
# chunking_settings (`ChunkingSettingsBuilder`, `*ChunkingSettings`)
# ======================================================================================


async def _chunking(client: httpx.AsyncClient, chunking: Any) -> httpx.Response:
    body = {**emb_body(dimensions=4), "chunking_settings": chunking}
    return await put(client, "c", body, "text_embedding")


@pytest.mark.parametrize("chunking", [None, {}])
async def test_chunking_default_chunking(sandbox_client: httpx.AsyncClient, chunking: Any) -> None:
    body = emb_body() if chunking is None else {**emb_body(), "chunking_settings": chunking}
    response = await put(sandbox_client, "c", body, "text_embedding")
    assert response.json()["chunking_settings"] == DEFAULT_CHUNKING


async def test_chunking_missing_strategy(sandbox_client: httpx.AsyncClient) -> None:
    response = await _chunking(sandbox_client, {"max_chunk_size": 100})
    assert error_of(response) == (
        400,
        "illegal_argument_exception",
        "Can't generate Chunker without ChunkingStrategy provided",
    )


async def test_chunking_unknown_strategy_is_exact_match(sandbox_client: httpx.AsyncClient) -> None:
    response = await _chunking(
        sandbox_client, {"strategy": "Word", "max_chunk_size": 100, "overlap": 10}
    )
    assert error_of(response) == (
        400,
        "illegal_argument_exception",
        "Invalid chunkingStrategy Word",
    )


@pytest.mark.parametrize(
    ("chunking", "message"),
    [
        ({"strategy": "word", "max_chunk_size": 5, "overlap": 1}, "[chunking_settings] Invalid value [5.0]. [max_chunk_size] must be a greater than or equal to [10.0]"),
        ({"strategy": "word", "max_chunk_size": 301, "overlap": 1}, "[chunking_settings] Invalid value [301.0]. [max_chunk_size] must be a less than or equal to [300.0]"),
        ({"strategy": "word", "max_chunk_size": 100, "overlap": 60}, "[chunking_settings] Invalid value [60.0]. [overlap] must be a less than or equal to [50.0]"),
        ({"strategy": "word", "max_chunk_size": 100}, "[chunking_settings] does not contain the required setting [overlap]"),
        ({"strategy": "word", "max_chunk_size": 100, "overlap": 10, "x": 1}, "Word based chunking settings can not have the following settings: [x]"),
        ({"strategy": "sentence", "max_chunk_size": 19}, "[chunking_settings] Invalid value [19.0]. [max_chunk_size] must be a greater than or equal to [20.0]"),
        ({"strategy": "sentence", "max_chunk_size": 301}, "[chunking_settings] Invalid value [301.0]. [max_chunk_size] must be a less than or equal to [300.0]"),
        ({"strategy": "sentence", "max_chunk_size": 100, "sentence_overlap": 2}, "sentence_overlap[2] must be either 0 or 1"),
        ({"strategy": "recursive", "max_chunk_size": 100, "separators": ["a"], "separator_group": "markdown"}, "Recursive chunking settings can not have both separators and separator_set"),
        ({"strategy": "recursive", "max_chunk_size": 100, "separators": []}, "Recursive chunking settings can not have an empty list of separators"),
    ],
)  # fmt: skip
async def test_chunking_validation_messages(
    sandbox_client: httpx.AsyncClient, chunking: dict[str, Any], message: str
) -> None:
    assert error_of(await _chunking(sandbox_client, chunking)) == (
        400,
        "validation_exception",
        f"Validation Failed: 1: {message};",
    )


@pytest.mark.parametrize(
    ("chunking", "echo"),
    [
        ({"strategy": "word", "max_chunk_size": 100, "overlap": 50}, {"strategy": "word", "max_chunk_size": 100, "overlap": 50}),
        ({"strategy": "sentence", "max_chunk_size": 20}, {"strategy": "sentence", "max_chunk_size": 20, "sentence_overlap": 1}),
        ({"strategy": "sentence", "max_chunk_size": 300, "sentence_overlap": 0}, {"strategy": "sentence", "max_chunk_size": 300, "sentence_overlap": 0}),
        ({"strategy": "none", "max_chunk_size": 7}, {"strategy": "none"}),
        ({"strategy": "recursive", "max_chunk_size": 100}, {"strategy": "recursive", "max_chunk_size": 100, "separators": PLAINTEXT}),
        ({"strategy": "recursive", "max_chunk_size": 100, "separator_group": "plaintext"}, {"strategy": "recursive", "max_chunk_size": 100, "separators": PLAINTEXT}),
        ({"strategy": "recursive", "max_chunk_size": 100, "separators": ["\n\n", "\n"]}, {"strategy": "recursive", "max_chunk_size": 100, "separators": ["\n\n", "\n"]}),
    ],
)  # fmt: skip
async def test_chunking_echo(
    sandbox_client: httpx.AsyncClient, chunking: dict[str, Any], echo: dict[str, Any]
) -> None:
    response = await _chunking(sandbox_client, chunking)
    assert response.status_code == 200, response.text
    assert list(response.json()["chunking_settings"].items()) == list(echo.items())


async def test_chunking_markdown_group_expands(sandbox_client: httpx.AsyncClient) -> None:
    response = await _chunking(
        sandbox_client,
        {"strategy": "recursive", "max_chunk_size": 50, "separator_group": "markdown"},
    )
    separators = response.json()["chunking_settings"]["separators"]
    assert separators[:2] == ["\n# ", "\n## "] and len(separators) == 8


async def test_chunking_none_and_recursive_unknown_before_9_1() -> None:
    async with client_for(es_version="9.0.0") as (_app, client):
        response = await _chunking(client, {"strategy": "none"})
        assert error_of(response)[2] == "Invalid chunkingStrategy none"


async def test_chunking_upper_bound_dropped_in_9_2() -> None:
    async with client_for(es_version="9.2.0") as (_app, client):
        response = await _chunking(client, {"strategy": "sentence", "max_chunk_size": 1000})
        assert response.json()["chunking_settings"]["max_chunk_size"] == 1000


async def test_chunking_unknown_setting_on_8_15() -> None:
    async with client_for(es_version="8.15.0") as (_app, client):
        response = await _chunking(client, {"strategy": "sentence", "max_chunk_size": 100})
        assert error_of(response)[2].startswith(
            "Model configuration contains settings [{chunking_settings="
        )
        plain = await put_emb(client, "plain")
        assert "chunking_settings" not in plain


# ======================================================================================
# PUT response (`PutInferenceModelAction.Response`)
# ======================================================================================


async def test_put_answers_bare_endpoint_equal_to_get(
    sandbox_client: httpx.AsyncClient,
) -> None:
    created = await put_emb(sandbox_client, "my-emb")
    assert created == {
        "inference_id": "my-emb",
        "task_type": "text_embedding",
        "service": "openai",
        "service_settings": {
            "model_id": EMB_MODEL,
            "similarity": "dot_product",
            "dimensions": 1536,
            "rate_limit": {"requests_per_minute": 3000},
        },
        "chunking_settings": DEFAULT_CHUNKING,
    }
    listed = (await sandbox_client.get("/_inference/my-emb")).json()
    assert listed == {"endpoints": [created]}


@pytest.mark.parametrize(
    ("version", "accepted"),
    [("8.18.0", False), ("8.19.0", True), ("9.0.0", False), ("9.1.0", True)],
)
async def test_put_timeout_param_per_version(version: str, accepted: bool) -> None:
    async with client_for(es_version=version) as (_app, client):
        response = await client.put("/_inference/completion/t?timeout=10s", json=chat_body())
        if accepted:
            assert response.status_code == 200, response.text
        else:
            assert error_of(response) == (
                400,
                "illegal_argument_exception",
                "request [/_inference/completion/t] contains unrecognized parameter: [timeout]",
            )


async def test_put_timeout_bounds_the_validation_call(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    fault(sandbox_app, path="/v1/chat/completions", kind="delay", delay_s=1.0, count=1)
    response = await sandbox_client.put(
        "/_inference/completion/slow?timeout=50ms", json=chat_body()
    )
    body = response.json()
    assert response.status_code == 400
    assert (
        body["error"]["caused_by"]["reason"] == "Request timed out waiting to be sent after [50ms]"
    )
    assert (await sandbox_client.get("/_inference/slow")).status_code == 404


# ======================================================================================
# The validation call (`TextEmbeddingModelValidator`, `ChatCompletionModelValidator`)
# ======================================================================================


async def test_validation_call_text_embedding_validation_request(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e")
    (call,) = _calls(sandbox_app)
    assert (call.path, call.body) == ("/v1/embeddings", {"input": ["how big"], "model": EMB_MODEL})


async def test_validation_call_completion_validation_is_one_plain_chat(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_chat(sandbox_client, "c")
    (call,) = _calls(sandbox_app)
    assert call.body == {
        "messages": [{"content": "how big", "role": "user"}],
        "model": CHAT_MODEL,
        "n": 1,
        "stream": False,
    }


async def test_validation_call_chat_completion_validation_streams(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_chat(sandbox_client, "cc", "chat_completion")
    (call,) = _calls(sandbox_app)
    assert call.body["stream"] is True and call.body["messages"][0]["content"] == "how big"


async def test_validation_call_no_completion_validation_before_8_16() -> None:
    async with client_for(es_version="8.15.0") as (app, client):
        await put_chat(client, "c")
        assert _calls(app) == []


async def test_validation_call_user_dimensions_kept_when_upstream_agrees(
    sandbox_client: httpx.AsyncClient,
) -> None:
    created = await put_emb(sandbox_client, "e", dimensions=64, similarity="l2_norm")
    assert created["service_settings"]["dimensions"] == 64
    assert created["service_settings"]["similarity"] == "l2_norm"


async def test_validation_call_dimension_mismatch(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    reply = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
    }
    fault(sandbox_app, path="/v1/embeddings", status=200, body=reply, count=1)
    response = await put(sandbox_client, "e", emb_body(dimensions=128), "text_embedding")
    assert error_of(response) == (
        400,
        "status_exception",
        "The retrieved embeddings size [3] does not match the size specified in the settings [128]. "
        "Please recreate the [e] configuration with the correct dimensions",
    )


async def test_validation_call_upstream_failure_wrapped_with_cause(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    sandbox_app.keys.revoke(KEY)
    body = (await put(sandbox_client, "e", emb_body(), "text_embedding")).json()
    assert body["status"] == 400
    assert body["error"]["reason"].startswith("Could not complete inference endpoint creation")
    cause = body["error"]["caused_by"]
    assert cause["type"] == "status_exception"
    assert cause["reason"].startswith(
        "Received an authentication error status code for request from inference entity id [e] status [401]. "
        "Error message: [Incorrect API key provided:"
    )
    assert body["error"]["root_cause"] == [{"type": "status_exception", "reason": cause["reason"]}]
    assert (await sandbox_client.get("/_inference/e")).status_code == 404


# ======================================================================================
# GET envelope (`TransportGetInferenceModelAction`)
# ======================================================================================


async def test_get_single_id_still_wrapped_in_endpoints(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    body = (await sandbox_client.get("/_inference/completion/c")).json()
    assert list(body) == ["endpoints"] and len(body["endpoints"]) == 1


async def test_get_sorted_by_inference_id_with_defaults_first(
    sandbox_client: httpx.AsyncClient,
) -> None:
    for name in ("zeta", "alpha", "m-1", "m.0"):
        await put_chat(sandbox_client, name)
    ids = [e["inference_id"] for e in (await sandbox_client.get("/_inference")).json()["endpoints"]]
    assert ids == sorted(ids)
    assert ids[0].startswith(".") and ids[-4:] == ["alpha", "m-1", "m.0", "zeta"]


@pytest.mark.parametrize("path", ["/_inference/completion/_all", "/_inference/chat_completion/*"])
async def test_get_no_match_is_empty_list(path: str) -> None:
    # Without EIS: its `.rainbow-sprinkles-elastic` is a chat_completion endpoint.
    async with client_for(eis=False) as (_app, client):
        assert (await client.get(path)).json() == {"endpoints": []}


# ======================================================================================
# Per-endpoint object (`ModelConfigurations.toFilteredXContent`)
# ======================================================================================


async def test_get_endpoint_embedding_key_order_and_echo_only_if_sent(
    sandbox_client: httpx.AsyncClient,
) -> None:
    body = {
        "service": "openai",
        "service_settings": {
            "rate_limit": {"requests_per_minute": 7},
            "max_input_tokens": 512,
            "dimensions": 32,
            "similarity": "Cosine",
            "organization_id": "org-1",
            "url": "http://sandbox/_sandbox/openai/v1/embeddings",
            "model_id": EMB_MODEL,
            "api_key": KEY,
        },
        "task_settings": {"user": "me"},
    }
    endpoint = (await put(sandbox_client, "e", body, "text_embedding")).json()
    assert list(endpoint) == [
        "inference_id",
        "task_type",
        "service",
        "service_settings",
        "task_settings",
        "chunking_settings",
    ]
    assert list(endpoint["service_settings"]) == [
        "model_id", "url", "organization_id", "similarity", "dimensions", "max_input_tokens", "rate_limit",
    ]  # fmt: skip
    assert endpoint["task_settings"] == {"user": "me"}
    assert "api_key" not in json.dumps(endpoint) and "dimensions_set_by_user" not in json.dumps(
        endpoint
    )


async def test_get_endpoint_completion_key_order(sandbox_client: httpx.AsyncClient) -> None:
    body = chat_body(max_input_tokens=9, organization_id="org-2")
    endpoint = (await put(sandbox_client, "c", body, "completion")).json()
    assert list(endpoint["service_settings"]) == [
        "model_id",
        "organization_id",
        "max_input_tokens",
        "rate_limit",
    ]
    assert "chunking_settings" not in endpoint and "task_settings" not in endpoint
    assert endpoint["service_settings"]["rate_limit"] == {"requests_per_minute": 500}


async def test_get_endpoint_default_url_never_echoed(sandbox_client: httpx.AsyncClient) -> None:
    endpoint = await put_emb(sandbox_client, "e")
    assert "url" not in endpoint["service_settings"]


async def test_get_endpoint_empty_task_settings_present_on_8_15() -> None:
    async with client_for(es_version="8.15.0") as (_app, client):
        endpoint = await put_chat(client, "c")
        assert endpoint["task_settings"] == {}


async def test_get_endpoint_persisted_pre_8_16_embedding_reads_old_chunking_default(
    tmp_path: Any,
) -> None:
    async with client_for(es_version="8.15.0", data_dir=tmp_path) as (_app, client):
        await put_emb(client, "old")
    async with client_for(es_version="9.1.0", data_dir=tmp_path) as (_app, client):
        endpoint = (await client.get("/_inference/old")).json()["endpoints"][0]
        assert endpoint["chunking_settings"] == {
            "strategy": "word",
            "max_chunk_size": 250,
            "overlap": 100,
        }


# ======================================================================================
# GET errors (`ModelRegistry`, `InferenceExceptions`)
# ======================================================================================


async def test_get_unknown_id(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.get("/_inference/inference_to_get")
    assert error_of(response) == (
        404,
        "resource_not_found_exception",
        "Inference endpoint not found [inference_to_get]",
    )


async def test_get_wrong_task_type(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.get("/_inference/completion/e")
    assert error_of(response) == (
        400,
        "status_exception",
        "Requested task type [completion] does not match the inference endpoint's task type [text_embedding]",
    )


async def test_get_bad_task_type_segment(sandbox_client: httpx.AsyncClient) -> None:
    assert error_of(await sandbox_client.get("/_inference/bad/e"))[2] == "Unknown task_type [bad]"


# ======================================================================================
# Preconfigured endpoints (`ModelRegistry.defaultConfigs`)
# ======================================================================================


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("8.15.0", []),
        ("8.16.0", [".elser-2-elasticsearch", ".multilingual-e5-small-elasticsearch"]),
        (
            "9.1.0",
            [
                ".elser-2-elasticsearch",
                ".multilingual-e5-small-elasticsearch",
                ".rerank-v1-elasticsearch",
            ],
        ),
    ],
)
async def test_preconfigured_endpoints_per_version(version: str, expected: list[str]) -> None:
    # The built-in ones (the EIS ones are in test_eis.py): a cluster EIS does not authorize.
    async with client_for(es_version=version, eis=False) as (_app, client):
        endpoints = (await client.get("/_inference/_all")).json()["endpoints"]
        assert [e["inference_id"] for e in endpoints] == expected
        assert all(e["service"] == "elasticsearch" for e in endpoints)


async def test_preconfigured_default_elser_shape(sandbox_client: httpx.AsyncClient) -> None:
    (elser,) = (await sandbox_client.get("/_inference/.elser-2-elasticsearch")).json()["endpoints"]
    assert elser["task_type"] == "sparse_embedding"
    assert elser["service_settings"]["num_threads"] == 1
    assert elser["service_settings"]["adaptive_allocations"] == {
        "enabled": True, "min_number_of_allocations": 0, "max_number_of_allocations": 32,
    }  # fmt: skip


async def test_preconfigured_reserved_ids_cannot_be_created(
    sandbox_client: httpx.AsyncClient,
) -> None:
    response = await put(sandbox_client, ".elser-2-elasticsearch", chat_body(), "completion")
    assert error_of(response)[1] == "action_request_validation_exception"


# ======================================================================================
# DELETE (`TransportDeleteInferenceEndpointAction`)
# ======================================================================================


async def _use_in_index(client: httpx.AsyncClient, index: str, field: dict[str, Any]) -> None:
    body = {"mappings": {"properties": {"content": {"type": "semantic_text", **field}}}}
    assert (await client.put(f"/{index}", json=body)).status_code == 200


async def _use_in_pipeline(client: httpx.AsyncClient, pipeline: str, model_id: str) -> None:
    body = {
        "processors": [{"inference": {"model_id": model_id, "input_output": {"input_field": "a"}}}]
    }
    assert (await client.put(f"/_ingest/pipeline/{pipeline}", json=body)).status_code == 200


def _pipeline_text(inference_id: str, pipelines: str) -> str:
    return (
        f"Inference endpoint {inference_id} is referenced by pipelines: [{pipelines}]. Ensure that no "
        "pipelines are using this inference endpoint, or use force to ignore this warning and delete "
        "the inference endpoint."
    )


def _index_text(inference_id: str, indexes: str) -> str:
    return (
        f" Inference endpoint {inference_id} is being used in the mapping for indexes: [{indexes}]. "
        "Ensure that no index mappings are using this inference endpoint, or use force to ignore "
        "this warning and delete the inference endpoint."
    )


async def test_delete_response(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    response = await sandbox_client.delete("/_inference/c")
    assert response.json() == {"acknowledged": True, "pipelines": [], "indexes": []}
    assert (await sandbox_client.get("/_inference/c")).status_code == 404


async def test_delete_unknown(sandbox_client: httpx.AsyncClient) -> None:
    assert error_of(await sandbox_client.delete("/_inference/nope"))[:2] == (
        404,
        "resource_not_found_exception",
    )


async def test_delete_wrong_task_type(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    response = await sandbox_client.delete("/_inference/text_embedding/c")
    assert error_of(response)[2].startswith("Requested task type [text_embedding] does not match")


async def test_delete_referenced_by_pipeline_is_409(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    await _use_in_pipeline(sandbox_client, "p2", "e")
    await _use_in_pipeline(sandbox_client, "p1", "e")
    response = await sandbox_client.delete("/_inference/e")
    assert error_of(response) == (409, "status_exception", _pipeline_text("e", "p1, p2"))


@pytest.mark.parametrize("key", ["inference_id", "search_inference_id"])
async def test_delete_used_by_semantic_text_is_409_with_leading_space(
    sandbox_client: httpx.AsyncClient, key: str
) -> None:
    await put_emb(sandbox_client, "e")
    field = (
        {"inference_id": "e"}
        if key == "inference_id"
        else {"inference_id": "other", "search_inference_id": "e"}
    )
    await _use_in_index(sandbox_client, "docs", field)
    response = await sandbox_client.delete("/_inference/e")
    assert error_of(response) == (409, "status_exception", _index_text("e", "docs"))


async def test_delete_dry_run_lists_references_and_keeps_endpoint(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_emb(sandbox_client, "e")
    await _use_in_pipeline(sandbox_client, "p", "e")
    await _use_in_index(sandbox_client, "idx", {"inference_id": "e"})
    response = await sandbox_client.delete("/_inference/e?dry_run=true")
    assert response.json() == {
        "acknowledged": False,
        "pipelines": ["p"],
        "indexes": ["idx"],
        "error_message": _pipeline_text("e", "p") + _index_text("e", "idx"),
    }
    assert (await sandbox_client.get("/_inference/e")).status_code == 200


async def test_delete_dry_run_without_references(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.delete("/_inference/text_embedding/e?dry_run")
    assert response.json() == {
        "acknowledged": False,
        "pipelines": [],
        "indexes": [],
        "error_message": "",
    }


async def test_delete_force_deletes_a_referenced_endpoint(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_emb(sandbox_client, "e")
    await _use_in_pipeline(sandbox_client, "p", "e")
    response = await sandbox_client.delete("/_inference/e?force=true")
    assert response.json() == {"acknowledged": True, "pipelines": [], "indexes": []}
    assert (await sandbox_client.get("/_inference/e")).status_code == 404


async def test_delete_references_go_away_with_their_index_and_pipeline(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_emb(sandbox_client, "e")
    await _use_in_pipeline(sandbox_client, "p", "e")
    await _use_in_index(sandbox_client, "idx", {"inference_id": "e"})
    await sandbox_client.delete("/_ingest/pipeline/p")
    await sandbox_client.delete("/idx")
    assert (await sandbox_client.delete("/_inference/e")).status_code == 200


async def test_delete_8_15_checks_pipelines_only_with_older_texts() -> None:
    async with client_for(es_version="8.15.0") as (_app, client):
        await put_emb(client, "e")
        await _use_in_pipeline(client, "p", "e")
        dry = await client.delete("/_inference/e?dry_run=true")
        assert dry.json() == {"acknowledged": False, "pipelines": ["p"]}
        refused = await client.delete("/_inference/e")
        assert error_of(refused)[:2] == (409, "status_exception")
        assert (
            "is referenced by pipelines and cannot be deleted. Use `force`" in error_of(refused)[2]
        )
        assert (await client.delete("/_inference/e?force")).json() == {"acknowledged": True}


async def test_delete_reserved_endpoint_refused(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.delete("/_inference/.elser-2-elasticsearch?force=true")
    assert error_of(response)[2] == (
        "[.elser-2-elasticsearch] is a reserved inference endpoint. Cannot delete a reserved inference endpoint."
    )


async def test_delete_bad_boolean_parameter(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    response = await sandbox_client.delete("/_inference/c?force=yes")
    assert (
        error_of(response)[2]
        == "Failed to parse value [yes] as only [true] or [false] are allowed."
    )


# ======================================================================================
# _update (`UpdateInferenceModelAction`, `TransportUpdateInferenceModelAction`)
# ======================================================================================


async def test_update_rotates_api_key(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e")
    new_key = "sk-rotated-0000"
    sandbox_app.keys.set_valid({KEY, new_key})
    response = await sandbox_client.put(
        "/_inference/text_embedding/e/_update", json={"service_settings": {"api_key": new_key}}
    )
    assert response.status_code == 200, response.text
    assert "api_key" not in response.text
    sandbox_app.keys.revoke(KEY)
    assert (await sandbox_client.post("/_inference/e", json={"input": "x"})).status_code == 200


async def test_update_task_settings_merge(sandbox_client: httpx.AsyncClient) -> None:
    body = {**chat_body(), "task_settings": {"user": "a"}}
    await put(sandbox_client, "c", body, "completion")
    response = await sandbox_client.put(
        "/_inference/completion/c/_update", json={"task_settings": {"user": "b"}}
    )
    assert response.json()["task_settings"] == {"user": "b"}


async def test_update_other_service_settings_silently_ignored(
    sandbox_client: httpx.AsyncClient,
) -> None:
    before = await put_emb(sandbox_client, "e")
    update = {
        "service_settings": {
            "api_key": KEY,
            "model_id": "text-embedding-3-large",
            "dimensions": 8,
            "url": "http://x",
        }
    }
    after = await sandbox_client.put("/_inference/text_embedding/e/_update", json=update)
    assert after.status_code == 200 and after.json() == before


async def test_update_service_settings_require_api_key(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.put(
        "/_inference/text_embedding/e/_update", json={"service_settings": {"model_id": "m"}}
    )
    assert error_of(response) == (
        400,
        "validation_exception",
        "Validation Failed: 1: [secret_settings] does not contain the required setting [api_key];",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "Request body is empty"),
        ({"service": "openai"}, "Request contained fields which cannot be updated, remove these fields and try again [{service=openai}]"),
        ({"chunking_settings": {"strategy": "none"}}, "Request contained fields which cannot be updated, remove these fields and try again [{chunking_settings={strategy=none}}]"),
        ({"service_settings": "x"}, "Unable to parse service settings in the request [x]"),
        ({"task_settings": 3}, "Unable to parse task settings in the request [3]"),
        ({"task_type": "completion"}, "Task type must match the task type of the existing endpoint"),
    ],
)  # fmt: skip
async def test_update_body_rules(
    sandbox_client: httpx.AsyncClient, body: dict[str, Any], reason: str
) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.put("/_inference/e/_update", json=body)
    assert error_of(response) == (400, "status_exception", reason)


async def test_update_task_type_in_url_must_match(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.put(
        "/_inference/completion/e/_update", json={"task_settings": {"user": "u"}}
    )
    assert error_of(response)[2] == "Task type must match the task type of the existing endpoint"


async def test_update_task_type_in_body_accepted(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    body = {"task_type": "text_embedding", "task_settings": {"user": "u"}}
    response = await sandbox_client.put("/_inference/e/_update", json=body)
    assert response.json()["task_settings"] == {"user": "u"}


async def test_update_unknown_id_is_404(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.put(
        "/_inference/completion/nope/_update", json={"task_settings": {"user": "u"}}
    )
    assert error_of(response)[:2] == (404, "resource_not_found_exception")


async def test_update_unchanged_config_makes_no_upstream_call() -> None:
    """9.4+ (elastic/elasticsearch#140003): a change is validated upstream, a no-op is not."""
    async with client_for(es_version="9.4.0") as (app, client):
        await put_emb(client, "e")
        calls = len(_calls(app))
        response = await client.put(
            "/_inference/text_embedding/e/_update", json={"service_settings": {"api_key": KEY}}
        )
        assert response.status_code == 200
        assert len(_calls(app)) == calls
        changed = await client.put(
            "/_inference/text_embedding/e/_update", json={"task_settings": {"user": "x"}}
        )
        assert changed.status_code == 200 and len(_calls(app)) == calls + 1


async def test_update_failed_validation_keeps_old_config() -> None:
    """9.4+ (elastic/elasticsearch#140003): a key the upstream refuses is not stored."""
    async with client_for(es_version="9.4.0") as (_app, client):
        before = await put_emb(client, "e")
        response = await client.put(
            "/_inference/text_embedding/e/_update",
            json={"service_settings": {"api_key": "bad-key"}},
        )
        assert error_of(response)[2].startswith("Could not complete inference endpoint creation")
        assert (await client.get("/_inference/e")).json()["endpoints"] == [before]
        assert (await client.post("/_inference/e", json={"input": "x"})).status_code == 200


async def test_update_early_8_17_requires_task_type_in_path() -> None:
    async with client_for(es_version="8.17.0") as (_app, client):
        await put_emb(client, "e")
        response = await client.put("/_inference/e/_update", json={"task_settings": {"user": "u"}})
        assert error_of(response)[2] == "Inference ID must be provided in the path"
        ok = await client.put(
            "/_inference/text_embedding/e/_update", json={"task_settings": {"user": "u"}}
        )
        assert ok.status_code == 200


async def test_update_concurrent_update_is_409() -> None:
    """`ModelRegistry.updateModelTransaction`; only reachable while a 9.4+ update waits on its
    validation call."""
    import asyncio

    async with client_for(es_version="9.4.0") as (app, client):
        await put_emb(client, "e")
        fault(app, path="/v1/embeddings", kind="delay", delay_s=0.2, count=1)
        path = "/_inference/text_embedding/e/_update"
        first, second = await asyncio.gather(
            client.put(path, json={"task_settings": {"user": "a"}}),
            client.put(path, json={"task_settings": {"user": "b"}}),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        refused = first if first.status_code == 409 else second
        assert (
            error_of(refused)[2]
            == "Endpoint [e] is currently being updated. Try again once the update completes"
        )


# ======================================================================================
# Perform inference (`InferenceAction`, `ServerSentEventsRestActionListener`)
# ======================================================================================


async def test_inference_text_embedding_one_vector_per_input(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_emb(sandbox_client, "e", dimensions=4)
    body = (
        await sandbox_client.post("/_inference/text_embedding/e", json={"input": ["a", "b", "c"]})
    ).json()
    assert list(body) == ["text_embedding"]
    assert [len(item["embedding"]) for item in body["text_embedding"]] == [4, 4, 4]


async def test_inference_completion_result(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    body = (await sandbox_client.post("/_inference/c", json={"input": "hello"})).json()
    assert list(body) == ["completion"] and isinstance(body["completion"][0]["result"], str)


async def test_inference_completion_accepts_exactly_one_input(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_chat(sandbox_client, "c")
    response = await sandbox_client.post("/_inference/c", json={"input": ["a", "b"]})
    assert error_of(response) == (
        400,
        "status_exception",
        "OpenAI chat completions only accepts 1 input",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Field [input] cannot be null"),
        ({"input": []}, "Field [input] cannot be an empty array"),
    ],
)
async def test_inference_input_validation(
    sandbox_client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.post("/_inference/text_embedding/e", json=body)
    assert error_of(response) == (
        400,
        "action_request_validation_exception",
        f"Validation Failed: 1: {message};",
    )


async def test_inference_body_is_required(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    assert error_of(await sandbox_client.post("/_inference/e"))[:2] == (400, "parse_exception")


async def test_inference_unknown_body_field(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.post(
        "/_inference/e",
        content=b'{"input":"x","foo":1}',
        headers={"content-type": "application/json"},
    )
    assert error_of(response) == (
        400,
        "x_content_parse_exception",
        "[1:14] [inference_request] unknown field [foo]",
    )


async def test_inference_chat_completion_rejected_on_plain_post(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_chat(sandbox_client, "cc", "chat_completion")
    response = await sandbox_client.post("/_inference/cc", json={"input": "x"})
    assert error_of(response)[2] == (
        "Inference entity [cc] does not support task type [chat_completion] for inference, the task type "
        "must be one of [text_embedding, completion]. The task type for the inference entity is "
        "chat_completion, please use the _inference/chat_completion/cc/_stream URL."
    )


async def test_inference_unknown_id_and_task_type_mismatch(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_chat(sandbox_client, "c")
    assert error_of(await sandbox_client.post("/_inference/nope", json={"input": "x"}))[0] == 404
    mismatch = await sandbox_client.post("/_inference/text_embedding/c", json={"input": "x"})
    assert error_of(mismatch)[2].startswith("Requested task type [text_embedding] does not match")


async def test_inference_completion_stream_framing(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    response = await sandbox_client.post("/_inference/completion/c/_stream", json={"input": "hi"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    events = sse_events(response.text)
    assert events[-1] == ("message", "[DONE]")
    deltas = [json.loads(data)["completion"][0]["delta"] for _, data in events[:-1]]
    full = (await sandbox_client.post("/_inference/c", json={"input": "hi"})).json()["completion"][
        0
    ]["result"]
    assert "".join(deltas) == full


async def test_inference_chat_completion_stream_chunks_unwrapped(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_chat(sandbox_client, "cc", "chat_completion")
    body = {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 50}
    for suffix in ("_stream", "_unified"):
        response = await sandbox_client.post(f"/_inference/chat_completion/cc/{suffix}", json=body)
        events = sse_events(response.text)
        assert events[-1] == ("message", "[DONE]")
        chunk = json.loads(events[0][1])
        assert list(chunk) == ["id", "choices", "model", "object"]
        assert chunk["object"] == "chat.completion.chunk" and "chat_completion" not in chunk


async def test_inference_stream_not_allowed_for_text_embedding(
    sandbox_client: httpx.AsyncClient,
) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.post("/_inference/e/_stream", json={"input": "x"})
    assert response.status_code == 405
    ((event, data),) = sse_events(response.text)
    assert event == "error"
    assert (
        json.loads(data)["error"]["reason"]
        == "Streaming is not allowed for service [openai] and task [text_embedding]"
    )


async def test_inference_stream_failure_before_first_chunk_keeps_status(
    sandbox_client: httpx.AsyncClient,
) -> None:
    response = await sandbox_client.post("/_inference/completion/nope/_stream", json={"input": "x"})
    assert response.status_code == 404
    ((event, data),) = sse_events(response.text)
    assert event == "error" and json.loads(data)["status"] == 404


async def test_inference_unified_requires_messages(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "cc", "chat_completion")
    response = await sandbox_client.post(
        "/_inference/chat_completion/cc/_unified", json={"model": "x"}
    )
    assert response.status_code == 400 and sse_events(response.text)[0][0] == "error"


async def test_inference_task_settings_user_override(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put(
        sandbox_client, "e", {**emb_body(), "task_settings": {"user": "stored"}}, "text_embedding"
    )
    await sandbox_client.post(
        "/_inference/e", json={"input": "x", "task_settings": {"user": "override"}}
    )
    await sandbox_client.post("/_inference/e", json={"input": "x"})
    assert [c.user for c in _calls(sandbox_app)] == ["stored", "override", "stored"]


async def test_inference_timeout_param(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_chat(sandbox_client, "c")
    fault(sandbox_app, path="/v1/chat/completions", kind="delay", delay_s=1.0, count=1)
    response = await sandbox_client.post("/_inference/c?timeout=20ms", json={"input": "x"})
    assert error_of(response) == (
        429,
        "timeout_exception",
        "Request timed out waiting to be sent after [20ms]",
    )


async def test_inference_openai_takes_no_input_type(sandbox_client: httpx.AsyncClient) -> None:
    await put_emb(sandbox_client, "e")
    response = await sandbox_client.post(
        "/_inference/e", json={"input": "x", "input_type": "SEARCH"}
    )
    assert error_of(response) == (
        400,
        "validation_exception",
        "Validation Failed: 1: Invalid input_type [search]. The input_type option is not supported by this service;",
    )


# ======================================================================================
# Outbound HTTP (`OpenAiEmbeddingsRequest`, `OpenAiUnifiedChatCompletionRequestEntity`)
# ======================================================================================


async def test_outbound_headers_bearer_and_organization(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e", organization_id="org-42")
    (call,) = _calls(sandbox_app)
    assert call.organization == "org-42"
    assert call.headers["content-type"] == "application/json"
    from reconciler.sandbox.upstream import key_fingerprint

    assert call.key_fingerprint == key_fingerprint(KEY)


async def test_outbound_task_headers_sent_on_9_2() -> None:
    async with client_for(es_version="9.2.0") as (app, client):
        body = {**chat_body(), "task_settings": {"headers": {"X-Team": "search"}}}
        await put(client, "c", body, "completion")
        (call,) = _calls(app)
        assert call.headers["x-team"] == "search"


async def test_outbound_dimensions_sent_only_when_set_by_user(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "filled")
    await put_emb(sandbox_client, "user-set", dimensions=16)
    await sandbox_client.post("/_inference/filled", json={"input": "x"})
    await sandbox_client.post("/_inference/user-set", json={"input": "x"})
    assert [c.dimensions for c in _calls(sandbox_app)] == [None, 16, None, 16]


async def test_outbound_chat_body_order_and_user(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put(sandbox_client, "c", {**chat_body(), "task_settings": {"user": "u"}}, "completion")
    await sandbox_client.post("/_inference/c", json={"input": "hello"})
    body = _calls(sandbox_app)[-1].body
    assert list(body) == ["messages", "model", "n", "user", "stream"]
    assert body["messages"] == [{"content": "hello", "role": "user"}] and body["stream"] is False


async def test_outbound_explicit_url_is_called_as_given(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    from tests.fixtures.sandbox import start_sandbox_thread

    with start_sandbox_thread() as other:
        url = f"{other.url}/_sandbox/openai/v1/embeddings"
        created = await put_emb(sandbox_client, "remote", url=url)
        assert created["service_settings"]["url"] == url
        await sandbox_client.post("/_inference/remote", json={"input": "x"})
        assert len(_calls(other.app)) == 2
    assert _calls(sandbox_app) == []


async def test_outbound_unreachable_url_is_a_500_on_inference(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e", url="http://sandbox/_sandbox/openai/v1/embeddings")
    sandbox_app.es_state.store.endpoints["e"]["service_settings"]["url"] = (
        "http://127.0.0.1:9/v1/embeddings"
    )
    body = (await sandbox_client.post("/_inference/e", json={"input": "x"})).json()
    assert body["status"] == 500
    assert body["error"]["reason"] == "Failed to send OpenAI embeddings request"
    assert body["error"]["caused_by"]["type"] == "connect_exception"


# ======================================================================================
# Upstream errors (`OpenAiResponseHandler`, `BaseResponseHandler`)
# ======================================================================================


def _entity(code: int) -> str:
    return f"for request from inference entity id [e] status [{code}]"


async def _infer_after_fault(
    client: httpx.AsyncClient, app: SandboxApp, **rule: Any
) -> tuple[int, str, str]:
    await put_emb(client, "e")
    fault(app, path="/v1/embeddings", **rule)
    return error_of(await client.post("/_inference/e", json={"input": "x"}))


async def test_upstream_errors_bad_key_on_post_is_401(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e")
    sandbox_app.keys.revoke(KEY)
    status, kind, reason = error_of(await sandbox_client.post("/_inference/e", json={"input": "x"}))
    assert (status, kind) == (401, "status_exception")
    assert reason.startswith(
        f"Received an authentication error status code {_entity(401)}. Error message: [Incorrect API key"
    )


async def test_upstream_errors_rate_limit_with_headers(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    headers = {"x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "0"}
    assert await _infer_after_fault(sandbox_client, sandbox_app, status=429, headers=headers) == (
        429,
        "status_exception",
        "Received a rate limit status code. Token limit [100], remaining tokens [0]. Request limit "
        f"[unknown], remaining requests [unknown] {_entity(429)}. Error message: [injected fault]",
    )


@pytest.mark.parametrize(
    ("code", "status", "prefix"),
    [
        (500, 400, "Received a server error status code"),
        (503, 400, "Received a server busy error status code"),
        (502, 400, "Received a server error status code"),
        (401, 401, "Received an authentication error status code"),
        (422, 422, "Received an input validation error response"),
        (400, 400, "Received a bad request status code"),
        (413, 413, "Received a content too large status code"),
        (404, 404, "Resource not found at [https://api.openai.com/v1/embeddings]"),
        (403, 403, "Received an unsuccessful status code"),
        (302, 302, "Unhandled redirection"),
    ],
)
async def test_upstream_errors_status_mapping(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient, code: int, status: int, prefix: str
) -> None:
    assert await _infer_after_fault(sandbox_client, sandbox_app, status=code) == (
        status,
        "status_exception",
        f"{prefix} {_entity(code)}. Error message: [injected fault]",
    )


async def test_upstream_errors_content_too_large_message_on_400(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    body = {
        "error": {
            "message": "Please reduce your prompt; or completion length.",
            "type": "invalid_request_error",
        }
    }
    status, _, reason = await _infer_after_fault(sandbox_client, sandbox_app, status=400, body=body)
    assert status == 400 and reason.startswith("Received a content too large status code")


async def test_upstream_errors_no_error_message_part_without_openai_body(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    status, _, reason = await _infer_after_fault(
        sandbox_client, sandbox_app, status=418, body="teapot"
    )
    assert (status, reason) == (418, f"Received an unsuccessful status code {_entity(418)}")


async def test_upstream_errors_retryable_statuses_are_retried(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e")
    fault(sandbox_app, path="/v1/embeddings", status=503, count=2)
    response = await sandbox_client.post("/_inference/e", json={"input": "x"})
    assert response.status_code == 200
    assert [c.path for c in _calls(sandbox_app)].count(
        "/v1/embeddings"
    ) == 2  # faults are not logged


async def test_upstream_errors_not_retryable_statuses_fail_at_once(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_emb(sandbox_client, "e")
    rule = fault(sandbox_app, path="/v1/embeddings", status=422, count=2)
    assert (await sandbox_client.post("/_inference/e", json={"input": "x"})).status_code == 422
    (left,) = [r for r in sandbox_app.faults.list() if r.id == rule]
    assert left.count == 1


async def test_upstream_errors_put_wraps_upstream_errors_as_400(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    fault(sandbox_app, path="/v1/chat/completions", status=429)
    body = (await put(sandbox_client, "c", chat_body(), "completion")).json()
    assert body["status"] == 400
    assert body["error"]["caused_by"]["reason"].startswith("Received a rate limit status code.")


async def test_upstream_errors_dropped_connection_is_failed_to_send(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    await put_chat(sandbox_client, "c")
    fault(sandbox_app, path="/v1/chat/completions", kind="drop", count=1)
    body = (await sandbox_client.post("/_inference/c", json={"input": "x"})).json()
    assert (body["status"], body["error"]["reason"]) == (
        500,
        "Failed to send OpenAI chat completions request",
    )


# ======================================================================================
# What a drift-free diff relies on (not pinned above)
# ======================================================================================


async def test_crud_response_shapes(sandbox_client: httpx.AsyncClient) -> None:
    created = await put_chat(sandbox_client, "c")
    assert "inference_id" in created
    updated = (
        await sandbox_client.put(
            "/_inference/completion/c/_update", json={"task_settings": {"user": "u"}}
        )
    ).json()
    assert updated["inference_id"] == "c"
    assert (await sandbox_client.delete("/_inference/c")).json() == {
        "acknowledged": True,
        "pipelines": [],
        "indexes": [],
    }


async def test_put_never_updates_in_place(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    again = await put(
        sandbox_client, "c", {**chat_body(), "task_settings": {"user": "x"}}, "completion"
    )
    assert error_of(again)[1] == "resource_already_exists_exception"
    assert "task_settings" not in (await sandbox_client.get("/_inference/c")).json()["endpoints"][0]


async def test_preconfigured_never_openai(sandbox_client: httpx.AsyncClient) -> None:
    await put_chat(sandbox_client, "c")
    endpoints = (await sandbox_client.get("/_inference")).json()["endpoints"]
    for endpoint in endpoints:
        assert endpoint["inference_id"].startswith(".") == (endpoint["service"] != "openai")


# ======================================================================================
# General Elasticsearch behaviours (`BaseRestHandler`, `RestController`)
# ======================================================================================


async def test_rest_unrecognized_parameters(sandbox_client: httpx.AsyncClient) -> None:
    one = await sandbox_client.get("/_inference?foo=1")
    assert error_of(one) == (
        400,
        "illegal_argument_exception",
        "request [/_inference] contains unrecognized parameter: [foo]",
    )
    two = await sandbox_client.delete("/_inference/x?forse=true&zz=1")
    assert error_of(two)[2] == (
        "request [/_inference/x] contains unrecognized parameters: [forse] -> did you mean [force]?, [zz]"
    )


async def test_rest_response_params_always_accepted(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.get("/_inference?pretty&error_trace=true&human")
    assert response.status_code == 200 and response.text.startswith("{\n")


async def test_rest_unknown_route_and_wrong_method(sandbox_client: httpx.AsyncClient) -> None:
    unknown = await sandbox_client.get("/_nope/a/b/c")
    assert unknown.json() == {"error": "no handler found for uri [/_nope/a/b/c] and method [GET]"}
    wrong = await sandbox_client.put("/_cluster/health")
    assert wrong.status_code == 405
    assert wrong.json() == {
        "error": "Incorrect HTTP method for uri [/_cluster/health] and method [PUT], allowed: [GET]",
        "status": 405,
    }
    assert wrong.headers["allow"] == "GET"


@pytest.mark.parametrize(
    "path", ["/", "/_inference", "/_nope/a/b", "/_inference/nope", "/missing-index"]
)
async def test_rest_product_header_on_every_response(
    sandbox_client: httpx.AsyncClient, path: str
) -> None:
    response = await sandbox_client.get(path)
    assert response.headers["x-elastic-product"] == "Elasticsearch"


@pytest.mark.parametrize(
    ("version", "compat", "ok"),
    [
        ("9.1.0", 9, True),
        ("9.1.0", 8, True),
        ("8.18.0", 8, True),
        ("8.18.0", 9, False),
        ("8.18.0", 7, True),
    ],
)
async def test_rest_compatible_media_types(version: str, compat: int, ok: bool) -> None:
    media = f"application/vnd.elasticsearch+json; compatible-with={compat}"
    async with client_for(es_version=version) as (_app, client):
        response = await client.get("/_inference", headers={"accept": media, "content-type": media})
        if ok:
            assert response.status_code == 200
            assert (
                response.headers["content-type"]
                == f"application/vnd.elasticsearch+json;compatible-with={compat}"
            )
        else:
            body = response.json()
            assert body["error"]["type"] == "media_type_header_exception"
            assert body["error"]["caused_by"]["reason"].startswith(
                "Accept version must be either version 8 or 7, but found 9."
            )


async def test_rest_unsupported_content_type(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.put(
        "/_inference/completion/c", content=b"x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 406
    assert response.json()["error"] == "Content-Type header [text/plain] is not supported"


async def test_rest_near_real_time_search(
    sandbox_app: SandboxApp, sandbox_client: httpx.AsyncClient
) -> None:
    clock = [1000.0]
    sandbox_app.es_state.clock = lambda: clock[0]
    await sandbox_client.put("/state/_doc/a", json={"n": 1})
    assert (await sandbox_client.get("/state/_search")).json()["hits"]["total"]["value"] == 1
    await sandbox_client.put("/state/_doc/b", json={"n": 2})
    assert (await sandbox_client.get("/state/_doc/b")).json()["found"] is True  # realtime get
    assert (await sandbox_client.get("/state/_search")).json()["hits"]["total"]["value"] == 1
    clock[0] += 1.5  # the scheduled refresh
    assert (await sandbox_client.get("/state/_search")).json()["hits"]["total"]["value"] == 2
    await sandbox_client.put("/state/_doc/c?refresh=wait_for", json={"n": 3})
    assert (await sandbox_client.get("/state/_search")).json()["hits"]["total"]["value"] == 3


async def test_rest_optimistic_concurrency(sandbox_client: httpx.AsyncClient) -> None:
    first = (await sandbox_client.put("/locks/_create/lock", json={"owner": "a"})).json()
    assert (first["result"], first["_seq_no"], first["_primary_term"], first["_version"]) == (
        "created",
        0,
        1,
        1,
    )
    taken = await sandbox_client.put("/locks/_doc/lock?op_type=create", json={"owner": "b"})
    assert error_of(taken) == (
        409,
        "version_conflict_engine_exception",
        "[lock]: version conflict, document already exists (current version [1])",
    )
    stale = await sandbox_client.put(
        "/locks/_doc/lock?if_seq_no=5&if_primary_term=1", json={"owner": "b"}
    )
    assert error_of(stale)[2] == (
        "[lock]: version conflict, required seqNo [5], primary term [1]. current document has seqNo [0] and primary term [1]"
    )
    fresh = await sandbox_client.put(
        "/locks/_doc/lock?if_seq_no=0&if_primary_term=1", json={"owner": "b"}
    )
    assert fresh.json()["_seq_no"] == 1 and fresh.json()["result"] == "updated"


async def test_rest_index_auto_created_on_write(sandbox_client: httpx.AsyncClient) -> None:
    assert (await sandbox_client.head("/auto")).status_code == 404
    await sandbox_client.post("/auto/_doc", json={"name": "x", "when": "2024-01-01T00:00:00Z"})
    mapping = (await sandbox_client.get("/auto/_mapping")).json()["auto"]["mappings"]["properties"]
    assert mapping["name"]["type"] == "text" and mapping["when"]["type"] == "date"
