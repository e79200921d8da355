"""`elasticsearch` (and its deprecated alias `elser`, sparse_embedding only): models on the
cluster's own ML node (elastic/elasticsearch `…/services/elasticsearch/
ElasticsearchInternalService.java`, `ElasticsearchInternalServiceSettings.java`).

* PUT starts a deployment whose id is the inference_id (`ElasticsearchInternalModel
  .getStartTrainedModelDeploymentActionRequest`), taking `/_sandbox/ml/latency`; past the PUT
  `timeout` it answers the deployment-start timeout (ES PRs #126805/#129003).
* `model_id` defaults to the platform variant
  (`selectDefaultModelVariantBasedOnClusterArchitecture`).
* `num_threads` is required (power of 2 ≤ 32, `StartTrainedModelDeploymentAction`), one of
  `num_allocations`/`adaptive_allocations`; `deployment_id` attaches to an existing deployment
  and copies its settings (`CreateFromDeploymentIT`).
* GET reads `num_allocations` from the deployment (PR #115233).
* `_update` changes allocations only, only on a deployment the endpoint created
  (PR #114457; `Messages.INFERENCE_CAN_ONLY_UPDATE_MODELS_IT_CREATED`,
  `INFERENCE_REFERENCE_CANNOT_UPDATE_ANOTHER_ENDPOINT`; newest `…Settings.Update`).
* DELETE stops the deployment it created, unless another endpoint still uses it
  ("Cannot stop deployment [x] as it is used by inference endpoint [y]", `CreateFromDeploymentIT`).
"""

from __future__ import annotations

import asyncio
import copy
from typing import TYPE_CHECKING, Any

from ..errors import EsError, already_exists, status_exception, validation_failed
from ..extract import Errors, extract_positive_int, remove_as_type
from ..versions import Capabilities
from . import fake
from .base import InferRequest, Record, Service
from .deployments import Deployment
from .fields import SS, TS, Field, compact, extract, extract_all, parse_fields
from .remote import embeddings, rerank_result, sparse_embeddings

if TYPE_CHECKING:
    from ..state import EsState

DEFAULT_MODELS = {
    "sparse_embedding": ".elser_model_2_linux-x86_64",
    "text_embedding": ".multilingual-e5-small_linux-x86_64",
    "rerank": ".rerank-v1",
}
_DIMS = {".multilingual-e5-small": 384}
_CHUNKED = ("sparse_embedding", "text_embedding")
_TASK_FIELDS = (Field("return_documents", "bool", tasks=("rerank",)),)
_RERANK_FIELDS = (
    Field("long_document_strategy", "enum", tasks=("rerank",), choices=("chunk", "truncate")),
    Field("max_chunks_per_doc", "int", tasks=("rerank",)),
)


def _missing_one_of() -> str:
    return (
        f"{SS} does not contain one of the required settings [num_allocations, "
        "adaptive_allocations]"
    )


