"""The contract: what the reconciler relies on from the Elasticsearch inference API (service
`openai`), per release. Each test names its upstream source (`@pytest.mark.source`); tests whose
behaviour depends on the release read the server's version (`GET /`) and assert that release's
behaviour, or skip with the reason when the release lacks the API.

Every endpoint points at the suite's own OpenAI-compatible upstream (`upstream.py`) through
`service_settings.url`; ids are `contract-<run>-<name>`, removed after each test.

Paths below shortened: `…/inference/` is elastic/elasticsearch
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/`, `core/…/` is
`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from reconciler.sandbox.upstream import key_fingerprint
from tests.live.harness import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    Endpoints,
    Live,
    Release,
    assert_error,
    assert_no_secret,
    get_endpoint,
)
from tests.live.recording import Answer

API_DOCS = "https://www.elastic.co/docs/api/doc/elasticsearch/operation/"
DEFAULT_CHUNKING = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
RESET_CHUNKING = {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
"""`ChunkingSettingsBuilder.OLD_DEFAULT_SETTINGS`: what an endpoint stored without chunking
settings reads back as (core/…/inference/chunking/ChunkingSettingsBuilder.java)."""
OWN_CHUNKING = {"strategy": "word", "max_chunk_size": 120, "overlap": 40}
SMALL = 8
"""`dimensions` of the endpoints that run inferences: short vectors keep recordings small."""


def has_put_timeout(release: Release) -> bool:
    """PUT `?timeout=` (elastic/elasticsearch-specification `inference/put`: since 8.19.0 and
    9.1.0; `TransportVersions.INFERENCE_ADD_TIMEOUT_PUT_ENDPOINT_8_19`)."""
    return (8, 19) <= release < (9, 0) or release >= (9, 1)


def update(live: Live, inference_id: str, body: dict[str, object]) -> Answer:
    return live.client.put(f"/_inference/text_embedding/{inference_id}/_update", body)


def infer(live: Live, inference_id: str, *texts: str) -> Answer:
    return live.client.post(f"/_inference/text_embedding/{inference_id}", {"input": list(texts)})


# -- GET / -------------------------------------------------------------------------------


@pytest.mark.source(
    "server/src/main/java/org/elasticsearch/rest/action/RestMainAction.java",
    API_DOCS + "operation-info",
)
def test_root_reports_the_version(live: Live) -> None:
    """The reconciler reads `version.number` (and `build_flavor` for serverless) to pick the
    behaviour of the release (`reconciler/responses.py` `ServerInfo`)."""
    answer = live.client.get("/")
    assert answer.status == 200
    version = answer.body["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[A-Za-z0-9]+)?", version["number"])
    assert version["build_flavor"] in ("default", "serverless")
    for key in ("name", "cluster_name", "cluster_uuid"):
        assert isinstance(answer.body[key], str)
    assert answer.body["tagline"] == "You Know, for Search"


# -- PUT (create) ------------------------------------------------------------------------


@pytest.mark.source(
    "…/services/openai/OpenAiService.java updateModelWithEmbeddingDetails "
    "(similarity dot_product when unset, dimensions from the returned vector)",
    "…/services/openai/embeddings/OpenAiEmbeddingsServiceSettings.java (rate_limit 3000)",
    "core/…/inference/chunking/ChunkingSettingsBuilder.java (sentence/250/1 default)",
    "server/src/main/java/org/elasticsearch/inference/ModelConfigurations.java "
    "toFilteredXContent (empty task_settings omitted: elastic/elasticsearch#114389)",
    API_DOCS + "operation-inference-put-openai",
)
def test_put_text_embedding_fills_server_defaults(live: Live, endpoints: Endpoints) -> None:
    inference_id, answer = endpoints.create("text_embedding", "emb-defaults", live.embedding())
    created = answer.body
    assert (created["inference_id"], created["task_type"], created["service"]) == (
        inference_id,
        "text_embedding",
        "openai",
    )
    settings = created["service_settings"]
    assert settings["model_id"] == EMBEDDING_MODEL
    assert settings["url"] == live.upstream.embeddings_url
    assert settings["similarity"] == "dot_product"
    assert settings["dimensions"] == 1536
    assert settings["rate_limit"] == {"requests_per_minute": 3000}
    if live.at_least(8, 17):
        assert created["chunking_settings"] == DEFAULT_CHUNKING
    elif live.at_least(8, 16):
        assert "chunking_settings" in created
    if live.at_least(8, 16):
        assert "task_settings" not in created
    assert_no_secret(live, answer)
    fetched = get_endpoint(live, inference_id)
    assert fetched == created, "GET shows what PUT answered"


@pytest.mark.source(
    "…/services/openai/completion/OpenAiChatCompletionServiceSettings.java (rate_limit 500)",
    API_DOCS + "operation-inference-put-openai",
)
def test_put_completion_fills_its_rate_limit(live: Live, endpoints: Endpoints) -> None:
    inference_id, answer = endpoints.create("completion", "chat", live.completion())
    settings = answer.body["service_settings"]
    assert settings["model_id"] == CHAT_MODEL
    assert settings["rate_limit"] == {"requests_per_minute": 500}
    assert "similarity" not in settings and "dimensions" not in settings
    assert "chunking_settings" not in answer.body
    assert_no_secret(live, answer)
    assert get_endpoint(live, inference_id) == answer.body


@pytest.mark.source(
    "elastic/elasticsearch-specification specification/inference/put/PutRequest.ts "
    "(`timeout` since 8.19.0 / 9.1.0)",
    "server/src/main/java/org/elasticsearch/rest/BaseRestHandler.java (unrecognized parameter)",
)
def test_put_timeout_parameter_per_release(live: Live, endpoints: Endpoints) -> None:
    """The reconciler sends `?timeout=` only where the release knows it."""
    answer = endpoints.put(
        "text_embedding", "emb-timeout", live.embedding(dimensions=SMALL), timeout="30s"
    )
    if has_put_timeout(live.release):
        assert answer.status == 200, answer.text
    else:
        assert_error(answer, 400, "illegal_argument_exception", "unrecognized parameter: [timeout]")


# -- GET _inference/_all -----------------------------------------------------------------


@pytest.mark.source(
    "…/action/TransportGetInferenceModelAction.java (`_all` and `*` list every endpoint)",
    API_DOCS + "operation-inference-get",
)
def test_get_all_lists_every_endpoint(live: Live, endpoints: Endpoints) -> None:
    embedding, _ = endpoints.create("text_embedding", "all-emb", live.embedding(dimensions=SMALL))
    chat, _ = endpoints.create("completion", "all-chat", live.completion())
    answer = live.client.get("/_inference/_all")
    assert answer.status == 200
    listed = {entry["inference_id"]: entry for entry in answer.body["endpoints"]}
    assert listed[embedding]["task_type"] == "text_embedding"
    assert listed[chat]["task_type"] == "completion"
    for entry in listed.values():
        assert {"inference_id", "task_type", "service", "service_settings"} <= set(entry)
    assert_no_secret(live, answer)
    assert listed[embedding] == get_endpoint(live, embedding)


# -- _update -----------------------------------------------------------------------------


@pytest.mark.source(
    "…/action/TransportUpdateInferenceModelAction.java",
    "…/services/openai/embeddings/OpenAiEmbeddingsTaskSettings.java updatedTaskSettings",
    "elastic/elasticsearch-specification specification/inference/update (since 8.17.0)",
    API_DOCS + "operation-inference-update",
)
def test_update_task_settings(live: Live, endpoints: Endpoints) -> None:
    live.require((8, 17), "update API")
    inference_id, _ = endpoints.create(
        "text_embedding", "upd-task", live.embedding(dimensions=SMALL)
    )
    answer = update(live, inference_id, {"task_settings": {"user": "contract-user"}})
    assert answer.status == 200, answer.text
    assert answer.body["inference_id"] == inference_id
    assert answer.body["task_settings"] == {"user": "contract-user"}
    assert_no_secret(live, answer)
    assert get_endpoint(live, inference_id)["task_settings"] == {"user": "contract-user"}


def update_resets_chunking(version: tuple[int, int, int]) -> bool:
    """elastic/elasticsearch#139574: `_update` stores the endpoint without its chunking settings,
    which then read back as word/250/100. No 8.x or 9.1 backport of a fix; fixed by #141687 in
    9.2.6 and #141682 in 9.3.1 (the pull requests have no changelog entry: the first patch whose
    `docs/release-notes/changelog-bundles/<version>.yml` was generated after their 2026-02-02
    merge), and by #140003 from 9.4.0."""
    release, patch = version[:2], version[2]
    if release < (9, 2):
        return True
    return (release == (9, 2) and patch < 6) or (release == (9, 3) and patch < 1)


