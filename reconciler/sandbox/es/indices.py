"""Index and document REST handlers: create/get/delete an index and its mapping, document
PUT/POST/GET/DELETE with concurrency control, `_search`, `_count` and `_refresh`. Indexing a
value into a `semantic_text` field records the endpoint's `model_settings` (`es_semantic`)."""

from __future__ import annotations

import fnmatch
from typing import Any

from starlette.responses import Response

from .docs import (
    WriteOptions,
    delete_doc,
    new_doc_id,
    parse_refresh,
    searchable_docs,
    validate_write,
    write_doc,
    write_result,
)
from .errors import EsError, index_not_found
from .http import Ctx, es_response
from .mappings import dynamic_update, merge_mappings, normalise_mappings
from .search import compile_query, sort_docs
from .semantic import settings_to_record, with_model_settings
from .store import Index

_BAD_CHARS = ' "*,/<>?\\|'


def validate_index_name(name: str) -> None:
    """`MetadataCreateIndexService.validateIndexOrAliasName`."""
    problem = None
    if name != name.lower():
        problem = "must be lowercase"
    elif name in (".", ".."):
        problem = "must not be '.' or '..'"
    elif name[0] in "_-+":
        problem = "must not start with '_', '-', or '+'"
    elif any(c in _BAD_CHARS for c in name):
        problem = (
            "must not contain the following characters [' ','\"','*',',','/','<','>','?','\\','|']"
        )
    elif "#" in name:
        problem = "must not contain '#'"
    elif ":" in name:
        problem = "must not contain ':'"
    elif len(name.encode()) > 255:
        problem = f"index name is too long, ({len(name.encode())} > 255)"
    if problem:
        extra = {"index_uuid": "_na_", "index": name}
        raise EsError(
            400,
            "invalid_index_name_exception",
            f"Invalid index name [{name}], {problem}",
            extra=extra,
        )


def _index(ctx: Ctx, name: str | None = None) -> Index:
    name = name or ctx.path_params["index"]
    index = ctx.state.store.indices.get(name)
    if index is None:
        raise index_not_found(name)
    return index


# -- indices -----------------------------------------------------------------------------


async def create_index(ctx: Ctx) -> Response:
    name = ctx.path_params["index"]
    validate_index_name(name)
    body = ctx.json_body(required=False) or {}
    store = ctx.state.store
    if name in store.indices:
        existing = store.indices[name]
        raise EsError(
            400,
            "resource_already_exists_exception",
            f"index [{name}/{existing.uuid}] already exists",
            extra={"index_uuid": existing.uuid, "index": name},
        )
    mappings = normalise_mappings(body.get("mappings"), ctx.state.caps)
    store.create_index(
        name, mappings, _settings(body.get("settings") or {}), body.get("aliases") or {}
    )
    return es_response(ctx, {"acknowledged": True, "shards_acknowledged": True, "index": name})


def _settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Flatten `index.x`, `{"index": {...}}` and bare keys into `{"index": {x: "str"}}`."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        else:
            flat[prefix.rstrip(".").removeprefix("index.")] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )

    walk("", settings)
    return flat


def _index_body(ctx: Ctx, index: Index) -> dict[str, Any]:
    settings = {"number_of_shards": "1", "number_of_replicas": "1", **index.settings}
    version = ctx.state.caps.version
    settings.update(
        creation_date=str(index.created_ms),
        provided_name=index.name,
        uuid=index.uuid,
        version={"created": f"{version.major}{version.minor:02d}{version.patch:02d}99"},
    )
    return {"aliases": index.aliases, "mappings": index.mappings, "settings": {"index": settings}}


async def get_index(ctx: Ctx) -> Response:
    names = _resolve(ctx, ctx.path_params["index"])
    return es_response(ctx, {n: _index_body(ctx, ctx.state.store.indices[n]) for n in names})


async def head_index(ctx: Ctx) -> Response:
    try:
        _resolve(ctx, ctx.path_params["index"])
    except EsError as error:
        return es_response(ctx, {}, error.status)
    return es_response(ctx, {})


