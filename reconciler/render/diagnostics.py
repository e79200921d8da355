"""Diagnostics as text (compiler style), JSON (versioned) and GitHub Actions annotations.

Files the walk left out (`sources.Skipped`: hidden, not a manifest extension, not a regular
file) are notes, never problems: `skipped: path (reason)` lines before the summary in text,
a `skipped` list in JSON, `::notice` annotations for GitHub.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.model import Diagnostic
from reconciler.sources import Skipped

DIAGNOSTICS_SCHEMA_VERSION = 1


def as_text(
    diagnostics: Sequence[Diagnostic],
    *,
    documents: int,
    files: int,
    skipped: Sequence[Skipped] = (),
) -> str:
    """`file:line:col: error: $.path: message [rule]` per problem, `skipped: path (reason)` per
    file left out, then a summary line."""
    lines = [_text_line(d) for d in sorted(diagnostics, key=Diagnostic.sort_key)]
    lines += skipped_lines(skipped)
    lines.append(_summary(diagnostics, documents=documents, files=files, skipped=len(skipped)))
    return "\n".join(lines) + "\n"


def skipped_lines(skipped: Sequence[Skipped]) -> list[str]:
    """`skipped: path (reason)`, one per file or folder left out, in walk order."""
    return [f"skipped: {item}" for item in skipped]


def _text_line(d: Diagnostic) -> str:
    where = "" if d.path == "$" else f"{d.path}: "
    return f"{d.location}: {d.severity.value}: {where}{d.message} [{d.rule}]"


def _errors(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that fail validation (a warning does not)."""
    return [d for d in diagnostics if d.severity == "error"]


def _summary(
    diagnostics: Sequence[Diagnostic], *, documents: int, files: int, skipped: int = 0
) -> str:
    scanned = f"{_count(documents, 'manifest')} in {_count(files, 'file')}"
    left_out = f", {skipped} skipped" if skipped else ""
    errors = _errors(diagnostics)
    warnings = len(diagnostics) - len(errors)
    warned = f", {_count(warnings, 'warning')}" if warnings else ""
    if not errors:
        return f"OK: {scanned} valid{left_out}{warned}"
    troubled = len({d.file for d in errors})
    return (
        f"FAILED: {_count(len(errors), 'problem')} in {_count(troubled, 'file')} "
        f"({scanned}{left_out}){warned}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def as_json(
    diagnostics: Sequence[Diagnostic],
    *,
    documents: int,
    files: int,
    skipped: Sequence[Skipped] = (),
) -> str:
    """A stable, versioned document for machines (documented in the README); `skipped` was
    added within format_version 1 (a new key: readers of the old keys are unaffected)."""
    payload = {
        "format_version": DIAGNOSTICS_SCHEMA_VERSION,
        "valid": not _errors(diagnostics),
        "documents": documents,
        "files": files,
        "diagnostics": [_as_dict(d) for d in sorted(diagnostics, key=Diagnostic.sort_key)],
        "skipped": [{"file": item.path, "reason": item.reason} for item in skipped],
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


def as_github(
    diagnostics: Sequence[Diagnostic],
    *,
    documents: int,
    files: int,
    skipped: Sequence[Skipped] = (),
) -> str:
    """GitHub Actions workflow commands: one `::error file=…,line=…,col=…::` per problem and
    one `::notice file=…::skipped: reason` per file left out."""
    lines = [_annotation(d) for d in sorted(diagnostics, key=Diagnostic.sort_key)]
    lines += [_notice(item) for item in skipped]
    lines.append(_summary(diagnostics, documents=documents, files=files, skipped=len(skipped)))
    return "\n".join(lines) + "\n"


def _notice(item: Skipped) -> str:
    properties = f"file={escape_property(item.path)},title={escape_property('reconcile: skipped')}"
    return f"::notice {properties}::{escape_data(f'skipped: {item.reason}')}"


def _annotation(d: Diagnostic) -> str:
    properties = ",".join(
        f"{name}={escape_property(str(value))}"
        for name, value in (
            ("file", d.file),
            ("line", d.line),
            ("col", d.column),
            ("title", f"reconcile: {d.rule}"),
        )
    )
    where = "" if d.path == "$" else f"{d.path}: "
    return f"::{d.severity.value} {properties}::{escape_data(where + d.message)}"


def escape_data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts escapeData
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    # same source, escapeProperty
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


RENDERERS = {"text": as_text, "json": as_json, "github": as_github}