@pytest.mark.source(
    "elastic/elasticsearch#139574 (an update resets chunking_settings to word/250/100)",
    "elastic/elasticsearch#141687 (9.2.6), #141682 (9.3.1), #140003 (9.4.0): chunking kept",
    "core/…/inference/chunking/ChunkingSettingsBuilder.java OLD_DEFAULT_SETTINGS",
)
def test_chunking_after_an_update_per_release(
    live: Live, endpoints: Endpoints, record_property: Callable[[str, object], None]
) -> None:
    """What GET shows after any `_update` (the reconciler reads back after every update)."""
    live.require((8, 17), "update API")
    body = live.embedding(dimensions=SMALL, chunking=OWN_CHUNKING)
    inference_id, _ = endpoints.create("text_embedding", "upd-chunking", body)
    assert get_endpoint(live, inference_id)["chunking_settings"] == OWN_CHUNKING
    answer = update(live, inference_id, {"task_settings": {"user": "contract-user"}})
    assert answer.status == 200, answer.text
    after = get_endpoint(live, inference_id)["chunking_settings"]
    record_property("chunking_after_update", "kept" if after == OWN_CHUNKING else "reset")
    expected = RESET_CHUNKING if update_resets_chunking(live.version) else OWN_CHUNKING
    assert after == expected, f"{live.label}: chunking after an update"


