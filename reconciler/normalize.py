"""The named normalizers: turn a desired body and a live body into one canonical form.

The canonical form is a plain dict without secrets (the manifest's `${VAR}` references at the
service's secret paths are dropped; GET never shows one):
`{"task_type", "service", "service_settings", "task_settings"?, "chunking_settings"?}`.
Both sides go through the same steps over a private copy. What a service does is read from its
descriptor in the service registry (`reconciler.services.registry`, through `defaults.py`): its
named rewrites (`REWRITES`: case-insensitive enums, aliases, defaults never echoed), its dynamic
paths (dropped on both sides), and for the desired side the values the server fills in on that
release (`fill_*`); for the live side the fills do nothing, and `set_identity` strips what is
not comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.defaults import (
    SENTENCE_OVERLAP,
    Release,
    chunks,
    default_chunking,
    known_defaults,
    model_dimensions,
    normalizers_of,
    secret_paths,
    separators_for,
    supports,
)
from reconciler.model import JSON, drop_path
from reconciler.services import facts as service_facts
from reconciler.services.registry import SERVICES

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
    """Task type from the URL or the live object, lower-cased; drop ids, secrets, internals
    (every secret path the service declares: the manifest holds `${VAR}` references there)."""
    for key in ("inference_id", "metadata", "reconcile"):
        spec.pop(key, None)
    spec["task_type"] = ctx.task_type.lower()
    settings = section(spec, "service_settings")
    for key in ("api_key", "dimensions_set_by_user"):
        settings.pop(key, None)
    for path in secret_paths(spec.get("service")):
        drop_path(spec, path)


def drop_dynamic(spec: Spec, ctx: Context) -> None:
    """The paths whose value changes by itself (the descriptor's `Dynamic` facts) are never
    compared: `elasticsearch` `num_allocations` while adaptive allocations are on or the
    deployment is shared (`ElasticsearchInternalService.updateModelsWithDynamicFields`)."""
    service = spec.get("service")
    found = SERVICES.get(service) if isinstance(service, str) else None
    for item in found.facts.dynamic if found is not None else ():
        condition = _DYNAMIC_WHEN.get(item.path)
        if condition is None or condition(spec):
            drop_path(spec, tuple(item.path.split(".")))


def _adaptive_or_shared(spec: Spec) -> bool:
    settings = section(spec, "service_settings")
    adaptive = settings.get("adaptive_allocations")
    enabled = isinstance(adaptive, Mapping) and adaptive.get("enabled") is True
    return enabled or "deployment_id" in settings


_DYNAMIC_WHEN: dict[str, Callable[[Spec], bool]] = {
    "service_settings.num_allocations": _adaptive_or_shared,
}
"""A dynamic path's condition, where it has one (the descriptor states it in prose); a path
missing here is dynamic always (EIS `metadata`)."""


def service_rewrites(spec: Spec, ctx: Context) -> None:
    """The service's named normalizers (its descriptor's `normalizers`), in descriptor order."""
    for item in normalizers_of(spec.get("service"), spec["task_type"]):
        rewrite = REWRITES.get(item.name)
        if rewrite is not None:
            rewrite(spec, item)


def move_legacy_model_id(spec: Spec, item: service_facts.Normalizer) -> None:
    """openai: a `task_settings.model`/`model_id` moves to `service_settings.model_id`
    (`OpenAiService.moveModelFromTaskToServiceSettings`); cohere: the deprecated
    `service_settings.model` is read as `model_id` (`CohereCommonServiceSettings`)."""
    settings = section(spec, "service_settings")
    if item.path.startswith("task_settings"):
        task = section(spec, "task_settings")
        for key in ("model", "model_id"):
            if key in task and "model_id" not in settings:
                settings["model_id"] = task.pop(key)
        return
    legacy = item.path.rpartition(".")[2]
    if legacy in settings and "model_id" not in settings:
        settings["model_id"] = settings.pop(legacy)


def drop_default_url(spec: Spec, item: service_facts.Normalizer) -> None:
    """The default URL is never echoed; an explicit default means the same endpoint."""
    settings = section(spec, "service_settings")
    if "url" in settings and settings["url"] == item.table.get(spec["task_type"]):
        del settings["url"]


def lower_similarity(spec: Spec, item: service_facts.Normalizer) -> None:
    """`similarity` is parsed case-insensitively and echoed lower-case
    (`SimilarityMeasure.fromString`)."""
    _rewrite(spec, "service_settings.similarity", str.lower)


def alias(spec: Spec, item: service_facts.Normalizer) -> None:
    """An enum read case-insensitively and echoed as its canonical name (cohere
    `embedding_type`: int8 → byte, binary → bit)."""
    _rewrite(spec, item.path, lambda value: item.table.get(value.lower(), value.lower()))


def upper_enum(spec: Spec, item: service_facts.Normalizer) -> None:
    """An enum read in any case and echoed as the Java constant's name (Amazon Bedrock
    `provider`: `amazontitan` → `AMAZONTITAN`)."""
    _rewrite(spec, item.path, str.upper)


def lower_enum(spec: Spec, item: service_facts.Normalizer) -> None:
    """An enum read in any case and echoed lower case (cohere `truncate`, `input_type`)."""
    _rewrite(spec, item.path, str.lower)


def drop_default(spec: Spec, item: service_facts.Normalizer) -> None:
    """A value the server never echoes because it is the default (Amazon Bedrock
    `embedding_type: float`): the same endpoint as leaving it out."""
    default = str(item.table.get("default", "")).lower()
    _rewrite(spec, item.path, lambda value: None if value.lower() == default else value)


def _rewrite(spec: Spec, path: str, change: Callable[[str], str | None]) -> None:
    """Rewrite the string at a dotted path (anything else is left alone); None removes it."""
    parts = _leaf(spec, path)
    if parts is None:
        return
    holder, key = parts
    value = change(str(holder[key]))
    if value is None:
        del holder[key]
    else:
        holder[key] = value


REWRITES: dict[str, Callable[[Spec, service_facts.Normalizer], None]] = {
    "move_legacy_model_id": move_legacy_model_id,
    "drop_default_url": drop_default_url,
    "lower_similarity": lower_similarity,
    "alias": alias,
    "upper_enum": upper_enum,
    "lower_enum": lower_enum,
    "drop_default": drop_default,
}
"""Each normalizer name a descriptor may use (`Normalizer.name`) → what it does."""


def fill_known(spec: Spec, ctx: Context) -> None:
    """Every value the service's descriptor says GET shows when the manifest leaves it unset
    and that is known (`Filled` with a value): the rate limit per task type
    (`RateLimitSettings.of`, 8.15+), the similarity the validation call stores
    (`TextEmbeddingModelValidator`: openai and googlevertexai `dot_product`), a task setting's
    default (`elasticsearch` rerank `return_documents: true`). Chunking has its own step."""
    if not ctx.fill:
        return
    for path, value in known_defaults(spec.get("service"), spec["task_type"], ctx.release):
        _set_default(spec, path, value)


def _set_default(spec: Spec, path: tuple[str, ...], value: JSON) -> None:
    holder: Any = spec
    for key in path[:-1]:
        holder = holder.setdefault(key, {}) if isinstance(holder, dict) else None
    if isinstance(holder, dict):
        holder.setdefault(path[-1], thaw(value))


def fill_dimensions(spec: Spec, ctx: Context) -> None:
    """Embeddings: the upstream's vector length when unset, if we know the model."""
    settings = section(spec, "service_settings")
    if ctx.fill and "dimensions" not in settings and spec["task_type"] == "text_embedding":
        dimensions = model_dimensions(settings.get("model_id"), str(spec.get("service")))
        if dimensions is not None:
            settings["dimensions"] = dimensions


def drop_empty_task_settings(spec: Spec, ctx: Context) -> None:
    """Empty `task_settings` are omitted from responses since 8.16
    (elastic/elasticsearch#114389)."""
    if not spec.get("task_settings"):
        spec.pop("task_settings", None)


def canonical_chunking(spec: Spec, ctx: Context) -> None:
    """Chunking, where the service's task type chunks, in the shape the server echoes; the
    default when unset."""
    if not chunks(spec.get("service"), spec["task_type"]):
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
    drop_dynamic,
    service_rewrites,
    fill_known,
    fill_dimensions,
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


def _leaf(spec: Spec, path: str) -> tuple[dict[str, Any], str] | None:
    """The mapping holding a dotted path's last key, when a string is there."""
    *parents, key = path.split(".")
    holder: Any = spec
    for part in parents:
        holder = holder.get(part) if isinstance(holder, dict) else None
    if isinstance(holder, dict) and isinstance(holder.get(key), str):
        return holder, key
    return None


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
