"""Index, document, search and ingest-pipeline APIs: enough of Elasticsearch for a state index
and for the in-use checks of DELETE _inference (the general rules: unrecognized parameters
refused by `BaseRestHandler`, near-real-time search, optimistic concurrency with `if_seq_no`,
index auto-creation; https://www.elastic.co/docs/manage-data/data-store/near-real-time-search)."""

# ruff: noqa: E501 (expected bodies of the parametrized cases stay on one line)

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox._es import error_of

pytestmark = pytest.mark.anyio


async def _docs(client: httpx.AsyncClient, index: str, docs: dict[str, dict[str, Any]]) -> None:
    for doc_id, source in docs.items():
        assert (await client.put(f"/{index}/_doc/{doc_id}", json=source)).status_code in (200, 201)
    await client.post(f"/{index}/_refresh")


async def _ids(client: httpx.AsyncClient, index: str, body: dict[str, Any]) -> list[str]:
    response = await client.post(f"/{index}/_search", json=body)
    assert response.status_code == 200, response.text
    return [hit["_id"] for hit in response.json()["hits"]["hits"]]


# -- indices -----------------------------------------------------------------------------


async def test_create_get_head_delete_index(sandbox_client: httpx.AsyncClient) -> None:
    mappings = {"properties": {"owner": {"type": "keyword"}, "body": {"type": "semantic_text"}}}
    created = await sandbox_client.put(
        "/state", json={"mappings": mappings, "settings": {"number_of_replicas": 0}}
    )
    assert created.json() == {"acknowledged": True, "shards_acknowledged": True, "index": "state"}
    got = (await sandbox_client.get("/state")).json()["state"]
    # semantic_text without inference_id uses the default ELSER endpoint.
    assert got["mappings"]["properties"]["body"] == {
        "type": "semantic_text",
        "inference_id": ".elser-2-elasticsearch",
    }
    assert got["settings"]["index"]["number_of_replicas"] == "0"
    assert got["settings"]["index"]["provided_name"] == "state"
    assert (await sandbox_client.head("/state")).status_code == 200
    assert (await sandbox_client.delete("/state")).json() == {"acknowledged": True}
    assert (await sandbox_client.head("/state")).status_code == 404


async def test_create_existing_index(sandbox_client: httpx.AsyncClient) -> None:
    await sandbox_client.put("/state")
    status, kind, reason = error_of(await sandbox_client.put("/state"))
    assert (status, kind) == (400, "resource_already_exists_exception")
    assert reason.startswith("index [state/") and reason.endswith("] already exists")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("State", "must be lowercase"),
        ("_x", "must not start with '_', '-', or '+'"),
        ("a:b", "must not contain ':'"),
    ],
)
async def test_invalid_index_names(
    sandbox_client: httpx.AsyncClient, name: str, problem: str
) -> None:
    assert error_of(await sandbox_client.put(f"/{name}")) == (
        400,
        "invalid_index_name_exception",
        f"Invalid index name [{name}], {problem}",
    )


