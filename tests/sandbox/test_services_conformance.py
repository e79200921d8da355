"""Conformance of the cloud services (`azureopenai`, `cohere`, `amazonbedrock`,
`googlevertexai`) and the generic tier: PUT validation, what GET hides, fills and rewrites,
`_update` per release, provider keys and inference result shapes. Every test names its
upstream source (elastic/elasticsearch unless noted; `…/` is
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/services/`)."""

# ruff: noqa: E501

from __future__ import annotations

import logging

import pytest

from reconciler.sandbox.es.chunking import DEFAULT_SETTINGS, OLD_DEFAULT_SETTINGS
from tests.sandbox._es import client_for, error_of
from tests.sandbox._services import (
    CANARY,
    assert_no_canary,
    azure,
    bedrock,
    cohere,
    get_one,
    put_ok,
    update,
    vertex,
)

pytestmark = pytest.mark.anyio


# ======================================================================================
# GET: exact shapes (`toXContentFragmentOfExposedFields` of each `*ServiceSettings`)
# ======================================================================================


async def test_azureopenai_embeddings_get_shape_AzureOpenAiEmbeddingsServiceSettings() -> None:
    """`…/azureopenai/embeddings/AzureOpenAiEmbeddingsServiceSettings.java`: dimensions and
    similarity filled by the validation call; rate_limit 1440 (spec `RateLimitSetting`)."""
    async with client_for() as (_app, client):
        put = await put_ok(client, "az", "text_embedding", azure())
        assert put == await get_one(client, "az")
        assert put == {
            "inference_id": "az",
            "task_type": "text_embedding",
            "service": "azureopenai",
            "service_settings": {
                "resource_name": "res",
                "deployment_id": "text-embedding-3-small",
                "api_version": "2024-02-01",
                "dimensions": 1536,
                "similarity": "dot_product",
                "rate_limit": {"requests_per_minute": 1440},
            },
            "chunking_settings": DEFAULT_SETTINGS,
        }


async def test_azureopenai_completion_rate_limit_120_and_user_dimensions_honoured() -> None:
    """spec `RateLimitSetting`: azureopenai completion 120; a user `dimensions` is sent to the
    provider and kept (`dimensions_set_by_user`, hidden)."""
    async with client_for() as (_app, client):
        comp = await put_ok(client, "c", "completion", azure("completion"))
        assert comp["service_settings"] == {
            "resource_name": "res", "deployment_id": "gpt-4o", "api_version": "2024-02-01",
            "rate_limit": {"requests_per_minute": 120},
        }  # fmt: skip
        assert "chunking_settings" not in comp
        emb = await put_ok(client, "e", "text_embedding", azure(dimensions=256))
        assert emb["service_settings"]["dimensions"] == 256
        result = (await client.post("/_inference/e", json={"input": ["a", "b"]})).json()
        assert [len(r["embedding"]) for r in result["text_embedding"]] == [256, 256]


async def test_cohere_embedding_type_is_element_type_and_url_api_version_hidden() -> None:
    """`…/cohere/embeddings/CohereEmbeddingsServiceSettings.java` @08522782
    (`builder.field(EMBEDDING_TYPE, elementType())`) and `CohereCommonServiceSettings`
    (url/api_version stored, not exposed); the deprecated `model` reads as `model_id`."""
    async with client_for() as (app, client):
        body = cohere(embedding_type="int8", url="https://cohere.example", similarity="COSINE")
        body["service_settings"]["model"] = body["service_settings"].pop("model_id")
        got = await put_ok(client, "co", "text_embedding", body)
        assert got["service_settings"] == {
            "similarity": "cosine", "dimensions": 1024, "model_id": "embed-english-v3.0",
            "rate_limit": {"requests_per_minute": 10000}, "embedding_type": "byte",
        }  # fmt: skip
        stored = app.store.endpoints["co"]["service_settings"]
        assert stored["url"] == "https://cohere.example" and stored["api_version"] == "V2"
        default = await put_ok(client, "co2", "text_embedding", cohere())
        assert default["service_settings"]["embedding_type"] == "float"
        bit = await put_ok(client, "co3", "text_embedding", cohere(embedding_type="binary"))
        assert bit["service_settings"]["embedding_type"] == "bit"
        assert bit["service_settings"]["similarity"] == "l2_norm"


