"""Perform inference: POST for text_embedding and completion, `_stream` and `_unified`
server-sent events for completion and chat_completion (elastic/elasticsearch
`x-pack/plugin/core/…/inference/action/InferenceAction.java`;
`x-pack/plugin/inference/…/inference/rest/BaseInferenceAction.java` and
`ServerSentEventsRestActionListener.java`; `TransportInferenceActionProxy`;
`OpenAiService.doInfer`)."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from .errors import EsError, status_exception, validation_failed
from .http import PRODUCT_HEADER, Ctx, es_response
from .inference import check_task_type, prepare_ids
from .openai_client import chat_body
from .services import service_for
from .services.base import InferRequest
from .validate import timeout_error

_REQUEST_FIELDS = (
    "input",
    "input_type",
    "task_settings",
    "query",
    "return_documents",
    "top_n",
    "timeout",
)
_CHAT_FIELDS = (
    "messages",
    "model",
    "max_completion_tokens",
    "stop",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
)
BOM = "\ufeff"


def prepare_inference(ctx: Ctx) -> None:
    """`BaseInferenceAction.prepareRequest`: ids, `timeout`, and the body parsed up front."""
    prepare_ids(ctx)
    ctx.timeout_label = ctx.param("timeout") or "30s"
    ctx.time_param("timeout")


def _parse_fields(ctx: Ctx, allowed: tuple[str, ...], parser_name: str) -> dict[str, Any]:
    body = ctx.json_object()
    for key in body:
        if key not in allowed:
            raise _unknown_field(ctx, parser_name, key)
    return body


def _unknown_field(ctx: Ctx, parser_name: str, key: str) -> EsError:
    text = ctx.body.decode(errors="replace")
    at = text.find(f'"{key}"')
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return EsError(
        400, "x_content_parse_exception", f"[{line}:{column}] [{parser_name}] unknown field [{key}]"
    )


def _inputs(body: dict[str, Any], task_type: str) -> list[str]:
    """`InferenceAction.Request.validate`."""
    value = body.get("input")
    if value is not None and not isinstance(value, str | list):
        raise EsError(
            400, "x_content_parse_exception", "[inference_request] failed to parse field [input]"
        )
    errors = []
    if value is None:
        errors.append("Field [input] cannot be null")
    elif value == []:
        errors.append("Field [input] cannot be an empty array")
    elif task_type not in ("any", "text_embedding", "sparse_embedding") and "input_type" in body:
        errors.append(f"Field [input_type] cannot be specified for task type [{task_type}]")
    if "query" in body and task_type == "text_embedding":
        errors.append("Field [query] cannot be specified for task type [text_embedding]")
    for key in ("top_n", "return_documents"):
        if key in body and task_type not in ("any", "rerank"):
            errors.append(f"Field [{key}] cannot be specified for task type [{task_type}]")
    if errors:
        text = "".join(f"{i}: {m};" for i, m in enumerate(errors, start=1))
        raise EsError(400, "action_request_validation_exception", f"Validation Failed: {text}")
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _openai_record(ctx: Ctx) -> dict[str, Any]:
    """The endpoint to run: openai's, or one of a service the sandbox emulates."""
    record = ctx.state.get(ctx.inference_id)
    check_task_type(ctx.url_task_type, record)
    if record["service"] != "openai" and service_for(record["service"], ctx.state.caps) is None:
        raise status_exception(
            400,
            f"[sandbox] the [{record['service']}] service of [{record['inference_id']}] is not "
            "emulated",
        )
    return record


def _timeout(ctx: Ctx) -> float | None:
    value = ctx.time_param("timeout")
    return 30.0 if value is None else (None if value < 0 else value)


async def _bounded(ctx: Ctx, call: Any) -> Any:
    timeout = _timeout(ctx)
    try:
        return await (call if timeout is None else asyncio.wait_for(call, timeout))
    except TimeoutError:
        raise timeout_error(ctx.state, ctx.timeout_label) from None


# -- POST _inference/... -------------------------------------------------------------------


async def perform(ctx: Ctx) -> Response:
    body = _parse_fields(ctx, _REQUEST_FIELDS, "inference_request")
    inputs = _inputs(body, ctx.url_task_type)
    record = _openai_record(ctx)
    if record["service"] != "openai":
        return await _perform_service(ctx, record, body, inputs)
    user = _user(record, body)
    caller = ctx.state.caller
    if record["task_type"] == "text_embedding":
        _input_type_unspecified(body)
        vectors = await _bounded(ctx, caller.embed(record, inputs, user))
        return es_response(ctx, {"text_embedding": [{"embedding": _floats(v)} for v in vectors]})
    if record["task_type"] == "completion":
        _single_input(inputs)
        text = await _bounded(ctx, caller.complete(record, inputs[0], user))
        return es_response(ctx, {"completion": [{"result": text}]})
    raise status_exception(400, _chat_on_plain_post(record["inference_id"]))


