"""The emulated Elasticsearch as one ASGI app: authentication, compatible media types,
routing, parameter checks and the error envelope, in the order the server applies them."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .auth import CHALLENGES, authenticate
from .errors import EsError
from .http import Ctx, check_media_types, error_response, es_response
from .router import Router, check_params
from .routes import all_routes
from .state import EsState

log = logging.getLogger("reconciler.sandbox")
_JSON_TYPES = (
    "application/json",
    "application/x-ndjson",
    "application/vnd.elasticsearch+json",
    "application/vnd.elasticsearch+x-ndjson",
)


class EsApp:
    """ASGI entry point of the Elasticsearch emulation."""

    def __init__(self, state: EsState) -> None:
        self.state = state
        self.router = Router(all_routes(state.caps))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            authenticate(self.state.auth, request.headers.get("authorization"), uri)
            compat = check_media_types(request, self.state.caps.compatible_with, bool(body))
        except EsError as error:
            return _with_challenges(error_response(None, error), error)
        unsupported = _unsupported_content_type(request, body)
        if unsupported is not None:
            return unsupported
        return await self._dispatch(request, body, uri, compat)

    async def _dispatch(
        self, request: Request, body: bytes, uri: str, compat: int | None
    ) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        resolved = self.router.resolve(request.method, raw_path.decode("latin-1"), uri)
        if isinstance(resolved, Response):
            return resolved
        route, path_params = resolved
        query = dict(request.query_params)
        ctx = Ctx(request, self.state, body, path_params, query, compat)
        try:
            if route.prepare is not None:
                route.prepare(ctx)
            check_params(ctx, route)
            return await route.handler(ctx)
        except EsError as error:
            return error_response(ctx, error)
        except Exception as exc:  # a bug in the sandbox: answer like an unexpected server error
            log.exception("sandbox handler failed")
            return error_response(ctx, EsError(500, "exception", f"{type(exc).__name__}: {exc}"))


def _unsupported_content_type(request: Request, body: bytes) -> Response | None:
    """`RestController`: a body needs a supported Content-Type (406 otherwise)."""
    if not body:
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() in _JSON_TYPES:
        return None
    message = f"Content-Type header [{content_type}] is not supported"
    return es_response(None, {"error": message, "status": 406}, 406)


def _with_challenges(response: Response, error: EsError) -> Response:
    """401s carry one `WWW-Authenticate` header per scheme, as Elasticsearch sends them."""
    if error.status != 401:
        return response
    del response.headers["www-authenticate"]
    for challenge in CHALLENGES:
        response.headers.append("WWW-Authenticate", challenge)
    return response
