"""The pure core over every full-tier service: what GET fills, rewrites, hides and changes by
itself never shows as drift; a real change does; update or replace per (service, task type,
release). Each case names the upstream source of the server behaviour it encodes (the same
fact the service registry cites), and the GET bodies are shaped as those sources write them.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.defaults import capabilities, incompatible_paths, replace_paths
from reconciler.diff import compare_endpoint, last_applied_spec
from reconciler.model import (
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    LiveEndpoint,
    SecretRef,
)

R94, R95 = capabilities("9.4.0"), capabilities("9.5.0")


def desired(task_type: str, body: dict[str, Any], **secrets: str) -> DesiredEndpoint:
    paths = {("service_settings", name): SecretRef(var) for name, var in secrets.items()}
    return DesiredEndpoint("e", task_type, body, secrets=paths)


def live(task_type: str, body: dict[str, Any]) -> LiveEndpoint:
    return LiveEndpoint("e", task_type, body["service"], {"inference_id": "e", **body})


def changes(
    want: DesiredEndpoint,
    got: LiveEndpoint,
    last: dict[str, Any] | None = None,
    release: tuple[int, ...] = (9, 4, 0),
) -> list[str]:
    found = compare_endpoint(want, got, last_applied=last, release=release)
    return [item.path for item in found.changes]


CHUNKING = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}


# --- cohere: elastic/elasticsearch …/cohere/embeddings/CohereEmbeddingsServiceSettings.java,
#     …/cohere/CohereCommonServiceSettings.java


def cohere_live(**settings: Any) -> LiveEndpoint:
    body = {
        "service": "cohere",
        "service_settings": {
            "model_id": "embed-english-v3.0",
            "rate_limit": {"requests_per_minute": 10000},
            "embedding_type": "byte",
            "similarity": "cosine",
            "dimensions": 1024,
            **settings,
        },
        "chunking_settings": CHUNKING,
    }
    return live("text_embedding", body)


def cohere_desired(**settings: Any) -> DesiredEndpoint:
    body = {"service": "cohere", "service_settings": {"api_key": "${K}", **settings}}
    return desired("text_embedding", body, api_key="K")


def test_cohere_embedding_type_aliases_and_legacy_model_are_no_drift() -> None:
    # `builder.field(EMBEDDING_TYPE, elementType())`: int8 is echoed as byte
    want = cohere_desired(model="embed-english-v3.0", embedding_type="INT8")
    assert changes(want, cohere_live()) == []


def test_cohere_embedding_type_change_is_real_drift() -> None:
    want = cohere_desired(model_id="embed-english-v3.0", embedding_type="binary")
    assert changes(want, cohere_live()) == ["service_settings.embedding_type"]


def test_cohere_hidden_url_is_compared_with_last_applied_state_only() -> None:
    # `url` is stored (toXContent) but not shown (toXContentFragmentOfExposedFields)
    got = cohere_live()
    old = cohere_desired(model_id="embed-english-v3.0", url="https://a.example/v2")
    last = last_applied_spec(old, got)
    assert last["service_settings"]["url"] == "https://a.example/v2"
    assert changes(old, got, last) == []
    moved = cohere_desired(model_id="embed-english-v3.0", url="https://b.example/v2")
    assert changes(moved, got, last) == ["service_settings.url"]
    # adopting (no state): what the server stores cannot be read, the manifest is taken
    assert changes(moved, got, None) == []


def test_cohere_rate_limit_updates_in_place_from_9_5_only() -> None:
    field = FieldChange("service_settings.rate_limit.requests_per_minute", 10000, 50)
    kind = {"service": "cohere", "task_type": "text_embedding"}
    assert replace_paths([field], R94, **kind) == (field.path,)
    assert replace_paths([field], R95, **kind) == ()


def test_cohere_embedding_type_is_recorded_by_semantic_text() -> None:
    # MinimalServiceSettings keeps the element type: a replace changing it is refused on 9.1+
    assert "service_settings.embedding_type" in incompatible_paths("cohere")
    assert "service_settings.embedding_type" not in incompatible_paths("openai")


# --- amazonbedrock: …/amazonbedrock/AmazonBedrockServiceSettings.java, AmazonBedrockProvider.java


def test_bedrock_provider_case_and_default_embedding_type_are_no_drift() -> None:
    body = {
        "service": "amazonbedrock",
        "service_settings": {
            "access_key": "${A}",
            "secret_key": "${S}",
            "region": "us-east-1",
            "provider": "amazontitan",
            "model": "amazon.titan-embed-text-v2:0",
            "embedding_type": "float",
        },
    }
    want = desired("text_embedding", body, access_key="A", secret_key="S")
    got = live(
        "text_embedding",
        {
            "service": "amazonbedrock",
            "service_settings": {
                "region": "us-east-1",
                "provider": "AMAZONTITAN",
                "model": "amazon.titan-embed-text-v2:0",
                "rate_limit": {"requests_per_minute": 240},
                "similarity": "cosine",
                "dimensions": 1024,
            },
            "chunking_settings": CHUNKING,
        },
    )
    assert changes(want, got) == []


def test_bedrock_rate_limit_is_never_updated_in_place() -> None:
    field = FieldChange("service_settings.rate_limit.requests_per_minute", 240, 100)
    kind = {"service": "amazonbedrock", "task_type": "completion"}
    assert replace_paths([field], R95, **kind) == (field.path,)


def test_bedrock_key_pair_rotates_in_place() -> None:
    pair = [
        FieldChange("service_settings.access_key", sensitive=True),
        FieldChange("service_settings.secret_key", sensitive=True),
    ]
    assert replace_paths(pair, R94, service="amazonbedrock", task_type="completion") == ()


# --- azureopenai: …/azureopenai/AzureOpenAiSecretSettings.java, elastic/elasticsearch#149628


def test_azure_auth_type_switch_is_a_replace_and_key_rotation_is_not() -> None:
    switch = [
        FieldChange("service_settings.api_key", sensitive=True, op=FieldOp.REMOVED),
        FieldChange("service_settings.entra_id", sensitive=True),
    ]
    kind = {"service": "azureopenai", "task_type": "completion"}
    assert replace_paths(switch, R95, **kind) == ("service_settings.api_key",)
    rotate = [FieldChange("service_settings.api_key", sensitive=True)]
    assert replace_paths(rotate, R95, **kind) == ()


def test_azure_max_input_tokens_in_place_for_embeddings_only() -> None:
    field = FieldChange("service_settings.max_input_tokens", 512, 1024)
    assert replace_paths([field], R95, service="azureopenai", task_type="text_embedding") == ()
    assert replace_paths([field], R95, service="azureopenai", task_type="completion") == (
        field.path,
    )


# --- googlevertexai: …/googlevertexai/embeddings/GoogleVertexAiEmbeddingsServiceSettings.java


def test_vertex_fills_dot_product_and_its_rate_limit() -> None:
    body = {
        "service": "googlevertexai",
        "service_settings": {
            "service_account_json": "${SA}",
            "model_id": "text-embedding-005",
            "location": "us-central1",
            "project_id": "p",
        },
    }
    want = desired("text_embedding", body, service_account_json="SA")
    shown = {
        "model_id": "text-embedding-005",
        "location": "us-central1",
        "project_id": "p",
        "rate_limit": {"requests_per_minute": 30000},
        "similarity": "dot_product",
        "dimensions": 768,
    }
    got = live(
        "text_embedding",
        {"service": "googlevertexai", "service_settings": shown, "chunking_settings": CHUNKING},
    )
    assert changes(want, got) == []
    other = live(
        "text_embedding",
        {
            "service": "googlevertexai",
            "service_settings": {**shown, "similarity": "cosine"},
            "chunking_settings": CHUNKING,
        },
    )
    assert changes(want, other) == ["service_settings.similarity"]


# --- elasticsearch: …/elasticsearch/ElasticsearchInternalService.java
#     (updateModelsWithDynamicFields, selectDefaultModelVariantBasedOnClusterArchitecture),
#     ElasticsearchInternalServiceSettings


def es_live(**settings: Any) -> LiveEndpoint:
    body = {
        "service": "elasticsearch",
        "service_settings": {
            "model_id": ".elser_model_2_linux-x86_64",
            "num_threads": 1,
            **settings,
        },
        "chunking_settings": CHUNKING,
    }
    return live("sparse_embedding", body)


def es_desired(**settings: Any) -> DesiredEndpoint:
    body = {"service": "elasticsearch", "service_settings": {"num_threads": 1, **settings}}
    return desired("sparse_embedding", body)


ADAPTIVE = {"enabled": True, "min_number_of_allocations": 1, "max_number_of_allocations": 4}


def test_elasticsearch_live_num_allocations_under_adaptive_allocations_is_never_diffed() -> None:
    want = es_desired(adaptive_allocations=ADAPTIVE)
    for allocations in (1, 3, 4):
        got = es_live(num_allocations=allocations, adaptive_allocations=ADAPTIVE)
        assert changes(want, got) == []


def test_elasticsearch_platform_model_variant_filled_when_omitted_is_no_drift() -> None:
    assert changes(es_desired(num_allocations=1), es_live(num_allocations=1)) == []
    moved = es_desired(num_allocations=1, model_id=".elser_model_2")
    assert changes(moved, es_live(num_allocations=1)) == ["service_settings.model_id"]


@pytest.mark.parametrize(("release", "in_place"), [(R94, False), (R95, True)])
def test_elasticsearch_switch_to_adaptive_allocations(release: Any, in_place: bool) -> None:
    # 9.5+: `Update` sets one allocation setting and nulls the other; before, only
    # num_allocations updates (elastic/elasticsearch PR #114457)
    kind = {"service": "elasticsearch", "task_type": "sparse_embedding"}
    fixed, got = es_desired(num_allocations=2), es_live(num_allocations=2)
    last = last_applied_spec(fixed, got)
    want = es_desired(adaptive_allocations=ADAPTIVE)
    for state in (last, None):  # managed (num_allocations removed), adopted (server's value)
        found = compare_endpoint(want, got, last_applied=state, release=release.release).changes
        assert "service_settings.adaptive_allocations" in {item.path for item in found}
        replace = replace_paths(found, release, **kind)
        assert replace == () if in_place else "service_settings.adaptive_allocations" in replace
    # and back: adaptive (live num_allocations dynamic) to a fixed number
    back = compare_endpoint(
        es_desired(num_allocations=3),
        es_live(num_allocations=1, adaptive_allocations=ADAPTIVE),
        last_applied=last_applied_spec(
            want, es_live(num_allocations=1, adaptive_allocations=ADAPTIVE)
        ),
        release=release.release,
    ).changes
    assert {item.path for item in back} == {
        "service_settings.num_allocations",
        "service_settings.adaptive_allocations",
    }
    replace = replace_paths(back, release, **kind)
    assert replace == () if in_place else "service_settings.adaptive_allocations" in replace


def test_elasticsearch_num_threads_is_always_a_replace() -> None:
    field = FieldChange("service_settings.num_threads", 1, 2)
    kind = {"service": "elasticsearch", "task_type": "sparse_embedding"}
    assert replace_paths([field], R95, **kind) == (field.path,)
    allocations = FieldChange("service_settings.num_allocations", 1, 2)
    assert replace_paths([allocations], capabilities("8.17.0"), **kind) == ()


# --- elastic (EIS): server/src/main/java/org/elasticsearch/inference/metadata/EndpointMetadata.java


def test_eis_metadata_is_never_diffed() -> None:
    want = desired(
        "chat_completion",
        {"service": "elastic", "service_settings": {"model_id": "rainbow-sprinkles"}},
    )
    body = {
        "service": "elastic",
        "service_settings": {
            "model_id": "rainbow-sprinkles",
            "rate_limit": {"requests_per_minute": 240},
        },
        "metadata": {"heuristics": {"status": "ga", "end_of_life_date": "2027-01-01"}},
    }
    assert changes(want, live("chat_completion", body)) == []
