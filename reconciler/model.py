"""The core value types every stage passes along: locations, diagnostics, endpoints, plans.

Frozen dataclasses and enums only; no I/O. Request bodies are plain JSON-like dicts that
never hold a secret: secrets travel beside them, by path (`DesiredEndpoint.secrets`), as
`Secret`s (see `secrets.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.secrets import Secret, SecretPath, SecretRef

JSON = Any
"""A JSON-compatible value: dict, list, str, int, float, bool or None."""

TASK_TYPES: tuple[str, ...] = ("text_embedding", "completion", "chat_completion")
"""The task types the `openai` service supports (spec `OpenAITaskType`; the service's docs page
https://www.elastic.co/guide/en/elasticsearch/reference/current/infer-service-openai.html)."""

PROBE_PREFIX = "reconcile-probe-"
"""Temporary endpoints that prove a new configuration before a replace deletes the old one;
one still on the server after apply ended was left by an apply that was stopped."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a manifest file; line and column are 1-based."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the input, located as precisely as the input allows.

    `path` is a JSON path into the document (`$.service_settings.dimensions`), or `$` for the
    document as a whole. `rule` is a stable short code (`schema.required`, `yaml.duplicate-key`).
    """

    location: Location
    path: str
    message: str
    rule: str
    severity: Severity = Severity.ERROR

    @property
    def file(self) -> str:
        return self.location.file

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def column(self) -> int:
        return self.location.column

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.path, self.message)


class KeyRotation(StrEnum):
    """How a changed API key reaches the server (per manifest, overridable by flag)."""

    AUTO = "auto"  # update in place where the server has the update API and the update keeps
    # everything else (chunking: `defaults.UPDATE_FACTS`), else recreate
    UPDATE = "update"  # always the update API (fails on servers before 8.17), also for the
    # other in-place changes and where it resets chunking (planned with a warning)
    RECREATE = "recreate"  # always delete and create again (the ES docs' advice)


@dataclass(frozen=True, slots=True)
class Options:
    """The reconciler-only `reconcile:` block of a manifest; never sent to the server."""

    protect: bool = False
    key_rotation: KeyRotation = KeyRotation.AUTO
    smoke: bool = True
    smoke_input: str | tuple[str, ...] | None = None
    """`reconcile.smoke.input`: one text, or (rerank) the documents to rank."""
    smoke_query: str | None = None
    """`reconcile.smoke.query` (rerank only)."""


API_KEY: SecretPath = ("service_settings", "api_key")
"""Where the `openai` service (and the one-key services like it) keeps its secret."""


def dotted(path: SecretPath) -> str:
    """`("service_settings", "api_key")` → `"service_settings.api_key"` (state and plan keys)."""
    return ".".join(path)


@dataclass(frozen=True, slots=True, init=False)
class DesiredEndpoint:
    """One manifest document, ready to be compared with the server.

    `body` is the request body as the server takes it (`service`, `service_settings`,
    `task_settings`, `chunking_settings`), exactly as the manifest wrote it, minus every
    secret: `secrets` maps each declared secret path (`("service_settings", "api_key")`;
    `("service_settings", "access_key")` and `("service_settings", "secret_key")`; each key
    of `service_settings.secret_parameters`) to its reference, until `secrets.resolve`
    turns it into a `Secret`. Whatever the body holds at a secret path is dropped from it
    on construction, so no stage can send, diff or store a reference as a value.

    Built with `secrets=` (every declared path) or, as before secret maps, `api_key=` (the
    `service_settings.api_key` entry; given both, `api_key` sets that entry:
    `dataclasses.replace(d, api_key=...)` keeps working). `api_key` reads that entry back.
    """

    inference_id: str
    task_type: str
    body: Mapping[str, JSON]
    options: Options
    origin: Location
    secrets: Mapping[SecretPath, SecretRef | Secret]

    def __init__(
        self,
        inference_id: str,
        task_type: str,
        body: Mapping[str, JSON],
        api_key: SecretRef | Secret | None = None,
        options: Options = Options(),  # frozen: one shared default is safe
        origin: Location = Location("<manifest>"),
        *,
        secrets: Mapping[SecretPath, SecretRef | Secret] | None = None,
    ) -> None:
        found = dict(secrets or {})
        if api_key is not None:
            found[API_KEY] = api_key
        object.__setattr__(self, "inference_id", inference_id)
        object.__setattr__(self, "task_type", task_type)
        object.__setattr__(self, "body", _without_paths(body, found))
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "secrets", found)

    @property
    def api_key(self) -> SecretRef | Secret | None:
        """The `service_settings.api_key` entry (compatibility: the core reads `secrets`)."""
        return self.secrets.get(API_KEY)

    def resolved_secrets(self) -> tuple[Secret, ...]:
        """Every secret resolved so far (for redaction), in path order."""
        return tuple(
            value for _, value in sorted(self.secrets.items()) if isinstance(value, Secret)
        )


