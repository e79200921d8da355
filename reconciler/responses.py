"""What Elasticsearch answers, parsed: endpoints, errors, versions, inference, SSE frames.

Pure functions and value types (no HTTP, no I/O); `client.py` calls them on every response.
Error bodies are reduced to `error.type`, a truncated `error.reason` and `caused_by.reason`:
servers echo requests in unexpected places, so nothing else of a body is ever kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.defaults import NEWEST, Release, supports
from reconciler.errors import (
    ApiError,
    ConflictError,
    NotFoundError,
    PermanentApiError,
    TemporaryApiError,
)
from reconciler.model import JSON, LiveEndpoint

REASON_LIMIT = 500
CAUSE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What `GET /` says about the server, and what that version supports (`defaults.FEATURES`)."""

    version: tuple[int, int, int]
    serverless: bool = False

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> ServerInfo:
        version = body.get("version") if isinstance(body, Mapping) else None
        number = version.get("number") if isinstance(version, Mapping) else None
        if not isinstance(number, str):
            raise PermanentApiError("the target did not answer like Elasticsearch (no version)")
        flavor = version.get("build_flavor") if isinstance(version, Mapping) else None
        return cls(parse_version(number), serverless=flavor == "serverless")

    @property
    def release(self) -> Release:
        """The release whose behaviour to expect: serverless reports an old number but runs
        the newest code."""
        return NEWEST if self.serverless else self.version  # patch-aware (defaults.Release)

    @property
    def label(self) -> str:
        """The version as people and `defaults.capabilities` read it."""
        major, minor, patch = (*self.release, 0) if self.serverless else self.version
        return f"{major}.{minor}.{patch}" + ("-serverless" if self.serverless else "")

    def supports(self, feature: str) -> bool:
        """Whether the server has a feature of `defaults.FEATURES` (the one version table)."""
        return supports(feature, self.release)

    @property
    def has_update_api(self) -> bool:
        return self.supports("update_api")

    @property
    def has_put_timeout(self) -> bool:
        """PUT `timeout` arrived in 8.19 and 9.1 (9.0 lacks it); older servers reject it."""
        return self.supports("put_timeout")

    @property
    def has_chat_completion(self) -> bool:
        return self.supports("chat_completion")

    @property
    def has_headers(self) -> bool:
        return self.supports("task_settings.headers")

    @property
    def has_none_recursive_chunking(self) -> bool:
        return self.supports("chunking.none")


