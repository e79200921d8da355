"""Outbound calls to OpenAI as the `openai` service makes them and the mapping of upstream
failures to Elasticsearch errors (elastic/elasticsearch, under
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/`:
`services/openai/request/OpenAiEmbeddingsRequest.java`,
`services/openai/request/OpenAiUnifiedChatCompletionRequestEntity.java`,
`services/openai/OpenAiUtils.java`, `services/openai/OpenAiResponseHandler.java`,
`external/http/retry/BaseResponseHandler.java`), with the retry behaviour of
`RetryingHttpSender` (429/500/503 retried within `xpack.inference.http.retry.timeout`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import EsError, status_exception

DEFAULT_URLS = {
    "text_embedding": "https://api.openai.com/v1/embeddings",
    "completion": "https://api.openai.com/v1/chat/completions",
    "chat_completion": "https://api.openai.com/v1/chat/completions",
}
_CONTENT_TOO_LARGE = "Please reduce your prompt; or completion length."
_RETRYABLE = frozenset({429, 500, 503})


@dataclass(frozen=True)
class RetrySettings:
    """`RetrySettings.java` defaults: 30 s budget, 1 s initial delay, 5 s delay bound."""

    timeout: float = 30.0
    initial_delay: float = 1.0
    max_delay: float = 5.0


class UpstreamCaller:
    """Sends the requests of one endpoint record; `client_factory` gives the HTTP client."""

    def __init__(
        self, client_factory: Callable[[], httpx.AsyncClient], retry: RetrySettings
    ) -> None:
        self.client_factory = client_factory
        self.retry = retry

    async def embed(self, record: dict[str, Any], inputs: list[str], user: str | None) -> list[Any]:
        settings = record["service_settings"]
        body: dict[str, Any] = {"input": inputs, "model": settings["model_id"]}
        if user is not None:
            body["user"] = user
        if settings.get("dimensions_set_by_user") and settings.get("dimensions") is not None:
            body["dimensions"] = settings["dimensions"]
        data = await self._send_json(record, body, "OpenAI embeddings")
        try:
            return [item["embedding"] for item in data["data"]]
        except (KeyError, TypeError) as exc:
            raise _failed_parse(record, "OpenAI embeddings", exc) from None

    async def complete(self, record: dict[str, Any], text: str, user: str | None) -> str:
        body = chat_body(record, [{"content": text, "role": "user"}], {}, user, stream=False)
        data = await self._send_json(record, body, "OpenAI chat completions")
        try:
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, TypeError, IndexError) as exc:
            raise _failed_parse(record, "OpenAI chat completions", exc) from None

    async def stream_chat(
        self, record: dict[str, Any], body: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the upstream's chunk objects until `data: [DONE]`."""
        response = await self._send(record, body, "OpenAI chat completions")
        for line in response.text.splitlines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            try:
                yield json.loads(payload)
            except ValueError as exc:
                raise _failed_parse(record, "OpenAI chat completions", exc) from None

    async def _send_json(self, record: dict[str, Any], body: dict[str, Any], what: str) -> Any:
        response = await self._send(record, body, what)
        try:
            return response.json()
        except ValueError as exc:
            raise _failed_parse(record, what, exc) from None

    async def _send(
        self, record: dict[str, Any], body: dict[str, Any], what: str
    ) -> httpx.Response:
        deadline = time.monotonic() + self.retry.timeout
        attempt = 0
        while True:
            response = await self._post_once(record, body, what)
            if response.status_code < 300:
                return response
            error = map_upstream_error(record, response)
            delay = min(self.retry.initial_delay * 2**attempt, self.retry.max_delay)
            if response.status_code not in _RETRYABLE or time.monotonic() + delay > deadline:
                raise error
            attempt += 1
            await asyncio.sleep(delay)

    async def _post_once(
        self, record: dict[str, Any], body: dict[str, Any], what: str
    ) -> httpx.Response:
        url = target_url(record)
        try:
            return await self.client_factory().post(url, json=body, headers=request_headers(record))
        except Exception as exc:  # any transport failure: ConnectException, DNS, dropped socket
            cause = EsError(500, _java_exception_name(exc), str(exc) or type(exc).__name__)
            raise status_exception(500, f"Failed to send {what} request", cause) from None