@pytest.mark.source(
    "…/action/TransportUpdateInferenceModelAction.java combineExistingSecretsWithNewSecrets",
    "core/…/inference/action/UpdateInferenceModelAction.java (service_settings must hold api_key)",
)
def test_update_api_key_is_used_and_never_shown(live: Live, endpoints: Endpoints) -> None:
    live.require((8, 17), "update API")
    inference_id, _ = endpoints.create(
        "text_embedding", "upd-key", live.embedding(dimensions=SMALL)
    )
    before = get_endpoint(live, inference_id)
    answer = update(live, inference_id, {"service_settings": {"api_key": live.keys.other}})
    assert answer.status == 200, answer.text
    assert_no_secret(live, answer)
    after = get_endpoint(live, inference_id)
    assert after["service_settings"] == before["service_settings"]
    live.upstream.log.clear()
    assert infer(live, inference_id, "after the key rotation").status == 200
    used = {e.key_fingerprint for e in live.upstream.log.entries() if e.path == "/v1/embeddings"}
    assert used == {key_fingerprint(live.keys.other)}


@pytest.mark.source(
    "elastic/elasticsearch#140003 (update validates the new settings with the service: 9.4)",
    "elastic/elasticsearch#122356 (before: a bad key is stored, inference fails later)",
    "…/services/validation/SimpleServiceIntegrationValidator.java",
)
def test_update_with_a_refused_key_per_release(live: Live, endpoints: Endpoints) -> None:
    live.require((8, 17), "update API")
    inference_id, _ = endpoints.create(
        "text_embedding", "upd-bad", live.embedding(dimensions=SMALL)
    )
    answer = update(live, inference_id, {"service_settings": {"api_key": live.keys.bad}})
    assert_no_secret(live, answer)
    if live.at_least(9, 4):
        assert_error(answer, 400, "status_exception")
        assert infer(live, inference_id, "the old key still works").status == 200
        return
    assert answer.status == 200, f"{live.label} stores the key unchecked: {answer.text}"
    refused = infer(live, inference_id, "the stored key is refused upstream")
    assert_error(refused, 401, "status_exception", "status [401]")
    assert_no_secret(live, refused)
    restored = update(live, inference_id, {"service_settings": {"api_key": live.keys.good}})
    assert restored.status == 200, restored.text
    assert infer(live, inference_id, "the good key again").status == 200


