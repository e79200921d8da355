"""Normalize desired and live endpoints into one canonical form, then compare them three ways.

The canonical form is a plain dict without `api_key`:
`{"task_type", "service", "service_settings", "task_settings"?, "chunking_settings"?}`.
Both sides go through the same named normalizers over a private copy. For the desired side
the `fill_*` steps add what the server would fill in on that release (`defaults.py`); for the
live side they do nothing, and `set_identity` strips what is not comparable.

The three-way compare turns target (desired plus the values the server chose) against live
into the field changes apply must make, each marked `drift` when live also differs from what
reconciler last applied. deepdiff runs only once a plain equality check has failed.
Knows nothing of actions: that is the planner's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.defaults import (
    DEFAULT_SIMILARITY,
    DEFAULT_URLS,
    LEGACY_CHUNKING,
    RATE_LIMIT_RPM,
    SENTENCE_OVERLAP,
    SERVER_CHOSEN,
    Release,
    default_chunking,
    model_dimensions,
    separators_for,
    supports,
)
from reconciler.model import (
    JSON,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    LiveEndpoint,
    PlannedChange,
)

Spec = dict[str, Any]
Path = tuple[str, ...]

SERVER_CHOSEN_KEY = "server_chosen"
"""Key of a last-applied spec listing the paths whose value the server chose (not the user)."""

API_KEY_PATH = "service_settings.api_key"

_MISSING: Any = object()


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


# --- normalizers: each does one thing to the private copy, in place ------------------------


def set_identity(spec: Spec, ctx: Context) -> None:
    """Task type from the URL or the live object, lower-cased; drop ids, secrets, internals."""
    for key in ("inference_id", "metadata", "reconcile"):
        spec.pop(key, None)
    spec["task_type"] = ctx.task_type.lower()
    settings = _section(spec, "service_settings")
    for key in ("api_key", "dimensions_set_by_user"):
        settings.pop(key, None)


def move_legacy_model_id(spec: Spec, ctx: Context) -> None:
    """A `task_settings.model`/`model_id` moves to `service_settings.model_id` (ref 2.1)."""
    settings, task = _section(spec, "service_settings"), _section(spec, "task_settings")
    for key in ("model", "model_id"):
        if key in task and "model_id" not in settings:
            settings["model_id"] = task.pop(key)


def drop_default_url(spec: Spec, ctx: Context) -> None:
    """The default URL is never echoed; an explicit default means the same endpoint."""
    settings = _section(spec, "service_settings")
    if "url" in settings and settings["url"] == DEFAULT_URLS.get(spec["task_type"]):
        del settings["url"]


def lower_similarity(spec: Spec, ctx: Context) -> None:
    """`similarity` is parsed case-insensitively and echoed lower-case (ref 2.1)."""
    settings = _section(spec, "service_settings")
    if isinstance(settings.get("similarity"), str):
        settings["similarity"] = settings["similarity"].lower()


def fill_similarity(spec: Spec, ctx: Context) -> None:
    """text_embedding: the validation call stores `dot_product` when unset (ref 3)."""
    if ctx.fill and spec["task_type"] == "text_embedding":
        _section(spec, "service_settings").setdefault("similarity", DEFAULT_SIMILARITY)


def fill_dimensions(spec: Spec, ctx: Context) -> None:
    """text_embedding: the upstream's vector length when unset, if we know the model."""
    settings = _section(spec, "service_settings")
    if ctx.fill and spec["task_type"] == "text_embedding" and "dimensions" not in settings:
        dimensions = model_dimensions(settings.get("model_id"))
        if dimensions is not None:
            settings["dimensions"] = dimensions


def fill_rate_limit(spec: Spec, ctx: Context) -> None:
    """`rate_limit.requests_per_minute`: 3000 or 500 per task type when unset (8.15+)."""
    rpm = RATE_LIMIT_RPM.get(spec["task_type"])
    if not ctx.fill or rpm is None or not supports("rate_limit", ctx.release or (0, 0)):
        return
    limit = _section(spec, "service_settings").setdefault("rate_limit", {})
    if isinstance(limit, dict):
        limit.setdefault("requests_per_minute", rpm)


def drop_empty_task_settings(spec: Spec, ctx: Context) -> None:
    """Empty `task_settings` are omitted from responses since 8.16 (ref 4.2)."""
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
    spec: Spec = _thaw(body)
    for step in NORMALIZERS:
        step(spec, ctx)
    return spec


def _echo_shape(raw: dict[str, Any]) -> dict[str, Any]:
    strategy = raw.get("strategy")
    if strategy == "none":  # the builder drops every other key unvalidated (ref 2.6)
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