async def test_cohere_rerank_and_completion_expose_model_id_and_rate_limit_only() -> None:
    """`CohereRerankServiceSettings` / `CohereCompletionServiceSettings`: model_id, rate_limit."""
    async with client_for() as (_app, client):
        rr = await put_ok(client, "rr", "rerank", cohere("rerank", url="https://x.example"))
        assert rr["service_settings"] == {
            "model_id": "rerank-v3.5", "rate_limit": {"requests_per_minute": 10000},
        }  # fmt: skip
        assert "chunking_settings" not in rr
        comp = await put_ok(client, "cc", "completion", cohere("completion"))
        assert comp["service_settings"]["model_id"] == "command-r"


async def test_amazonbedrock_provider_echoed_as_enum_name_AmazonBedrockServiceSettings() -> None:
    """`…/amazonbedrock/AmazonBedrockServiceSettings.java` @0208e59e:
    `builder.field(PROVIDER_FIELD, provider.name())`; `embedding_type` only when not float."""
    async with client_for() as (_app, client):
        got = await put_ok(client, "br", "text_embedding", bedrock(provider="AmazonTitan"))
        assert got["service_settings"] == {
            "region": "us-east-1", "model": "amazon.titan-embed-text-v2:0",
            "provider": "AMAZONTITAN", "rate_limit": {"requests_per_minute": 240},
            "dimensions": 1024, "similarity": "dot_product",
        }  # fmt: skip
        binary = await put_ok(client, "br2", "text_embedding", bedrock(embedding_type="binary"))
        assert binary["service_settings"]["embedding_type"] == "binary"
        comp = await put_ok(client, "bc", "completion", bedrock("completion"))
        assert comp["service_settings"]["provider"] == "ANTHROPIC"


async def test_amazonbedrock_provider_required_and_task_type_per_provider() -> None:
    """`AmazonBedrockServiceSettings`: `extractRequiredEnum(map, PROVIDER_FIELD, …)` (the spec
    wrongly marks it optional); `AmazonBedrockProviderCapabilities.providerAllowsTaskType`."""
    async with client_for() as (_app, client):
        body = bedrock()
        del body["service_settings"]["provider"]
        response = await client.put("/_inference/text_embedding/x", json=body)
        assert error_of(response) == (
            400, "validation_exception",
            "Validation Failed: 1: [service_settings] does not contain the required setting [provider];",
        )  # fmt: skip
        response = await client.put(
            "/_inference/text_embedding/x", json=bedrock(provider="anthropic")
        )
        assert error_of(response)[2] == (
            "The [text_embedding] task type for provider [anthropic] is not available"
        )


async def test_googlevertexai_similarity_defaults_to_dot_product_and_rate_limit_30000() -> None:
    """`…/googlevertexai/embeddings/GoogleVertexAiEmbeddingsServiceSettings.java` @01818390
    (`Objects.requireNonNullElse(similarity, SimilarityMeasure.DOT_PRODUCT)`)."""
    async with client_for() as (_app, client):
        got = await put_ok(client, "gv", "text_embedding", vertex())
        assert got["service_settings"] == {
            "location": "us-central1", "project_id": "proj", "model_id": "text-embedding-004",
            "dimensions": 768, "similarity": "dot_product",
            "rate_limit": {"requests_per_minute": 30000},
        }  # fmt: skip
        rr = await put_ok(client, "gr", "rerank", vertex("rerank"))
        assert rr["service_settings"] == {
            "project_id": "proj", "model_id": "semantic-ranker-512",
            "rate_limit": {"requests_per_minute": 30000},
        }  # fmt: skip


