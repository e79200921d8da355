"""The sandbox's OpenAI-compatible upstream: an ASGI app that checks keys and logs requests.

One job: compose the OpenAI routes (``/v1/embeddings``, ``/v1/chat/completions``,
``/v1/models``) behind Bearer-key checking, and record what each request carried, so tests
can assert on what Elasticsearch sent upstream. Routes are relative, so the app works both
standalone and mounted under a prefix (the sandbox mounts it at ``/_sandbox/openai``).

* ``KeyRing``: which keys are valid. ``KeyRing()`` accepts any key starting with ``sk-``;
  ``KeyRing({"sk-a"})`` only those listed; revoked keys are refused in both modes. Only
  SHA-256 digests of keys are kept.
* ``UpstreamLog``: a bounded, thread-safe list of ``UpstreamRequest`` records. Records never
  hold a key: ``Authorization`` (and other credential headers) are dropped and the key is
  only present as ``key_fingerprint`` (first 8 hex characters of its SHA-256).
* ``create_upstream_app(keys)``: the Starlette app; ``app.state.keys`` and ``app.state.log``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from reconciler.sandbox.upstream import chat as chat
from reconciler.sandbox.upstream import embeddings as embeddings
from reconciler.sandbox.upstream import errors as err

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "cookie"})
MODELS_CREATED = 1_700_000_000  # a fixed `created` for /v1/models, so listings are stable


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_fingerprint(key: str) -> str:
    """The first 8 hex characters of the key's SHA-256: enough to tell keys apart in tests."""
    return key_digest(key)[:8]


class KeyRing:
    """The upstream's valid keys. ``valid=None`` means any non-empty key that starts with
    ``prefix`` (``sk-`` for OpenAI; the other services' rings use ``""``)."""

    def __init__(self, valid: set[str] | None = None, prefix: str = "sk-") -> None:
        self._lock = threading.Lock()
        self.prefix = prefix
        self._valid: set[str] | None = None
        self._revoked: set[str] = set()
        self.set_valid(valid)

    def set_valid(self, keys: Iterable[str] | None) -> None:
        """Replace the configuration (and forget revocations)."""
        with self._lock:
            self._valid = None if keys is None else {key_digest(k) for k in keys}
            self._revoked = set()

    def allow(self, key: str) -> None:
        """Make ``key`` valid (again)."""
        digest = key_digest(key)
        with self._lock:
            self._revoked.discard(digest)
            if self._valid is not None:
                self._valid.add(digest)

    def revoke(self, key: str) -> None:
        """Refuse ``key`` from now on, whichever mode the ring is in."""
        digest = key_digest(key)
        with self._lock:
            self._revoked.add(digest)
            if self._valid is not None:
                self._valid.discard(digest)

    def is_valid(self, key: str) -> bool:
        digest = key_digest(key)
        with self._lock:
            if digest in self._revoked:
                return False
            if self._valid is None:
                return bool(key) and key.startswith(self.prefix)
            return digest in self._valid

    def describe(self) -> dict[str, Any]:
        """The configuration without keys: the mode and the fingerprints."""
        with self._lock:
            valid = None if self._valid is None else sorted(d[:8] for d in self._valid)
            revoked = sorted(d[:8] for d in self._revoked)
        any_mode = "any_sk" if self.prefix == "sk-" else "any"
        mode = any_mode if valid is None else "listed"
        return {"mode": mode, "valid_fingerprints": valid, "revoked_fingerprints": revoked}


