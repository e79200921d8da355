"""Smoke tests: one real inference per endpoint, checked for the shape its task type promises.

The check is chosen by task type, never by service (`reconciler.services.task_types`: the
inference route `POST _inference/{task_type}/{id}` and its answer are the same for every
service): text_embedding and embedding must return vectors of the declared dimensions (the
manifest's, else the server's, else the model's default; float, byte or bit vectors, bits
packed eight to a byte); sparse_embedding non-empty token weights, every one a finite number;
rerank every input ranked exactly once with a finite score; completion a non-empty text;
chat_completion a stream with content. The checks are pure functions of what the server
returned; `smoke_test` runs the inferences in parallel and never raises for a failing
endpoint: a failed call is a failed result carrying the sanitized error. Endpoints whose
manifest turns smoke tests off are listed as skipped (ok, detail "skipped"), so a summary never
silently drops one.

What is sent: the manifest's `reconcile.smoke.input` (a list of documents for rerank) and
`reconcile.smoke.query` (rerank only), else the defaults below (`smoke_request`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.defaults import model_dimensions
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredEndpoint, LiveEndpoint
from reconciler.responses import InferenceOutput
from reconciler.secrets import redact_text
from reconciler.services.task_types import smoke_check

if TYPE_CHECKING:
    from reconciler.client import EsClient

DEFAULT_INPUT = "reconcile smoke test"
DEFAULT_QUERY = "Which sentence is about a fox?"
DEFAULT_DOCUMENTS: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "Elasticsearch keeps inference endpoints.",
    "Paris is the capital of France.",
)
"""What a rerank endpoint ranks when the manifest gives no input: three short documents, so a
ranking that drops or repeats one is seen."""
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


@dataclass(frozen=True, slots=True)
class SmokeRequest:
    """What one smoke inference sends: the input (one text, or the documents to rank) and,
    for rerank, the query."""

    input: str | tuple[str, ...]
    query: str | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,) if isinstance(self.input, str) else self.input


async def smoke_test(
    client: EsClient,
    endpoints: Sequence[tuple[DesiredEndpoint, LiveEndpoint | None]],
    *,
    concurrency: int = 4,
    clock: Callable[[], float] = time.perf_counter,
) -> list[SmokeResult]:
    """One inference per endpoint (in input order), at most `concurrency` at a time, sending
    what its manifest's `reconcile.smoke` block asks (`request_for`).

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
    sent = request_for(desired)
    started = clock()
    try:
        output = await client.infer(task_type, desired.inference_id, sent.input, query=sent.query)
    except ReconcilerError as error:
        detail = f"{desired.inference_id}: inference failed: {_sanitized(error, desired, client)}"
        return _result(desired, False, detail, _ms(clock() - started))
    elapsed = _ms(clock() - started)
    passed, detail = check(
        task_type,
        output,
        expected_dimensions(desired, live),
        inputs=len(sent.inputs),
        top_n=ranked_at_most(desired, live),
    )
    return _result(desired, passed, client.redact(detail), elapsed)


# --- what to send ----------------------------------------------------------------------------


def request_for(desired: DesiredEndpoint) -> SmokeRequest:
    """What an endpoint's smoke inference sends: its manifest's `reconcile.smoke` input and
    (rerank) query, as the manifest reader kept them (`Options`), else the defaults."""
    options = desired.options
    block = {"input": options.smoke_input, "query": options.smoke_query}
    given = {key: value for key, value in block.items() if value is not None}
    return smoke_request(desired.task_type.lower(), given)


def smoke_request(task_type: str, block: Mapping[str, Any] | None) -> SmokeRequest:
    """What to send for a manifest's `reconcile.smoke` block (validated by the schema):
    rerank takes `query` and `input` (one text or a list), defaulting to `DEFAULT_QUERY` and
    `DEFAULT_DOCUMENTS`; every other task type one text, `input` or `DEFAULT_INPUT`."""
    block = block if isinstance(block, Mapping) else {}
    given = block.get("input")
    if task_type == "rerank":
        query = block.get("query")
        documents = _texts(given) or DEFAULT_DOCUMENTS
        return SmokeRequest(documents, query if isinstance(query, str) and query else DEFAULT_QUERY)
    texts = _texts(given)
    return SmokeRequest("\n".join(texts) if texts else DEFAULT_INPUT)


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str) and v)
    return ()


# --- pure checks -----------------------------------------------------------------------------


def expected_dimensions(desired: DesiredEndpoint, live: LiveEndpoint | None) -> int | None:
    """Declared dimensions: the manifest's, else the server's, else the model default."""
    ours = _setting(desired.body, "dimensions")
    if isinstance(ours, int):
        return ours
    theirs = _setting(live.body, "dimensions") if live is not None else None
    if isinstance(theirs, int):
        return theirs
    return model_dimensions(_setting(desired.body, "model_id"))