@pytest.mark.parametrize(
    ("service", "task_type", "version", "offered"),
    [
        ("azureopenai", "chat_completion", "9.2.0", False),
        ("azureopenai", "chat_completion", "9.3.0", True),
        ("amazonbedrock", "chat_completion", "9.3.0", False),
        ("amazonbedrock", "chat_completion", "9.4.0", True),
        ("googlevertexai", "completion", "8.18.0", False),
        ("googlevertexai", "completion", "8.19.0", True),
    ],
)
async def test_task_types_per_release_from_spec_branches(
    service: str, task_type: str, version: str, offered: bool
) -> None:
    """elastic/elasticsearch-specification `<Service>TaskType` on each version branch;
    `ServiceUtils.createInvalidTaskTypeException` otherwise."""
    bodies = {"azureopenai": azure, "amazonbedrock": bedrock, "googlevertexai": vertex}
    async with client_for(es_version=version) as (_app, client):
        response = await client.put(f"/_inference/{task_type}/x", json=bodies[service](task_type))
        if offered:
            assert response.status_code == 200, response.text
        else:
            assert error_of(response) == (
                400, "status_exception",
                f"The [{service}] service does not support task type [{task_type}]",
            )  # fmt: skip


# ======================================================================================
# PUT validation (`ServiceUtils.extractRequired*`, `throwIfNotEmptyMap`, secret settings)
# ======================================================================================


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        (azure(), "resource_name"),
        (cohere(), "model_id"),
        (bedrock(), "region"),
        (vertex(), "location"),
    ],
)
async def test_required_service_settings_ServiceUtils_extractRequiredString(
    body: dict[str, object], missing: str
) -> None:
    """`ServiceUtils.extractRequiredString` → `[service_settings] does not contain the required
    setting [x]` in a `ValidationException`."""
    settings = dict(body["service_settings"])  # type: ignore[call-overload]
    del settings[missing]
    async with client_for() as (_app, client):
        response = await client.put(
            "/_inference/text_embedding/x", json={**body, "service_settings": settings}
        )
        assert error_of(response) == (
            400, "validation_exception",
            f"Validation Failed: 1: [service_settings] does not contain the required setting [{missing}];",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("version", "scope"), [("8.16.0", "[service_settings]"), ("9.1.7", "[secret_settings]")]
)
async def test_missing_secrets_per_service_secret_settings_classes(
    version: str, scope: str
) -> None:
    """`DefaultSecretSettings` (cohere), `AmazonBedrockSecretSettings`,
    `GoogleVertexAiSecretSettings`: the scope of the message as openai's per release."""
    async with client_for(es_version=version) as (_app, client):
        for body, key in (
            (cohere(), "api_key"),
            (bedrock(), "secret_key"),
            (vertex(), "service_account_json"),
        ):
            del body["service_settings"][key]
            response = await client.put("/_inference/text_embedding/x", json=body)
            assert error_of(response) == (
                400, "validation_exception",
                f"Validation Failed: 1: {scope} does not contain the required setting [{key}];",
            )  # fmt: skip


async def test_azureopenai_exactly_one_of_api_key_or_entra_id_AzureOpenAiSecretSettings() -> None:
    """`…/services/settings/AzureOpenAiSecretSettings.java` @4eb908c5."""
    async with client_for() as (_app, client):
        both = azure(entra_id=CANARY["azureopenai.entra_id"])
        response = await client.put("/_inference/text_embedding/x", json=both)
        assert error_of(response)[2] == (
            "Validation Failed: 1: [secret_settings] must have only one of the [api_key] or the "
            "[entra_id] key set;"
        )
        neither = azure()
        del neither["service_settings"]["api_key"]
        response = await client.put("/_inference/text_embedding/x", json=neither)
        assert error_of(response)[2] == (
            "Validation Failed: 1: [secret_settings] must have either the [api_key] or the "
            "[entra_id] key set;"
        )
        entra = azure()
        entra["service_settings"]["entra_id"] = entra["service_settings"].pop("api_key")
        assert (await client.put("/_inference/text_embedding/e", json=entra)).status_code == 200