class Elasticsearch(Service):
    label = "Elasticsearch"

    def __init__(self, name: str, task_types: tuple[str, ...]) -> None:
        self.name = name
        self._task_types = task_types

    def task_types(self, caps: Capabilities) -> tuple[str, ...]:
        return self._task_types

    # -- PUT --------------------------------------------------------------------------------

    def parse(
        self, inference_id: str, task_type: str, config: dict[str, Any], caps: Capabilities
    ) -> Record:
        service_map, task_map, chunking = self.open_request(task_type, config, caps, _CHUNKED)
        errors = Errors()
        num_allocations = extract_positive_int(
            service_map, "num_allocations", SS, errors, required=False
        )
        deployment_id = extract(Field("deployment_id"), service_map, SS, errors)
        num_threads = extract_positive_int(
            service_map, "num_threads", SS, errors, required=deployment_id is None
        )
        model_id = extract(Field("model_id"), service_map, SS, errors)
        adaptive = parse_adaptive(service_map, errors)
        extra = extract_all(_RERANK_FIELDS, task_type, service_map, SS, errors)
        if deployment_id is None and num_allocations is None and adaptive is None:
            errors.add(_missing_one_of())
        both = num_allocations is not None and adaptive is not None and adaptive.get("enabled")
        if both and caps.update_service_settings:
            # Newest `ElasticsearchInternalServiceSettings.fromMap`.
            errors.add("[num_allocations] cannot be set if [adaptive_allocations] is set")
        errors.raise_if_any()
        settings: dict[str, Any] = {
            "num_allocations": num_allocations,
            "num_threads": num_threads,
            "model_id": model_id or (None if deployment_id else DEFAULT_MODELS[task_type]),
            "adaptive_allocations": adaptive,
            "deployment_id": deployment_id,
            **extra,
        }
        task_settings = self.parse_task_settings(task_type, task_map, caps)
        if task_type == "rerank":
            task_settings = {"return_documents": True, **task_settings}
        parsed = (compact(settings), task_settings, chunking)
        return self.stored_record(
            inference_id, task_type, parsed, {}, config, service_map, task_map
        )

    def parse_task_settings(
        self, task_type: str, task_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        return parse_fields(_TASK_FIELDS, task_type, task_map, TS)

    async def create(self, state: EsState, record: Record, timeout: float, label: str) -> None:
        inference_id = record["inference_id"]
        if inference_id in state.store.endpoints:
            raise already_exists(inference_id)
        settings = record["service_settings"]
        if "deployment_id" in settings:
            _attach(state, record)
            return
        if state.deployments.get(inference_id) is not None:
            raise status_exception(
                400,
                "Inference endpoint IDs must be unique. Requested inference endpoint ID "
                f"[{inference_id}] matches existing trained model ID(s) but must not.",
            )
        _check_threads(settings["num_threads"])
        await _start_latency(state, timeout, label)
        adaptive = settings.get("adaptive_allocations")
        if settings.get("num_allocations") is not None and adaptive and adaptive.get("enabled"):
            # 8.x–9.4: the deployment start refuses, but the endpoint was already stored
            # (elastic/elasticsearch#137127, open).
            state.store.put_endpoint(record)
            raise validation_failed(
                ["[number_of_allocations] cannot be set if adaptive allocations is enabled"],
                "action_request_validation_exception",
            )
        state.deployments.add(
            Deployment(
                deployment_id=inference_id,
                model_id=settings["model_id"],
                num_threads=settings["num_threads"],
                num_allocations=settings.get("num_allocations"),
                adaptive=copy.deepcopy(adaptive),
                owner=inference_id,
            )
        )

    # -- GET --------------------------------------------------------------------------------

    def render_settings(self, record: Record, state: EsState) -> dict[str, Any]:
        settings = copy.deepcopy(record["service_settings"])
        deployment = state.deployments.get(_deployment_id(record))
        if deployment is not None:
            live = deployment.read_allocations()
            settings.pop("num_allocations", None)
            if live is not None:
                settings["num_allocations"] = live
            if "deployment_id" in settings:
                settings.update(num_threads=deployment.num_threads)
                if deployment.adaptive is not None:
                    settings["adaptive_allocations"] = dict(deployment.adaptive)
        order = ("num_allocations", "num_threads", "model_id", "adaptive_allocations",
                 "deployment_id", "long_document_strategy", "max_chunks_per_doc")  # fmt: skip
        return {k: settings[k] for k in order if settings.get(k) is not None}

    # -- _update ----------------------------------------------------------------------------

    def update_service_settings(
        self, state: EsState, record: Record, merged: Record, service_map: dict[str, Any]
    ) -> None:
        caps = state.caps
        errors = Errors()
        if caps.update_service_settings:
            if "num_threads" in service_map:
                # Newest `ElasticsearchInternalServiceSettings.Update`.
                raise EsError(400, "parse_exception", "[num_threads] cannot be updated")
            num = extract_positive_int(service_map, "num_allocations", SS, errors, required=False)
            adaptive = parse_adaptive(service_map, errors)
            if num is None and adaptive is None and not errors.messages:
                errors.add(_missing_one_of())
            if num is not None and adaptive is not None:
                errors.add("[num_allocations] cannot be set if [adaptive_allocations] is set")
        else:
            # 8.17–9.4 (PR #114457): only `num_allocations`; everything else is ignored.
            num = extract_positive_int(service_map, "num_allocations", SS, errors, required=False)
            adaptive = None
            service_map.clear()
        errors.raise_if_any()
        if num is None and adaptive is None:
            return
        _check_owner(state, record)
        settings = dict(merged["service_settings"])
        if num is not None:
            settings["num_allocations"] = num
            settings.pop("adaptive_allocations", None)
        else:
            settings["adaptive_allocations"] = adaptive
            settings.pop("num_allocations", None)
        merged["service_settings"] = settings

    def apply_update(self, state: EsState, record: Record, merged: Record) -> None:
        deployment = state.deployments.get(_deployment_id(record))
        if deployment is None or deployment.owner != record["inference_id"]:
            return
        settings = merged["service_settings"]
        deployment.num_allocations = settings.get("num_allocations")
        deployment.adaptive = copy.deepcopy(settings.get("adaptive_allocations"))
        deployment.live = None

    # -- DELETE -----------------------------------------------------------------------------

    def on_delete(self, state: EsState, record: Record) -> None:
        deployment = state.deployments.get(_deployment_id(record))
        if deployment is None or deployment.owner != record["inference_id"]:
            return
        if users(state, deployment.deployment_id, but=record["inference_id"]):
            return  # the stop is refused: "Cannot stop deployment [x] as it is used by …"
        state.deployments.remove(deployment.deployment_id)

    # -- inference --------------------------------------------------------------------------

    async def infer(self, state: EsState, record: Record, request: InferRequest) -> dict[str, Any]:
        deployment_id = _deployment_id(record)
        if state.deployments.get(deployment_id) is None and record["inference_id"] not in (
            state.defaults
        ):
            raise EsError(
                404,
                "resource_not_found_exception",
                f"Could not find trained model deployment [{deployment_id}]",
            )
        settings = record["service_settings"]
        model = str(settings.get("model_id", ""))
        task_type = record["task_type"]
        if task_type == "sparse_embedding":
            return sparse_embeddings(request.inputs)
        if task_type == "text_embedding":
            dims = fake.model_dimensions(model.removesuffix("_linux-x86_64"), _DIMS)
            return embeddings("float", model, {"dimensions": dims}, request.inputs)
        return rerank_result(record, request, True)


def parse_adaptive(m: dict[str, Any], errors: Errors) -> dict[str, Any] | None:
    """`AdaptiveAllocationsSettings.PARSER`: enabled, min/max number of allocations."""
    value = remove_as_type(m, "adaptive_allocations", "Map", errors)
    if value is None:
        return None
    out: dict[str, Any] = {}
    if "enabled" in value:
        out["enabled"] = bool(value["enabled"])
    for key in ("min_number_of_allocations", "max_number_of_allocations"):
        if key in value:
            number = value[key]
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                errors.add(f"[adaptive_allocations] [{key}] must be a non-negative integer")
                continue
            out[key] = number
    low, high = out.get("min_number_of_allocations"), out.get("max_number_of_allocations")
    if low is not None and high is not None and high < low:
        errors.add(
            "[adaptive_allocations] max_number_of_allocations must be greater than or equal to "
            "min_number_of_allocations"
        )
    return out


def _check_threads(num_threads: int) -> None:
    """`StartTrainedModelDeploymentAction.Request.validate`."""
    if num_threads > 32 or num_threads & (num_threads - 1):
        raise validation_failed(
            ["[threads_per_allocation] must be a power of 2 less than or equal to 32"],
            "action_request_validation_exception",
        )


async def _start_latency(state: EsState, timeout: float, label: str) -> None:
    latency = state.ml_latency_s
    if latency <= 0:
        return
    if timeout >= 0 and latency > timeout:
        await asyncio.sleep(timeout)
        raise EsError(
            408,
            "status_exception",
            f"Timed out after [{label}] waiting for model deployment to start. Use the trained "
            "model stats API to track the state of the deployment and try again once it has "
            "started.",
        )
    await asyncio.sleep(latency)


def _attach(state: EsState, record: Record) -> None:
    """`ElasticsearchInternalService.validateAgainstDeployment` (`CreateFromDeploymentIT`)."""
    settings = record["service_settings"]
    deployment_id = settings["deployment_id"]
    deployment = state.deployments.get(deployment_id)
    if deployment is None:
        raise EsError(
            404, "resource_not_found_exception", f"Cannot find deployment [{deployment_id}]"
        )
    model_id = settings.get("model_id")
    if model_id is not None and model_id != deployment.model_id:
        raise status_exception(
            400,
            f"Deployment [{deployment_id}] uses model [{deployment.model_id}] which does not "
            f"match the model [{model_id}] in the request.",
        )
    settings.pop("adaptive_allocations", None)
    settings.pop("num_allocations", None)
    settings.update(model_id=deployment.model_id, **deployment.settings())


def _check_owner(state: EsState, record: Record) -> None:
    deployment_id = _deployment_id(record)
    deployment = state.deployments.get(deployment_id)
    inference_id = record["inference_id"]
    if deployment is None or deployment.owner == inference_id:
        return
    if deployment.owner is None:
        raise status_exception(
            409,
            f"Cannot update inference endpoint [{inference_id}] using model deployment "
            f"[{deployment_id}]. The model deployment must be updated through the trained "
            "models API.",
        )
    raise status_exception(
        409,
        f"Cannot update inference endpoint [{inference_id}] for model deployment "
        f"[{deployment_id}] as it was created by another inference endpoint. The model can only "
        f"be updated using inference endpoint id [{deployment.owner}].",
    )


def _deployment_id(record: Record) -> str:
    return str(record["service_settings"].get("deployment_id") or record["inference_id"])


def users(state: EsState, deployment_id: str, but: str | None = None) -> list[str]:
    """Endpoints (other than `but`) that run on the deployment."""
    return sorted(
        r["inference_id"]
        for r in state.store.endpoints.values()
        if r["service"] in ("elasticsearch", "elser")
        and _deployment_id(r) == deployment_id
        and r["inference_id"] != but
    )


SERVICE = Elasticsearch("elasticsearch", ("sparse_embedding", "text_embedding", "rerank"))
ELSER = Elasticsearch("elser", ("sparse_embedding",))
