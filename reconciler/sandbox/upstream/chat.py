"""``POST /v1/chat/completions`` of the sandbox upstream: deterministic replies, plain or SSE.

One job: turn an OpenAI chat request into OpenAI's response. The reply depends only on the
model and the last user message. Shapes follow the OpenAI API reference
(https://platform.openai.com/docs/api-reference/chat/create, ".../chat/streaming") and
openai-python ``types/chat/chat_completion.py`` / ``chat_completion_chunk.py``:

* plain: one ``chat.completion`` object with ``n`` choices and ``usage``;
* streaming: ``data: <chat.completion.chunk>\\n\\n`` events, the first delta of each choice
  carrying ``role``, the last an empty delta with ``finish_reason``; with
  ``stream_options.include_usage`` every chunk has ``"usage": null`` and one extra chunk with
  ``"choices": []`` and the usage comes before the closing ``data: [DONE]\\n\\n``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from reconciler.sandbox.upstream import errors as err
from reconciler.sandbox.upstream.embeddings import EMBEDDING_MODELS, count_tokens, required_model

CHAT_MODELS: frozenset[str] = frozenset(
    {
        "gpt-3.5-turbo",
        "gpt-4",
        "gpt-4-turbo",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
    }
)
ROLES = ["system", "assistant", "user", "function", "tool", "developer"]
MAX_N = 128
SYSTEM_FINGERPRINT = "fp_sandbox"


@dataclass(frozen=True)
class ChatRequest:
    model: str
    prompt: str
    n: int = 1
    max_tokens: int | None = None
    stream: bool = False
    include_usage: bool = False
    prompt_tokens: int = 0
    created: int = field(default_factory=lambda: int(time.time()))
    id: str = field(default_factory=lambda: "chatcmpl-" + secrets.token_hex(12))


def parse_request(body: dict[str, Any], chat_models: frozenset[str]) -> ChatRequest:
    """Validate a chat body in the order the API reports problems."""
    model = required_model(body)
    messages = _messages(body.get("messages"))
    _check_numbers(body)
    stream = _stream(body)
    _check_model(model, chat_models)
    return ChatRequest(
        model=model,
        prompt=_last_user_text(messages),
        n=body.get("n") or 1,
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        stream=stream,
        include_usage=stream and bool((body.get("stream_options") or {}).get("include_usage")),
        prompt_tokens=sum(count_tokens(_text(m.get("content"))) for m in messages),
    )


def _check_model(model: str, chat_models: frozenset[str]) -> None:
    if model in chat_models:
        return
    if model in EMBEDDING_MODELS:
        # The API's answer to a non-chat model on this route (404, param "model").
        message = (
            "This is not a chat model and thus not supported in the v1/chat/completions "
            "endpoint. Did you mean to use v1/completions?"
        )
        raise err.OpenAIError(404, message, param="model")
    raise err.model_not_found(model)


def _messages(value: Any) -> list[dict[str, Any]]:
    if value is None:
        raise err.missing_parameter("messages")
    if not isinstance(value, list):
        raise err.invalid_type("messages", "an array", value)
    if not value:
        message = (
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead."
        )
        raise err.OpenAIError(400, message, param="messages", code="empty_array")
    for i, message in enumerate(value):
        _check_message(i, message)
    return value


def _check_message(index: int, message: Any) -> None:
    param = f"messages[{index}]"
    if not isinstance(message, dict):
        raise err.invalid_type(param, "an object", message)
    if "role" not in message:
        raise err.missing_parameter(f"{param}.role")
    if message["role"] not in ROLES:
        raise err.invalid_value(f"{param}.role", message["role"], ROLES)


def _check_numbers(body: dict[str, Any]) -> None:
    _check_int(body, "n", 1, MAX_N)
    _check_int(body, "max_completion_tokens", 1, None)
    _check_int(body, "max_tokens", 1, None)
    _check_temperature(body.get("temperature"))


def _check_temperature(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise err.invalid_type("temperature", "a decimal", value)
    if value < 0:
        raise err.out_of_range("temperature", value, 0, above=False, kind="decimal")
    if value > 2:
        raise err.out_of_range("temperature", value, 2, above=True, kind="decimal")


def _check_int(body: dict[str, Any], name: str, low: int, high: int | None) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise err.invalid_type(name, "an integer", value)
    if value < low:
        raise err.out_of_range(name, value, low, above=False)
    if high is not None and value > high:
        raise err.out_of_range(name, value, high, above=True)


def _stream(body: dict[str, Any]) -> bool:
    stream = bool(body.get("stream"))
    if body.get("stream_options") is not None and not stream:
        message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        raise err.OpenAIError(400, message, param="stream_options")
    return stream


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return _text(users[-1].get("content")) if users else ""


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content-part array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def reply_words(model: str, prompt: str) -> list[str]:
    """The deterministic reply, as words (one word is one completion token here)."""
    digest = hashlib.sha256(f"{model}\0{prompt}".encode()).hexdigest()[:8]
    words = f"Sandbox reply {digest} to: {prompt[:500]}".split()
    return words


def _reply(request: ChatRequest) -> tuple[list[str], str]:
    words = reply_words(request.model, request.prompt)
    if request.max_tokens is not None and len(words) > request.max_tokens:
        return words[: request.max_tokens], "length"
    return words, "stop"


def _usage(request: ChatRequest, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": request.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": request.prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _envelope(request: ChatRequest, obj: str) -> dict[str, Any]:
    return {
        "id": request.id,
        "object": obj,
        "created": request.created,
        "model": request.model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def response_body(request: ChatRequest) -> dict[str, Any]:
    words, finish = _reply(request)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": " ".join(words),
        "refusal": None,
        "annotations": [],
    }
    choices = [
        {"index": i, "message": message, "logprobs": None, "finish_reason": finish}
        for i in range(request.n)
    ]
    body = _envelope(request, "chat.completion")
    return {**body, "choices": choices, "usage": _usage(request, len(words) * request.n)}


def stream_events(request: ChatRequest) -> Iterator[str]:
    """The SSE events of a streamed reply, ``data: [DONE]`` last."""
    words, finish = _reply(request)
    for index in range(request.n):
        for delta, reason in _deltas(words, finish):
            yield _event(_chunk(request, index, delta, reason))
    if request.include_usage:
        usage_chunk = {**_envelope(request, "chat.completion.chunk"), "choices": []}
        yield _event({**usage_chunk, "usage": _usage(request, len(words) * request.n)})
    yield "data: [DONE]\n\n"


def _deltas(words: list[str], finish: str) -> Iterator[tuple[dict[str, Any], str | None]]:
    yield {"role": "assistant", "content": "", "refusal": None}, None
    for i, word in enumerate(words):
        yield {"content": word if i == 0 else " " + word}, None
    yield {}, finish


def _chunk(
    request: ChatRequest, index: int, delta: dict[str, Any], finish: str | None
) -> dict[str, Any]:
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
    chunk = {**_envelope(request, "chat.completion.chunk"), "choices": [choice]}
    if request.include_usage:
        chunk["usage"] = None
    return chunk


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"