async def test_unknown_settings_refused_like_openai_ServiceUtils_throwIfNotEmptyMap() -> None:
    """`ServiceUtils.throwIfNotEmptyMap(serviceSettingsMap, NAME)`."""
    async with client_for() as (_app, client):
        response = await client.put("/_inference/rerank/x", json=cohere("rerank", bogus=1))
        assert error_of(response) == (
            400, "status_exception",
            "Model configuration contains settings [{bogus=1}] unknown to the [cohere] service",
        )  # fmt: skip
        body = {**azure("completion"), "chunking_settings": {"strategy": "word"}}
        response = await client.put("/_inference/completion/x", json=body)
        assert "unknown to the [azureopenai] service" in error_of(response)[2]


# ======================================================================================
# Provider keys: the validation call and inference (`BaseResponseHandler`: 401)
# ======================================================================================


async def test_refused_key_fails_put_like_a_provider_401_on_the_validation_call() -> None:
    """`ModelValidatorBuilder`/`SimpleServiceIntegrationValidator`: a provider 401 during the
    validation call is wrapped in "Could not complete inference endpoint creation …"."""
    async with client_for() as (_app, client):
        ring = await client.put("/_sandbox/keys/cohere", json={"valid": ["good-key"]})
        assert ring.json()["mode"] == "listed"
        response = await client.put("/_inference/text_embedding/x", json=cohere())
        body = response.json()
        assert response.status_code == 400
        assert body["error"]["reason"] == (
            "Could not complete inference endpoint creation as validation call to service threw "
            "an exception."
        )
        assert body["error"]["caused_by"]["reason"] == (
            "Received an authentication error status code for request from inference entity id "
            "[x] status [401]. Error message: [invalid api token]"
        )
        assert (await client.get("/_inference/x")).status_code == 404
        ok = cohere(api_key="good-key")
        assert (await client.put("/_inference/text_embedding/x", json=ok)).status_code == 200


async def test_revoked_key_fails_inference_with_401() -> None:
    """A key revoked at the provider after create: inference answers the provider's 401."""
    async with client_for() as (_app, client):
        await put_ok(client, "b", "completion", bedrock("completion"))
        key = CANARY["amazonbedrock.secret_key"]
        assert (
            await client.post("/_sandbox/keys/amazonbedrock/_revoke", json={"key": key})
        ).status_code == 200
        response = await client.post("/_inference/completion/b", json={"input": "hi"})
        assert error_of(response) == (
            401, "status_exception",
            "Received an authentication error status code for request from inference entity id [b] status [401]. Error message: [The security token included in the request is invalid.]",
        )  # fmt: skip


# ======================================================================================
# Inference result shapes (`TextEmbedding*Results`, `RankedDocsResults`, `ChatCompletionResults`)
# ======================================================================================


async def test_inference_shapes_per_task_type() -> None:
    async with client_for() as (_app, client):
        await put_ok(client, "emb", "text_embedding", vertex())
        await put_ok(client, "byte", "text_embedding", cohere(embedding_type="byte"))
        await put_ok(client, "bit", "text_embedding", cohere(embedding_type="bit"))
        await put_ok(client, "comp", "completion", cohere("completion"))
        emb = (await client.post("/_inference/emb", json={"input": ["x", "y"]})).json()
        assert [len(e["embedding"]) for e in emb["text_embedding"]] == [768, 768]
        byte = (await client.post("/_inference/byte", json={"input": "x"})).json()
        assert len(byte["text_embedding_bytes"][0]["embedding"]) == 1024
        assert all(-128 <= v <= 127 for v in byte["text_embedding_bytes"][0]["embedding"])
        bit = (await client.post("/_inference/bit", json={"input": "x"})).json()
        assert len(bit["text_embedding_bits"][0]["embedding"]) == 1024 // 8
        comp = (await client.post("/_inference/comp", json={"input": "hello"})).json()
        assert comp["completion"][0]["result"]


