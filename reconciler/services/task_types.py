"""Every task type any service offers: what its inference returns, whether `chunking_settings`
apply, and the smoke check (`reconciler.smoke`, by name) that proves an endpoint of it works.

Data only, beside the service registry: a service names its task types, this table says what
each one means. Output shapes are those of the inference API's responses
(elastic/elasticsearch-specification `specification/inference/_types/Results.ts`: the
`text_embedding`, `sparse_embedding`, `rerank` (`RankedDocument`) and `completion`
(`CompletionResult`) results; `chat_completion` answers with a server-sent event stream only).
Whether a task type chunks is the upper bound over the services: a service's own scope is in
its schema (`reconciler.services.build.chunking_task_types`) and its `ServiceFacts.filled`
chunking row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Output(StrEnum):
    DENSE_VECTOR = "dense vector"
    SPARSE_WEIGHTS = "sparse token weights"
    RANKED_LIST = "ranked list"
    TEXT = "text"
    STREAMED_CHAT = "streamed chat"


@dataclass(frozen=True)
class TaskType:
    name: str
    output: Output
    chunking: bool
    """`chunking_settings` apply (for some service): the input is split before inference."""
    smoke: str
    """The smoke check to run, by name (`reconciler.smoke`)."""
    evidence: str
    results: tuple[str, ...] = ()
    """The keys its answer may carry its result under (`reconciler.responses.parse_inference`
    reads any of them); empty for a streamed answer."""


RESULTS = "elastic/elasticsearch-specification specification/inference/_types/Results.ts"
CHUNKING = (
    "elastic/elasticsearch x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/"
    "inference/chunking/ChunkingSettingsBuilder.java (embedding task types only; "
    "`semantic_text` chunks its input for them)"
)

TASK_TYPES: Mapping[str, TaskType] = MappingProxyType(
    {
        t.name: t
        for t in (
            TaskType(
                "text_embedding",
                Output.DENSE_VECTOR,
                True,
                "check_embedding",
                f"{RESULTS} (`text_embedding` float vectors, or `text_embedding_bytes`/"
                f"`text_embedding_bits`); {CHUNKING}",
                ("text_embedding", "text_embedding_bytes", "text_embedding_bits"),
            ),
            TaskType(
                "sparse_embedding",
                Output.SPARSE_WEIGHTS,
                True,
                "check_sparse",
                f"{RESULTS} (`sparse_embedding`: token → weight maps); {CHUNKING}",
                ("sparse_embedding",),
            ),
            TaskType(
                "rerank",
                Output.RANKED_LIST,
                False,
                "check_rerank",
                f"{RESULTS} (RankedDocument: index, relevance_score, text?)",
                ("rerank",),
            ),
            TaskType(
                "completion",
                Output.TEXT,
                False,
                "check_completion",
                f"{RESULTS} (CompletionResult: `completion[].result`)",
                ("completion",),
            ),
            TaskType(
                "chat_completion",
                Output.STREAMED_CHAT,
                False,
                "check_chat",
                "elastic/elasticsearch-specification specification/inference/"
                "chat_completion_unified (a server-sent event stream only)",
            ),
            TaskType(
                "embedding",
                Output.DENSE_VECTOR,
                True,
                "check_embedding",
                "elastic/elasticsearch PR #154174 (the multimodal `embedding` task: dense "
                f"vectors, chunked like text_embedding); {CHUNKING}",
                ("embeddings", "embeddings_bytes", "embeddings_bits"),
            ),
        )
    }
)
"""Task type → what it means, in the registry's TASK_ORDER."""


def smoke_check(task_type: str) -> str | None:
    """The name of the smoke check for `task_type`, or None for an unknown task type."""
    found = TASK_TYPES.get(task_type)
    return found.smoke if found is not None else None
