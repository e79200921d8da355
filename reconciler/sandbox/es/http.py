"""One REST request as Elasticsearch's `RestRequest` sees it: path and query parameters with
consumption tracking, typed parameter parsing, the JSON body, compatible media types, and
responses that carry the product header."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import EsError, body_required
from .filter_path import apply_filter_path

if TYPE_CHECKING:
    from .state import EsState

PRODUCT_HEADER = {"X-elastic-product": "Elasticsearch"}
_COMPAT = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with=(\d+)")
_TIME = re.compile(r"^(-?\d+(?:\.\d+)?)(nanos|micros|ms|s|m|h|d)$")
_UNIT_SECONDS = {
    "nanos": 1e-9,
    "micros": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


@dataclass
class Ctx:
    request: Request
    state: EsState
    body: bytes
    path_params: dict[str, str]
    query: dict[str, str]
    compatible_with: int | None = None
    consumed: set[str] = field(default_factory=set)
    # Filled by a route's prepare step, as RestXxxAction.prepareRequest reads them.
    inference_id: str = "_all"
    url_task_type: str = "any"
    force: bool = False
    dry_run: bool = False
    timeout_label: str = "30s"

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def uri(self) -> str:
        query = self.request.url.query
        return self.path + (f"?{query}" if query else "")

    def param(self, name: str) -> str | None:
        self.consumed.add(name)
        return self.query.get(name)

    def bool_param(self, name: str, default: bool = False) -> bool:
        """`RestRequest.paramAsBoolean`: an empty value means true."""
        value = self.param(name)
        if value is None:
            return default
        if value in ("", "true"):
            return True
        if value == "false":
            return False
        raise EsError(
            400,
            "illegal_argument_exception",
            f"Failed to parse value [{value}] as only [true] or [false] are allowed.",
        )

    def int_param(self, name: str) -> int | None:
        value = self.param(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise EsError(
                400,
                "illegal_argument_exception",
                f"Failed to parse int parameter [{name}] with value [{value}]",
            ) from None

    def time_param(self, name: str) -> float | None:
        value = self.param(name)
        return None if value is None else parse_time(value, name)

    def json_body(self, *, required: bool = True) -> Any:
        if not self.body.strip():
            if required:
                raise body_required()
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise parse_error(exc) from None

    def json_object(self) -> dict[str, Any]:
        """`XContentHelper.convertToMap` of a required body."""
        data = self.json_body()
        if not isinstance(data, dict):
            raise EsError(400, "parse_exception", "Failed to parse content to map")
        return data

    async def wait_for_disconnect(self) -> None:
        """Hold the request open until the client goes away (the body was read already).

        Under uvicorn that is when the client closes the connection; in process
        (`httpx.ASGITransport`) only when the caller cancels (e.g. its own timeout)."""
        while (await self.request.receive())["type"] != "http.disconnect":
            continue


def parse_error(exc: Exception) -> EsError:
    cause = EsError(400, "json_parse_exception", str(exc).split("\n")[0])
    return EsError(400, "parse_exception", "Failed to parse content to map", cause=cause)


def parse_time(value: str, name: str) -> float:
    """`TimeValue.parseTimeValue`, in seconds (-1 means no timeout)."""
    text = value.strip().lower()
    if text in ("-1", "0"):
        return float(text)
    match = _TIME.match(text)
    if match is None:
        raise EsError(
            400,
            "parse_exception",
            f"failed to parse setting [{name}] with value [{value}] as a time value: unit is "
            "missing or unrecognized",
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def requested_compat(request: Request) -> tuple[int | None, int | None]:
    """The `compatible-with` versions of the Accept and Content-Type headers."""
    found: list[int | None] = []
    for header in ("accept", "content-type"):
        match = _COMPAT.search(request.headers.get(header, ""))
        found.append(int(match.group(2)) if match else None)
    return found[0], found[1]


def check_media_types(request: Request, accepted: tuple[int, ...], has_body: bool) -> int | None:
    """`RestCompatibleVersionHelper.getCompatibleVersion`: reject unknown versions."""
    accept, content = requested_compat(request)
    major = max(accepted)
    for label, version in (("Accept", accept), ("Content-Type", content if has_body else None)):
        if version is not None and version not in accepted:
            raise _media_type_error(request, label, version, accepted, has_body)
    if has_body and content is not None and accept is not None and content != accept:
        raise _media_type_error(request, "Content-Type", content, accepted, has_body)
    chosen = accept if accept is not None else content
    return None if chosen is None else (chosen if chosen in accepted else major)


def _media_type_error(
    request: Request, label: str, version: int, accepted: tuple[int, ...], has_body: bool
) -> EsError:
    headers = "[Accept, Content-Type]" if has_body else "[Accept]"
    low, high = min(accepted), max(accepted)
    value = request.headers.get(label.lower(), "")
    cause = EsError(
        400,
        "status_exception",
        f"{label} version must be either version {high} or {low}, but found {version}. "
        f"{label}={value}",
    )
    return EsError(
        400,
        "media_type_header_exception",
        f"Invalid media-type value on headers {headers}",
        cause=cause,
    )


def es_response(
    ctx: Ctx | None, data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    pretty = ctx is not None and ctx.query.get("pretty") in ("", "true")
    if ctx is not None and ctx.query.get("filter_path"):
        data = apply_filter_path(data, ctx.query["filter_path"])
    text = json.dumps(data, indent=2 if pretty else None, separators=None if pretty else (",", ":"))
    media = content_type(ctx.compatible_with if ctx is not None else None)
    all_headers = {**PRODUCT_HEADER, **(headers or {})}
    if ctx is not None and ctx.method == "HEAD":
        return Response(status_code=status, headers=all_headers, media_type=media)
    return Response(text + ("\n" if pretty else ""), status, all_headers, media)


def content_type(compatible_with: int | None) -> str:
    if compatible_with is None:
        return "application/json"
    return f"application/vnd.elasticsearch+json;compatible-with={compatible_with}"


def error_response(ctx: Ctx | None, error: EsError) -> Response:
    return es_response(ctx, error.body(), error.status, error.headers)