async def test_rerank_ranks_every_input_sorted_with_top_n_and_return_documents() -> None:
    """`RankedDocsResults`: `{"rerank": [{"index", "relevance_score"[, "text"]}]}`;
    `InferenceAction.Request.validate`: rerank needs a query."""
    async with client_for() as (_app, client):
        await put_ok(client, "rr", "rerank", cohere("rerank"))
        docs = ["a cat sat", "the dog barked", "cats and dogs", "unrelated words here"]
        full = (await client.post("/_inference/rr", json={"input": docs, "query": "dog"})).json()
        ranked = full["rerank"]
        assert sorted(r["index"] for r in ranked) == [0, 1, 2, 3]
        scores = [r["relevance_score"] for r in ranked]
        assert scores == sorted(scores, reverse=True) and "text" not in ranked[0]
        assert ranked[0]["index"] == 1
        body = {"input": docs, "query": "dog", "top_n": 2, "return_documents": True}
        top = (await client.post("/_inference/rr", json=body)).json()["rerank"]
        assert [r["index"] for r in top] == [r["index"] for r in ranked[:2]]
        assert top[0]["text"] == docs[top[0]["index"]]
        missing = await client.post("/_inference/rr", json={"input": docs})
        assert error_of(missing)[2] == (
            "Validation Failed: 1: Field [query] cannot be null for task type [rerank];"
        )


async def test_chat_completion_streams_sse_and_refuses_plain_post() -> None:
    """Chat completion only through `_stream` (spec `PutAzureOpenAiRequest.ts` doc, as for
    openai): SSE events in `StreamingUnifiedChatCompletionResults` shape, then `[DONE]`."""
    from tests.sandbox._es import sse_events

    async with client_for(es_version="9.3.0") as (_app, client):
        await put_ok(client, "chat", "chat_completion", azure("chat_completion"))
        body = {"messages": [{"role": "user", "content": "hello"}]}
        response = await client.post("/_inference/chat_completion/chat/_stream", json=body)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.text)
        assert events[-1] == ("message", "[DONE]")
        import json

        first = json.loads(events[0][1])
        assert first["choices"][0]["delta"]["content"]
        plain = await client.post("/_inference/chat_completion/chat", json={"input": "x"})
        assert plain.status_code == 400


# ======================================================================================
# `_update` per release (PR #114457; #147465, #149430, #149628, #149723 for 9.5)
# ======================================================================================


async def test_update_before_9_5_needs_the_whole_secret_and_ignores_other_settings() -> None:
    """8.17–9.4 (`SecretSettings.newSecretSettings`, PR #114457): the whole secret object is
    required; other service settings are silently ignored (elastic/elasticsearch#139651);
    chunking reads back word/250/100 until 9.2.6/9.3.1 (#139574)."""
    async with client_for(es_version="9.1.7") as (_app, client):
        await put_ok(client, "b", "text_embedding", bedrock())
        half = {"service_settings": {"access_key": "new-access"}}
        response = await update(client, "b", "text_embedding", half)
        assert error_of(response)[2] == (
            "Validation Failed: 1: [secret_settings] does not contain the required setting [secret_key];"
        )
        pair = {"service_settings": {"access_key": "a2", "secret_key": "s2", "region": "eu-west-1",
                                     "rate_limit": {"requests_per_minute": 5}}}  # fmt: skip
        response = await update(client, "b", "text_embedding", pair)
        assert response.status_code == 200, response.text
        settings = response.json()["service_settings"]
        assert settings["region"] == "us-east-1"
        assert settings["rate_limit"] == {"requests_per_minute": 240}
        assert response.json()["chunking_settings"] == OLD_DEFAULT_SETTINGS
        task = await update(client, "b", "text_embedding", {"task_settings": {"bogus": 1}})
        assert task.status_code == 200


