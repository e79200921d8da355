"""The sandbox's control routes (``/_sandbox/...``): faults, latency, upstream keys, upstream log.

One job: let tests and users steer the sandbox over HTTP. These routes are never faulted and
never print a key (the key ring and the log answer with fingerprints only).

    POST   /_sandbox/faults                 a FaultRule as JSON  -> {"id": ...}
    GET    /_sandbox/faults                 -> {"faults": [...], "latency_ms": N}
    DELETE /_sandbox/faults                 clear all rules      -> {"acknowledged": true}
    DELETE /_sandbox/faults/{id}            remove one rule (404 if unknown)
    GET|PUT /_sandbox/latency               {"ms": 20}
    GET    /_sandbox/openai/keys            mode and fingerprints, no keys
    PUT    /_sandbox/openai/keys            {"valid": ["sk-..."]} or {"valid": null} (any sk-)
    POST   /_sandbox/openai/keys/_revoke    {"key": "sk-..."}
    POST   /_sandbox/openai/keys/_allow     {"key": "sk-..."}
    GET    /_sandbox/openai/requests        {"requests": [...]} (when a log is given)
    DELETE /_sandbox/openai/requests
    GET    /_sandbox/keys/{service}         another provider's key ring (azureopenai, cohere…)
    PUT    /_sandbox/keys/{service}         {"valid": ["key", ...]} or {"valid": null} (any key)
    POST   /_sandbox/keys/{service}/_revoke {"key": "..."}
    POST   /_sandbox/keys/{service}/_allow  {"key": "..."}

List these routes *before* the ``Mount("/_sandbox/openai", upstream)``: a mount matches every
path under its prefix, so it would otherwise shadow ``/_sandbox/openai/keys`` and ``/requests``.
Errors use Elasticsearch's envelope, like the rest of the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox.es.services.keys import ServiceKeys
from reconciler.sandbox.faults import FaultInjector, FaultRule, FaultRuleError
from reconciler.sandbox.upstream import KeyRing, UpstreamLog

Endpoint = Callable[[Request], Awaitable[Response]]
ACK = {"acknowledged": True}


class AdminError(Exception):
    def __init__(self, status: int, reason: str, kind: str = "illegal_argument_exception") -> None:
        super().__init__(reason)
        self.status, self.reason, self.kind = status, reason, kind

    def response(self) -> JSONResponse:
        cause = {"type": self.kind, "reason": self.reason}
        body = {"error": {"root_cause": [cause], **cause}, "status": self.status}
        return JSONResponse(body, status_code=self.status)


def _guarded(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except AdminError as exc:
            return exc.response()

    return guarded


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise AdminError(400, "request body must be JSON") from None
    if not isinstance(body, dict):
        raise AdminError(400, "request body must be a JSON object")
    return body


def _key_field(body: dict[str, Any]) -> str:
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise AdminError(400, "field [key] must be a non-empty string")
    return key


def _fault_routes(faults: FaultInjector) -> list[Route]:
    async def add(request: Request) -> Response:
        try:
            rule = FaultRule.from_dict(await _json(request))
        except FaultRuleError as exc:
            raise AdminError(400, str(exc)) from None
        return JSONResponse({"id": faults.add(rule)})

    async def listing(_request: Request) -> Response:
        rules = [r.to_dict() for r in faults.list()]
        return JSONResponse({"faults": rules, "latency_ms": faults.latency_s * 1000})

    async def clear(_request: Request) -> Response:
        faults.clear()
        return JSONResponse(ACK)

    async def remove(request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        if not faults.remove(rule_id):
            raise AdminError(404, f"no fault rule [{rule_id}]", "resource_not_found_exception")
        return JSONResponse(ACK)

    return [
        Route("/_sandbox/faults", _guarded(add), methods=["POST"]),
        Route("/_sandbox/faults", _guarded(listing), methods=["GET"]),
        Route("/_sandbox/faults", _guarded(clear), methods=["DELETE"]),
        Route("/_sandbox/faults/{rule_id}", _guarded(remove), methods=["DELETE"]),
    ]


async def _latency_ms(request: Request) -> float:
    """The `{"ms": N}` body of a latency PUT."""
    ms = (await _json(request)).get("ms")
    if not isinstance(ms, int | float) or isinstance(ms, bool) or ms < 0:
        raise AdminError(400, "field [ms] must be a number >= 0")
    return ms


def _latency_routes(faults: FaultInjector) -> list[Route]:
    async def put(request: Request) -> Response:
        ms = await _latency_ms(request)
        faults.latency_s = ms / 1000
        return JSONResponse({"ms": ms})

    async def get(_request: Request) -> Response:
        return JSONResponse({"ms": faults.latency_s * 1000})

    return [
        Route("/_sandbox/latency", _guarded(put), methods=["PUT"]),
        Route("/_sandbox/latency", _guarded(get), methods=["GET"]),
    ]


def _valid_keys(body: dict[str, Any]) -> set[str] | None:
    if "valid" not in body:
        raise AdminError(400, "field [valid] is required (a list of keys, or null)")
    valid = body["valid"]
    if valid is None:
        return None
    if not isinstance(valid, list) or not all(isinstance(k, str) and k for k in valid):
        raise AdminError(400, "field [valid] must be a list of non-empty strings, or null")
    return set(valid)


def _ring_routes(path: str, ring: Callable[[Request], KeyRing]) -> list[Route]:
    """PUT/GET the key ring `ring` finds for the request, revoke and allow one key."""

    async def put(request: Request) -> Response:
        keys = ring(request)
        keys.set_valid(_valid_keys(await _json(request)))
        return JSONResponse(keys.describe())

    async def get(request: Request) -> Response:
        return JSONResponse(ring(request).describe())

    async def revoke(request: Request) -> Response:
        ring(request).revoke(_key_field(await _json(request)))
        return JSONResponse(ACK)

    async def allow(request: Request) -> Response:
        ring(request).allow(_key_field(await _json(request)))
        return JSONResponse(ACK)

    return [
        Route(path, _guarded(put), methods=["PUT"]),
        Route(path, _guarded(get), methods=["GET"]),
        Route(path + "/_revoke", _guarded(revoke), methods=["POST"]),
        Route(path + "/_allow", _guarded(allow), methods=["POST"]),
    ]


def _key_routes(keys: KeyRing) -> list[Route]:
    return _ring_routes("/_sandbox/openai/keys", lambda _request: keys)


def _service_key_routes(service_keys: ServiceKeys) -> list[Route]:
    return _ring_routes(
        "/_sandbox/keys/{service}",
        lambda request: service_keys.ring(request.path_params["service"]),
    )


def _log_routes(log: UpstreamLog) -> list[Route]:
    async def get(_request: Request) -> Response:
        return JSONResponse({"requests": log.to_list()})

    async def clear(_request: Request) -> Response:
        log.clear()
        return JSONResponse(ACK)

    return [
        Route("/_sandbox/openai/requests", get, methods=["GET"]),
        Route("/_sandbox/openai/requests", clear, methods=["DELETE"]),
    ]


def admin_routes(
    keys: KeyRing,
    faults: FaultInjector,
    log: UpstreamLog | None = None,
    service_keys: ServiceKeys | None = None,
) -> list[Route]:
    """All control routes; the request-log routes only when ``log`` is given, the other
    providers' key rings only when ``service_keys`` is."""
    routes = _fault_routes(faults) + _latency_routes(faults) + _key_routes(keys)
    if service_keys is not None:
        routes += _service_key_routes(service_keys)
    return routes + (_log_routes(log) if log is not None else [])
