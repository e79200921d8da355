"""Endpoint records as GET shows them: key order, filtered fields, defaults
(elastic/elasticsearch `ModelConfigurations.toFilteredXContent`,
`OpenAiEmbeddingsServiceSettings.toXContentFragmentOfExposedFields`), and the preconfigured
endpoints every cluster lists (`ModelRegistry.defaultConfigs`, `ElasticsearchInternalService`)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .chunking import DEFAULT_SETTINGS, OLD_DEFAULT_SETTINGS
from .services import SERVICES
from .versions import Capabilities

if TYPE_CHECKING:
    from .state import EsState

_EMBEDDING_ORDER = (
    "model_id",
    "url",
    "organization_id",
    "similarity",
    "dimensions",
    "max_input_tokens",
    "rate_limit",
)
_COMPLETION_ORDER = ("model_id", "url", "organization_id", "max_input_tokens", "rate_limit")
_ADAPTIVE = {"enabled": True, "min_number_of_allocations": 0, "max_number_of_allocations": 32}


def render(
    record: dict[str, Any], caps: Capabilities, state: EsState | None = None
) -> dict[str, Any]:
    """`ModelConfigurations.toFilteredXContent`: never secrets nor internal flags."""
    service = SERVICES.get(record["service"])
    settings = _service_settings(record)
    if service is not None and state is not None:
        settings = service.render_settings(record, state)
    out: dict[str, Any] = {
        "inference_id": record["inference_id"],
        "task_type": record["task_type"],
        "service": record["service"],
        "service_settings": settings,
    }
    task_settings = record.get("task_settings") or {}
    if task_settings or not caps.omit_empty_task_settings:
        out["task_settings"] = copy.deepcopy(task_settings)
    chunking = _chunking(record, caps)
    if chunking is not None:
        out["chunking_settings"] = chunking
    if service is not None and state is not None:
        out.update(service.extra_fields(record, state))
    return out


def _service_settings(record: dict[str, Any]) -> dict[str, Any]:
    settings = record["service_settings"]
    if record["service"] != "openai":
        return copy.deepcopy(settings)
    order = _EMBEDDING_ORDER if record["task_type"] == "text_embedding" else _COMPLETION_ORDER
    return {k: copy.deepcopy(settings[k]) for k in order if settings.get(k) is not None}


def _chunking(record: dict[str, Any], caps: Capabilities) -> dict[str, Any] | None:
    if not caps.chunking:
        return None
    chunking = record.get("chunking_settings")
    if chunking is None and _chunked(record):
        # Endpoints persisted before 8.16 read back with the old word-based default.
        return dict(OLD_DEFAULT_SETTINGS)
    return copy.deepcopy(chunking)


def _chunked(record: dict[str, Any]) -> bool:
    """Which endpoints carry chunking settings: openai's text_embedding ones; for the other
    services the embedding task types (`parseRequestConfig` reads `chunking_settings` only
    for them)."""
    if record["service"] == "openai":
        return bool(record["task_type"] == "text_embedding")
    if record["service"] not in SERVICES:
        return False
    return record["task_type"] in ("text_embedding", "sparse_embedding")


def _elasticsearch(inference_id: str, task_type: str, model_id: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "inference_id": inference_id,
        "task_type": task_type,
        "service": "elasticsearch",
        "service_settings": {
            "num_threads": 1,
            "model_id": model_id,
            "adaptive_allocations": dict(_ADAPTIVE),
        },
        "task_settings": {},
        "chunking_settings": dict(DEFAULT_SETTINGS),
    }
    if task_type == "rerank":
        record["task_settings"] = {"return_documents": True}
        record["chunking_settings"] = None
    return record


_PRECONFIGURED = {
    ".elser-2-elasticsearch": ("sparse_embedding", ".elser_model_2_linux-x86_64"),
    ".multilingual-e5-small-elasticsearch": (
        "text_embedding",
        ".multilingual-e5-small_linux-x86_64",
    ),
    ".rerank-v1-elasticsearch": ("rerank", ".rerank-v1"),
}


def preconfigured(caps: Capabilities) -> dict[str, dict[str, Any]]:
    """`ElasticsearchInternalService` default configs (`DefaultEndPointsIT`)."""
    return {
        endpoint_id: _elasticsearch(endpoint_id, *_PRECONFIGURED[endpoint_id])
        for endpoint_id in caps.default_endpoints
    }
