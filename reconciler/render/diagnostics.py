"""Diagnostics as text (compiler style), JSON (versioned) and GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.model import Diagnostic

DIAGNOSTICS_SCHEMA_VERSION = 1


def as_text(diagnostics: Sequence[Diagnostic], *, documents: int, files: int) -> str:
    """`file:line:col: error: $.path: message [rule]` per problem, then a summary line."""
    lines = [_text_line(d) for d in sorted(diagnostics, key=Diagnostic.sort_key)]
    lines.append(_summary(diagnostics, documents=documents, files=files))
    return "\n".join(lines) + "\n"


def _text_line(d: Diagnostic) -> str:
    where = "" if d.path == "$" else f"{d.path}: "
    return f"{d.location}: {d.severity.value}: {where}{d.message} [{d.rule}]"


def _summary(diagnostics: Sequence[Diagnostic], *, documents: int, files: int) -> str:
    scanned = f"{_count(documents, 'manifest')} in {_count(files, 'file')}"
    if not diagnostics:
        return f"OK: {scanned} valid"
    troubled = len({d.file for d in diagnostics})
    return (
        f"FAILED: {_count(len(diagnostics), 'problem')} in {_count(troubled, 'file')} ({scanned})"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def as_json(diagnostics: Sequence[Diagnostic], *, documents: int, files: int) -> str:
    """A stable, versioned document for machines (documented in the README)."""
    payload = {
        "format_version": DIAGNOSTICS_SCHEMA_VERSION,
        "valid": not diagnostics,
        "documents": documents,
        "files": files,
        "diagnostics": [_as_dict(d) for d in sorted(diagnostics, key=Diagnostic.sort_key)],
    }
    return json.dumps(payload, indent=2) + "\n"


def _as_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "path": d.path,
        "message": d.message,
        "rule": d.rule,
        "severity": d.severity.value,
    }


def as_github(diagnostics: Sequence[Diagnostic], *, documents: int, files: int) -> str:
    """GitHub Actions workflow commands: one `::error file=…,line=…,col=…::` per problem."""
    lines = [_annotation(d) for d in sorted(diagnostics, key=Diagnostic.sort_key)]
    lines.append(_summary(diagnostics, documents=documents, files=files))
    return "\n".join(lines) + "\n"


def _annotation(d: Diagnostic) -> str:
    properties = ",".join(
        f"{name}={_escape_property(str(value))}"
        for name, value in (
            ("file", d.file),
            ("line", d.line),
            ("col", d.column),
            ("title", f"reconcile: {d.rule}"),
        )
    )
    where = "" if d.path == "$" else f"{d.path}: "
    return f"::{d.severity.value} {properties}::{_escape_data(where + d.message)}"


def _escape_data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts escapeData
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    # same source, escapeProperty
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


RENDERERS = {"text": as_text, "json": as_json, "github": as_github}