@pytest.mark.source(
    "…/action/TransportUpdateInferenceModelAction.java checkEndpointExists "
    "(ExceptionsHelper.entityNotFoundException)",
)
def test_update_of_an_unknown_endpoint_is_404(live: Live) -> None:
    live.require((8, 17), "update API")
    answer = update(live, live.id("never-created"), {"task_settings": {"user": "x"}})
    assert_error(answer, 404, "resource_not_found_exception")


# -- DELETE ------------------------------------------------------------------------------


@pytest.mark.source(
    "…/action/TransportDeleteInferenceEndpointAction.java handleDryRun",
    "core/…/inference/action/DeleteInferenceEndpointAction.java Response",
    API_DOCS + "operation-inference-delete",
)
def test_delete_dry_run_deletes_nothing(live: Live, endpoints: Endpoints) -> None:
    inference_id, _ = endpoints.create(
        "text_embedding", "del-dry", live.embedding(dimensions=SMALL)
    )
    answer = live.client.delete(f"/_inference/text_embedding/{inference_id}", dry_run="true")
    assert answer.status == 200, answer.text
    assert answer.body["acknowledged"] is False
    assert answer.body["pipelines"] == []
    if live.at_least(8, 16):
        assert answer.body["indexes"] == []
    assert get_endpoint(live, inference_id)["inference_id"] == inference_id


@pytest.mark.source(
    "…/action/TransportDeleteInferenceEndpointAction.java "
    "(endpointIsReferencedInPipelines, buildErrorString: 409 without force)",
    "core/…/ml/utils/InferenceProcessorInfoExtractor.java (model_id of inference processors)",
)
def test_delete_names_the_pipelines_that_use_the_endpoint(live: Live, endpoints: Endpoints) -> None:
    inference_id, _ = endpoints.create(
        "text_embedding", "del-used", live.embedding(dimensions=SMALL)
    )
    processor = {
        "model_id": inference_id,
        "input_output": {"input_field": "body", "output_field": "body_vector"},
    }
    pipeline_id = endpoints.pipeline("pipe", {"processors": [{"inference": processor}]})
    dry = live.client.delete(f"/_inference/text_embedding/{inference_id}", dry_run="true")
    assert dry.status == 200, dry.text
    assert dry.body["acknowledged"] is False
    assert dry.body["pipelines"] == [pipeline_id]
    refused = live.client.delete(f"/_inference/text_embedding/{inference_id}")
    assert_error(refused, 409, "status_exception", pipeline_id)
    assert get_endpoint(live, inference_id)["inference_id"] == inference_id


@pytest.mark.source(
    "…/action/TransportDeleteInferenceEndpointAction.java",
    API_DOCS + "operation-inference-delete",
)
def test_delete_removes_the_endpoint(live: Live, endpoints: Endpoints) -> None:
    inference_id, _ = endpoints.create("text_embedding", "del", live.embedding(dimensions=SMALL))
    answer = live.client.delete(f"/_inference/text_embedding/{inference_id}")
    assert answer.status == 200, answer.text
    assert answer.body["acknowledged"] is True
    gone = live.client.get(f"/_inference/{inference_id}")
    assert_error(gone, 404, "resource_not_found_exception")


# -- error bodies ------------------------------------------------------------------------


@pytest.mark.source(
    "x-pack/plugin/inference/src/yamlRestTest/resources/rest-api-spec/test/inference/"
    "inference_crud.yml (Test get missing model)",
)
def test_get_of_an_unknown_endpoint_is_404(live: Live) -> None:
    inference_id = live.id("missing")
    answer = live.client.get(f"/_inference/{inference_id}")
    assert_error(
        answer,
        404,
        "resource_not_found_exception",
        f"Inference endpoint not found [{inference_id}]",
    )


