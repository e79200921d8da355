"""Inference endpoint CRUD: PUT, GET, DELETE and `_update`, each in the order of checks of its
`Rest*Action` and `Transport*Action` (elastic/elasticsearch
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/rest/` and `…/action/`,
e.g. `TransportPutInferenceModelAction.java`)."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any, NoReturn

from starlette.responses import Response

from .chunking import parse_chunking
from .endpoints import render
from .errors import (
    EsError,
    already_exists,
    status_exception,
    task_type_mismatch,
    unknown_task_type,
)
from .extract import java_str, refuse_leftovers
from .http import Ctx, es_response
from .openai_config import (
    parse_openai_request,
    parse_secrets,
    parse_task_settings,
    update_service_settings,
)
from .semantic import SettingsMissing, incompatible_indices, incompatible_message
from .services import service_for
from .services.base import Service
from .services.update import merge_service_update
from .validate import validate_endpoint

log = logging.getLogger("reconciler.sandbox")

_ID = re.compile(r"[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?")
_BASE_TASK_TYPES = ("text_embedding", "sparse_embedding", "rerank", "completion", "any")
KNOWN_SERVICES = (
    "alibabacloud-ai-search", "amazonbedrock", "anthropic", "azureaistudio", "azureopenai",
    "cohere", "elastic", "elasticsearch", "googleaistudio", "googlevertexai", "hugging_face",
    "jinaai", "mistral", "openai", "watsonxai",
)  # fmt: skip


# -- path parameters (RestXxxAction.prepareRequest) -------------------------------------


def task_types(ctx: Ctx) -> tuple[str, ...]:
    extra: tuple[str, ...] = ("chat_completion",) if ctx.state.caps.chat_completion else ()
    # 9.5: the multimodal `embedding` task type (elastic/elasticsearch-specification branch 9.5,
    # `TaskType.EMBEDDING`)
    extra += ("embedding",) if ctx.state.caps.update_service_settings else ()
    return _BASE_TASK_TYPES + extra


def parse_task_type(ctx: Ctx, value: str) -> str:
    """`TaskType.fromStringOrStatusException`: case-insensitive, echoed lower-case."""
    lowered = value.strip().lower()
    if lowered not in task_types(ctx):
        raise unknown_task_type(value)
    return lowered


def prepare_ids(ctx: Ctx) -> None:
    """Resolve `{task_type_or_id}[/{inference_id}]` into `ctx.query`-independent fields."""
    params = ctx.path_params
    if "inference_id" in params:
        ctx.url_task_type = parse_task_type(ctx, params["task_type_or_id"])
        ctx.inference_id = params["inference_id"]
    else:
        ctx.url_task_type = "any"
        ctx.inference_id = params.get("task_type_or_id", "_all")


def validate_inference_id(inference_id: str) -> None:
    """`PutInferenceModelAction.Request.validate` (`MlStrings`; no length check)."""
    if inference_id != "_all" and _ID.fullmatch(inference_id):
        return
    raise EsError(
        400,
        "action_request_validation_exception",
        f"Validation Failed: 1: Invalid inference_id; '{inference_id}' can contain lowercase "
        "alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric;",
    )


def check_task_type(requested: str, record: dict[str, Any]) -> None:
    if requested not in ("any", record["task_type"]):
        raise task_type_mismatch(requested, record["task_type"])


# -- PUT ---------------------------------------------------------------------------------


def prepare_put(ctx: Ctx) -> None:
    prepare_ids(ctx)
    if ctx.state.caps.put_timeout:
        ctx.timeout_label = ctx.param("timeout") or "30s"
        ctx.time_param("timeout")


async def put_endpoint(ctx: Ctx) -> Response:
    state, inference_id = ctx.state, ctx.inference_id
    validate_inference_id(inference_id)
    config = ctx.json_object()
    if inference_id in state.defaults:
        raise status_exception(
            400,
            f"[{inference_id}] is a reserved inference ID. Cannot create a new inference endpoint "
            "with a reserved ID.",
        )
    task_type = resolve_task_type(ctx, ctx.url_task_type, config.pop("task_type", None))
    service = _service(config, ctx)
    emulated = service_for(service, state.caps)
    if emulated is None:
        record = parse_openai_request(inference_id, task_type, config, state.caps)
    else:
        record = emulated.parse(inference_id, task_type, config, state.caps)
    if state.caps.mapping_compatibility_check:
        await check_existing_uses(ctx, record)
    timeout = ctx.time_param("timeout") if state.caps.put_timeout else None
    timeout_s = 30.0 if timeout is None else timeout
    if emulated is None:
        await validate_endpoint(state, record, timeout_s, ctx.timeout_label)
    else:
        await emulated.create(state, record, timeout_s, ctx.timeout_label)
    if inference_id in state.store.endpoints:
        raise already_exists(inference_id)
    record["service"] = service
    state.store.put_endpoint(record)
    return es_response(ctx, render(record, state.caps, state))


async def check_existing_uses(ctx: Ctx, record: dict[str, Any]) -> None:
    """8.19.7, 9.1.7, 9.2.1 and 9.3+ (elastic/elasticsearch#137055 and its backports), between
    parsing and the validation call:
    `TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId`."""
    try:
        refused = incompatible_indices(ctx.state.store, record, ctx.state.caps)
    except SettingsMissing as error:
        await _never_answer(ctx, str(error))
    if refused:
        raise status_exception(400, incompatible_message(record["inference_id"], refused))


async def _never_answer(ctx: Ctx, reason: str) -> NoReturn:
    """The check runs on the `inference_utility` pool; `new MinimalServiceSettings(model)`
    throws there for a text_embedding request without `dimensions` or `similarity` once an
    index references the id, and no listener is ever told: the PUT gets no response.
    Elasticsearch logs the uncaught exception; so does the sandbox."""
    thread = f"elasticsearch[{ctx.state.node_name}][inference_utility][T#1]"
    log.warning(
        "uncaught exception in thread [%s]: java.lang.IllegalArgumentException: %s "
        "(PUT %s will never be answered)",
        thread,
        reason,
        ctx.path,
    )
    await ctx.wait_for_disconnect()
    raise EsError(500, "illegal_argument_exception", reason)  # the client is gone: never sent


def resolve_task_type(ctx: Ctx, url_task_type: str, body_value: Any) -> str:
    """`ServiceUtils.resolveTaskType`."""
    if body_value is None:
        if url_task_type == "any":
            raise status_exception(400, "model is missing required setting [task_type]")
        return url_task_type
    body_task_type = parse_task_type(ctx, java_str(body_value))
    if body_task_type == "any":
        raise status_exception(400, "task_type [any] is not valid type for inference")
    if url_task_type not in ("any", body_task_type):
        raise status_exception(
            400,
            "Cannot resolve conflicting task_type parameter in the request URL "
            f"[{url_task_type}] and the request body [{java_str(body_value)}]",
        )
    return body_task_type


def _service(config: dict[str, Any], ctx: Ctx) -> str:
    service = config.pop("service", None)
    if service is None:
        raise status_exception(
            400, "Inference endpoint configuration is missing the [service] setting"
        )
    name = java_str(service)
    if name == "openai" or service_for(name, ctx.state.caps) is not None:
        return name
    if name not in KNOWN_SERVICES:
        raise status_exception(400, f"Unknown service [{name}]")
    raise status_exception(400, f"[sandbox] the [{name}] service is not emulated; only [openai] is")


# -- GET ---------------------------------------------------------------------------------


async def get_endpoints(ctx: Ctx) -> Response:
    state, inference_id, task_type = ctx.state, ctx.inference_id, ctx.url_task_type
    if inference_id in ("_all", "*"):
        records = [r for r in state.all_endpoints() if task_type in ("any", r["task_type"])]
    else:
        record = state.get(inference_id)
        check_task_type(task_type, record)
        records = [record]
    key = "endpoints" if state.caps.version.at_least(8, 15) else "models"
    return es_response(ctx, {key: [render(r, state.caps, state) for r in records]})


# -- DELETE ------------------------------------------------------------------------------


def prepare_delete(ctx: Ctx) -> None:
    prepare_ids(ctx)
    ctx.force = ctx.bool_param("force")
    ctx.dry_run = ctx.bool_param("dry_run")


async def delete_endpoint(ctx: Ctx) -> Response:
    state, inference_id = ctx.state, ctx.inference_id
    record = state.get(inference_id)
    check_task_type(ctx.url_task_type, record)
    if inference_id in state.defaults:
        _refuse_reserved(ctx, inference_id)
    pipelines = state.store.pipelines_using(inference_id)
    if not state.caps.semantic_text_delete_check:
        return _delete_815(ctx, inference_id, pipelines)
    indexes = state.store.indexes_using(inference_id)
    message = references_message(inference_id, pipelines, indexes)
    if ctx.dry_run:
        body = {
            "acknowledged": False,
            "pipelines": pipelines,
            "indexes": indexes,
            "error_message": message,
        }
        return es_response(ctx, body)
    if message and not ctx.force:
        raise status_exception(409, message)
    _on_delete(ctx, inference_id)
    state.store.delete_endpoint(inference_id)
    return es_response(ctx, {"acknowledged": True, "pipelines": [], "indexes": []})


def references_message(inference_id: str, pipelines: list[str], indexes: list[str]) -> str:
    """`TransportDeleteInferenceEndpointAction.buildErrorString`."""
    text = ""
    if pipelines:
        text += (
            f"Inference endpoint {inference_id} is referenced by pipelines: "
            f"[{', '.join(pipelines)}]. "
            "Ensure that no pipelines are using this inference endpoint, or use force to ignore "
            "this warning and delete the inference endpoint."
        )
    if indexes:
        text += (
            f" Inference endpoint {inference_id} is being used in the mapping for indexes: "
            f"[{', '.join(indexes)}]. Ensure that no index mappings are using this inference "
            "endpoint, or use force to ignore this warning and delete the inference endpoint."
        )
    return text


def _delete_815(ctx: Ctx, inference_id: str, pipelines: list[str]) -> Response:
    """8.15: only pipelines are checked, with the older texts (the index check came with
    `TransportVersions.ML_INFERENCE_DONT_DELETE_WHEN_SEMANTIC_TEXT_EXISTS`)."""
    if ctx.dry_run:
        return es_response(ctx, {"acknowledged": False, "pipelines": pipelines})
    if pipelines and not ctx.force:
        raise status_exception(
            409,
            f"Inference endpoint {inference_id} is referenced by pipelines and cannot be deleted. "
            "Use `force` to delete it anyway, or use `dry_run` to list the pipelines that "
            "reference it.",
        )
    _on_delete(ctx, inference_id)
    ctx.state.store.delete_endpoint(inference_id)
    return es_response(ctx, {"acknowledged": True})


def _on_delete(ctx: Ctx, inference_id: str) -> None:
    """The service's side effects of a delete (the `elasticsearch` service stops the
    deployment the endpoint created)."""
    record = ctx.state.get(inference_id)
    emulated = service_for(record["service"], ctx.state.caps)
    if emulated is not None:
        emulated.on_delete(ctx.state, record)


def _refuse_reserved(ctx: Ctx, inference_id: str) -> None:
    """`TransportDeleteInferenceEndpointActionTests`: the later copy refuses even with force;
    the earlier one needs force."""
    if ctx.state.caps.chat_completion:
        raise status_exception(
            400,
            f"[{inference_id}] is a reserved inference endpoint. Cannot delete a reserved "
            "inference endpoint.",
        )
    if not ctx.force:
        raise status_exception(
            400,
            f"[{inference_id}] is a reserved inference endpoint. Use the force=true query "
            "parameter to delete the inference endpoint.",
        )


# -- _update -----------------------------------------------------------------------------
#
# Per release (the flags are in `es_versions.capabilities`):
# * 8.17.0–8.17.1: `_inference/{id}/_update` without a task type segment is refused by the REST
#   handler (elastic/elasticsearch#121231, in 8.17.2).
# * every release: `ServiceUtils.resolveTaskType` runs first in `masterOperation`, so no task
#   type in the URL nor in the body is a 400, and a URL/body conflict is reported before the
#   404 lookup.
# * 8.17.0: no early return; even a no-op update rewrites the endpoint.
# * until 9.2.6 / 9.3.1 / 9.4.0: the rewritten endpoint loses its `chunking_settings`
#   (`new ModelConfigurations(id, taskType, service, serviceSettings, taskSettings)`), so it
#   reads back with `OLD_DEFAULT_SETTINGS` (elastic/elasticsearch#139574, fixed by #141687,
#   #141682 and #140003).
# * until 9.4: no validation call; a bad new key is stored and fails at inference time
#   (elastic/elasticsearch#122356, fixed by #140003).
# * 9.5: rate_limit, organization_id, max_input_tokens change (#147465), `chunking_settings` is
#   replaced (#149723), unknown service/task settings keys are refused (#149430), `timeout`.
# Assumed for 9.5 (the 9.5 copies were not all read): a non-empty `service_settings` still needs
# `api_key` (`DefaultSecretSettings.newSecretSettings`), `api_key` counts as consumed by the
# unknown-keys check, `chunking_settings: {}` counts as absent like the other two sections, and
# `timeout` bounds the validation call as PUT's does (one copy read uses a per-task-type default).


def prepare_update(ctx: Ctx) -> None:
    """`RestUpdateInferenceModelAction.prepareRequest`: `RestUtils.getMasterNodeTimeout` consumes
    `master_timeout`; 9.5 adds `timeout` (spec `UpdateInferenceRequest`, since 9.5.0)."""
    prepare_ids(ctx)
    ctx.time_param("master_timeout")
    if ctx.state.caps.update_timeout:
        ctx.timeout_label = ctx.param("timeout") or "30s"
        ctx.time_param("timeout")


async def update_endpoint(ctx: Ctx) -> Response:
    state, inference_id = ctx.state, ctx.inference_id
    caps = state.caps
    if "inference_id" not in ctx.path_params and not caps.update_id_only_path:
        raise status_exception(400, "Inference ID must be provided in the path")
    validate_inference_id(inference_id)
    settings = _update_settings(ctx)
    task_type = resolve_task_type(ctx, ctx.url_task_type, settings.get("task_type"))
    if inference_id in state.defaults:
        # `TransportUpdateInferenceModelAction` (newest copy): ids starting with `.`.
        raise status_exception(400, f"Default endpoint [{inference_id}] cannot be updated")
    record = state.store.endpoints.get(inference_id)
    if record is None:
        raise EsError(
            404,
            "resource_not_found_exception",
            f"The inference endpoint [{inference_id}] does not exist and cannot be updated",
        )
    if task_type != record["task_type"]:
        # `TransportUpdateInferenceModelAction.validateResolvedTaskType`
        raise status_exception(400, "Task type must match the task type of the existing endpoint")
    emulated = service_for(record["service"], caps)
    if emulated is None:
        merged = merge_update(ctx, record, settings)
    else:
        emulated.check_updatable(state, record)
        merged = merge_service_update(state, emulated, record, settings)
    if merged == record and not caps.update_noop_writes:
        return es_response(ctx, render(record, caps, state))
    if caps.update_resets_chunking:
        merged["chunking_settings"] = None
    if inference_id in state.updating:
        raise status_exception(
            409,
            f"Endpoint [{inference_id}] is currently being updated. Try again once the update "
            "completes",
        )
    if caps.update_validates:
        timeout = ctx.time_param("timeout") if caps.update_timeout else None
        state.updating.add(inference_id)
        try:
            await _validate_update(ctx, emulated, merged, 30.0 if timeout is None else timeout)
        finally:
            state.updating.discard(inference_id)
    if emulated is not None:
        emulated.apply_update(state, record, merged)
    state.store.put_endpoint(merged)
    return es_response(ctx, render(merged, caps, state))


async def _validate_update(
    ctx: Ctx, emulated: Service | None, merged: dict[str, Any], timeout: float
) -> None:
    if emulated is None:
        await validate_endpoint(ctx.state, merged, timeout, ctx.timeout_label)
    else:
        await emulated.validate_update(ctx.state, merged)


def _update_settings(ctx: Ctx) -> dict[str, Any]:
    """`UpdateInferenceModelAction.Request.getContentAsSettings`: an empty settings object
    counts as absent (`settings.isEmpty() == false ? settings : null`)."""
    body = ctx.json_object()
    if not body:
        raise status_exception(400, "Request body is empty")
    out: dict[str, Any] = {}
    sections = [("service_settings", "service settings"), ("task_settings", "task settings")]
    if ctx.state.caps.update_chunking:
        sections.append(("chunking_settings", "chunking settings"))
    for key, label in sections:
        if key in body:
            value = body.pop(key)
            if not isinstance(value, dict):
                raise status_exception(
                    400, f"Unable to parse {label} in the request [{java_str(value)}]"
                )
            if value:
                out[key] = value
    if "task_type" in body:
        out["task_type"] = parse_task_type(ctx, java_str(body.pop("task_type")))
    if body:
        raise status_exception(
            400,
            "Request contained fields which cannot be updated, remove these fields and try again "
            f"[{java_str(body)}]",
        )
    return out


def merge_update(ctx: Ctx, record: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """`combineExistingModelConfigurationsWithNewSettings`, then
    `combineExistingSecretsWithNewSecrets`. Until 9.5 only `api_key` and `task_settings`
    change: `ServiceSettings.updateServiceSettings` returns `this` before
    elastic/elasticsearch#147465, and other keys are silently ignored."""
    caps = ctx.state.caps
    merged = copy.deepcopy(record)
    service_map = dict(settings["service_settings"]) if "service_settings" in settings else None
    task_map = dict(settings["task_settings"]) if "task_settings" in settings else None
    if service_map is not None and caps.update_service_settings:
        current = merged["service_settings"]
        merged["service_settings"] = update_service_settings(current, service_map)
    if task_map is not None:
        update = parse_task_settings(task_map, caps)
        merged["task_settings"] = {**merged.get("task_settings", {}), **update}
    if "chunking_settings" in settings and record["task_type"] == "text_embedding":
        # Replaced whole (`ChunkingSettingsBuilder.fromMap`), elastic/elasticsearch#149723.
        merged["chunking_settings"] = parse_chunking(dict(settings["chunking_settings"]), caps)
    if service_map is not None:
        merged["secrets"] = parse_secrets(service_map, caps)
    if caps.update_rejects_unknown:
        # `validateConsumedUpdateSettings` (elastic/elasticsearch#149430): `throwIfNotEmptyMap`.
        refuse_leftovers("openai", service_map, task_map)
    return merged