async def test_missing_index(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.get("/nope")
    assert error_of(response) == (404, "index_not_found_exception", "no such index [nope]")
    assert response.json()["error"]["index"] == "nope"


async def test_unknown_field_type_and_semantic_text_parameter(
    sandbox_client: httpx.AsyncClient,
) -> None:
    bad_type = {"mappings": {"properties": {"a": {"type": "strange"}}}}
    assert error_of(await sandbox_client.put("/x", json=bad_type))[2] == (
        "Failed to parse mapping: No handler for type [strange] declared on field [a]"
    )
    bad_param = {"mappings": {"properties": {"a": {"type": "semantic_text", "dims": 3}}}}
    assert error_of(await sandbox_client.put("/x", json=bad_param))[2] == (
        "Failed to parse mapping: unknown parameter [dims] on mapper [a] of type [semantic_text]"
    )


async def test_put_mapping_adds_semantic_text_reference(sandbox_client: httpx.AsyncClient) -> None:
    await sandbox_client.put("/docs")
    update = {"properties": {"body": {"type": "semantic_text", "inference_id": "e"}}}
    assert (await sandbox_client.put("/docs/_mapping", json=update)).json() == {
        "acknowledged": True
    }
    mappings = (await sandbox_client.get("/docs/_mapping")).json()["docs"]["mappings"]
    assert mappings["properties"]["body"]["inference_id"] == "e"


# -- documents ---------------------------------------------------------------------------


async def test_document_lifecycle(sandbox_client: httpx.AsyncClient) -> None:
    created = await sandbox_client.put("/state/_doc/a?refresh=true", json={"v": 1})
    assert created.status_code == 201
    assert created.json() == {
        "_index": "state", "_id": "a", "_version": 1, "result": "created",
        "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1,
        "forced_refresh": True,
    }  # fmt: skip
    updated = await sandbox_client.put("/state/_doc/a", json={"v": 2})
    assert (updated.status_code, updated.json()["_version"], updated.json()["result"]) == (
        200,
        2,
        "updated",
    )
    got = (await sandbox_client.get("/state/_doc/a")).json()
    assert got == {
        "_index": "state",
        "_id": "a",
        "_version": 2,
        "_seq_no": 1,
        "_primary_term": 1,
        "found": True,
        "_source": {"v": 2},
    }
    deleted = await sandbox_client.delete("/state/_doc/a")
    assert (deleted.json()["result"], deleted.json()["_version"], deleted.json()["_seq_no"]) == (
        "deleted",
        3,
        2,
    )
    missing = await sandbox_client.get("/state/_doc/a")
    assert (missing.status_code, missing.json()) == (
        404,
        {"_index": "state", "_id": "a", "found": False},
    )
    again = await sandbox_client.delete("/state/_doc/a")
    assert (again.status_code, again.json()["result"]) == (404, "not_found")
    recreated = await sandbox_client.put("/state/_doc/a", json={"v": 3})
    assert recreated.json()["_version"] == 4


async def test_auto_generated_ids(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.post("/logs/_doc", json={"m": "x"})
    assert response.status_code == 201 and len(response.json()["_id"]) == 20


async def test_conditional_delete(sandbox_client: httpx.AsyncClient) -> None:
    await sandbox_client.put("/locks/_doc/l", json={"o": "a"})
    stale = await sandbox_client.delete("/locks/_doc/l?if_seq_no=3&if_primary_term=1")
    assert error_of(stale)[:2] == (409, "version_conflict_engine_exception")
    ok = await sandbox_client.delete("/locks/_doc/l?if_seq_no=0&if_primary_term=1")
    assert ok.json()["result"] == "deleted"
    gone = await sandbox_client.put("/locks/_doc/l?if_seq_no=1&if_primary_term=1", json={})
    assert (
        error_of(gone)[2]
        == "[l]: version conflict, required seqNo [1], primary term [1]. but no document was found"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("if_seq_no=1", "ifSeqNo is set, but primary term is [0]"),
        ("if_primary_term=1", "ifSeqNo is unassigned, but primary term is [1]"),
        (
            "op_type=create&if_seq_no=1&if_primary_term=1",
            "create operations do not support compare and set. use index instead",
        ),
    ],
)  # fmt: skip
async def test_concurrency_parameter_validation(
    sandbox_client: httpx.AsyncClient, query: str, message: str
) -> None:
    response = await sandbox_client.put(f"/locks/_doc/l?{query}", json={})
    assert error_of(response) == (
        400,
        "action_request_validation_exception",
        f"Validation Failed: 1: {message};",
    )


async def test_bad_refresh_value(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.put("/x/_doc/1?refresh=now", json={})
    assert error_of(response)[2] == "Unknown value for refresh: [now]."


async def test_strict_mapping_refuses_new_fields(sandbox_client: httpx.AsyncClient) -> None:
    await sandbox_client.put(
        "/strict",
        json={"mappings": {"dynamic": "strict", "properties": {"a": {"type": "keyword"}}}},
    )
    response = await sandbox_client.put("/strict/_doc/1", json={"b": 1})
    assert error_of(response) == (
        400,
        "strict_dynamic_mapping_exception",
        "[1:2] mapping set to strict, dynamic introduction of [b] within [_doc] is not allowed",
    )
    assert (await sandbox_client.get("/strict/_doc/1")).status_code == 404


# -- search ------------------------------------------------------------------------------


DOCS = {
    "1": {
        "kind": "endpoint",
        "name": "Alpha One",
        "n": 3,
        "tags": ["x", "y"],
        "meta": {"owner": "ops"},
    },
    "2": {"kind": "endpoint", "name": "beta two", "n": 1, "tags": ["y"]},
    "3": {"kind": "lock", "name": "gamma", "n": 2},
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"match_all": {}}, ["1", "2", "3"]),
        ({"ids": {"values": ["3", "1"]}}, ["1", "3"]),
        ({"term": {"kind.keyword": "lock"}}, ["3"]),
        ({"term": {"kind": {"value": "endpoint"}}}, ["1", "2"]),
        ({"term": {"name": "Alpha One"}}, []),  # text fields are analysed
        ({"term": {"name": "alpha"}}, ["1"]),
        ({"match": {"name": "ALPHA two"}}, ["1", "2"]),
        ({"terms": {"tags.keyword": ["x"]}}, ["1"]),
        ({"term": {"meta.owner.keyword": "ops"}}, ["1"]),
        ({"exists": {"field": "tags"}}, ["1", "2"]),
        ({"prefix": {"kind.keyword": "end"}}, ["1", "2"]),
        (
            {"bool": {"filter": [{"term": {"kind.keyword": "endpoint"}}],
                      "must_not": [{"ids": {"values": ["2"]}}]}},
            ["1"],
        ),
        ({"bool": {"should": [{"term": {"n": 2}}, {"term": {"n": 3}}]}}, ["1", "3"]),
    ],
)  # fmt: skip
async def test_search_queries(
    sandbox_client: httpx.AsyncClient, query: dict[str, Any], expected: list[str]
) -> None:
    await _docs(sandbox_client, "s", DOCS)
    assert sorted(await _ids(sandbox_client, "s", {"query": query, "size": 100})) == expected


