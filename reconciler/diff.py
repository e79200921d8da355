"""Three-way compare of canonical forms, and the bodies the executor and state need.

Both sides are first brought into one canonical form by the named normalizers of
`normalize.py` (re-exported here). The three-way compare then turns target (desired plus the
values the server chose) against live into the field changes apply must make, each marked
`drift` when live also differs from what reconciler last applied. A plain equality check of
the canonical forms settles the common no-change case; only then does `changed_paths` walk the
two trees. Knows nothing of actions: that is the planner's job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.defaults import (
    LEGACY_CHUNKING,
    Release,
    chunks,
    hidden_paths,
    rotated_together,
    server_chosen,
)
from reconciler.model import (
    API_KEY,
    JSON,
    MISSING,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    LiveEndpoint,
    PlannedChange,
    dotted,
    drop_path,
    get_path,
)
from reconciler.normalize import (
    NORMALIZERS,
    Context,
    Spec,
    normalize_desired,
    normalize_live,
    section,
    thaw,
)

__all__ = [
    "API_KEY_PATH",
    "NORMALIZERS",
    "SERVER_CHOSEN_KEY",
    "Comparison",
    "Context",
    "UpdateRequest",
    "changed_paths",
    "compare",
    "compare_endpoint",
    "create_fields",
    "field_changes",
    "intent_digest",
    "last_applied_spec",
    "normalize_desired",
    "normalize_live",
    "request_body",
    "secret_changes",
    "secret_label",
    "update_body",
    "uses_legacy_chunking",
    "with_hidden",
    "with_server_choices",
]

Path = tuple[str, ...]

SERVER_CHOSEN_KEY = "server_chosen"
"""Key of a last-applied spec listing the paths whose value the server chose (not the user)."""

API_KEY_PATH = dotted(API_KEY)


# --- three-way compare ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """The field changes from live to target, where target is the canonical desired `spec`
    plus the values the server chose for what the manifest leaves unset. `spec` is what a
    read-back is checked against (`compare(spec, read_back, None)`): after a replace the server
    may choose differently, so its earlier choices are no promise."""

    spec: Spec
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
    return compare(spec, with_hidden(live_spec, spec, last_applied), last_applied)


def with_hidden(live: Spec, desired: Spec, last_applied: Mapping[str, JSON] | None) -> Spec:
    """Live plus the hidden-but-stored values GET never shows (cohere `url`, `api_version`):
    what was last applied there, the only record of what the server holds; adopting (no
    record), the manifest's, which cannot be checked."""
    paths = hidden_paths(live.get("service"))
    if not paths or live.get("service") != desired.get("service"):
        return live
    source: Mapping[str, JSON] = desired if last_applied is None else last_applied
    found = live
    for path in paths:
        if get_path(found, path) is MISSING:
            value = get_path(source, path)
            if value is not MISSING:
                found = _put(found, path, value)
    return found


def compare(desired: Spec, live: Spec, last_applied: Mapping[str, JSON] | None) -> Comparison:
    """Three-way compare of canonical forms: the changes from live to desired, drift marked."""
    target = with_server_choices(desired, live, last_applied)
    if target == live:
        return Comparison(desired, target, ())
    last = _last_spec(last_applied)
    chosen = _chosen(target)
    changes = tuple(
        _change(path, live, target, last, chosen) for path in changed_paths(live, target)
    )
    return Comparison(desired, target, changes)


def with_server_choices(desired: Spec, live: Spec, last_applied: Mapping[str, JSON] | None) -> Spec:
    """Desired plus the server-chosen values the user left unset (never diffed).

    A value the user had set before (in last-applied, not marked server-chosen) stays unset:
    removing it is a real change back to the server's choice.
    """
    target = desired
    for path in _chosen(desired):
        if get_path(desired, path) is MISSING:
            target = _put(target, path, _server_choice(path, live, last_applied))
    return target


def _server_choice(path: Path, live: Spec, last_applied: Mapping[str, JSON] | None) -> Any:
    if last_applied is None:  # adopting: accept what the server chose
        return get_path(live, path)
    if _dotted(path) in last_applied.get(SERVER_CHOSEN_KEY, ()):  # remembered: drift shows
        return get_path(last_applied, path)
    if get_path(last_applied, path) is not MISSING:  # the user removed it: back to the default
        return MISSING
    return get_path(live, path)  # last-applied never knew it