# --- three-way compare ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """Target (what apply should leave on the server) and the field changes from live to it."""

    target: Spec
    changes: tuple[FieldChange, ...]

    @property
    def drift(self) -> bool:
        return any(change.drift for change in self.changes)


def compare_endpoint(
    desired: DesiredEndpoint,
    live: LiveEndpoint,
    *,
    last_applied: Mapping[str, JSON] | None,
    release: Release,
) -> Comparison:
    """Normalize both sides of one endpoint and compare them three ways."""
    live_spec = normalize_live(live.body, task_type=live.task_type)
    legacy = uses_legacy_chunking(desired.body, last_applied, live_spec)
    spec = normalize_desired(
        desired.body, task_type=desired.task_type, release=release, legacy_chunking=legacy
    )
    return compare(spec, live_spec, last_applied)


def compare(desired: Spec, live: Spec, last_applied: Mapping[str, JSON] | None) -> Comparison:
    """Three-way compare of canonical forms: the changes from live to desired, drift marked."""
    target = with_server_choices(desired, live, last_applied)
    if target == live:
        return Comparison(target, ())
    last = _last_spec(last_applied)
    chosen = SERVER_CHOSEN.get(target.get("task_type", ""), ())
    changes = tuple(
        _change(path, live, target, last, chosen) for path in changed_paths(live, target)
    )
    return Comparison(target, changes)


def with_server_choices(desired: Spec, live: Spec, last_applied: Mapping[str, JSON] | None) -> Spec:
    """Desired plus the server-chosen values the user left unset (never diffed).

    A value the user had set before (in last-applied, not marked server-chosen) stays unset:
    removing it is a real change back to the server's choice.
    """
    target = desired
    for path in SERVER_CHOSEN.get(desired.get("task_type", ""), ()):
        if _get(desired, path) is _MISSING:
            target = _put(target, path, _server_choice(path, live, last_applied))
    return target


def _server_choice(path: Path, live: Spec, last_applied: Mapping[str, JSON] | None) -> Any:
    if last_applied is None:  # adopting: accept what the server chose
        return _get(live, path)
    if _dotted(path) in last_applied.get(SERVER_CHOSEN_KEY, ()):  # remembered: drift shows
        return _get(last_applied, path)
    if _get(last_applied, path) is not _MISSING:  # the user removed it: back to the default
        return _MISSING
    return _get(live, path)  # last-applied never knew it


def uses_legacy_chunking(
    body: Mapping[str, JSON], last_applied: Mapping[str, JSON] | None, live: Spec
) -> bool:
    """Whether unset chunking means word/250/100: the endpoint predates 8.16 (ref 2.6)."""
    if body.get("chunking_settings") or live.get("task_type") != "text_embedding":
        return False
    if last_applied is not None:
        was_embedding = last_applied.get("task_type") == "text_embedding"
        return was_embedding and "chunking_settings" not in last_applied
    return live.get("chunking_settings") == LEGACY_CHUNKING


def field_changes(before: Mapping[str, JSON], after: Mapping[str, JSON]) -> tuple[FieldChange, ...]:
    """A plain two-way diff of canonical forms, lists compared whole."""
    return tuple(_change(path, before, after, None, ()) for path in changed_paths(before, after))


def changed_paths(before: Mapping[str, JSON], after: Mapping[str, JSON]) -> list[Path]:
    """Sorted paths of the values that differ; a list is one value (`separators`)."""
    if before == after:
        return []
    from deepdiff import DeepDiff  # 130 ms to import: only paid when something changed

    tree = DeepDiff(before, after, view="tree", ignore_numeric_type_changes=True)
    found = {
        _atomic(level.path(output_format="list")) for levels in tree.values() for level in levels
    }
    return sorted(found)


def _change(
    path: Path,
    before: Mapping[str, JSON],
    after: Mapping[str, JSON],
    last: Mapping[str, JSON] | None,
    chosen: Iterable[Path],
) -> FieldChange:
    old, new = _get(before, path), _get(after, path)
    op = _op(old, new)
    return FieldChange(
        path=_dotted(path),
        before=None if old is _MISSING else old,
        after=None if new is _MISSING else new,
        op=op,
        drift=last is not None and _get(last, path) != old,
        computed=op is FieldOp.REMOVED and path in chosen,
    )


def _op(old: Any, new: Any) -> FieldOp:
    if old is _MISSING:
        return FieldOp.ADDED
    return FieldOp.REMOVED if new is _MISSING else FieldOp.CHANGED