def _without_paths(body: Mapping[str, JSON], paths: Iterable[SecretPath]) -> Mapping[str, JSON]:
    """The body without whatever it holds at `paths`; the same object when it holds nothing
    there (the common case: the manifest loader leaves secrets out already). A map below a
    section that only held secrets goes too (`custom`'s `secret_parameters`): left empty, it
    would read as a setting the server does not show."""
    present = [path for path in paths if has_path(body, path)]
    if not present:
        return body
    copy: dict[str, JSON] = _thawed(body)
    for path in present:
        parents: list[Any] = [copy]
        for key in path[:-1]:
            parents.append(parents[-1][key])
        del parents[-1][path[-1]]
        for depth in range(len(path) - 1, 1, -1):  # empty maps below a section
            if parents[depth] == {}:
                del parents[depth - 1][path[depth - 1]]
    return copy


MISSING: Any = object()
"""What `get_path` returns where a nested mapping holds nothing (None is a value)."""


def get_path(body: Mapping[str, Any] | None, path: tuple[str, ...]) -> Any:
    """The value at `path` in a nested mapping, or `MISSING`."""
    node: Any = body
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return MISSING
        node = node[key]
    return node


def has_path(body: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether a nested mapping holds a value at `path`."""
    return get_path(body, path) is not MISSING


def drop_path(body: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove the value at `path` from a nested dict, if it is there."""
    parent: Any = body
    for key in path[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def _thawed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class LiveEndpoint:
    """An endpoint as `GET _inference/_all` returns it (never with an API key)."""

    inference_id: str
    task_type: str
    service: str
    body: Mapping[str, JSON]

    @property
    def preconfigured(self) -> bool:
        """Preconfigured endpoints all start with `.`; user ids cannot (`MlStrings` id rule)."""
        return self.inference_id.startswith(".")


@dataclass(frozen=True, slots=True)
class Pending:
    """A change apply started on an endpoint and has not finished, kept on its state record.

    A replace writes it before it deletes the endpoint; the record written once the new
    configuration is on the server (or the old one is put back) has none. A record that still
    has one when no apply runs means an apply was stopped in between (killed, lost its
    machine): the next plan names it and the next apply completes it first. Never holds a key.
    """

    action: str
    """What was under way: `replace`."""
    started_at: str
    previous: Mapping[str, JSON] | None = None
    """The endpoint as GET showed it just before the delete, without `inference_id` and
    without a key (`task_type`, `service`, `service_settings`, `task_settings`, ...): what
    can be put back if the new configuration cannot be created. None when the replace changes
    the key (the old key is not known, so the old endpoint cannot be restored)."""


@dataclass(frozen=True, slots=True)
class ChunkingReset:
    """The server reset the endpoint's chunking settings on an in-place update
    (elastic/elasticsearch#139574), kept on its state record while the reset stands.

    The next plans show the difference without acting on it: neither way back is free on those
    releases (the update API cannot set chunking, a replace interrupts the endpoint's users)."""

    at: str
    version: str
    """The server version that did it."""
    expected: Mapping[str, JSON]
    """The chunking settings the manifest asked for (canonical)."""
    found: Mapping[str, JSON]
    """What the read-back showed instead (word/250/100)."""


@dataclass(frozen=True, slots=True)
class NotTaken:
    """A change the server did not take (its read-back differed), kept on the state record until
    an apply of that endpoint succeeds. Never holds a key."""

    digest: str
    """`diff.intent_digest` of the fields the server did not take, with their intended values."""
    count: int
    """How many applies in a row the server did not take it."""
    cause: str
    """The last read-back's difference: what was sent and what was read back."""
    at: str
    """When the last of them ended."""


@dataclass(frozen=True, slots=True)
class StateRecord:
    """What the reconciler remembers about an endpoint it manages. Never holds a key.

    `secret_fingerprints` maps each secret path, dotted (`service_settings.api_key`), to the
    salted fingerprint of the secret last applied there (`secrets.fingerprint`): a path whose
    fingerprint differs from the manifest's secret now is a rotation. A record written before
    secret maps held one `key_fingerprint`: `state.record_from_json` reads it as the
    `service_settings.api_key` entry, which is what it was."""

    inference_id: str
    task_type: str
    owner: str
    secret_fingerprints: Mapping[str, str]
    last_applied: Mapping[str, JSON]
    applied_at: str
    commit: str | None = None
    protect: bool = False
    """The manifest said `protect: true` when last applied: prune must not delete it either."""
    pending: Pending | None = None
    """A replace under way (or stopped midway: see `Pending`)."""
    chunking_reset: ChunkingReset | None = None
    """The server reset its chunking on an in-place update and it still reads back that way."""
    not_taken: NotTaken | None = None
    """The last apply's change the server did not take."""

    @property
    def key_fingerprint(self) -> str:
        """The `service_settings.api_key` entry, or "" (compatibility: the core reads
        `secret_fingerprints`)."""
        return self.secret_fingerprints.get(dotted(API_KEY), "")


@dataclass(frozen=True, slots=True)
class InUse:
    """What would break if the endpoint went away (from `DELETE ?dry_run=true`)."""

    indexes: tuple[str, ...] = ()
    pipelines: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.indexes or self.pipelines)


class Action(StrEnum):
    """What the executor does. It branches on this alone (reasons only explain)."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"
    NOOP = "no-op"
    BLOCKED = "blocked"


class Reason(StrEnum):
    """Why the planner chose an action: a stable code for JSON plans and tests, never acted on."""

    CREATE = "create"  # declared, not on the server
    RECREATE_MISSING = "recreate-missing"  # in state but gone from the server (drift)
    UPDATE = "update-in-place"  # only fields the update API can change
    ROTATE_UPDATE = "rotate-key-in-place"  # api_key changed, sent through the update API
    ROTATE_RECREATE = "rotate-key-recreate"  # api_key changed, endpoint created again
    REPLACE = "replace-immutable"  # a field the server cannot update in place changed
    ADOPT = "adopt"  # on the server, not in state, matches the manifest: state write only
    PRUNE = "prune"  # owned, no manifest declares it, --prune given
    FORGET = "forget"  # owned, no manifest, already gone from the server: state record removed
    UP_TO_DATE = "up-to-date"
    ORPHAN = "orphan"  # owned, no manifest declares it, --prune not given
    PROTECTED = "protected"  # `protect: true` blocks replace and delete
    IN_USE = "in-use"  # semantic_text indexes or pipelines use it
    INCOMPATIBLE_MAPPINGS = "incompatible-mappings"  # 9.1+ would refuse the re-create
    UNMANAGED = "unmanaged"  # not in state; adopting it would need a replace
    FOREIGN_OWNER = "foreign-owner"  # state says another owner manages it
    UNSUPPORTED = "unsupported"  # the body uses a feature the server version lacks
    NO_UPDATE_API = "no-update-api"  # key_rotation: update on a server without `_update`
    FOREIGN_SERVICE = "foreign-service"  # the live endpoint's service is not the one applied
    # or not managed: never deleted
    PRECONFIGURED = "preconfigured"  # ids starting with `.` belong to the server: never touched
    INTERRUPTED_REPLACE = "interrupted-replace"  # an apply stopped midway through its replace
    STATE_ONLY = "state-only"  # a `reconcile:` option state records changed: state write only
    CHUNKING_RESET_REPLACE = "replace-chunking-reset"  # the update would reset chunking: replace
    CHUNKING_RESET_CHOICE = "chunking-reset-choice"  # in use, and the update would reset chunking
    CHUNKING_RESET_UPDATE = "update-resets-chunking"  # key_rotation: update where chunking resets
    CHUNKING_RESET_NOTED = "chunking-reset-noted"  # the server reset chunking on an update, as
    # state records: the difference is shown, not acted on
    NOT_TAKEN = "not-taken"  # the same change was applied before and the server did not take it

    @classmethod
    def _missing_(cls, value: object) -> Reason | None:
        """Saved plans written when only openai was managed call FOREIGN_SERVICE `not-openai`."""
        return cls.FOREIGN_SERVICE if value == "not-openai" else None


class FieldOp(StrEnum):
    """How a field differs, seen from the server: apply adds, changes or removes it."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs; sensitive values are never stored, only whether they changed.

    `before` is the live value, `after` the desired one. `drift` marks a live value that differs
    from what reconciler last applied (changed outside reconciler). `computed` marks an `after`
    the server will choose on apply (Terraform's "known after apply"), e.g. a model's default
    `dimensions` once the user removes the field.
    """

    path: str
    before: JSON = None
    after: JSON = None
    sensitive: bool = False
    op: FieldOp = FieldOp.CHANGED
    drift: bool = False
    computed: bool = False


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """The decision for one endpoint, with everything a reviewer needs to understand it.

    `body` is the exact PUT body (create, replace) without `api_key`; `spec` is the normalized
    desired state the executor sends pieces of to `_update` and checks the read-back against.
    `adopt` marks an endpoint found on the server but not in state. `breaking` marks a replace
    that changes what `semantic_text` fields of the in-use indexes were built with.
    """

    inference_id: str
    task_type: str
    action: Action
    reason: str
    fields: tuple[FieldChange, ...] = ()
    replace_paths: tuple[str, ...] = ()
    drift: bool = False
    in_use: InUse = field(default_factory=InUse)
    origin: Location | None = None
    code: Reason | None = None
    body: Mapping[str, JSON] | None = None
    spec: Mapping[str, JSON] | None = None
    adopt: bool = False
    breaking: bool = False


CHANGING: frozenset[Action] = frozenset(
    {Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.ADOPT}
)
"""Actions that write to the server or the state store."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Every planned change, in execution order, and when and against what it was planned.

    `stray_probes` are the probe endpoints (`PROBE_PREFIX`) found on the server: left by an
    apply that was stopped (or, while another apply holds the state lock, its own). Plan only
    lists them; apply removes them once it holds the lock.
    """

    changes: tuple[PlannedChange, ...]
    server_version: str
    created_at: str
    stray_probes: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        """Whether applying would write anything (for `--detailed-exitcode`)."""
        return bool(self.stray_probes) or any(c.action in CHANGING for c in self.changes)

    @property
    def blocked(self) -> tuple[PlannedChange, ...]:
        return tuple(change for change in self.changes if change.action is Action.BLOCKED)

    @property
    def in_sync(self) -> bool:
        """Whether the server already is as the manifests say: nothing to write and nothing
        blocked (a blocked change is a difference apply will not make, not an agreement)."""
        return not self.has_changes and not self.blocked

    def counts(self) -> dict[str, int]:
        """Number of changes per action, every action present, in `Action` order."""
        counts = dict.fromkeys((action.value for action in Action), 0)
        for change in self.changes:
            counts[change.action.value] += 1
        return counts


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the target server can do; build it with `defaults.capabilities(version)`.

    `release` is (major, minor, patch): some facts changed in patch releases."""

    version: str
    release: tuple[int, ...]
    features: frozenset[str] = frozenset()

    @property
    def update_api(self) -> bool:
        return "update_api" in self.features

    @property
    def update_validates(self) -> bool:
        """`_update` tries a new api_key before storing it (`defaults.UPDATE_FACTS`)."""
        return self.update_api and "update_validates" in self.features

    @property
    def update_resets_chunking(self) -> bool:
        """`_update` drops the chunking settings (`defaults.UPDATE_FACTS`)."""
        return self.update_api and "update_keeps_chunking" not in self.features
