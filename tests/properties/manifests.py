"""Hypothesis strategies for valid `openai` manifests of every task type, with a server release.

A drawn `Case` is what the server would accept on that release (ES `OpenAiService` and its
settings classes, `ChunkingSettingsBuilder`, and the spec's `@availability since=` tags):
chunking only on text_embedding, `none`/`recursive` from 9.1, `headers` from 9.2, dimensions
only where the upstream honours them. Values are drawn freely, defaults included, so that the
properties also cover "explicitly set to the default".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

RELEASES = ((8, 16), (8, 18), (9, 0), (9, 1), (9, 2), (9, 5))
EMBEDDING_MODELS = (
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
    "acme-embed",
)
CHAT_MODELS = ("gpt-4o", "gpt-4o-mini", "acme-chat")
DIMENSIONS = {
    "text-embedding-3-small": (64, 256, 768, 1536),
    "text-embedding-3-large": (64, 256, 1536, 3072),
    "acme-embed": (64, 768, 3072),
}
"""`dimensions` the upstream honours per model (none for ada-002; at most the model's size)."""


@dataclass(frozen=True)
class Case:
    """One manifest body (without api_key), its task type, and the server release."""

    task_type: str
    body: dict[str, Any]
    release: tuple[int, int]


def _optional(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), values.map(lambda value: {key: value}))


def _similarity() -> st.SearchStrategy[str]:
    names = st.sampled_from(("cosine", "dot_product", "l2_norm"))
    return st.tuples(names, st.sampled_from((str.lower, str.upper, str.title))).map(
        lambda pair: pair[1](pair[0])
    )


@st.composite
def service_settings(draw: st.DrawFn, task_type: str) -> dict[str, Any]:
    embedding = task_type == "text_embedding"
    model = draw(st.sampled_from(EMBEDDING_MODELS if embedding else CHAT_MODELS))
    settings: dict[str, Any] = {"model_id": model}
    default_url = (
        "https://api.openai.com/v1/embeddings"
        if embedding
        else "https://api.openai.com/v1/chat/completions"
    )
    urls = st.sampled_from((default_url, "http://localhost:9200/v1/openai"))
    settings |= draw(_optional("url", urls))
    settings |= draw(_optional("organization_id", st.sampled_from(("org-1", "org-acme"))))
    settings |= draw(_optional("max_input_tokens", st.integers(1, 8191)))
    rpm = st.integers(1, 10_000).map(lambda n: {"requests_per_minute": n})
    rate: st.SearchStrategy[dict[str, int]] = st.one_of(st.just({}), rpm)
    settings |= draw(_optional("rate_limit", rate))
    if embedding:
        settings |= draw(_optional("similarity", _similarity()))
        sizes = DIMENSIONS.get(model, ())
        if sizes:
            settings |= draw(_optional("dimensions", st.sampled_from(sizes)))
    return settings


@st.composite
def task_settings(draw: st.DrawFn, release: tuple[int, int]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    settings |= draw(_optional("user", st.sampled_from(("alice", "team-search"))))
    if release >= (9, 2):
        headers = st.dictionaries(
            st.sampled_from(("X-Trace", "X-Team")), st.sampled_from(("1", "a")), min_size=1
        )
        settings |= draw(_optional("headers", headers))
    return settings


@st.composite
def chunking_settings(draw: st.DrawFn, release: tuple[int, int]) -> dict[str, Any] | None:
    kinds = ["absent", "empty", "sentence", "word"]
    if release >= (9, 1):
        kinds += ["none", "recursive"]
    kind = draw(st.sampled_from(kinds))
    if kind == "absent":
        return None
    if kind == "empty":
        return {}
    if kind == "none":
        return {"strategy": "none"} | draw(_optional("max_chunk_size", st.integers(1, 500)))
    if kind == "sentence":
        chunk = {"strategy": "sentence", "max_chunk_size": draw(st.integers(20, 300))}
        return chunk | draw(_optional("sentence_overlap", st.sampled_from((0, 1))))
    size = draw(st.integers(10, 300))
    if kind == "word":
        return {
            "strategy": "word",
            "max_chunk_size": size,
            "overlap": draw(st.integers(1, size // 2)),
        }
    return {"strategy": "recursive", "max_chunk_size": size} | draw(_separators())


def _separators() -> st.SearchStrategy[dict[str, Any]]:
    groups = st.sampled_from(("plaintext", "markdown", " Markdown ", "PLAINTEXT"))
    lists = st.lists(st.sampled_from(("\n\n", "\n", ". ", "(?<!\\n)\\n")), min_size=1, max_size=3)
    return st.one_of(
        st.just({}),
        groups.map(lambda group: {"separator_group": group}),
        lists.map(lambda items: {"separators": items}),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A valid manifest body for a random task type and release."""
    release = draw(st.sampled_from(RELEASES))
    task_types = ["text_embedding", "completion"] + (
        ["chat_completion"] if release >= (8, 18) else []
    )
    task_type = draw(st.sampled_from(task_types))
    body: dict[str, Any] = {
        "service": "openai",
        "service_settings": draw(service_settings(task_type)),
    }
    task = draw(task_settings(release))
    keep_empty: bool = draw(st.booleans())
    if task or keep_empty:
        body["task_settings"] = task
    chunking = draw(chunking_settings(release)) if task_type == "text_embedding" else None
    if chunking is not None:
        body["chunking_settings"] = chunking
    shown_type = draw(st.sampled_from((task_type, task_type.upper())))
    return Case(task_type=shown_type, body=body, release=release)