# --- bodies for the executor and state ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """An `_update` body; when `include_api_key`, the client adds `service_settings.api_key`."""

    body: dict[str, JSON]
    include_api_key: bool


def request_body(desired: DesiredEndpoint) -> dict[str, JSON]:
    """The PUT body exactly as the manifest wrote it, minus `api_key` and path parameters."""
    body: dict[str, JSON] = _thaw(desired.body)
    for key in ("inference_id", "task_type", "reconcile"):
        body.pop(key, None)
    _section(body, "service_settings").pop("api_key", None)
    return body


def update_body(change: PlannedChange) -> UpdateRequest:
    """The minimal `_update` body for an in-place change.

    Each changed key is sent whole from the planned spec (a changed header sends the whole
    `headers` map; chunking is sent whole), so merge and replace semantics give the same result.
    Any `service_settings` in an update body must carry the key (ref 6.3).
    """
    body: dict[str, JSON] = {}
    for item in change.fields:
        if not item.sensitive:
            _copy_updated(body, change.spec or {}, item.path)
    rotate = any(item.sensitive for item in change.fields)
    return UpdateRequest(body=body, include_api_key=rotate or "service_settings" in body)


def last_applied_spec(desired: DesiredEndpoint, live_after_apply: LiveEndpoint) -> dict[str, JSON]:
    """What state remembers: the server's read-back, normalized, and which values it chose."""
    spec = normalize_live(live_after_apply.body, task_type=live_after_apply.task_type)
    raw = normalize_live(desired.body, task_type=desired.task_type)
    chosen = [
        _dotted(path)
        for path in SERVER_CHOSEN.get(spec["task_type"], ())
        if _get(raw, path) is _MISSING and _get(spec, path) is not _MISSING
    ]
    if chosen:
        spec[SERVER_CHOSEN_KEY] = chosen
    return spec


def _copy_updated(body: dict[str, Any], spec: Mapping[str, JSON], path: str) -> None:
    """Copy the updatable unit holding path: a whole chunking object, else a section key."""
    parts = tuple(path.split("."))
    unit = parts[:1] if parts[0] == "chunking_settings" else parts[:2]
    value = _get(spec, unit)
    if value is _MISSING:
        return
    if len(unit) == 1:
        body[unit[0]] = _thaw(value)
    else:
        body.setdefault(unit[0], {})[unit[1]] = _thaw(value)


def create_fields(spec: Mapping[str, JSON]) -> tuple[FieldChange, ...]:
    """What a create sets, leaf by leaf, plus the values the server will choose (computed)."""
    chosen = SERVER_CHOSEN.get(spec.get("task_type", ""), ())
    later = [
        FieldChange(path=_dotted(path), op=FieldOp.ADDED, computed=True)
        for path in chosen
        if _get(spec, path) is _MISSING
    ]
    return tuple(sorted([*_leaves(spec, ()), *later], key=lambda item: item.path))


def _leaves(spec: Mapping[str, JSON], prefix: Path) -> list[FieldChange]:
    found: list[FieldChange] = []
    for key, value in spec.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            found.extend(_leaves(value, path))
        else:
            found.append(FieldChange(path=_dotted(path), after=value, op=FieldOp.ADDED))
    return found


# --- small helpers -------------------------------------------------------------------------


def _thaw(value: Any) -> Any:
    """A deep copy as plain dicts and lists (fast: bodies are small JSON trees)."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(item) for item in value]
    return value


def _section(spec: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = spec.get(key)
    return value if isinstance(value, dict) else {}


def _get(spec: Mapping[str, Any] | None, path: Path) -> Any:
    value: Any = spec
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _put(spec: Spec, path: Path, value: Any) -> Spec:
    """A copy of spec with value at path (or without it, for _MISSING)."""
    head, rest = path[0], path[1:]
    copy = dict(spec)
    if rest:
        copy[head] = _put(_section(spec, head), rest, value)
    elif value is _MISSING:
        copy.pop(head, None)
    else:
        copy[head] = value
    return copy


def _atomic(path: list[Any]) -> Path:
    """The path cut at the first list index: lists are compared whole."""
    cut = next((i for i, key in enumerate(path) if not isinstance(key, str)), len(path))
    return tuple(path[:cut])


def _last_spec(last_applied: Mapping[str, JSON] | None) -> Mapping[str, JSON] | None:
    if last_applied is None or SERVER_CHOSEN_KEY not in last_applied:
        return last_applied
    return {key: value for key, value in last_applied.items() if key != SERVER_CHOSEN_KEY}


def _dotted(path: Path) -> str:
    return ".".join(path)