def uses_legacy_chunking(
    body: Mapping[str, JSON], last_applied: Mapping[str, JSON] | None, live: Spec
) -> bool:
    """Whether unset chunking means word/250/100: the endpoint predates 8.16
    (`ChunkingSettingsBuilder.OLD_DEFAULT_SETTINGS`)."""
    service, task_type = live.get("service"), str(live.get("task_type", ""))
    if body.get("chunking_settings") or not chunks(service, task_type):
        return False
    if last_applied is not None:
        was_chunked = chunks(last_applied.get("service"), str(last_applied.get("task_type", "")))
        return was_chunked and "chunking_settings" not in last_applied
    return live.get("chunking_settings") == LEGACY_CHUNKING


def intent_digest(changes: Iterable[FieldChange]) -> str:
    """What a change means to set, as a short digest: each non-sensitive changed path, how, and
    its intended value. The executor records it when the read-back shows the server did not take
    those fields; the planner recognizes the same change again by it (the fields still differing
    afterwards are exactly those, with the same intended values)."""
    items = sorted(
        [change.path, change.op.value, change.after] for change in changes if not change.sensitive
    )
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def secret_changes(
    desired: Mapping[str, str] | None, recorded: Mapping[str, str]
) -> tuple[FieldChange, ...]:
    """One sensitive change per secret path (dotted) whose fingerprint differs from the one
    state recorded, sorted by path: `changed` where the manifest has a secret there (new to the
    path, or another one), `removed` where it no longer declares one. Never a value: only
    fingerprints are compared. `desired` None (the store has no salt yet): nothing compares."""
    if desired is None:
        return ()
    return tuple(
        FieldChange(
            path=path, sensitive=True, op=FieldOp.CHANGED if path in desired else FieldOp.REMOVED
        )
        for path in sorted(desired.keys() | recorded.keys())
        if desired.get(path) != recorded.get(path)
    )


def secret_label(path: str) -> str:
    """A secret path as reasons and messages name it: `api_key`, `secret_parameters.token`."""
    return path.removeprefix("service_settings.")


def field_changes(before: Mapping[str, JSON], after: Mapping[str, JSON]) -> tuple[FieldChange, ...]:
    """A plain two-way diff of canonical forms, lists compared whole."""
    return tuple(_change(path, before, after, None, ()) for path in changed_paths(before, after))


def changed_paths(
    before: Mapping[str, JSON], after: Mapping[str, JSON], prefix: Path = ()
) -> list[Path]:
    """Sorted paths of the values that differ; a list, or an object only one side has, is one
    value. A plain walk over canonical forms (tests check it against deepdiff): deepdiff costs
    60-70 µs a call even on a one-key dict, ~300 µs per changed endpoint, the whole budget."""
    if before == after:
        return []
    found: list[Path] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            found.extend(changed_paths(old, new, (*prefix, key)))
        else:
            found.append((*prefix, key))
    return found


def _change(
    path: Path,
    before: Mapping[str, JSON],
    after: Mapping[str, JSON],
    last: Mapping[str, JSON] | None,
    chosen: Iterable[Path],
) -> FieldChange:
    old, new = get_path(before, path), get_path(after, path)
    op = _op(old, new)
    return FieldChange(
        path=_dotted(path),
        before=None if old is MISSING else old,
        after=None if new is MISSING else new,
        op=op,
        drift=last is not None and get_path(last, path) != old,
        computed=op is FieldOp.REMOVED and path in chosen,
    )


def _op(old: Any, new: Any) -> FieldOp:
    if old is MISSING:
        return FieldOp.ADDED
    return FieldOp.REMOVED if new is MISSING else FieldOp.CHANGED