def _resolve(ctx: Ctx, expression: str) -> list[str]:
    """Comma-separated names and wildcards; a missing concrete name is 404."""
    names: list[str] = []
    for part in expression.split(","):
        if part in ("_all", "*") or "*" in part:
            pattern = "*" if part == "_all" else part
            names += [
                n
                for n in ctx.state.store.indices
                if fnmatch.fnmatchcase(n, pattern) and not n.startswith(".")
            ]
        else:
            _index(ctx, part)
            names.append(part)
    return sorted(set(names))


async def delete_index(ctx: Ctx) -> Response:
    for name in _resolve(ctx, ctx.path_params["index"]):
        ctx.state.store.delete_index(name)
    return es_response(ctx, {"acknowledged": True})


async def get_mapping(ctx: Ctx) -> Response:
    names = _resolve(ctx, ctx.path_params["index"])
    return es_response(ctx, {n: {"mappings": ctx.state.store.indices[n].mappings} for n in names})


async def put_mapping(ctx: Ctx) -> Response:
    index = _index(ctx)
    update = normalise_mappings(ctx.json_object(), ctx.state.caps)
    index.mappings = merge_mappings(index.mappings, update)
    ctx.state.store.save_index(index)
    return es_response(ctx, {"acknowledged": True})


# -- documents ---------------------------------------------------------------------------


def _write_options(ctx: Ctx, *, create: bool) -> WriteOptions:
    op_type = ctx.param("op_type")
    if op_type not in (None, "create", "index"):
        raise EsError(
            400,
            "illegal_argument_exception",
            f"opType must be 'create' or 'index', found: [{op_type}]",
        )
    options = WriteOptions(
        op_create=create or op_type == "create",
        if_seq_no=ctx.int_param("if_seq_no"),
        if_primary_term=ctx.int_param("if_primary_term"),
    )
    validate_write(options)
    return options


def _index_for_write(ctx: Ctx) -> Index:
    name = ctx.path_params["index"]
    store = ctx.state.store
    if name not in store.indices:
        validate_index_name(name)
        store.create_index(name, {}, {}, {})
    return store.indices[name]


async def index_doc(ctx: Ctx) -> Response:
    return await _put_doc(ctx, create=False)


async def create_doc(ctx: Ctx) -> Response:
    return await _put_doc(ctx, create=True)


async def _put_doc(ctx: Ctx, *, create: bool) -> Response:
    options = _write_options(ctx, create=create)
    refresh = parse_refresh(ctx.param("refresh"))
    source = ctx.json_object()
    index = _index_for_write(ctx)
    doc_id = ctx.path_params.get("id") or new_doc_id()
    recorded = settings_to_record(ctx.state, index.mappings, source)  # 404 before any write
    mapping = dynamic_update(index.mappings, source)
    record, created = write_doc(index, doc_id, source, options)
    if mapping is not None:
        index.mappings = mapping
    if recorded:
        index.mappings = with_model_settings(index.mappings, recorded)
    body = write_result(index, doc_id, record, "created" if created else "updated")
    _after_write(ctx, index, refresh, body)
    return es_response(ctx, body, 201 if created else 200)


def _after_write(ctx: Ctx, index: Index, refresh: str | None, body: dict[str, Any]) -> None:
    if refresh is not None:
        index.refresh(ctx.state.clock())
        if refresh == "true":
            body["forced_refresh"] = True
    ctx.state.store.save_index(index)


async def get_doc(ctx: Ctx) -> Response:
    index = _index(ctx)
    doc_id = ctx.path_params["id"]
    ctx.param("realtime")
    ctx.param("_source")
    record = index.docs.get(doc_id)
    if record is None:
        return es_response(ctx, {"_index": index.name, "_id": doc_id, "found": False}, 404)
    body = {
        "_index": index.name,
        "_id": doc_id,
        **_meta(record),
        "found": True,
        "_source": record["_source"],
    }
    return es_response(ctx, body)


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("_version", "_seq_no", "_primary_term")}


