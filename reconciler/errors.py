"""The exception tree and the exit codes, mapped at one boundary (the CLI).

    ReconcilerError                 anything the tool reports to a user (exit 1)
    ├── UsageError                  bad flags, no target configured, missing env variable
    ├── ManifestError               manifests that do not validate; carries the diagnostics
    ├── StateError                  the state store is unreadable or locked
    │   └── LockHeldError           another writer holds the lock
    └── ApiError                    the server answered with an error (sanitized body)
        ├── TemporaryApiError       429, 5xx, transport errors: worth a retry
        └── PermanentApiError       other 4xx: retrying will not help
            ├── NotFoundError       404
            └── ConflictError       409: a version conflict, or an endpoint in use

Anything else that escapes is a bug: exit 3, no locals printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.model import Diagnostic


class ExitCode(IntEnum):
    """The same codes for every command (documented in the README)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    BUG = 3
    INTERRUPTED = 130


class ReconcilerError(Exception):
    """An error meant for the user: printed without a traceback, exit 1."""

    exit_code: ExitCode = ExitCode.ERROR


class UsageError(ReconcilerError):
    """The command line or the environment is not usable as given."""


class ManifestError(ReconcilerError):
    """Manifests failed validation; the diagnostics say where and why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__(f"{len(self.diagnostics)} problem(s) in the manifests")


class StateError(ReconcilerError):
    """The state store could not be read or written."""


class LockHeldError(StateError):
    """Another writer holds the state lock."""


class ApiError(ReconcilerError):
    """The server answered with an error. `reason` is the sanitized ES `error.reason`."""

    def __init__(
        self, message: str, *, status: int | None = None, error_type: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


class TemporaryApiError(ApiError):
    """Worth retrying: 429, 5xx, or the connection failed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, error_type=error_type)
        self.retry_after = retry_after


class PermanentApiError(ApiError):
    """Retrying will not help (4xx other than 429)."""


class NotFoundError(PermanentApiError):
    """The resource does not exist (404)."""


class ConflictError(PermanentApiError):
    """409: a version conflict (`op_type=create`, `if_seq_no`) or an endpoint in use."""
