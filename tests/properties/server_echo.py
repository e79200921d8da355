"""What `GET _inference/{id}` returns after a successful `PUT _inference/{task_type}/{id}`.

A second, independent reading of the Elasticsearch source (elastic/elasticsearch:
`OpenAiService.parseRequestConfig` and its settings classes, `ChunkingSettingsBuilder`,
`TextEmbeddingModelValidator`, `ModelConfigurations.toFilteredXContent`), written without
reconciler.diff or reconciler.defaults, so that property tests compare two implementations of
the same facts instead of one with itself. Pure: body in, entry out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UPSTREAM_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
OTHER_MODEL_DIMENSIONS = 768
"""The vector length the fake upstream returns for a model it does not know."""

DEFAULT_URLS = {
    "text_embedding": "https://api.openai.com/v1/embeddings",
    "completion": "https://api.openai.com/v1/chat/completions",
    "chat_completion": "https://api.openai.com/v1/chat/completions",
}
_GROUPS = {
    "plaintext": ["(?<!\\n)\\n\\n(?!\\n)", "(?<!\\n)\\n(?!\\n)"],
    "markdown": [
        "\n# ",
        "\n## ",
        "\n### ",
        "\n#### ",
        "\n##### ",
        "\n###### ",
        "\n^(?!\\s*$).*\\n-{1,}\\n",
        "\n^(?!\\s*$).*\\n={1,}\\n",
    ],
}


def simulate_server_echo(
    inference_id: str,
    task_type: str,
    body: Mapping[str, Any],
    *,
    release: tuple[int, int] = (8, 18),
) -> dict[str, Any]:
    """The GET entry, keys in the server's order, for a PUT body the server accepted."""
    task_type = task_type.lower()
    service = dict(body["service_settings"])
    service.pop("api_key", None)
    task = dict(body.get("task_settings") or {})
    if "model_id" not in service:  # legacy form (`moveModelFromTaskToServiceSettings`)
        for key in ("model", "model_id"):
            if key in task:
                service["model_id"] = task.pop(key)
                break
    entry: dict[str, Any] = {
        "inference_id": inference_id,
        "task_type": task_type,
        "service": body["service"],
        "service_settings": _service_settings(task_type, service, release),
    }
    echoed_task = {key: task[key] for key in ("user", "headers") if task.get(key)}
    if echoed_task:  # empty task_settings are omitted (8.16+)
        entry["task_settings"] = echoed_task
    if task_type == "text_embedding" and release >= (8, 16):
        entry["chunking_settings"] = _chunking(body.get("chunking_settings"))
    return entry


def _service_settings(
    task_type: str, given: dict[str, Any], release: tuple[int, int]
) -> dict[str, Any]:
    out: dict[str, Any] = {"model_id": given["model_id"]}
    for key in ("url", "organization_id"):
        if key in given:
            out[key] = given[key]
    if task_type == "text_embedding":
        out["similarity"] = str(given.get("similarity", "dot_product")).lower()
        out["dimensions"] = given.get("dimensions", _upstream_length(given["model_id"]))
    if "max_input_tokens" in given:
        out["max_input_tokens"] = given["max_input_tokens"]
    if release >= (8, 15):
        default = 3000 if task_type == "text_embedding" else 500
        rpm = (given.get("rate_limit") or {}).get("requests_per_minute", default)
        out["rate_limit"] = {"requests_per_minute": rpm}
    return out


def _upstream_length(model_id: str) -> int:
    return UPSTREAM_DIMENSIONS.get(model_id, OTHER_MODEL_DIMENSIONS)


def _chunking(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
    strategy = raw["strategy"]
    if strategy == "none":
        return {"strategy": "none"}
    if strategy == "word":
        return {
            "strategy": "word",
            "max_chunk_size": raw["max_chunk_size"],
            "overlap": raw["overlap"],
        }
    if strategy == "sentence":
        overlap = raw.get("sentence_overlap", 1)
        return {
            "strategy": "sentence",
            "max_chunk_size": raw["max_chunk_size"],
            "sentence_overlap": overlap,
        }
    if "separator_group" in raw:
        separators = _GROUPS[str(raw["separator_group"]).strip().lower()]
    else:
        separators = raw.get("separators", _GROUPS["plaintext"])
    return {
        "strategy": "recursive",
        "max_chunk_size": raw["max_chunk_size"],
        "separators": list(separators),
    }