@pytest.mark.source("…/common/InferenceExceptions.java mismatchedTaskTypeException")
def test_get_with_another_task_type_is_400(live: Live, endpoints: Endpoints) -> None:
    inference_id, _ = endpoints.create("text_embedding", "tt", live.embedding(dimensions=SMALL))
    answer = live.client.get(f"/_inference/completion/{inference_id}")
    assert_error(
        answer, 400, "status_exception", "does not match the inference endpoint's task type"
    )


@pytest.mark.source(
    "…/registry/ModelRegistry.java storeModel (ResourceAlreadyExistsException; "
    "the reconciler's put_endpoint_safely relies on the type)",
)
def test_put_of_an_existing_id_is_400_already_exists(live: Live, endpoints: Endpoints) -> None:
    inference_id, _ = endpoints.create("text_embedding", "dup", live.embedding(dimensions=SMALL))
    answer = live.client.put(
        f"/_inference/text_embedding/{inference_id}", live.embedding(dimensions=SMALL)
    )
    assert_error(answer, 400, "resource_already_exists_exception", inference_id)


@pytest.mark.source("…/services/ServiceUtils.java throwIfNotEmptyMap (unknown settings)")
def test_put_with_an_unknown_setting_is_400(live: Live, endpoints: Endpoints) -> None:
    body = live.embedding(dimensions=SMALL, bogus_setting=1)
    answer = endpoints.put("text_embedding", "unknown-setting", body)
    assert_error(answer, 400, "status_exception", "unknown to the [openai] service")
    assert "bogus_setting" in answer.error["reason"]


@pytest.mark.source(
    "…/services/validation/SimpleServiceIntegrationValidator.java (the PUT validation call)",
    "…/services/openai/OpenAiResponseHandler.java (upstream 401)",
)
def test_put_with_a_refused_key_is_400(live: Live, endpoints: Endpoints) -> None:
    body = live.embedding(key=live.keys.bad, dimensions=SMALL)
    answer = endpoints.put("text_embedding", "bad-key", body)
    assert_error(answer, 400, "status_exception", "validation call to service")
    assert "status [401]" in str(answer.error.get("caused_by", {}).get("reason", ""))
    assert_no_secret(live, answer)
    gone = live.client.get(f"/_inference/{live.id('bad-key')}")
    assert_error(gone, 404, "resource_not_found_exception")


# -- perform inference -------------------------------------------------------------------


@pytest.mark.source(
    API_DOCS + "operation-inference-inference",
    "…/services/openai/request/OpenAiEmbeddingsRequestEntity.java (dimensions sent when set)",
    "core/…/inference/results/TextEmbeddingFloatResults.java (`text_embedding`)",
)
def test_perform_text_embedding(live: Live, endpoints: Endpoints) -> None:
    inference_id, _ = endpoints.create("text_embedding", "infer", live.embedding(dimensions=SMALL))
    live.upstream.log.clear()
    answer = infer(live, inference_id, "first text", "second text")
    assert answer.status == 200, answer.text
    vectors = answer.body["text_embedding"]
    assert len(vectors) == 2
    for vector in vectors:
        assert len(vector["embedding"]) == SMALL
        assert all(isinstance(value, float) for value in vector["embedding"])
    sent = [e for e in live.upstream.log.entries() if e.path == "/v1/embeddings"]
    assert sent and {e.model for e in sent} == {EMBEDDING_MODEL}
    assert {e.dimensions for e in sent} == {SMALL}
    assert sorted(t for e in sent for t in e.input) == ["first text", "second text"]
    assert_no_secret(live, answer)


# -- last: the whole session -------------------------------------------------------------


@pytest.mark.source(
    "server/src/main/java/org/elasticsearch/inference/ModelSecrets.java "
    "(secrets stored apart from the configuration, never rendered)",
)
def test_no_answer_in_the_session_carried_a_secret(live: Live) -> None:
    """No answer in the session carried a known key verbatim, and the recording holds none
    (last in this file, so it sees every exchange before it)."""
    recorder = live.client.recorder
    assert recorder.leaks == []
    text = "\n".join(recorder.lines())
    for name, key in live.keys.secrets().items():
        assert key not in text, name