async def test_search_size_from_sort_and_seq_no(sandbox_client: httpx.AsyncClient) -> None:
    await _docs(sandbox_client, "s", DOCS)
    body = {
        "sort": [{"n": {"order": "desc"}}],
        "size": 2,
        "seq_no_primary_term": True,
        "version": True,
    }
    response = (await sandbox_client.post("/s/_search", json=body)).json()
    hits = response["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["1", "3"] and hits[0]["sort"] == [3]
    assert hits[0]["_score"] is None and response["hits"]["max_score"] is None
    assert {"_seq_no", "_primary_term", "_version"} <= set(hits[0])
    assert response["hits"]["total"] == {"value": 3, "relation": "eq"}
    page = await sandbox_client.get("/s/_search?size=1&from=2&sort=n")
    assert page.status_code == 200


async def test_search_errors(sandbox_client: httpx.AsyncClient) -> None:
    await _docs(sandbox_client, "s", DOCS)
    unknown = await sandbox_client.post("/s/_search", json={"query": {"fuzzy_thing": {}}})
    assert error_of(unknown)[1:] == ("parsing_exception", "unknown query [fuzzy_thing]")
    assert error_of(await sandbox_client.get("/missing/_search"))[1] == "index_not_found_exception"
    assert (await sandbox_client.get("/miss*/_search")).json()["hits"]["total"]["value"] == 0


async def test_count_and_multi_index_search(sandbox_client: httpx.AsyncClient) -> None:
    await _docs(sandbox_client, "s1", {"a": {"k": 1}})
    await _docs(sandbox_client, "s2", {"b": {"k": 2}})
    assert (await sandbox_client.get("/s1,s2/_count")).json()["count"] == 2
    hits = (await sandbox_client.get("/s*/_search")).json()["hits"]["hits"]
    assert sorted((h["_index"], h["_id"]) for h in hits) == [("s1", "a"), ("s2", "b")]


# -- ingest pipelines --------------------------------------------------------------------


async def test_pipeline_lifecycle(sandbox_client: httpx.AsyncClient) -> None:
    body = {"description": "d", "processors": [{"inference": {"model_id": "e"}}]}
    assert (await sandbox_client.put("/_ingest/pipeline/p1", json=body)).json() == {
        "acknowledged": True
    }
    assert (await sandbox_client.get("/_ingest/pipeline/p1")).json() == {"p1": body}
    assert list((await sandbox_client.get("/_ingest/pipeline/p*")).json()) == ["p1"]
    assert (await sandbox_client.delete("/_ingest/pipeline/p1")).json() == {"acknowledged": True}
    missing = await sandbox_client.get("/_ingest/pipeline/p1")
    assert (missing.status_code, missing.json()) == (404, {})
    gone = await sandbox_client.delete("/_ingest/pipeline/p1")
    assert error_of(gone) == (404, "resource_not_found_exception", "pipeline [p1] is missing")


async def test_pipeline_needs_processors(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.put("/_ingest/pipeline/p", json={"description": "x"})
    assert error_of(response) == (
        400,
        "parse_exception",
        "[processors] required property is missing",
    )


async def test_nested_inference_processors_count_as_references(
    sandbox_client: httpx.AsyncClient,
) -> None:
    body = {
        "processors": [
            {"foreach": {"field": "f", "processor": {"inference": {"model_id": "deep"}}}}
        ],
        "on_failure": [{"inference": {"model_id": "fallback"}}],
    }
    await sandbox_client.put("/_ingest/pipeline/p", json=body)
    from reconciler.sandbox.es.store import inference_model_ids

    assert inference_model_ids(body) == {"deep", "fallback"}


async def test_cluster_health(sandbox_client: httpx.AsyncClient) -> None:
    health = (await sandbox_client.get("/_cluster/health?wait_for_status=yellow&timeout=1s")).json()
    assert health["status"] == "green" and health["number_of_nodes"] == 1


# -- response parameters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_path", "expected"),
    [
        ("endpoints.inference_id", {"endpoints": [{"inference_id": "c"}]}),
        ("endpoints.service_settings.rate_limit.*", {"endpoints": [{"service_settings": {"rate_limit": {"requests_per_minute": 500}}}]}),
        ("**.requests_per_minute", {"endpoints": [{"service_settings": {"rate_limit": {"requests_per_minute": 500}}}]}),
        ("-endpoints.service_settings,-endpoints.service", {"endpoints": [{"inference_id": "c", "task_type": "completion"}]}),
        ("nothing.here", {}),
    ],
)  # fmt: skip
async def test_filter_path(
    sandbox_client: httpx.AsyncClient, filter_path: str, expected: Any
) -> None:
    from tests.sandbox._es import put_chat

    await put_chat(sandbox_client, "c")
    response = await sandbox_client.get(
        "/_inference/completion/c", params={"filter_path": filter_path}
    )
    assert response.json() == expected


async def test_encoded_slash_stays_in_the_document_id(sandbox_client: httpx.AsyncClient) -> None:
    created = await sandbox_client.put("/state/_doc/endpoint%2Fe1", json={"a": 1})
    assert created.json()["_id"] == "endpoint/e1"
    assert (await sandbox_client.get("/state/_doc/endpoint%2Fe1")).json()["found"] is True
