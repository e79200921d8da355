"""Cluster-level answers: `GET /` version information, `_cluster/health`,
`GET _inference/_services`, and ingest pipelines (`_ingest/pipeline`)."""

from __future__ import annotations

import fnmatch
from typing import Any

from starlette.responses import Response

from .errors import EsError
from .http import Ctx, es_response
from .inference import parse_task_type
from .services import available, catalog
from .versions import info_body


async def root(ctx: Ctx) -> Response:
    state = ctx.state
    return es_response(
        ctx, info_body(state.caps.version, state.node_name, state.store.cluster_uuid)
    )


async def cluster_health(ctx: Ctx) -> Response:
    indices = len(ctx.state.store.indices)
    body = {
        "cluster_name": "sandbox",
        "status": "green" if indices == 0 else "yellow",
        "timed_out": False,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": indices,
        "active_shards": indices,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": indices,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0 if indices == 0 else 50.0,
    }
    return es_response(ctx, body)


# -- _inference/_services ------------------------------------------------------------------


def _field(
    description: str, label: str, kind: str, task_types: list[str], **flags: Any
) -> dict[str, Any]:
    return {
        "description": description,
        "label": label,
        "required": flags.get("required", False),
        "sensitive": flags.get("sensitive", False),
        "updatable": flags.get("updatable", False),
        "type": kind,
        "supported_task_types": task_types,
    }


def openai_service(task_types: list[str]) -> dict[str, Any]:
    """`OpenAiService.Configuration`."""
    emb = ["text_embedding"]
    config = {
        "api_key": _field(
            "The OpenAI API authentication key. For more details about generating OpenAI API "
            "keys, refer to the https://platform.openai.com/account/api-keys.",
            "API Key",
            "str",
            task_types,
            required=True,
            sensitive=True,
            updatable=True,
        ),
        "organization_id": _field(
            "The unique identifier of your organization.", "Organization ID", "str", task_types
        ),
        "rate_limit.requests_per_minute": _field(
            "Default number of requests allowed per minute. For text_embedding is 3000. "
            "For completion is 500.",
            "Rate Limit",
            "int",
            task_types,
            updatable=True,
        ),
        "model_id": _field(
            "The name of the model to use for the inference task.",
            "Model ID",
            "str",
            task_types,
            required=True,
        ),
        "dimensions": _field(
            "The number of dimensions the resulting embeddings should have. For more "
            "information refer to https://platform.openai.com/docs/api-reference/embeddings/"
            "create#embeddings-create-dimensions.",
            "Dimensions",
            "int",
            emb,
        ),
        "url": _field(
            "The absolute URL of the external service to send requests to.",
            "URL",
            "str",
            task_types,
        ),
    }
    return {
        "service": "openai",
        "name": "OpenAI",
        "task_types": task_types,
        "configurations": config,
    }


async def services(ctx: Ctx) -> Response:
    """Every service this release offers, sorted by name; with a task type, those offering
    it. The `elastic` service is listed only while EIS authorizes the cluster."""
    caps = ctx.state.caps
    task_types = ["text_embedding", "completion"]
    if caps.chat_completion:
        task_types.append("chat_completion")
    entries = [openai_service(task_types)]
    for service in available(caps):
        if service.name == "elastic" and not ctx.state.eis.enabled:
            continue
        entries.append(catalog.entry(service, caps))
    entries.sort(key=lambda e: str(e["service"]))
    wanted = ctx.path_params.get("task_type")
    if wanted is not None:
        wanted = parse_task_type(ctx, wanted)
        entries = [e for e in entries if wanted in e["task_types"]]
    return es_response(ctx, entries)


# -- _ingest/pipeline ----------------------------------------------------------------------


async def put_pipeline(ctx: Ctx) -> Response:
    body = ctx.json_object()
    processors = body.get("processors")
    if not isinstance(processors, list):
        raise EsError(400, "parse_exception", "[processors] required property is missing",
                      extra={"property_name": "processors"})  # fmt: skip
    for processor in processors:
        if not isinstance(processor, dict) or len(processor) != 1:
            raise EsError(400, "parse_exception", "processor must have exactly one type")
    ctx.state.store.put_pipeline(ctx.path_params["id"], body)
    return es_response(ctx, {"acknowledged": True})


def _matching_pipelines(ctx: Ctx, expression: str) -> list[str]:
    pipelines = ctx.state.store.pipelines
    names: list[str] = []
    for part in expression.split(","):
        names += [p for p in pipelines if fnmatch.fnmatchcase(p, part)]
    return sorted(set(names))


async def get_pipeline(ctx: Ctx) -> Response:
    names = _matching_pipelines(ctx, ctx.path_params.get("id", "*"))
    body = {name: ctx.state.store.pipelines[name] for name in names}
    return es_response(ctx, body, 200 if body else 404)


async def delete_pipeline(ctx: Ctx) -> Response:
    pipeline_id = ctx.path_params["id"]
    names = _matching_pipelines(ctx, pipeline_id)
    if not names:
        raise EsError(404, "resource_not_found_exception", f"pipeline [{pipeline_id}] is missing")
    for name in names:
        ctx.state.store.delete_pipeline(name)
    return es_response(ctx, {"acknowledged": True})
