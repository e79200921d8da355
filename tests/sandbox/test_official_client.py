"""Acceptance: the official `elasticsearch` Python client (9.x) drives a real sandbox process
and gets what the Elasticsearch source says a real cluster returns (create, get, update, delete with
dry run / in use / force, inference), including its typed errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import elasticsearch
import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.fixtures.sandbox import SandboxProcess, start_sandbox_process

KEY = "sk-official-client-0123456789"
MODEL = "text-embedding-3-small"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxProcess]:
    with start_sandbox_process() as process:
        yield process


@pytest.fixture
def es(server: SandboxProcess) -> Iterator[Elasticsearch]:
    client = Elasticsearch(server.url, request_timeout=10)
    yield client
    client.close()


@pytest.fixture
def inference_id() -> str:
    return f"emb-{uuid.uuid4().hex[:8]}"


def _create(es: Elasticsearch, inference_id: str, **settings: object) -> dict[str, object]:
    response = es.inference.put_openai(
        task_type="text_embedding",
        openai_inference_id=inference_id,
        service="openai",
        service_settings={"api_key": KEY, "model_id": MODEL, **settings},
    )
    return dict(response.body)


def test_info_is_a_default_flavour_cluster(es: Elasticsearch) -> None:
    info = es.info()
    assert info["version"]["build_flavor"] == "default"
    assert info["tagline"] == "You Know, for Search"


def test_create_and_get(es: Elasticsearch, inference_id: str) -> None:
    created = _create(es, inference_id, dimensions=256)
    assert created["service_settings"] == {
        "model_id": MODEL,
        "similarity": "dot_product",
        "dimensions": 256,
        "rate_limit": {"requests_per_minute": 3000},
    }
    got = es.inference.get(task_type="text_embedding", inference_id=inference_id)
    assert got["endpoints"] == [created]
    listed = es.inference.get()
    ids = [e["inference_id"] for e in listed["endpoints"]]
    assert inference_id in ids and ids == sorted(ids)


def test_create_twice_is_bad_request(es: Elasticsearch, inference_id: str) -> None:
    _create(es, inference_id)
    with pytest.raises(elasticsearch.BadRequestError) as caught:
        _create(es, inference_id)
    assert caught.value.error == "resource_already_exists_exception"
    assert (
        caught.value.body["error"]["reason"]
        == f"Inference endpoint [{inference_id}] already exists"
    )


def test_get_missing_is_not_found(es: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.NotFoundError) as caught:
        es.inference.get(inference_id="does-not-exist")
    assert caught.value.body["error"]["reason"] == "Inference endpoint not found [does-not-exist]"


def test_update_rotates_key_and_merges_task_settings(
    es: Elasticsearch, server: SandboxProcess, inference_id: str
) -> None:
    _create(es, inference_id)
    new_key = "sk-official-client-rotated"
    updated = es.inference.update(
        inference_id=inference_id,
        task_type="text_embedding",
        inference_config={
            "service_settings": {"api_key": new_key},
            "task_settings": {"user": "ops"},
        },
    )
    assert updated["task_settings"] == {"user": "ops"}
    assert "api_key" not in str(updated.body)
    httpx.post(f"{server.url}/_sandbox/openai/keys/_revoke", json={"key": KEY}).raise_for_status()
    try:
        result = es.inference.text_embedding(inference_id=inference_id, input=["hello"])
        assert len(result["text_embedding"][0]["embedding"]) == 1536
    finally:
        httpx.post(
            f"{server.url}/_sandbox/openai/keys/_allow", json={"key": KEY}
        ).raise_for_status()


def test_delete_dry_run_in_use_and_force(es: Elasticsearch, inference_id: str) -> None:
    _create(es, inference_id)
    index = f"docs-{inference_id}"
    es.indices.create(
        index=index,
        mappings={"properties": {"body": {"type": "semantic_text", "inference_id": inference_id}}},
    )
    dry = es.inference.delete(inference_id=inference_id, dry_run=True)
    assert dry["acknowledged"] is False and dry["indexes"] == [index]
    with pytest.raises(elasticsearch.ApiError) as caught:
        es.inference.delete(inference_id=inference_id)
    assert caught.value.meta.status == 409
    assert "is being used in the mapping for indexes" in caught.value.body["error"]["reason"]
    forced = es.inference.delete(inference_id=inference_id, force=True)
    assert forced.body == {"acknowledged": True, "pipelines": [], "indexes": []}
    with pytest.raises(elasticsearch.NotFoundError):
        es.inference.get(inference_id=inference_id)


def test_completion_inference(es: Elasticsearch, inference_id: str) -> None:
    es.inference.put(
        task_type="completion",
        inference_id=inference_id,
        inference_config={
            "service": "openai",
            "service_settings": {"api_key": KEY, "model_id": "gpt-4o"},
        },
    )
    result = es.inference.completion(inference_id=inference_id, input="hello")
    assert isinstance(result["completion"][0]["result"], str)


def test_bad_upstream_key_on_put(es: Elasticsearch, inference_id: str) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as caught:
        es.inference.put_openai(
            task_type="text_embedding",
            openai_inference_id=inference_id,
            service="openai",
            service_settings={"api_key": "wrong", "model_id": MODEL},
        )
    error = caught.value.body["error"]
    assert error["reason"].startswith("Could not complete inference endpoint creation")
    assert error["caused_by"]["reason"].startswith("Received an authentication error status code")


def test_unrecognized_parameter_error(es: Elasticsearch, inference_id: str) -> None:
    _create(es, inference_id)
    with pytest.raises(elasticsearch.BadRequestError) as caught:
        es.perform_request(
            "DELETE",
            f"/_inference/{inference_id}",
            params={"dryrun": "true"},
            headers={"accept": "application/json"},
        )
    assert caught.value.body["error"]["reason"].endswith("-> did you mean [dry_run]?")


def test_state_documents_with_concurrency_control(es: Elasticsearch) -> None:
    index = f"state-{uuid.uuid4().hex[:6]}"
    es.indices.create(
        index=index, mappings={"dynamic": "strict", "properties": {"owner": {"type": "keyword"}}}
    )
    first = es.index(
        index=index, id="lock", document={"owner": "a"}, op_type="create", refresh=True
    )
    with pytest.raises(elasticsearch.ConflictError):
        es.index(index=index, id="lock", document={"owner": "b"}, op_type="create")
    es.index(
        index=index,
        id="lock",
        document={"owner": "b"},
        if_seq_no=first["_seq_no"],
        if_primary_term=first["_primary_term"],
    )
    assert es.get(index=index, id="lock")["_source"] == {"owner": "b"}
    hits = es.search(index=index, query={"term": {"owner": "b"}}, seq_no_primary_term=True)
    assert hits["hits"]["total"]["value"] in (0, 1)  # near-real-time: no refresh requested
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"term": {"owner": "b"}}, seq_no_primary_term=True)
    assert hits["hits"]["hits"][0]["_seq_no"] == 1
    with pytest.raises(elasticsearch.BadRequestError) as caught:
        es.index(index=index, id="other", document={"unknown": 1})
    assert caught.value.error == "strict_dynamic_mapping_exception"
    es.indices.delete(index=index)