async def test_update_9_5_updatable_settings_per_service() -> None:
    """9.5: cohere `rate_limit`/`max_input_tokens` (`CohereServiceSettings.updateServiceSettings`),
    vertex embeddings `max_batch_size` (PR #140082), azure `rate_limit`; unknown keys refused
    (#149430); chunking replaced whole (#149723); secrets optional (#149628)."""
    async with client_for(es_version="9.5.0") as (_app, client):
        await put_ok(client, "co", "text_embedding", cohere())
        body = {"service_settings": {"rate_limit": {"requests_per_minute": 7}, "max_input_tokens": 99},
                "chunking_settings": {"strategy": "word", "max_chunk_size": 100, "overlap": 10}}  # fmt: skip
        got = (await update(client, "co", "text_embedding", body)).json()
        assert got["service_settings"]["rate_limit"] == {"requests_per_minute": 7}
        assert got["service_settings"]["max_input_tokens"] == 99
        assert got["chunking_settings"] == {
            "strategy": "word",
            "max_chunk_size": 100,
            "overlap": 10,
        }
        refused = await update(
            client, "co", "text_embedding", {"service_settings": {"model_id": "x"}}
        )
        assert error_of(refused)[2] == (
            "Model configuration contains settings [{model_id=x}] unknown to the [cohere] service"
        )
        await put_ok(client, "gv", "text_embedding", vertex())
        got = (
            await update(
                client, "gv", "text_embedding", {"service_settings": {"max_batch_size": 10}}
            )
        ).json()
        assert got["service_settings"]["max_batch_size"] == 10
        await put_ok(client, "br", "completion", bedrock("completion"))
        refused = await update(
            client,
            "br",
            "completion",
            {"service_settings": {"rate_limit": {"requests_per_minute": 1}}},
        )
        assert "unknown to the [amazonbedrock] service" in error_of(refused)[2]
        half = await update(client, "br", "completion", {"service_settings": {"secret_key": "s"}})
        assert error_of(half)[2].endswith("does not contain the required setting [access_key];")


async def test_update_9_5_azure_secret_type_cannot_switch() -> None:
    """elastic/elasticsearch#149628: each Azure auth type is rotated in its own field only."""
    async with client_for(es_version="9.5.0") as (_app, client):
        await put_ok(client, "az", "completion", azure("completion"))
        same = await update(client, "az", "completion", {"service_settings": {"api_key": "new"}})
        assert same.status_code == 200
        switch = await update(client, "az", "completion", {"service_settings": {"entra_id": "e"}})
        assert switch.status_code == 400
        assert "[api_key] to [entra_id]" in error_of(switch)[2]


async def test_update_absent_before_8_17() -> None:
    """spec `UpdateInferenceRequest` `@availability stack since=8.17.0`."""
    async with client_for(es_version="8.16.0") as (_app, client):
        await put_ok(client, "co", "rerank", cohere("rerank"))
        response = await update(client, "co", "rerank", {"task_settings": {"top_n": 1}})
        assert response.status_code == 400 and "no handler found" in response.text


# ======================================================================================
# The generic tier
# ======================================================================================


async def test_generic_service_keeps_secrets_apart_and_fills_rate_limit() -> None:
    """spec `RateLimitSetting` (mistral 240); `DefaultSecretSettings` never in GET."""
    async with client_for() as (_app, client):
        body = {"service": "mistral", "service_settings": {
            "model": "mistral-embed", "api_key": CANARY["mistral.api_key"]}}  # fmt: skip
        got = await put_ok(client, "m", "text_embedding", body)
        assert got["service_settings"] == {
            "model": "mistral-embed", "rate_limit": {"requests_per_minute": 240},
        }  # fmt: skip
        assert got["chunking_settings"] == DEFAULT_SETTINGS
        emb = (await client.post("/_inference/m", json={"input": "x"})).json()
        assert emb["text_embedding"][0]["embedding"]


