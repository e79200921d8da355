"""Control routes for the cluster side of the emulation: the ML node's trained-model
deployments and the Elastic Inference Service (EIS). Errors use Elasticsearch's envelope.

    GET    /_sandbox/ml/deployments                     -> {"deployments": [...]}
    PUT    /_sandbox/ml/deployments/{id}                {"model_id": "...", "num_threads": 1,
                                                         "num_allocations": 1}: a deployment
                                                         started through the trained models API
    DELETE /_sandbox/ml/deployments/{id}                force-stop a deployment
    POST   /_sandbox/ml/deployments/{id}/_allocations   {"num_allocations": N}: the live
                                                         allocations (adaptive: within
                                                         [min, max]; trained-models ones: set)
    GET|PUT /_sandbox/ml/latency                        {"ms": N}: deployment start time
    GET|PUT /_sandbox/eis                               {"enabled": true}: EIS authorizes the
                                                         cluster (its preconfigured endpoints
                                                         appear; `elastic` endpoints work)
    PUT    /_sandbox/eis/models/{model_id}              {"end_of_life_date": "2026-12-31",
                                                         "status": "deprecated", ...}
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox.admin import ACK, AdminError, _guarded, _json, _latency_ms
from reconciler.sandbox.es.services.deployments import Deployment
from reconciler.sandbox.es.state import EsState


def _positive(body: dict[str, object], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise AdminError(400, f"field [{key}] must be an integer >= 0")
    return value


def _ml_routes(state: EsState) -> list[Route]:
    async def listing(_request: Request) -> Response:
        return JSONResponse({"deployments": state.deployments.describe()})

    async def start(request: Request) -> Response:
        deployment_id = request.path_params["deployment_id"]
        body = await _json(request)
        model_id = body.get("model_id", deployment_id)
        if not isinstance(model_id, str) or not model_id:
            raise AdminError(400, "field [model_id] must be a non-empty string")
        deployment = Deployment(
            deployment_id=deployment_id,
            model_id=model_id,
            num_threads=_positive(body, "num_threads", 1),
            num_allocations=_positive(body, "num_allocations", 1),
            adaptive=None,
            owner=None,
        )
        state.deployments.add(deployment)
        return JSONResponse({"deployment_id": deployment_id, **deployment.settings()})

    def existing(request: Request) -> Deployment:
        deployment_id = request.path_params["deployment_id"]
        deployment = state.deployments.get(deployment_id)
        if deployment is None:
            raise AdminError(
                404, f"no deployment [{deployment_id}]", "resource_not_found_exception"
            )
        return deployment

    async def stop(request: Request) -> Response:
        state.deployments.remove(existing(request).deployment_id)
        return JSONResponse(ACK)

    async def allocations(request: Request) -> Response:
        deployment = existing(request)
        deployment_id = deployment.deployment_id
        value = _positive(await _json(request), "num_allocations")
        if deployment.adaptive_enabled:
            deployment.set_live(value)
        elif deployment.owner is None:
            deployment.num_allocations = value
        else:
            # `TransportUpdateTrainedModelDeploymentAction` (`CreateFromDeploymentIT`).
            raise AdminError(
                409,
                f"Cannot update deployment [{deployment_id}] as it was created by inference "
                f"endpoint [{deployment.owner}]. This model deployment must be updated through "
                "the inference API.",
                "status_exception",
            )
        return JSONResponse({"deployment_id": deployment_id, "num_allocations": value})

    async def get_latency(_request: Request) -> Response:
        return JSONResponse({"ms": state.ml_latency_s * 1000})

    async def put_latency(request: Request) -> Response:
        ms = await _latency_ms(request)
        state.ml_latency_s = ms / 1000
        return JSONResponse({"ms": ms})

    base = "/_sandbox/ml/deployments"
    return [
        Route(base, _guarded(listing), methods=["GET"]),
        Route(base + "/{deployment_id}", _guarded(start), methods=["PUT"]),
        Route(base + "/{deployment_id}", _guarded(stop), methods=["DELETE"]),
        Route(base + "/{deployment_id}/_allocations", _guarded(allocations), methods=["POST"]),
        Route("/_sandbox/ml/latency", _guarded(get_latency), methods=["GET"]),
        Route("/_sandbox/ml/latency", _guarded(put_latency), methods=["PUT"]),
    ]


def _eis_routes(state: EsState) -> list[Route]:
    async def get(_request: Request) -> Response:
        return JSONResponse(state.eis.describe())

    async def put(request: Request) -> Response:
        enabled = (await _json(request)).get("enabled")
        if not isinstance(enabled, bool):
            raise AdminError(400, "field [enabled] must be a boolean")
        state.set_eis(enabled)
        return JSONResponse(state.eis.describe())

    async def model(request: Request) -> Response:
        body = await _json(request)
        allowed = {"status", "end_of_life_date", "release_date", "display_name", "properties"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise AdminError(400, f"unknown fields {unknown}; allowed: {sorted(allowed)}")
        changed = state.eis.set_lifecycle(request.path_params["model_id"], body)
        return JSONResponse(changed.metadata())

    return [
        Route("/_sandbox/eis", _guarded(get), methods=["GET"]),
        Route("/_sandbox/eis", _guarded(put), methods=["PUT"]),
        Route("/_sandbox/eis/models/{model_id}", _guarded(model), methods=["PUT"]),
    ]


def cluster_admin_routes(state: EsState) -> list[Route]:
    return _ml_routes(state) + _eis_routes(state)