async def _perform_service(
    ctx: Ctx, record: dict[str, Any], body: dict[str, Any], inputs: list[str]
) -> Response:
    """Inference on an endpoint of a service other than openai (`SenderService.infer`)."""
    service = service_for(record["service"], ctx.state.caps)
    assert service is not None
    task_type = record["task_type"]
    if task_type == "chat_completion":
        raise status_exception(400, _chat_on_plain_post(record["inference_id"]))
    query = body.get("query")
    if task_type == "rerank" and query is None:
        raise validation_failed(
            [f"Field [query] cannot be null for task type [{task_type}]"],
            "action_request_validation_exception",
        )
    request = InferRequest(
        inputs=inputs,
        query=None if query is None else str(query),
        top_n=body.get("top_n"),
        return_documents=body.get("return_documents"),
        input_type=body.get("input_type"),
        task_settings=dict(body.get("task_settings") or {}),
    )
    result = await _bounded(ctx, service.infer(ctx.state, record, request))
    return es_response(ctx, result)


def _user(record: dict[str, Any], body: dict[str, Any]) -> str | None:
    override = body.get("task_settings") or {}
    return override.get("user") or (record.get("task_settings") or {}).get("user")


def _input_type_unspecified(body: dict[str, Any]) -> None:
    """`ServiceUtils.validateInputTypeIsUnspecifiedOrInternal`: openai takes no input_type.
    No upstream test pins the exact text; this follows the source's wording."""
    value = body.get("input_type")
    if value is not None:
        raise validation_failed(
            [
                f"Invalid input_type [{str(value).lower()}]. The input_type option is not "
                "supported by this service"
            ]
        )


def _single_input(inputs: list[str]) -> None:
    if len(inputs) != 1:
        raise status_exception(400, "OpenAI chat completions only accepts 1 input")


def _chat_on_plain_post(inference_id: str) -> str:
    return (
        f"Inference entity [{inference_id}] does not support task type [chat_completion] for "
        "inference, the task type must be one of [text_embedding, completion]. The task type for "
        f"the inference entity is chat_completion, please use the "
        f"_inference/chat_completion/{inference_id}/_stream URL."
    )


def _floats(vector: list[Any]) -> list[float]:
    """Java `float[]` values: round through float32 and print the shortest form."""
    return [_float32(float(x)) for x in vector]


def _float32(x: float) -> float:
    packed = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{packed:.{digits}g}")
        if struct.pack("f", candidate) == struct.pack("f", packed):
            return candidate
    return float(packed)


# -- _stream and _unified ------------------------------------------------------------------


async def stream(ctx: Ctx) -> Response:
    record_or_error = _stream_record(ctx)
    if isinstance(record_or_error, EsError):
        return sse_error_response(record_or_error)
    record = record_or_error
    if record["service"] != "openai":
        return await _service_stream(ctx, record)
    if record["task_type"] == "chat_completion":
        return await _chat_stream(ctx, record)
    try:
        body = _parse_fields(ctx, _REQUEST_FIELDS, "inference_request")
        inputs = _inputs(body, ctx.url_task_type)
        _single_input(inputs)
        upstream = chat_body(
            record, [{"content": inputs[0], "role": "user"}], {}, _user(record, body), stream=True
        )
        return await _sse(ctx, record, upstream, _completion_event)
    except EsError as error:
        return sse_error_response(error)


async def unified(ctx: Ctx) -> Response:
    record_or_error = _stream_record(ctx)
    if isinstance(record_or_error, EsError):
        return sse_error_response(record_or_error)
    if record_or_error["task_type"] != "chat_completion":
        return sse_error_response(
            status_exception(
                400,
                f"Incompatible task_type for unified API, the requested type "
                f"[{record_or_error['task_type']}] must be one of [chat_completion]",
            )
        )
    if record_or_error["service"] != "openai":
        return await _service_stream(ctx, record_or_error)
    return await _chat_stream(ctx, record_or_error)


async def _service_stream(ctx: Ctx, record: dict[str, Any]) -> Response:
    """`_stream`/`_unified` of another service: the same event shapes as openai's, with the
    answer in one delta."""
    service = service_for(record["service"], ctx.state.caps)
    assert service is not None
    chat = record["task_type"] == "chat_completion"
    try:
        if chat:
            body = _parse_fields(ctx, _CHAT_FIELDS, "chat_completion_request")
            messages = body.get("messages")
            if not isinstance(messages, list):
                raise EsError(400, "x_content_parse_exception", "Required [messages]")
            last = messages[-1] if messages else {}
            prompt = str(last.get("content", "")) if isinstance(last, dict) else ""
        else:
            body = _parse_fields(ctx, _REQUEST_FIELDS, "inference_request")
            inputs = _inputs(body, ctx.url_task_type)
            _single_input(inputs)
            prompt = inputs[0]
        text = await _bounded(ctx, service.stream_text(ctx.state, record, prompt))
    except EsError as error:
        return sse_error_response(error)
    events = _chat_events(record, text) if chat else [{"completion": [{"delta": text}]}]
    frames = [sse_frame("message", json.dumps(e, separators=(",", ":"))) for e in events]
    frames.append(sse_frame("message", "[DONE]"))
    return Response("".join(frames), 200, PRODUCT_HEADER, "text/event-stream")