@pytest.mark.parametrize(("version", "status"), [("9.4.0", 200), ("9.5.0", 400)])
async def test_generic_update_of_service_settings_ignored_then_refused(
    version: str, status: int
) -> None:
    """Before 9.5 `updateServiceSettings` returns `this`; 9.5 refuses unconsumed keys (#149430)."""
    async with client_for(es_version=version) as (_app, client):
        body = {"service": "anthropic", "service_settings": {"model_id": "claude", "api_key": "k"},
                "task_settings": {"max_tokens": 10}}  # fmt: skip
        await put_ok(client, "a", "completion", body)
        response = await update(client, "a", "completion",
                                {"service_settings": {"api_key": "k2", "model_id": "other"}})  # fmt: skip
        assert response.status_code == status, response.text
        assert (await get_one(client, "a"))["service_settings"]["model_id"] == "claude"


@pytest.mark.parametrize(("version", "known"), [("9.3.0", False), ("9.4.0", True)])
async def test_generic_service_known_from_its_first_release(version: str, known: bool) -> None:
    """`put_fireworksai` first appears on the spec's 9.4 branch."""
    async with client_for(es_version=version) as (_app, client):
        body = {"service": "fireworksai", "service_settings": {"model_id": "m", "api_key": "k"}}
        response = await client.put("/_inference/completion/f", json=body)
        if known:
            assert response.status_code == 200
        else:
            assert error_of(response)[2] == "Unknown service [fireworksai]"


# ======================================================================================
# Canary secrets: never in any response body or log line
# ======================================================================================