async def delete_doc_route(ctx: Ctx) -> Response:
    options = _write_options(ctx, create=False)
    refresh = parse_refresh(ctx.param("refresh"))
    index = _index(ctx)
    doc_id = ctx.path_params["id"]
    record = delete_doc(index, doc_id, options)
    if record is None:
        body = {"_index": index.name, "_id": doc_id, "_version": 1, "result": "not_found",
                "_shards": {"total": 2, "successful": 1, "failed": 0},
                "_seq_no": index.max_seq_no, "_primary_term": index.primary_term}  # fmt: skip
        _after_write(ctx, index, refresh, body)
        return es_response(ctx, body, 404)
    body = write_result(index, doc_id, record, "deleted")
    _after_write(ctx, index, refresh, body)
    return es_response(ctx, body)


# -- search ------------------------------------------------------------------------------


async def search(ctx: Ctx) -> Response:
    body = ctx.json_body(required=False) or {}
    names = _resolve(ctx, ctx.path_params.get("index", "_all"))
    size = ctx.int_param("size")
    size = body.get("size", 10) if size is None else size
    start = ctx.int_param("from") or body.get("from", 0)
    with_seq = ctx.bool_param("seq_no_primary_term") or bool(body.get("seq_no_primary_term"))
    with_version = ctx.bool_param("version") or bool(body.get("version"))
    matched = _matching(ctx, names, body.get("query"))
    ordered = sort_docs([(doc_id, rec) for _, doc_id, rec in matched], body.get("sort"))
    index_of = {id(rec): name for name, _, rec in matched}
    hits = [
        _hit(index_of[id(doc[1])], doc, sort_values, with_seq, with_version)
        for doc, sort_values in ordered[start : start + size]
    ]
    max_score = None if body.get("sort") or not hits else 1.0
    total = {"value": len(matched), "relation": "eq"}
    return es_response(ctx, _search_body(len(names), total, max_score, hits))


def _matching(ctx: Ctx, names: list[str], query: Any) -> list[tuple[str, str, dict[str, Any]]]:
    now = ctx.state.clock()
    out = []
    for name in names:
        index = ctx.state.store.indices[name]
        predicate = compile_query(query, index.mappings)
        docs = searchable_docs(index, now)
        out += [(name, doc_id, rec) for doc_id, rec in docs.items() if predicate((doc_id, rec))]
    return out


def _hit(
    index: str, doc: Any, sort_values: list[Any] | None, with_seq: bool, with_version: bool
) -> dict[str, Any]:
    doc_id, record = doc
    hit: dict[str, Any] = {"_index": index, "_id": doc_id}
    if with_version:
        hit["_version"] = record["_version"]
    if with_seq:
        hit.update(_seq_no=record["_seq_no"], _primary_term=record["_primary_term"])
    hit["_score"] = None if sort_values is not None else 1.0
    hit["_source"] = record["_source"]
    if sort_values is not None:
        hit["sort"] = sort_values
    return hit


def _search_body(
    shards: int, total: dict[str, Any], max_score: float | None, hits: list[Any]
) -> dict[str, Any]:
    return {
        "took": 1,
        "timed_out": False,
        "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0},
        "hits": {"total": total, "max_score": max_score, "hits": hits},
    }


async def count(ctx: Ctx) -> Response:
    body = ctx.json_body(required=False) or {}
    names = _resolve(ctx, ctx.path_params.get("index", "_all"))
    matched = _matching(ctx, names, body.get("query"))
    shards = {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}
    return es_response(ctx, {"count": len(matched), "_shards": shards})


async def refresh(ctx: Ctx) -> Response:
    names = _resolve(ctx, ctx.path_params.get("index", "_all"))
    for name in names:
        ctx.state.store.indices[name].refresh(ctx.state.clock())
    shards = {"total": 2 * len(names), "successful": len(names), "failed": 0}
    return es_response(ctx, {"_shards": shards})