def parse_version(number: str) -> tuple[int, int, int]:
    """`8.18.0-SNAPSHOT` → (8, 18, 0); missing parts count as 0."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", number)
    if match is None:
        raise PermanentApiError(f"the target reported an unreadable version {number[:40]!r}")
    major, minor, patch = (int(g or 0) for g in match.groups())
    return major, minor, patch


@dataclass(frozen=True, slots=True)
class DeleteResult:
    acknowledged: bool
    pipelines: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Doc:
    """A stored document with its optimistic-concurrency version."""

    id: str
    source: Mapping[str, JSON]
    seq_no: int | None = None
    primary_term: int | None = None


@dataclass(frozen=True, slots=True)
class RankedInput:
    """One entry of a rerank answer (`RankedDocument`): which input, its score, its text."""

    index: int
    relevance_score: float
    text: str | None = None


@dataclass(frozen=True, slots=True)
class InferenceOutput:
    """What an inference call returned, whatever the service: dense vectors (with their element
    type), sparse token weights, a ranking, or text (streamed frames counted).

    `problem` says what of the answer could not be read as its shape promises (a missing
    result key, a weight that is not a number, ...): the smoke check reports it as the failure
    instead of a parse error ever escaping.
    """

    task_type: str
    embeddings: tuple[tuple[float, ...], ...] = ()
    text: str = ""
    chunks: int = 0
    element_type: str = "float"
    """`float`, `byte` or `bit` (bits packed eight to a byte: `TextEmbeddingBitResults`)."""
    sparse: tuple[Mapping[str, float], ...] = ()
    truncated: tuple[bool, ...] = ()
    ranked: tuple[RankedInput, ...] = ()
    problem: str | None = None


def error_for_status(
    status: int, message: str, error_type: str | None, retry_after: float | None
) -> ApiError:
    """The error class for an HTTP status: the retry policy reads the class, not the text."""
    if status == 429 or status >= 500:
        return TemporaryApiError(
            message, status=status, error_type=error_type, retry_after=retry_after
        )
    kind = {404: NotFoundError, 409: ConflictError}.get(status, PermanentApiError)
    return kind(message, status=status, error_type=error_type)


def describe_error_body(text: str) -> tuple[str | None, str]:
    """(`error.type`, reason text) from an ES error body, JSON or an SSE error frame.

    Only `error.type`, `error.reason` (truncated) and `caused_by.reason` are kept; anything
    else in the body is dropped, since servers echo requests in unexpected places.
    """
    body = json_or_none(text)
    if body is None:
        body = next((json_or_none(d) for _e, d in sse_frames(text.splitlines())), None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return _str_or_none(error.get("type")), _reason(error)
    if isinstance(error, str):
        return None, _truncate(error, REASON_LIMIT)
    if body is not None:  # JSON without an error envelope: a document API's `result`
        result = body.get("result") if isinstance(body, dict) else None
        return None, _str_or_none(result) or "(no details)"
    return None, _truncate(" ".join(text.split()), 200) or "(no details)"


def _reason(error: Mapping[str, Any]) -> str:
    reason = _truncate(str(error.get("reason") or "(no reason given)"), REASON_LIMIT)
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        reason += f" (caused by: {_truncate(str(cause['reason']), CAUSE_LIMIT)})"
    return reason


def to_live_endpoint(entry: Mapping[str, JSON]) -> LiveEndpoint:
    """A GET/PUT/_update endpoint object → `LiveEndpoint` (`model_id` was the id before 8.15).

    `body` keeps everything but the identity: service, service_settings, task_settings,
    chunking_settings (and anything newer servers add).
    """
    inference_id = entry.get("inference_id", entry.get("model_id"))
    body = {k: v for k, v in entry.items() if k not in ("inference_id", "model_id", "task_type")}
    settings = body.get("service_settings")
    if isinstance(settings, dict) and "api_key" in settings:  # never from a real server
        body["service_settings"] = {k: v for k, v in settings.items() if k != "api_key"}
    return LiveEndpoint(
        inference_id=str(inference_id),
        task_type=str(entry.get("task_type")),
        service=str(entry.get("service")),
        body=body,
    )


DENSE_KEYS: Mapping[str, str] = {
    "text_embedding": "float",
    "text_embedding_bytes": "byte",
    "text_embedding_bits": "bit",
    "embeddings": "float",
    "embeddings_bytes": "byte",
    "embeddings_bits": "bit",
}
"""The result keys of dense vectors and their element type: elastic/elasticsearch
`TextEmbeddingFloatResults` (`text_embedding`), `TextEmbeddingByteResults`
(`text_embedding_bytes`), `TextEmbeddingBitResults` (`text_embedding_bits`, each byte eight
dimensions), and the multimodal `embedding` task's `embeddings[_bytes|_bits]`
(elastic/elasticsearch-specification `specification/inference/_types/Results.ts`)."""


def parse_inference(task_type: str, body: Mapping[str, Any]) -> InferenceOutput:
    """A non-streaming inference answer, read by the result key the server wrote (whatever the
    service): dense vectors, `sparse_embedding`, `rerank`, `completion`. Never raises: what does
    not have the promised shape is the output's `problem`."""
    if not isinstance(body, Mapping):
        return InferenceOutput(task_type, problem="the answer is not a JSON object")
    dense = next((key for key in DENSE_KEYS if key in body), None)
    if dense is not None:
        return _dense(task_type, dense, body[dense])
    if "sparse_embedding" in body:
        return _sparse(task_type, body["sparse_embedding"])
    if "rerank" in body:
        return _ranked(task_type, body["rerank"])
    results = body.get(task_type, body.get("completion"))
    if not isinstance(results, list):
        keys = ", ".join(sorted(map(str, body))) or "none"
        return InferenceOutput(
            task_type, problem=f"no {task_type} result in the answer (keys: {keys})"
        )
    text = "".join(str(r.get("result", "")) for r in results if isinstance(r, dict))
    return InferenceOutput(task_type, text=text)


