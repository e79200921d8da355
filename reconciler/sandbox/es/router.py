"""Route matching as `RestController` and `PathTrie` do it: explicit path segments win over
wildcards, an unknown path is 400 `no handler found`, a known path with the wrong method is
405 with `Allow`, and unconsumed query parameters are rejected (`BaseRestHandler`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.responses import Response

from .errors import EsError
from .http import PRODUCT_HEADER, Ctx, es_response

Handler = Callable[[Ctx], Awaitable[Response]]
Prepare = Callable[[Ctx], None]

# RestRequest.Method declaration order, used to print allowed methods.
METHOD_ORDER = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT")
# RestResponse.RESPONSE_PARAMS and friends: accepted by every handler.
RESPONSE_PARAMS = frozenset({"filter_path", "pretty", "human", "error_trace"})


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    params: frozenset[str] = frozenset()
    prepare: Prepare | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        return split_path(self.pattern)


def split_path(path: str) -> tuple[str, ...]:
    """Segments of a raw (still percent-encoded) path, decoded one by one, so an encoded
    `/` stays inside its segment (`RestUtils.decodeComponent`)."""
    return tuple(unquote(part) for part in path.split("/") if part)


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, parts, strict=True):
        if want.startswith("{"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def _explicitness(pattern: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(1 if seg.startswith("{") else 0 for seg in pattern)


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.by_pattern: dict[tuple[str, ...], dict[str, Route]] = {}
        for route in routes:
            self.by_pattern.setdefault(route.segments, {})[route.method] = route

    def resolve(self, method: str, path: str, uri: str) -> tuple[Route, dict[str, str]] | Response:
        """The route to run, or the 400/405 answer of `RestController`."""
        parts = split_path(path)
        candidates = [
            (pattern, params)
            for pattern in self.by_pattern
            if (params := _match(pattern, parts)) is not None
        ]
        if not candidates:
            return no_handler_found(uri, method)
        # RestController.tryAllHandlers: the most explicit path with a handler for the method
        # wins; 405 only when no matching path has one.
        candidates.sort(key=lambda item: _explicitness(item[0]))
        for pattern, params in candidates:
            handlers = self.by_pattern[pattern]
            route = handlers.get(method) or (handlers.get("GET") if method == "HEAD" else None)
            if route is not None:
                return route, params
        allowed = {m for pattern, _ in candidates for m in self.by_pattern[pattern]}
        return _not_allowed(uri, method, allowed)


def no_handler_found(uri: str, method: str) -> Response:
    body = {"error": f"no handler found for uri [{uri}] and method [{method}]"}
    return es_response(None, body, 400)


def _not_allowed(uri: str, method: str, allowed: set[str]) -> Response:
    ordered = [m for m in METHOD_ORDER if m in allowed]
    message = (
        f"Incorrect HTTP method for uri [{uri}] and method [{method}], "
        f"allowed: [{', '.join(ordered)}]"
    )
    headers = {**PRODUCT_HEADER, "Allow": ",".join(ordered)}
    return es_response(None, {"error": message, "status": 405}, 405, headers)


def check_params(ctx: Ctx, route: Route) -> None:
    """`BaseRestHandler.handleRequest`: every query parameter must have been consumed."""
    known = route.params | ctx.consumed | set(ctx.path_params)
    unconsumed = sorted(p for p in ctx.query if p not in known and p not in RESPONSE_PARAMS)
    if not unconsumed:
        return
    candidates = sorted(known)
    plural = "s" if len(unconsumed) > 1 else ""
    parts = [f"[{p}]{_did_you_mean(p, candidates)}" for p in unconsumed]
    message = f"request [{ctx.path}] contains unrecognized parameter{plural}: {', '.join(parts)}"
    raise EsError(400, "illegal_argument_exception", message)


def _did_you_mean(invalid: str, candidates: list[str]) -> str:
    scored = [(_similarity(invalid, c), c) for c in candidates]
    keys = [c for score, c in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0.5]
    if not keys:
        return ""
    if len(keys) == 1:
        return f" -> did you mean [{keys[0]}]?"
    return f" -> did you mean any of [{', '.join(keys)}]?"


def _similarity(a: str, b: str) -> float:
    """Lucene `LevenshteinDistance.getDistance`: 1 - edits / longer length."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))
