"""The core value types every stage passes along: locations, diagnostics, endpoints, plans.

Frozen dataclasses and enums only; no I/O. Request bodies are plain JSON-like dicts that
never hold an API key: the key travels beside them as a `Secret` (see `secrets.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.secrets import Secret, SecretRef

JSON = Any
"""A JSON-compatible value: dict, list, str, int, float, bool or None."""

TASK_TYPES: tuple[str, ...] = ("text_embedding", "completion", "chat_completion")
"""The task types the `openai` service supports (seed docs, reference 2.3)."""


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

    AUTO = "auto"  # update in place where the server has the update API, else recreate
    UPDATE = "update"  # always the update API (fails on servers before 8.17)
    RECREATE = "recreate"  # always delete and create again (the seed documents' advice)


@dataclass(frozen=True, slots=True)
class Options:
    """The reconciler-only `reconcile:` block of a manifest; never sent to the server."""

    protect: bool = False
    key_rotation: KeyRotation = KeyRotation.AUTO
    smoke: bool = True
    smoke_input: str | None = None


@dataclass(frozen=True, slots=True)
class DesiredEndpoint:
    """One manifest document, ready to be compared with the server.

    `body` is the request body as the server takes it (`service`, `service_settings` without
    `api_key`, `task_settings`, `chunking_settings`), exactly as the manifest wrote it.
    `api_key` is a reference until `secrets.resolve` turns it into a `Secret`.
    """

    inference_id: str
    task_type: str
    body: Mapping[str, JSON]
    api_key: SecretRef | Secret
    options: Options
    origin: Location


@dataclass(frozen=True, slots=True)
class LiveEndpoint:
    """An endpoint as `GET _inference/_all` returns it (never with an API key)."""

    inference_id: str
    task_type: str
    service: str
    body: Mapping[str, JSON]

    @property
    def preconfigured(self) -> bool:
        """Preconfigured endpoints all start with `.` (reference 4.4); user ids cannot."""
        return self.inference_id.startswith(".")


@dataclass(frozen=True, slots=True)
class StateRecord:
    """What the reconciler remembers about an endpoint it manages. Never holds a key."""

    inference_id: str
    task_type: str
    owner: str
    key_fingerprint: str
    last_applied: Mapping[str, JSON]
    applied_at: str
    commit: str | None = None


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


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs; sensitive values are never stored, only whether they changed."""

    path: str
    before: JSON = None
    after: JSON = None
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """The decision for one endpoint, with everything a reviewer needs to understand it."""

    inference_id: str
    task_type: str
    action: Action
    reason: str
    fields: tuple[FieldChange, ...] = ()
    replace_paths: tuple[str, ...] = ()
    drift: bool = False
    in_use: InUse = field(default_factory=InUse)
    origin: Location | None = None