def _dense(task_type: str, key: str, results: Any) -> InferenceOutput:
    element_type = DENSE_KEYS[key]
    vectors: list[tuple[float, ...]] = []
    for item in results if isinstance(results, list) else [None]:
        values = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            problem = f"`{key}` holds an entry that is not a list of numbers"
            return InferenceOutput(task_type, element_type=element_type, problem=problem)
        vectors.append(tuple(values))
    return InferenceOutput(task_type, embeddings=tuple(vectors), element_type=element_type)


def _sparse(task_type: str, results: Any) -> InferenceOutput:
    weights: list[Mapping[str, float]] = []
    truncated: list[bool] = []
    for item in results if isinstance(results, list) else [None]:
        tokens = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(tokens, dict):
            problem = "`sparse_embedding` holds an entry without an `embedding` token map"
            return InferenceOutput(task_type, problem=problem)
        bad = next((t for t, w in tokens.items() if not _is_number(w)), None)
        if bad is not None:
            problem = f"the weight of token {str(bad)[:40]!r} is not a number"
            return InferenceOutput(task_type, problem=problem)
        weights.append({str(t): float(w) for t, w in tokens.items()})
        truncated.append(bool(item.get("is_truncated", False)))  # type: ignore[union-attr]
    return InferenceOutput(task_type, sparse=tuple(weights), truncated=tuple(truncated))


def _ranked(task_type: str, results: Any) -> InferenceOutput:
    """`rerank` entries. The index and score are numbers as the server writes them
    (`RankedDocument`); numeric strings, as elastic/elasticsearch-specification's
    `RerankResponseExample1.yaml` prints them, are read too."""
    ranked: list[RankedInput] = []
    for item in results if isinstance(results, list) else [None]:
        index = _number(item.get("index")) if isinstance(item, dict) else None
        score = _number(item.get("relevance_score")) if isinstance(item, dict) else None
        if index is None or score is None or index != int(index):
            problem = "`rerank` holds an entry without a whole `index` and a `relevance_score`"
            return InferenceOutput(task_type, problem=problem)
        text = item.get("text")  # type: ignore[union-attr]
        ranked.append(RankedInput(int(index), score, text if isinstance(text, str) else None))
    return InferenceOutput(task_type, ranked=tuple(ranked))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    """A JSON number, or a string holding one; None otherwise."""
    if _is_number(value):
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def chat_delta(data: str) -> str:
    """The content of one chat_completion chunk (the OpenAI chunk schema,
    https://platform.openai.com/docs/api-reference/chat-streaming, as ES
    `StreamingUnifiedChatCompletionResults.ChatCompletionChunk` writes it)."""
    chunk = json_or_none(data)
    chunk = chunk.get("chat_completion", chunk) if isinstance(chunk, dict) else None
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not choices:
        return ""
    return str((choices[0].get("delta") or {}).get("content") or "")


class SseFrames:
    """Server-sent events: `event:`/`data:` lines, a blank line ends a frame.

    ES starts every event with a UTF-8 BOM (`ServerSentEventsRestActionListener`); it is
    stripped.
    """

    def __init__(self) -> None:
        self._event, self._data = "message", list[str]()

    def feed(self, line: str) -> tuple[str, str] | None:
        line = line.lstrip("\ufeff").rstrip("\r")
        if not line:
            return self.flush()
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def flush(self) -> tuple[str, str] | None:
        frame = (self._event, "\n".join(self._data)) if self._data else None
        self._event, self._data = "message", []
        return frame


def sse_frames(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event, data) for each frame in the lines."""
    parser = SseFrames()
    for line in [*lines, ""]:
        frame = parser.feed(line)
        if frame is not None:
            yield frame


def to_doc(hit: Mapping[str, Any]) -> Doc:
    return Doc(
        str(hit["_id"]), hit.get("_source", {}), hit.get("_seq_no"), hit.get("_primary_term")
    )


def search_hits(result: Mapping[str, Any]) -> tuple[list[Doc], int]:
    """The hits of a `_search` answer (with versions) and the total number of matches."""
    hits = result.get("hits", {})
    return [to_doc(h) for h in hits.get("hits", [])], _total(hits.get("total"))


def _total(total: Any) -> int:
    return int(total.get("value", 0)) if isinstance(total, dict) else int(total or 0)


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
