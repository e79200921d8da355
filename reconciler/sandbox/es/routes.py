"""The route table of the emulated cluster, per version (elastic/elasticsearch
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/rest/Paths.java` and
the `Rest*Action.java` files beside it)."""

from __future__ import annotations

from . import cluster
from . import indices as idx
from . import inference as inf
from . import perform as perf
from .router import Route
from .versions import Capabilities

INF_ID = "/_inference/{task_type_or_id}"
INF_TT_ID = "/_inference/{task_type_or_id}/{inference_id}"

_WRITE = frozenset(
    {"op_type", "if_seq_no", "if_primary_term", "refresh", "routing", "timeout", "version",
     "version_type", "pipeline", "wait_for_active_shards", "require_alias", "require_data_stream"}
)  # fmt: skip
_GET_DOC = frozenset(
    {"realtime", "refresh", "routing", "preference", "_source", "_source_includes",
     "_source_excludes", "stored_fields", "version", "version_type"}
)  # fmt: skip
_DELETE_DOC = frozenset(
    {"if_seq_no", "if_primary_term", "refresh", "routing", "timeout", "version", "version_type",
     "wait_for_active_shards"}
)  # fmt: skip
_SEARCH = frozenset(
    {"size", "from", "seq_no_primary_term", "version", "track_total_hits", "rest_total_hits_as_int",
     "ignore_unavailable", "allow_no_indices", "expand_wildcards", "typed_keys", "request_cache",
     "preference", "routing", "timeout", "search_type", "_source", "sort"}
)  # fmt: skip
_TIMEOUTS = frozenset({"master_timeout", "timeout"})
_GET_PIPELINE = frozenset({"master_timeout", "summary"})
_HEALTH = frozenset(
    {"wait_for_status", "timeout", "level", "local", "master_timeout", "wait_for_nodes",
     "wait_for_events", "wait_for_no_relocating_shards", "wait_for_no_initializing_shards",
     "wait_for_active_shards", "expand_wildcards"}
)  # fmt: skip
_INDEX = frozenset({"wait_for_active_shards", "timeout", "master_timeout"})
_GET_INDEX = frozenset(
    {"ignore_unavailable", "allow_no_indices", "expand_wildcards", "local", "master_timeout",
     "flat_settings", "include_defaults", "features"}
)  # fmt: skip


def inference_routes(caps: Capabilities) -> list[Route]:
    routes = [
        Route("GET", "/_inference", inf.get_endpoints, prepare=inf.prepare_ids),
        Route("GET", INF_ID, inf.get_endpoints, prepare=inf.prepare_ids),
        Route("GET", INF_TT_ID, inf.get_endpoints, prepare=inf.prepare_ids),
        Route("PUT", INF_ID, inf.put_endpoint, prepare=inf.prepare_put),
        Route("PUT", INF_TT_ID, inf.put_endpoint, prepare=inf.prepare_put),
        Route("DELETE", INF_ID, inf.delete_endpoint, prepare=inf.prepare_delete),
        Route("DELETE", INF_TT_ID, inf.delete_endpoint, prepare=inf.prepare_delete),
        Route("POST", INF_ID, perf.perform, prepare=perf.prepare_inference),
        Route("POST", INF_TT_ID, perf.perform, prepare=perf.prepare_inference),
    ]
    if caps.update_api:
        routes += [
            Route("PUT", INF_ID + "/_update", inf.update_endpoint, prepare=inf.prepare_update),
            Route("PUT", INF_TT_ID + "/_update", inf.update_endpoint, prepare=inf.prepare_update),
        ]
    if caps.stream:
        routes += [
            Route("POST", INF_ID + "/_stream", perf.stream, prepare=perf.prepare_inference),
            Route("POST", INF_TT_ID + "/_stream", perf.stream, prepare=perf.prepare_inference),
        ]
    if caps.unified:
        routes += [
            Route("POST", INF_ID + "/_unified", perf.unified, prepare=perf.prepare_inference),
            Route("POST", INF_TT_ID + "/_unified", perf.unified, prepare=perf.prepare_inference),
        ]
    if caps.services_api:
        routes += [
            Route("GET", "/_inference/_services", cluster.services),
            Route("GET", "/_inference/_services/{task_type}", cluster.services),
        ]
    return routes


def index_routes() -> list[Route]:
    doc = "/{index}/_doc/{id}"
    create = "/{index}/_create/{id}"
    return [
        Route("PUT", "/{index}", idx.create_index, _INDEX),
        Route("GET", "/{index}", idx.get_index, _GET_INDEX),
        Route("HEAD", "/{index}", idx.head_index, _GET_INDEX),
        Route(
            "DELETE",
            "/{index}",
            idx.delete_index,
            _INDEX | {"ignore_unavailable", "allow_no_indices", "expand_wildcards"},
        ),
        Route("GET", "/{index}/_mapping", idx.get_mapping, _GET_INDEX),
        Route("PUT", "/{index}/_mapping", idx.put_mapping, _INDEX),
        Route("POST", "/{index}/_mapping", idx.put_mapping, _INDEX),
        Route("PUT", doc, idx.index_doc, _WRITE),
        Route("POST", doc, idx.index_doc, _WRITE),
        Route("POST", "/{index}/_doc", idx.index_doc, _WRITE),
        Route("PUT", create, idx.create_doc, _WRITE),
        Route("POST", create, idx.create_doc, _WRITE),
        Route("GET", doc, idx.get_doc, _GET_DOC),
        Route("HEAD", doc, idx.get_doc, _GET_DOC),
        Route("DELETE", doc, idx.delete_doc_route, _DELETE_DOC),
        Route("GET", "/_search", idx.search, _SEARCH),
        Route("POST", "/_search", idx.search, _SEARCH),
        Route("GET", "/{index}/_search", idx.search, _SEARCH),
        Route("POST", "/{index}/_search", idx.search, _SEARCH),
        Route("GET", "/{index}/_count", idx.count, _SEARCH),
        Route("POST", "/{index}/_count", idx.count, _SEARCH),
        Route("GET", "/_refresh", idx.refresh, _GET_INDEX),
        Route("POST", "/_refresh", idx.refresh, _GET_INDEX),
        Route("GET", "/{index}/_refresh", idx.refresh, _GET_INDEX),
        Route("POST", "/{index}/_refresh", idx.refresh, _GET_INDEX),
    ]


def cluster_routes() -> list[Route]:
    pipeline = "/_ingest/pipeline/{id}"
    return [
        Route("GET", "/", cluster.root),
        Route("HEAD", "/", cluster.root),
        Route("GET", "/_cluster/health", cluster.cluster_health, _HEALTH),
        Route("GET", "/_ingest/pipeline", cluster.get_pipeline, _GET_PIPELINE),
        Route("GET", pipeline, cluster.get_pipeline, _GET_PIPELINE),
        Route("PUT", pipeline, cluster.put_pipeline, _TIMEOUTS | {"if_version"}),
        Route("DELETE", pipeline, cluster.delete_pipeline, _TIMEOUTS),
    ]


def all_routes(caps: Capabilities) -> list[Route]:
    return inference_routes(caps) + index_routes() + cluster_routes()
