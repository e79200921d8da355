"""The named normalizers: turn a desired body and a live body into one canonical form.

The canonical form is a plain dict without secrets (`api_key`; the others never reach it:
`DesiredEndpoint` keeps them apart, and GET never shows one):
`{"task_type", "service", "service_settings", "task_settings"?, "chunking_settings"?}`.
Both sides go through the same steps over a private copy. For the desired side the `fill_*`
steps add what the server would fill in on that release (`defaults.py`); for the live side
they do nothing, and `set_identity` strips what is not comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.defaults import (
    DEFAULT_SIMILARITY,
    DEFAULT_URLS,
    RATE_LIMIT_RPM,
    SENTENCE_OVERLAP,
    Release,
    default_chunking,
    model_dimensions,
    separators_for,
    supports,
)
from reconciler.model import JSON

Spec = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """What a normalizer needs: the endpoint's task type and, for the desired side, the release."""

    task_type: str
    release: Release | None = None  # None: a live body, nothing is filled in
    legacy_chunking: bool = False  # an unset chunking means word/250/100 (created before 8.16)

    @property
    def fill(self) -> bool:
        return self.release is not None


Normalizer = Callable[[Spec, Context], None]


def set_identity(spec: Spec, ctx: Context) -> None:
    """Task type from the URL or the live object, lower-cased; drop ids, secrets, internals."""
    for key in ("inference_id", "metadata", "reconcile"):
        spec.pop(key, None)
    spec["task_type"] = ctx.task_type.lower()
    settings = section(spec, "service_settings")
    for key in ("api_key", "dimensions_set_by_user"):
        settings.pop(key, None)


def move_legacy_model_id(spec: Spec, ctx: Context) -> None:
    """A `task_settings.model`/`model_id` moves to `service_settings.model_id`
    (`OpenAiService.moveModelFromTaskToServiceSettings`)."""
    settings, task = section(spec, "service_settings"), section(spec, "task_settings")
    for key in ("model", "model_id"):
        if key in task and "model_id" not in settings:
            settings["model_id"] = task.pop(key)


def drop_default_url(spec: Spec, ctx: Context) -> None:
    """The default URL is never echoed; an explicit default means the same endpoint."""
    settings = section(spec, "service_settings")
    if "url" in settings and settings["url"] == DEFAULT_URLS.get(spec["task_type"]):
        del settings["url"]


def lower_similarity(spec: Spec, ctx: Context) -> None:
    """`similarity` is parsed case-insensitively and echoed lower-case
    (`SimilarityMeasure.fromString`)."""
    settings = section(spec, "service_settings")
    if isinstance(settings.get("similarity"), str):
        settings["similarity"] = settings["similarity"].lower()


def fill_similarity(spec: Spec, ctx: Context) -> None:
    """text_embedding: the validation call stores `dot_product` when unset
    (`TextEmbeddingModelValidator`)."""
    if ctx.fill and spec["task_type"] == "text_embedding":
        section(spec, "service_settings").setdefault("similarity", DEFAULT_SIMILARITY)


def fill_dimensions(spec: Spec, ctx: Context) -> None:
    """text_embedding: the upstream's vector length when unset, if we know the model."""
    settings = section(spec, "service_settings")
    if ctx.fill and spec["task_type"] == "text_embedding" and "dimensions" not in settings:
        dimensions = model_dimensions(settings.get("model_id"))
        if dimensions is not None:
            settings["dimensions"] = dimensions


def fill_rate_limit(spec: Spec, ctx: Context) -> None:
    """`rate_limit.requests_per_minute`: 3000 or 500 per task type when unset (8.15+)."""
    rpm = RATE_LIMIT_RPM.get(spec["task_type"])
    if not ctx.fill or rpm is None or not supports("rate_limit", ctx.release or (0, 0)):
        return
    limit = section(spec, "service_settings").setdefault("rate_limit", {})
    if isinstance(limit, dict):
        limit.setdefault("requests_per_minute", rpm)


def drop_empty_task_settings(spec: Spec, ctx: Context) -> None:
    """Empty `task_settings` are omitted from responses since 8.16
    (elastic/elasticsearch#114389)."""
    if not spec.get("task_settings"):
        spec.pop("task_settings", None)


def canonical_chunking(spec: Spec, ctx: Context) -> None:
    """text_embedding chunking in the shape the server echoes; the default when unset."""
    if spec["task_type"] != "text_embedding":
        return
    raw = spec.get("chunking_settings")
    if raw:
        spec["chunking_settings"] = _echo_shape(raw) if isinstance(raw, dict) else raw
    elif ctx.fill and supports("chunking_settings", ctx.release or (0, 0)):
        spec["chunking_settings"] = default_chunking(legacy=ctx.legacy_chunking)
    else:
        spec.pop("chunking_settings", None)


NORMALIZERS: tuple[Normalizer, ...] = (
    set_identity,
    move_legacy_model_id,
    drop_default_url,
    lower_similarity,
    fill_similarity,
    fill_dimensions,
    fill_rate_limit,
    drop_empty_task_settings,
    canonical_chunking,
)


def normalize_desired(
    body: Mapping[str, JSON], *, task_type: str, release: Release, legacy_chunking: bool = False
) -> Spec:
    """A manifest body as the server would hold it after a PUT on this release."""
    return _normalize(body, Context(task_type, release, legacy_chunking))


def normalize_live(body: Mapping[str, JSON], *, task_type: str) -> Spec:
    """A GET entry with everything not comparable stripped."""
    return _normalize(body, Context(task_type))


def _normalize(body: Mapping[str, JSON], ctx: Context) -> Spec:
    spec: Spec = thaw(body)
    for step in NORMALIZERS:
        step(spec, ctx)
    return spec


def _echo_shape(raw: dict[str, Any]) -> dict[str, Any]:
    strategy = raw.get("strategy")
    if strategy == "none":  # `ChunkingSettingsBuilder` drops every other key unvalidated
        return {"strategy": "none"}
    if strategy == "sentence":
        return {**raw, "sentence_overlap": raw.get("sentence_overlap", SENTENCE_OVERLAP)}
    if strategy == "recursive":
        return _recursive_shape(raw)
    return raw


def _recursive_shape(raw: dict[str, Any]) -> dict[str, Any]:
    """`separator_group` is expanded and never echoed; neither given means plaintext."""
    shaped = dict(raw)
    group = shaped.pop("separator_group", None)
    expanded = separators_for(group) if group is not None else None
    if group is not None and expanded is None:
        return raw  # an unknown group: the server rejects it, keep it visible
    if expanded is not None:
        shaped["separators"] = expanded
    shaped.setdefault("separators", separators_for("plaintext"))
    return shaped


# --- helpers shared with diff.py ---------------------------------------------------------------


def thaw(value: Any) -> Any:
    """A deep copy as plain dicts and lists (fast: bodies are small JSON trees)."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value


def section(spec: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = spec.get(key)
    return value if isinstance(value, dict) else {}