def ranked_at_most(desired: DesiredEndpoint, live: LiveEndpoint | None) -> int | None:
    """A rerank endpoint's `task_settings.top_n` (the manifest's, else the server's): the
    server returns only the best `top_n` inputs (every rerank service's task settings)."""
    for body in (desired.body, live.body if live is not None else {}):
        task = body.get("task_settings")
        value = task.get("top_n") if isinstance(task, Mapping) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def check(
    task_type: str,
    output: InferenceOutput,
    dimensions: int | None,
    *,
    inputs: int = 1,
    top_n: int | None = None,
) -> Check:
    """The check for the task type (`reconciler.services.task_types`: its `smoke` name);
    an answer whose shape could not be read fails with what was wrong."""
    if output.problem:
        return False, output.problem
    name = smoke_check(task_type) or "check_completion"
    if name == "check_embedding":
        return check_embedding(output, dimensions)
    if name == "check_sparse":
        return check_sparse(output)
    if name == "check_rerank":
        return check_rerank(output, inputs, top_n)
    if name == "check_chat":
        return check_chat(output)
    return check_completion(output)


def check_embedding(output: InferenceOutput, dimensions: int | None) -> Check:
    """At least one vector, every one of the declared length (any length if unknown), every
    value finite. Bit vectors count eight dimensions per byte (`TextEmbeddingBitResults`)."""
    if output.problem:
        return False, output.problem
    if not output.embeddings:
        return False, "no embedding returned"
    per_value = 8 if output.element_type == "bit" else 1
    sizes = sorted({len(vector) * per_value for vector in output.embeddings})
    if sizes == [0]:
        return False, "an empty embedding returned"
    kind = "" if output.element_type == "float" else f"{output.element_type} "
    if dimensions is not None and sizes != [dimensions]:
        got = ", ".join(map(str, sizes))
        return False, f"expected {kind}vectors of {dimensions} dimensions, got {got}"
    if not all(math.isfinite(v) for vector in output.embeddings for v in vector):
        return False, "an embedding holds a value that is not finite"
    noun = _count(len(output.embeddings), f"{kind}vector")
    return True, f"{noun} of {sizes[0]} dimensions"


def check_sparse(output: InferenceOutput) -> Check:
    """At least one result, each a non-empty token → weight map of finite numbers."""
    if output.problem:
        return False, output.problem
    if not output.sparse:
        return False, "no sparse embedding returned"
    if any(not tokens for tokens in output.sparse):
        return False, "an empty sparse embedding returned (no token weights)"
    for tokens in output.sparse:
        bad = next((t for t, w in tokens.items() if not math.isfinite(w)), None)
        if bad is not None:
            return False, f"the weight of token {bad[:40]!r} is not finite"
    counts = sorted({len(tokens) for tokens in output.sparse})
    sizes = "-".join(map(str, (counts[0], counts[-1]))) if len(counts) > 1 else str(counts[0])
    note = ", truncated" if any(output.truncated) else ""
    return True, f"{_count(len(output.sparse), 'sparse vector')} of {sizes} tokens{note}"


def check_rerank(output: InferenceOutput, inputs: int, top_n: int | None = None) -> Check:
    """Every input ranked exactly once (indexes 0..inputs-1), every score finite; with
    `top_n`, the best `top_n` of them (no index twice, none out of range)."""
    if output.problem:
        return False, output.problem
    if not output.ranked:
        return False, "no ranking returned"
    seen: dict[int, int] = {}
    for entry in output.ranked:
        if not 0 <= entry.index < inputs:
            return False, f"index {entry.index} is out of range ({_count(inputs, 'input')} sent)"
        if not math.isfinite(entry.relevance_score):
            return False, f"input {entry.index} has a relevance_score that is not finite"
        seen[entry.index] = seen.get(entry.index, 0) + 1
    twice = sorted(i for i, n in seen.items() if n > 1)
    if twice:
        return False, f"input {', '.join(map(str, twice))} ranked more than once"
    top = max(output.ranked, key=lambda e: e.relevance_score)
    if top_n is not None and top_n < inputs:
        if len(seen) != top_n:
            return False, f"{_count(len(seen), 'input')} ranked, top_n is {top_n}"
        return True, f"ranked the best {top_n} of {_count(inputs, 'input')}, top: input {top.index}"
    missing = sorted(set(range(inputs)) - seen.keys())
    if missing:
        return False, f"input {', '.join(map(str, missing))} missing from the ranking"
    return True, f"ranked {_count(inputs, 'input')}, top: input {top.index}"


def check_completion(output: InferenceOutput) -> Check:
    """A non-empty completion."""
    if output.problem:
        return False, output.problem
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