# --- bodies for the executor and state ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """An `_update` body, and which secrets the client adds to it at their paths: `rotated`,
    the secret paths (dotted) the change rotates; `carries_settings`, the body has
    `service_settings`, which the server reads every secret from (so all must be there)."""

    body: dict[str, JSON]
    rotated: tuple[str, ...] = ()
    carries_settings: bool = False

    @property
    def include_secrets(self) -> bool:
        """Whether any secret goes into the body (which ones: `secrets_to_send`)."""
        return bool(self.rotated) or self.carries_settings

    def secrets_to_send(self, service: str, declared: Iterable[str]) -> tuple[str, ...]:
        """The declared secret paths the body carries: all of them with `service_settings`
        for another reason, else the rotation groups of the rotated paths
        (`defaults.rotated_together`: both AWS keys when one changed)."""
        if self.carries_settings:
            return tuple(sorted(set(declared)))
        return rotated_together(service, self.rotated, declared)


def request_body(desired: DesiredEndpoint) -> dict[str, JSON]:
    """The PUT body exactly as the manifest wrote it, minus its secrets (every declared path,
    `api_key` in any case) and path parameters."""
    body: dict[str, JSON] = thaw(desired.body)
    for key in ("inference_id", "task_type", "reconcile"):
        body.pop(key, None)
    section(body, "service_settings").pop("api_key", None)
    for path in desired.secrets:
        drop_path(body, path)
    return body


def update_body(change: PlannedChange) -> UpdateRequest:
    """The minimal `_update` body for an in-place change.

    Each changed key is sent whole from the planned spec (a changed header sends the whole
    `headers` map; chunking is sent whole), so merge and replace semantics give the same result.
    Any `service_settings` in an update body must carry every secret (ES rebuilds the secret
    settings from there: `SecretSettings.newSecretSettings`).
    """
    body: dict[str, JSON] = {}
    for item in change.fields:
        if not item.sensitive:
            _copy_updated(body, change.spec or {}, item.path)
    rotated = tuple(dict.fromkeys(item.path for item in change.fields if item.sensitive))
    return UpdateRequest(body=body, rotated=rotated, carries_settings="service_settings" in body)


def last_applied_spec(desired: DesiredEndpoint, live_after_apply: LiveEndpoint) -> dict[str, JSON]:
    """What state remembers: the server's read-back, normalized, and which values it chose."""
    spec = normalize_live(live_after_apply.body, task_type=live_after_apply.task_type)
    raw = normalize_live(desired.body, task_type=desired.task_type)
    spec = with_hidden(spec, raw, None)  # what GET hides was stored as sent
    chosen = [
        _dotted(path)
        for path in _chosen(spec)
        if get_path(raw, path) is MISSING and get_path(spec, path) is not MISSING
    ]
    if chosen:
        spec[SERVER_CHOSEN_KEY] = chosen
    return spec


def _copy_updated(body: dict[str, Any], spec: Mapping[str, JSON], path: str) -> None:
    """Copy the updatable unit holding path: a whole chunking object, else a section key."""
    parts = tuple(path.split("."))
    unit = parts[:1] if parts[0] == "chunking_settings" else parts[:2]
    value = get_path(spec, unit)
    if value is MISSING:
        return
    if len(unit) == 1:
        body[unit[0]] = thaw(value)
    else:
        body.setdefault(unit[0], {})[unit[1]] = thaw(value)


def create_fields(spec: Mapping[str, JSON]) -> tuple[FieldChange, ...]:
    """What a create sets, leaf by leaf, plus the values the server will choose (computed)."""
    chosen = server_chosen(spec.get("service"), str(spec.get("task_type", "")), spec)
    later = [
        FieldChange(path=_dotted(path), op=FieldOp.ADDED, computed=True)
        for path in chosen
        if get_path(spec, path) is MISSING
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


def _put(spec: Spec, path: Path, value: Any) -> Spec:
    """A copy of spec with value at path (or without it, for MISSING)."""
    head, rest = path[0], path[1:]
    copy = dict(spec)
    if rest:
        copy[head] = _put(section(spec, head), rest, value)
    elif value is MISSING:
        copy.pop(head, None)
    else:
        copy[head] = value
    return copy


def _last_spec(last_applied: Mapping[str, JSON] | None) -> Mapping[str, JSON] | None:
    if last_applied is None or SERVER_CHOSEN_KEY not in last_applied:
        return last_applied
    return {key: value for key, value in last_applied.items() if key != SERVER_CHOSEN_KEY}


def _chosen(spec: Mapping[str, JSON]) -> tuple[Path, ...]:
    """The server-chosen paths of the spec's service and task type (`defaults.server_chosen`)."""
    return server_chosen(spec.get("service"), str(spec.get("task_type", "")))


def _dotted(path: Path) -> str:
    return ".".join(path)
