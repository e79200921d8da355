"""The upstream validation call PUT and `_update` make before storing (elastic/elasticsearch
`x-pack/plugin/inference/…/inference/services/validation/`, PRs #113137 and #123044):
`ModelValidatorBuilder`, `TextEmbeddingModelValidator`, `ChatCompletionModelValidator` and their
wrapping of failures."""

from __future__ import annotations

import asyncio
from typing import Any

from .errors import EsError, status_exception
from .openai_client import chat_body
from .openai_config import check_dimensions
from .state import EsState

VALIDATION_INPUT = "how big"
_THREW = (
    "Could not complete inference endpoint creation as validation call to service threw an "
    "exception."
)


def timeout_error(state: EsState, label: str) -> EsError:
    """`ElasticsearchTimeoutException`: 500 in 8.x copies, 429 in newer ones."""
    status = 429 if state.caps.version.major >= 9 else 500
    return EsError(
        status, "timeout_exception", f"Request timed out waiting to be sent after [{label}]"
    )


async def validate_endpoint(
    state: EsState, record: dict[str, Any], timeout: float, label: str
) -> None:
    """Call the upstream once; fill `dimensions`/`similarity` for text_embedding."""
    try:
        size = await _with_timeout(state, _call(state, record), timeout, label)
    except EsError as error:
        raise status_exception(400, _THREW, error) from None
    if record["task_type"] == "text_embedding":
        if size is None:
            raise status_exception(400, "Could not determine embedding size")
        mismatch = check_dimensions(record, size)
        if mismatch is not None:
            raise mismatch


async def _with_timeout(state: EsState, call: Any, timeout: float, label: str) -> Any:
    if timeout < 0:
        return await call
    try:
        return await asyncio.wait_for(call, timeout)
    except TimeoutError:
        raise timeout_error(state, label) from None


async def _call(state: EsState, record: dict[str, Any]) -> int | None:
    caller = state.caller
    user = (record.get("task_settings") or {}).get("user")
    task_type = record["task_type"]
    if task_type == "text_embedding":
        vectors = await caller.embed(record, [VALIDATION_INPUT], user)
        return len(vectors[0]) if vectors and isinstance(vectors[0], list) else None
    if task_type == "completion":
        if state.caps.validates_completion:
            await caller.complete(record, VALIDATION_INPUT, user)
        return None
    body = chat_body(record, [{"content": VALIDATION_INPUT, "role": "user"}], {}, user, stream=True)
    async for _chunk in caller.stream_chat(record, body):
        pass
    return None
