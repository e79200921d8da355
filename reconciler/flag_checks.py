"""Check the flags that name things outside the process before a command does anything else.

A typo in `--state`, `--ca-cert` or `--target` is reported as a usage error (exit 1) before
manifests are read, keys are resolved or the server is contacted, so the message names the
flag rather than whatever failed first.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from reconciler.errors import UsageError
from reconciler.state import parse_state_spec


def check_connection_flags(
    *, target: str | None, ca_cert: str | None, state: str | None, sandbox: bool = False
) -> None:
    """Raise `UsageError` for the first flag that cannot work."""
    if target is not None and not sandbox:
        check_target(target)
    if ca_cert is not None:
        check_ca_cert(ca_cert)
    parse_state_spec(state)


def check_target(target: str) -> None:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--target {target!r} is not an http(s) URL with a host, such as https://localhost:9200"
        )


def check_ca_cert(path: str) -> None:
    if not os.path.exists(path):
        raise UsageError(f"--ca-cert {path}: no such file")
    if not os.path.isfile(path):
        raise UsageError(f"--ca-cert {path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"--ca-cert {path}: not readable")


def check_output_file(path: str | None, flag: str) -> None:
    """A file a command will write: its folder must exist and it must not be a folder."""
    if path is None:
        return
    if not path or os.path.isdir(path):
        raise UsageError(f"{flag} {path!r}: name a file to write")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist")