@dataclass
class UpstreamRequest:
    """What one request to the upstream carried (never the key itself)."""

    method: str
    path: str
    status: int = 0
    model: str | None = None
    input: Any = None
    dimensions: Any = None
    user: Any = None
    organization: str | None = None
    key_fingerprint: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class UpstreamLog:
    """The last ``maxlen`` requests the upstream received, oldest first."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._entries: deque[UpstreamRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, entry: UpstreamRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[UpstreamRequest]:
        with self._lock:
            return list(self._entries)

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.entries()]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _route_path(request: Request) -> str:
    """The path as the upstream sees it, without the mount prefix."""
    path: str = request.scope["path"]
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _new_entry(request: Request) -> UpstreamRequest:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS}
    key = _bearer_key(request)
    return UpstreamRequest(
        method=request.method,
        path=_route_path(request),
        organization=request.headers.get("openai-organization"),
        key_fingerprint=key_fingerprint(key) if key else None,
        headers=headers,
    )


def _bearer_key(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def _check_key(request: Request) -> None:
    key = _bearer_key(request)
    if key is None:
        raise err.missing_api_key()
    if not request.app.state.keys.is_valid(key):
        raise err.invalid_api_key(key)


def _lenient_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _record_body(entry: UpstreamRequest, body: Any) -> None:
    entry.body = body
    if not isinstance(body, dict):
        return
    entry.model = body.get("model")
    entry.input = body.get("input", body.get("messages"))
    entry.dimensions = body.get("dimensions")
    entry.user = body.get("user")


def _finish(request: Request, entry: UpstreamRequest, response: Response) -> Response:
    entry.status = response.status_code
    request.app.state.log.append(entry)
    response.headers["x-request-id"] = "req_" + secrets.token_hex(16)
    response.headers["openai-version"] = "2020-10-01"
    if entry.organization:
        response.headers["openai-organization"] = entry.organization
    return response


async def _handle(request: Request, handler: Any) -> Response:
    """Common flow: record, check the key, parse JSON, run ``handler`` or render the error.
    The body is recorded even when the key is refused (what was sent matters in tests)."""
    entry = _new_entry(request)
    raw = await request.body()
    _record_body(entry, _lenient_json(raw))
    try:
        _check_key(request)
        body = err.parse_json_body(raw) if request.method == "POST" else {}
        response = handler(request, body)
    except err.OpenAIError as exc:
        response = exc.response()
    return _finish(request, entry, response)


def _embeddings(request: Request, body: dict[str, Any]) -> Response:
    parsed = embeddings.parse_request(body, request.app.state.chat_models)
    return JSONResponse(embeddings.response_body(parsed))


def _chat(request: Request, body: dict[str, Any]) -> Response:
    parsed = chat.parse_request(body, request.app.state.chat_models)
    if parsed.stream:
        events = chat.stream_events(parsed)
        return StreamingResponse(events, media_type="text/event-stream; charset=utf-8")
    return JSONResponse(chat.response_body(parsed))


def _model_object(model: str) -> dict[str, Any]:
    owner = "system" if model in embeddings.EMBEDDING_MODELS else "openai"
    return {"id": model, "object": "model", "created": MODELS_CREATED, "owned_by": owner}


def _all_models(request: Request) -> list[str]:
    return sorted(set(embeddings.EMBEDDING_MODELS) | request.app.state.chat_models)


def _list_models(request: Request, _body: dict[str, Any]) -> Response:
    data = [_model_object(m) for m in _all_models(request)]
    return JSONResponse({"object": "list", "data": data})


def _get_model(request: Request, _body: dict[str, Any]) -> Response:
    model = request.path_params["model"]
    if model not in _all_models(request):
        raise err.model_not_found(model)
    return JSONResponse(_model_object(model))


def _endpoint(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _handle(request, handler)

    return endpoint


async def _invalid_url(request: Request, _exc: Exception) -> Response:
    """Unknown routes and wrong methods: the API has no 405, both are a 404 ``Invalid URL
    (METHOD /path)``. Logged like any other request."""
    entry = _new_entry(request)
    response = err.invalid_url(request.method, _route_path(request)).response()
    return _finish(request, entry, response)


def create_upstream_app(
    keys: KeyRing,
    *,
    log: UpstreamLog | None = None,
    chat_models: Iterable[str] = chat.CHAT_MODELS,
) -> Starlette:
    """The upstream app. ``app.state.keys``, ``app.state.log`` (a new ``UpstreamLog`` unless
    one is given) and ``app.state.chat_models`` are what tests and admin routes use."""
    routes = [
        Route("/v1/embeddings", _endpoint(_embeddings), methods=["POST"]),
        Route("/v1/chat/completions", _endpoint(_chat), methods=["POST"]),
        Route("/v1/models", _endpoint(_list_models), methods=["GET"]),
        Route("/v1/models/{model:path}", _endpoint(_get_model), methods=["GET"]),
    ]
    handlers = {404: _invalid_url, 405: _invalid_url}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.keys = keys
    app.state.log = log if log is not None else UpstreamLog()
    app.state.chat_models = frozenset(chat_models)
    return app
