"""Smoke tests: one real inference per endpoint, checked for the shape its task type promises.

text_embedding must return a vector of the declared dimensions (the manifest's, else the
server's, else the model's default); completion a non-empty text; chat_completion a stream
with content. The checks are pure functions of what the server returned; `smoke_test` runs
the inferences in parallel and never raises for a failing endpoint: a failed call is a failed
result carrying the sanitized error. Endpoints whose manifest turns smoke tests off are listed
as skipped (ok, detail "skipped"), so a summary never silently drops one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.defaults import model_dimensions
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredEndpoint, LiveEndpoint
from reconciler.responses import InferenceOutput
from reconciler.secrets import redact_text

if TYPE_CHECKING:
    from reconciler.client import EsClient

DEFAULT_INPUT = "reconcile smoke test"
SKIPPED = "skipped (smoke disabled in the manifest)"

Check = tuple[bool, str]
"""(passed, what was seen or what was wrong)."""


@dataclass(frozen=True, slots=True)
class SmokeResult:
    """One endpoint's smoke test; `detail` says what was checked or why it failed."""

    inference_id: str
    task_type: str
    ok: bool
    detail: str
    latency_ms: float


async def smoke_test(
    client: EsClient,
    endpoints: Sequence[tuple[DesiredEndpoint, LiveEndpoint | None]],
    *,
    concurrency: int = 4,
    clock: Callable[[], float] = time.perf_counter,
) -> list[SmokeResult]:
    """One inference per endpoint (in input order), at most `concurrency` at a time.

    The endpoints' keys are handed to the client first: an inference does not send the key,
    but the server's errors may quote it, in the client's retry log lines too.
    """
    client.remember(*(secret for d, _live in endpoints for secret in d.resolved_secrets()))
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(desired: DesiredEndpoint, live: LiveEndpoint | None) -> SmokeResult:
        if not desired.options.smoke:
            return _result(desired, True, SKIPPED, 0.0)
        async with limit:
            return await smoke_one(client, desired, live, clock=clock)

    return list(await asyncio.gather(*(one(desired, live) for desired, live in endpoints)))


async def smoke_one(
    client: EsClient,
    desired: DesiredEndpoint,
    live: LiveEndpoint | None,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> SmokeResult:
    """Run one inference and check it; a failed call becomes a failed result."""
    task_type = desired.task_type.lower()
    started = clock()
    try:
        output = await client.infer(task_type, desired.inference_id, smoke_input(desired))
    except ReconcilerError as error:
        detail = f"{desired.inference_id}: inference failed: {_sanitized(error, desired, client)}"
        return _result(desired, False, detail, _ms(clock() - started))
    elapsed = _ms(clock() - started)
    passed, detail = check(task_type, output, expected_dimensions(desired, live))
    return _result(desired, passed, detail, elapsed)


# --- pure checks -----------------------------------------------------------------------------


def smoke_input(desired: DesiredEndpoint) -> str:
    """The manifest's own input, else the default."""
    return desired.options.smoke_input or DEFAULT_INPUT


def expected_dimensions(desired: DesiredEndpoint, live: LiveEndpoint | None) -> int | None:
    """Declared dimensions: the manifest's, else the server's, else the model default."""
    ours = _setting(desired.body, "dimensions")
    if isinstance(ours, int):
        return ours
    theirs = _setting(live.body, "dimensions") if live is not None else None
    if isinstance(theirs, int):
        return theirs
    return model_dimensions(_setting(desired.body, "model_id"))


def check(task_type: str, output: InferenceOutput, dimensions: int | None) -> Check:
    """The check for the task type."""
    if task_type == "text_embedding":
        return check_embedding(output, dimensions)
    if task_type == "chat_completion":
        return check_chat(output)
    return check_completion(output)


def check_embedding(output: InferenceOutput, dimensions: int | None) -> Check:
    """At least one vector, every one of the declared length (any length if unknown)."""
    if not output.embeddings:
        return False, "no embedding returned"
    sizes = sorted({len(vector) for vector in output.embeddings})
    if sizes == [0]:
        return False, "an empty embedding returned"
    if dimensions is not None and sizes != [dimensions]:
        got = ", ".join(map(str, sizes))
        return False, f"expected vectors of {dimensions} dimensions, got {got}"
    return True, f"{_count(len(output.embeddings), 'vector')} of {sizes[0]} dimensions"


def check_completion(output: InferenceOutput) -> Check:
    """A non-empty completion."""
    if not output.text.strip():
        return False, "an empty completion returned"
    return True, f"a completion of {_count(len(output.text), 'character')}"


def check_chat(output: InferenceOutput) -> Check:
    """A stream that carried content."""
    if not output.text.strip():
        return False, f"the stream carried no content ({_count(output.chunks, 'chunk')})"
    return True, f"streamed {_count(output.chunks, 'chunk')}, {len(output.text)} characters"


# --- helpers ----------------------------------------------------------------------------------


def _setting(body: Mapping[str, Any], key: str) -> Any:
    settings = body.get("service_settings")
    return settings.get(key) if isinstance(settings, Mapping) else None


def _sanitized(error: ReconcilerError, desired: DesiredEndpoint, client: EsClient) -> str:
    """The error without any secret: the endpoint's secrets (every path), and everything the
    client knows (the Elasticsearch credentials and every key it sent), whole, encoded or in
    part."""
    return client.redact(redact_text(str(error), desired.resolved_secrets()))


def _result(desired: DesiredEndpoint, ok: bool, detail: str, latency_ms: float) -> SmokeResult:
    return SmokeResult(desired.inference_id, desired.task_type.lower(), ok, detail, latency_ms)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