async def test_canary_secrets_never_leave_the_sandbox(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    async with client_for(es_version="9.5.0") as (_app, client):
        entra = azure("completion")
        entra["service_settings"]["entra_id"] = entra["service_settings"].pop("api_key")
        cases = [
            ("az", "text_embedding", azure()),
            ("az2", "completion", entra),
            ("co", "text_embedding", cohere()),
            ("br", "text_embedding", bedrock()),
            ("gv", "text_embedding", vertex()),
            ("mi", "text_embedding", {"service": "mistral", "service_settings": {
                "model": "m", "api_key": CANARY["mistral.api_key"]}}),
            ("sm", "text_embedding", {"service": "amazon_sagemaker", "service_settings": {
                "endpoint_name": "e", "api": "openai", "region": "us-east-1",
                "access_key": CANARY["amazon_sagemaker.access_key"],
                "secret_key": CANARY["amazon_sagemaker.secret_key"]}}),
            ("cu", "text_embedding", {"service": "custom", "service_settings": {
                "url": "https://x.example", "request": "{}", "response": {},
                "secret_parameters": {"k": CANARY["custom.secret_parameters"]}}}),
        ]  # fmt: skip
        for inference_id, task_type, body in cases:
            response = await client.put(f"/_inference/{task_type}/{inference_id}", json=body)
            assert response.status_code == 200, response.text
            bodies.append(response.text)
            again = await client.put(f"/_inference/{task_type}/{inference_id}", json=body)
            bodies.append(again.text)
            upd = await update(
                client, inference_id, task_type, {"service_settings": body["service_settings"]}
            )
            bodies.append(upd.text)
        bodies.append((await client.get("/_inference/_all")).text)
        bodies.append((await client.get("/_inference/_services")).text)
        for service in ("azureopenai", "cohere", "amazonbedrock", "googlevertexai"):
            bodies.append((await client.get(f"/_sandbox/keys/{service}")).text)
        await client.post("/_sandbox/keys/cohere/_revoke", json={"key": CANARY["cohere.api_key"]})
        bodies.append((await client.post("/_inference/co", json={"input": "x"})).text)
    for text in [*bodies, caplog.text]:
        assert_no_canary(text)


# ======================================================================================
# GET _inference/_services (`RestGetInferenceServicesAction`, format of PR #120150)
# ======================================================================================


@pytest.mark.parametrize(
    ("version", "service", "task_types"),
    [
        ("9.1.7", "azureopenai", ["text_embedding", "completion"]),
        ("9.3.0", "azureopenai", ["text_embedding", "completion", "chat_completion"]),
        ("9.1.7", "cohere", ["text_embedding", "rerank", "completion"]),
        ("9.4.0", "amazonbedrock", ["text_embedding", "completion", "chat_completion"]),
        ("8.18.0", "googlevertexai", ["text_embedding", "rerank"]),
        ("9.1.7", "elasticsearch", ["sparse_embedding", "text_embedding", "rerank"]),
        ("9.1.7", "elser", ["sparse_embedding"]),
        ("9.1.7", "mistral", ["text_embedding", "completion", "chat_completion"]),
        ("9.1.7", "groq", None),
    ],
)
async def test_services_lists_each_emulated_service_with_its_task_types(
    version: str, service: str, task_types: list[str] | None
) -> None:
    async with client_for(es_version=version) as (_app, client):
        listed = {s["service"]: s for s in (await client.get("/_inference/_services")).json()}
        assert list(listed) == sorted(listed)
        if task_types is None:
            assert service not in listed
            return
        assert listed[service]["task_types"] == task_types
        configurations = listed[service]["configurations"]
        assert all("supported_task_types" in c for c in configurations.values())


async def test_services_marks_secrets_sensitive_and_hides_elastic_without_eis() -> None:
    """`SettingsConfiguration.sensitive` (e.g. `GoogleVertexAiSecretSettings.Configuration`:
    `.setRequired(true).setSensitive(true).setUpdatable(true)`)."""
    async with client_for(eis=False) as (_app, client):
        listed = {s["service"]: s for s in (await client.get("/_inference/_services")).json()}
        vertex_sa = listed["googlevertexai"]["configurations"]["service_account_json"]
        assert vertex_sa["sensitive"] and vertex_sa["required"] and vertex_sa["updatable"]
        assert listed["amazonbedrock"]["configurations"]["secret_key"]["sensitive"]
        assert "adaptive_allocations" not in listed["elasticsearch"]["configurations"]
        assert "elastic" not in listed
        rerank = (await client.get("/_inference/_services/rerank")).json()
        assert "cohere" in [s["service"] for s in rerank]
    async with client_for(eis=True) as (_app, client):
        listed = {s["service"]: s for s in (await client.get("/_inference/_services")).json()}
        assert listed["elastic"]["task_types"] == [
            "sparse_embedding",
            "chat_completion",
            "completion",
        ]


async def test_semantic_text_model_settings_carry_the_services_element_type() -> None:
    """`MinimalServiceSettings(model)`: `element_type` is the service settings'
    `elementType()` (cohere `CohereEmbeddingsServiceSettings.elementType()`: int8 → byte)."""
    async with client_for() as (_app, client):
        await put_ok(client, "co", "text_embedding", cohere(embedding_type="int8"))
        mapping = {
            "mappings": {"properties": {"body": {"type": "semantic_text", "inference_id": "co"}}}
        }
        assert (await client.put("/docs", json=mapping)).status_code == 200
        assert (await client.put("/docs/_doc/1", json={"body": "hello"})).status_code == 201
        got = (await client.get("/docs/_mapping")).json()["docs"]["mappings"]["properties"]["body"]
        assert got["model_settings"] == {
            "service": "cohere", "task_type": "text_embedding", "dimensions": 1024,
            "similarity": "dot_product", "element_type": "byte",
        }  # fmt: skip