def target_url(record: dict[str, Any]) -> str:
    return record["service_settings"].get("url") or DEFAULT_URLS[record["task_type"]]


def request_headers(record: dict[str, Any]) -> dict[str, str]:
    settings = record["service_settings"]
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {record['secrets']['api_key']}",
    }
    if settings.get("organization_id"):
        headers["OpenAI-Organization"] = settings["organization_id"]
    headers.update(record.get("task_settings", {}).get("headers") or {})
    return headers


_CHAT_OPTIONAL = ("stop", "temperature", "tool_choice", "tools", "top_p")


def chat_body(
    record: dict[str, Any],
    messages: list[dict[str, Any]],
    options: dict[str, Any],
    user: str | None,
    *,
    stream: bool,
) -> dict[str, Any]:
    """`OpenAiUnifiedChatCompletionRequestEntity` key order (8.18 copy)."""
    body: dict[str, Any] = {
        "messages": messages,
        "model": options.get("model") or record["service_settings"]["model_id"],
    }
    if options.get("max_completion_tokens") is not None:
        body["max_completion_tokens"] = options["max_completion_tokens"]
    body["n"] = 1
    body.update({k: options[k] for k in _CHAT_OPTIONAL if options.get(k) is not None})
    if user is not None:
        body["user"] = user
    body["stream"] = stream
    return body


def _error_message(response: httpx.Response) -> str | None:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return None
    return None if message is None else str(message)


def _rate_limit_prefix(response: httpx.Response) -> str:
    def value(name: str) -> str:
        return response.headers.get(name, "unknown")

    return (
        "Received a rate limit status code. "
        f"Token limit [{value('x-ratelimit-limit-tokens')}], "
        f"remaining tokens [{value('x-ratelimit-remaining-tokens')}]. "
        f"Request limit [{value('x-ratelimit-limit-requests')}], "
        f"remaining requests [{value('x-ratelimit-remaining-requests')}]"
    )


def _prefix_and_status(response: httpx.Response, message: str | None) -> tuple[str, int]:
    """`OpenAiResponseHandler.checkForFailureStatusCode` + `BaseResponseHandler.toRestStatus`."""
    code = response.status_code
    if code >= 500:
        prefix = (
            "Received a server busy error status code"
            if code == 503
            else "Received a server error status code"
        )
        return prefix, 400
    if code == 429:
        return _rate_limit_prefix(response), 429
    if code == 413 or (code == 400 and message is not None and _CONTENT_TOO_LARGE in message):
        return "Received a content too large status code", code
    if code == 401:
        return "Received an authentication error status code", 401
    if 300 <= code < 400:
        return "Unhandled redirection", code
    if code == 422:
        return "Received an input validation error response", 422
    if code == 400:
        return "Received a bad request status code", 400
    if code == 404:
        return f"Resource not found at [{response.request.url}]", 404
    return "Received an unsuccessful status code", code


def map_upstream_error(record: dict[str, Any], response: httpx.Response) -> EsError:
    message = _error_message(response)
    prefix, status = _prefix_and_status(response, message)
    reason = (
        f"{prefix} for request from inference entity id [{record['inference_id']}] "
        f"status [{response.status_code}]"
    )
    if message is not None:
        reason += f". Error message: [{message}]"
    return status_exception(status, reason)


def _failed_parse(record: dict[str, Any], what: str, exc: Exception) -> EsError:
    cause = EsError(500, "illegal_state_exception", f"Failed to parse the {what} response: {exc}")
    return status_exception(500, f"Failed to send {what} request", cause)


def _java_exception_name(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connect_exception"
    if isinstance(exc, httpx.TimeoutException):
        return "socket_timeout_exception"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "client_protocol_exception"
    return "i_o_exception"