def _chat_events(record: dict[str, Any], text: str) -> list[dict[str, Any]]:
    settings = record["service_settings"]
    model = str(settings.get("model_id") or settings.get("model") or record["service"])
    first = {"delta": {"content": text, "role": "assistant"}, "index": 0}
    last = {"delta": {}, "finish_reason": "stop", "index": 0}
    return [
        {"id": f"chatcmpl-{record['inference_id']}", "choices": [choice], "model": model,
         "object": "chat.completion.chunk"}
        for choice in (first, last)
    ]  # fmt: skip


def _stream_record(ctx: Ctx) -> dict[str, Any] | EsError:
    try:
        record = _openai_record(ctx)
    except EsError as error:
        return error
    if record["task_type"] not in ("completion", "chat_completion"):
        return status_exception(
            405,
            f"Streaming is not allowed for service [{record['service']}] and task "
            f"[{record['task_type']}]",
        )
    return record


async def _chat_stream(ctx: Ctx, record: dict[str, Any]) -> Response:
    try:
        body = _parse_fields(ctx, _CHAT_FIELDS, "chat_completion_request")
        if not isinstance(body.get("messages"), list):
            raise EsError(400, "x_content_parse_exception", "Required [messages]")
        user = (record.get("task_settings") or {}).get("user")
        upstream = chat_body(record, body["messages"], body, user, stream=True)
        return await _sse(ctx, record, upstream, _chat_event)
    except EsError as error:
        return sse_error_response(error)


def _completion_event(chunk: dict[str, Any]) -> dict[str, Any] | None:
    choices = chunk.get("choices") or [{}]
    delta = (choices[0].get("delta") or {}).get("content")
    return {"completion": [{"delta": delta}]} if delta else None


def _chat_event(chunk: dict[str, Any]) -> dict[str, Any]:
    """`StreamingUnifiedChatCompletionResults.ChatCompletionChunk.toXContent`: no nulls."""
    choices = []
    for choice in chunk.get("choices") or []:
        delta = {k: v for k, v in (choice.get("delta") or {}).items() if v is not None}
        keys = ("content", "refusal", "role", "tool_calls")
        item: dict[str, Any] = {"delta": {k: delta[k] for k in keys if k in delta}}
        if choice.get("finish_reason") is not None:
            item["finish_reason"] = choice["finish_reason"]
        item["index"] = choice.get("index", 0)
        choices.append(item)
    out: dict[str, Any] = {"id": chunk.get("id"), "choices": choices, "model": chunk.get("model")}
    out["object"] = chunk.get("object", "chat.completion.chunk")
    if chunk.get("usage"):
        usage = chunk["usage"]
        out["usage"] = {
            k: usage.get(k) for k in ("completion_tokens", "prompt_tokens", "total_tokens")
        }
    return out


async def _sse(
    ctx: Ctx, record: dict[str, Any], upstream: dict[str, Any], convert: Any
) -> Response:
    """Collect the first chunk before answering, so an early failure keeps its status."""
    chunks = ctx.state.caller.stream_chat(record, upstream)
    try:
        first = await _bounded(ctx, _first(chunks))
    except EsError as error:
        return sse_error_response(error)
    return StreamingResponse(
        _events(first, chunks, convert), headers=PRODUCT_HEADER, media_type="text/event-stream"
    )


async def _first(chunks: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
    async for chunk in chunks:
        return chunk
    return None


async def _events(
    first: dict[str, Any] | None, chunks: AsyncIterator[dict[str, Any]], convert: Any
) -> AsyncIterator[str]:
    try:
        if first is not None:
            event = convert(first)
            if event is not None:
                yield sse_frame("message", json.dumps(event, separators=(",", ":")))
            async for chunk in chunks:
                event = convert(chunk)
                if event is not None:
                    yield sse_frame("message", json.dumps(event, separators=(",", ":")))
    except EsError as error:
        yield sse_frame("error", json.dumps(error.body(), separators=(",", ":")))
        return
    yield sse_frame("message", "[DONE]")


def sse_frame(event: str, data: str) -> str:
    """`ServerSentEventsRestActionListener`: every event starts with a UTF-8 BOM."""
    return f"{BOM}event: {event}\ndata: {data}\n\n"


def sse_error_response(error: EsError) -> Response:
    frame = sse_frame("error", json.dumps(error.body(), separators=(",", ":")))
    return Response(frame, error.status, PRODUCT_HEADER, "text/event-stream")
