"""Advisories (`reconciler.advisories`) as lines: plain `warning: …` text on stderr, the way the
plain-http warning is given, or, in GitHub Actions, a `::warning file=…,line=…,col=…::`
annotation on the manifest; and as plain data for the JSON plan (`advisories`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.advisories import Advisory
from reconciler.render.diagnostics import escape_data, escape_property

GITHUB_ACTIONS = "GITHUB_ACTIONS"
"""Set to `true` by GitHub Actions on every step."""


def advisory_line(advisory: Advisory, *, github: bool = False) -> str:
    """One advisory: `warning: <text>`, or a GitHub warning annotation (on its manifest's
    file, line and column when it has one)."""
    if not github:
        return f"warning: {advisory.message}"
    properties = [("title", f"reconcile: {advisory.code}")]
    if advisory.origin:
        file, line, column = _split(advisory.origin)
        properties = [("file", file), ("line", line), ("col", column), *properties]
    text = ",".join(f"{k}={escape_property(v)}" for k, v in properties if v)
    return f"::warning {text}::{escape_data(advisory.message)}"


def wants_github(env: Mapping[str, str]) -> bool:
    return env.get(GITHUB_ACTIONS, "").lower() == "true"


def advisories_to_list(advisories: Sequence[Advisory]) -> list[dict[str, Any]]:
    """`[{"code", "inference_id", "message", "origin"}]` for the JSON plan."""
    return [
        {"code": a.code, "inference_id": a.inference_id, "message": a.message, "origin": a.origin}
        for a in advisories
    ]


def _split(origin: str) -> tuple[str, str, str]:
    """`file:line:col` → its parts (the file may hold colons itself)."""
    head, _, column = origin.rpartition(":")
    file, _, line = head.rpartition(":")
    if not (line.isdigit() and column.isdigit()):
        return origin, "", ""
    return file, line, column
