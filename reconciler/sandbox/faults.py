"""Fault injection for the sandbox: rules that make matching requests fail, wait or drop.

One job: decide, per request, whether the sandbox misbehaves, and misbehave the way a real
server (Elasticsearch) or upstream (OpenAI) would be seen to by a client.

* ``status``: answer ``status`` at once, in Elasticsearch's error shape, or OpenAI's under
  ``/v1/`` (optionally with ``Retry-After``).
* ``delay``: sleep ``delay_s``, then serve the request normally.
* ``drop``: close the connection without any response. What a client sees:
  - under a real server (uvicorn): the socket is closed before a status line is written;
    httpx raises ``httpx.RemoteProtocolError("Server disconnected without sending a
    response.")`` (or ``httpx.ReadError`` if the kernel answered with a reset);
  - in process (``httpx.ASGITransport``): there is no socket to close, so the middleware raises
    that same ``httpx.RemoteProtocolError`` and the transport re-raises it to the caller
    (with ``raise_app_exceptions=False`` the transport would turn it into a 500 instead).

Every rule matches a method (``None``: any) and a glob on the path; ``count`` limits how many
requests it fires for (``None``: forever). Counts are consumed under a lock, so N concurrent
requests against a rule with ``count=k`` see exactly ``k`` faults. ``latency_s`` delays every
request. Admin paths (``/_sandbox/...``) are never faulted or delayed; the OpenAI upstream
mounted at ``/_sandbox/openai`` is not admin, and rules written for ``/v1/...`` match it too.

``FaultMiddleware`` must be the outermost ASGI app (wrap the finished Starlette app) so that
``drop`` can reach the server's socket.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import itertools
import json
import threading
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

FaultKind = Literal["status", "delay", "drop"]
KINDS: tuple[str, ...] = ("status", "delay", "drop")
ADMIN_PREFIX = "/_sandbox/"
UPSTREAM_MOUNT = "/_sandbox/openai"
_SCOPE_FLAG = "reconciler.sandbox.faults_checked"
DROP_MESSAGE = "Server disconnected without sending a response."


class FaultRuleError(ValueError):
    """A fault rule that cannot be used; the message says which field is wrong."""


@dataclasses.dataclass
class FaultRule:
    """One rule. ``id`` and ``matched`` are filled in by the injector."""

    method: str | None = None
    path: str = "*"
    kind: FaultKind = "status"
    status: int = 503
    retry_after: float | None = None
    delay_s: float = 0.0
    count: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    id: str = ""
    matched: int = 0

    def __post_init__(self) -> None:
        _check_rule(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from JSON; unknown fields and bad values raise ``FaultRuleError``."""
        if not isinstance(data, Mapping):
            raise FaultRuleError("a fault rule must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)} - {"id", "matched"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultRuleError(f"unknown fault rule field(s): {', '.join(unknown)}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise FaultRuleError(str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def matches(self, method: str, paths: tuple[str, ...]) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return any(fnmatch.fnmatchcase(p, self.path) for p in paths)


def _check_rule(rule: FaultRule) -> None:
    if rule.kind not in KINDS:
        raise FaultRuleError(f"kind must be one of {', '.join(KINDS)}, got {rule.kind!r}")
    if not isinstance(rule.path, str) or not rule.path:
        raise FaultRuleError("path must be a non-empty glob pattern")
    if rule.method is not None and not isinstance(rule.method, str):
        raise FaultRuleError("method must be a string or null")
    if not _is_int(rule.status) or not 100 <= rule.status <= 599:
        raise FaultRuleError(f"status must be an HTTP status code, got {rule.status!r}")
    if rule.count is not None and (not _is_int(rule.count) or rule.count < 1):
        raise FaultRuleError(f"count must be a positive integer or null, got {rule.count!r}")
    if not _is_number(rule.delay_s) or rule.delay_s < 0:
        raise FaultRuleError(f"delay_s must be a number >= 0, got {rule.delay_s!r}")
    if rule.retry_after is not None and (not _is_number(rule.retry_after) or rule.retry_after < 0):
        raise FaultRuleError(f"retry_after must be a number >= 0, got {rule.retry_after!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FaultInjector:
    """The active rules, in the order they were added, plus a latency for every request."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.latency_s: float = 0.0

    def add(self, rule: FaultRule) -> str:
        """Activate ``rule`` (the injector keeps its own copy) and return its id."""
        with self._lock:
            stored = dataclasses.replace(rule, id=f"fault-{next(self._ids)}", matched=0)
            self._rules.append(stored)
            return stored.id

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[FaultRule]:
        """Copies of the active rules; ``count`` is what is left, ``matched`` what was used."""
        with self._lock:
            return [dataclasses.replace(r) for r in self._rules]

    def match(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching the request, with one use consumed; ``None`` if none."""
        paths = _candidate_paths(path)
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, paths):
                    return self._consume(rule)
        return None

    def _consume(self, rule: FaultRule) -> FaultRule:
        """One use of ``rule`` (caller holds the lock); returns it as it was when it fired."""
        rule.matched += 1
        fired = dataclasses.replace(rule)
        if rule.count is not None:
            rule.count -= 1
            if rule.count == 0:
                self._rules.remove(rule)
        return fired


def _candidate_paths(path: str) -> tuple[str, ...]:
    """The path, and for the mounted upstream also the path the upstream itself sees."""
    if path.startswith(UPSTREAM_MOUNT + "/v1/"):
        return (path, path[len(UPSTREAM_MOUNT) :])
    return (path,)


def is_admin_path(path: str) -> bool:
    """Sandbox control routes: never faulted (the mounted upstream is not one of them)."""
    return path.startswith(ADMIN_PREFIX) and not path.startswith(UPSTREAM_MOUNT + "/v1/")


def is_openai_path(path: str) -> bool:
    return path.startswith("/v1/") or path.startswith(UPSTREAM_MOUNT + "/v1/")


class FaultMiddleware:
    """Pure ASGI middleware applying a ``FaultInjector`` to every HTTP request."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    @property
    def state(self) -> Any:
        """The wrapped app's ``state`` (so ``wrapped.state.log`` still works)."""
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(_SCOPE_FLAG) or is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        scope[_SCOPE_FLAG] = True
        if self.injector.latency_s > 0:
            await asyncio.sleep(self.injector.latency_s)
        rule = self.injector.match(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        await _apply(rule, self.app, scope, receive, send)


async def _apply(rule: FaultRule, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    if rule.delay_s > 0:
        await asyncio.sleep(rule.delay_s)
    if rule.kind == "delay":
        await app(scope, receive, send)
    elif rule.kind == "status":
        await _send_status(rule, scope["path"], send)
    else:
        await drop_connection(receive, send)


async def _send_status(rule: FaultRule, path: str, send: Send) -> None:
    body, headers = fault_response(rule, openai=is_openai_path(path))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def fault_response(rule: FaultRule, *, openai: bool) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The body and headers of a ``status`` fault."""
    payload = rule.body if rule.body is not None else _default_body(rule.status, openai)
    body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    headers: dict[str, str] = {"content-type": "application/json", "content-length": str(len(body))}
    if not openai:
        headers["x-elastic-product"] = "Elasticsearch"
    if rule.retry_after is not None:
        headers["retry-after"] = _format_seconds(rule.retry_after)
    headers.update({k.lower(): v for k, v in (rule.headers or {}).items()})
    return body, [(k.encode(), v.encode()) for k, v in headers.items()]


def _default_body(status: int, openai: bool) -> dict[str, Any]:
    if openai:
        return openai_fault_body(status)
    # The generic Elasticsearch error envelope.
    cause = {"type": "status_exception", "reason": "injected fault"}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def openai_fault_body(status: int) -> dict[str, Any]:
    """OpenAI's error object (https://platform.openai.com/docs/guides/error-codes):
    429 is ``rate_limit_exceeded`` of type ``requests``, 5xx is ``server_error``."""
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif status >= 500:
        kind, code = "server_error", None
    else:
        kind, code = "invalid_request_error", None
    return {"error": {"message": "injected fault", "type": kind, "param": None, "code": code}}


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without a response (see the module docstring)."""
    transport = find_transport(send)
    if transport is None:
        raise httpx.RemoteProtocolError(DROP_MESSAGE)
    transport.close()
    await _await_disconnect(receive)


def find_transport(send: Send, depth: int = 4) -> Any:
    """The asyncio transport behind a server's ``send`` (uvicorn's is a bound method of the
    request cycle, which holds ``transport``); follows closures of wrapping middleware."""
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is not None and hasattr(transport, "close"):
        return transport
    if depth == 0:
        return None
    for cell in getattr(send, "__closure__", None) or ():
        content = _cell_contents(cell)
        if callable(content):
            found = find_transport(content, depth - 1)
            if found is not None:
                return found
    return None


def _cell_contents(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


async def _await_disconnect(receive: Receive, timeout_s: float = 2.0) -> None:
    """Let the server notice the closed socket, so it does not try to answer with a 500."""
    try:
        async with asyncio.timeout(timeout_s):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass
