"""The plan for people: Terraform-style symbols, field-level before → after, every reason.

Rendered from the JSON model (`plan_json.plan_to_dict`), so the text never says anything the
JSON lacks. Colour only when asked (the CLI asks on a TTY).
"""

from __future__ import annotations

import json
from typing import Any

SYMBOLS = {
    "create": "+",
    "update": "~",
    "replace": "±",
    "delete": "-",
    "adopt": "=",
    "blocked": "!",
    "no-op": " ",
}
COLOURS = {
    "create": "32",
    "update": "33",
    "replace": "35",
    "delete": "31",
    "adopt": "36",
    "blocked": "31;1",
}
FIELD_SYMBOLS = {"added": "+", "changed": "~", "removed": "-"}
SUMMARY_ORDER = ("create", "update", "replace", "delete", "adopt", "blocked", "no-op")
NOTED = frozenset({"chunking-reset-noted"})
"""Reason codes of no-ops that are shown anyway: a difference left alone on purpose."""


def render(model: dict[str, Any], *, colour: bool = False, show_unchanged: bool = False) -> str:
    """The whole plan: one block per endpoint that changes, then the summary line."""
    paint = _painter(colour)
    lines = [f"Plan against Elasticsearch {model['server_version']}:", ""]
    notes: list[str] = []
    for change in model["changes"]:
        if change["action"] == "no-op" and not show_unchanged:
            if change.get("reason_code") in NOTED:
                notes.extend(_change(change, paint))
            continue
        lines.extend(_change(change, paint))
    if len(lines) == 2 and not model.get("stray_probes"):
        but = " but for the differences left alone below" if notes else ""
        lines.append(f"  No changes. The server matches the manifests{but}.")
        lines.append("")
    if notes:
        lines += ["  Differences left alone (no change planned):", "", *notes]
    lines.extend(stray_probe_lines(model))
    lines.append(summary_line(model))
    return "\n".join(lines) + "\n"


def summary_line(model: dict[str, Any]) -> str:
    counts = model["summary"]
    parts = [f"{counts.get(action, 0)} to {_verb(action)}" for action in SUMMARY_ORDER[:5]]
    parts.append(f"{counts.get('blocked', 0)} blocked")
    parts.append(f"{counts.get('no-op', 0)} unchanged")
    return "Plan: " + ", ".join(parts) + "."


def stray_probe_lines(model: dict[str, Any]) -> list[str]:
    """The probe endpoints a stopped apply left on the server (apply removes them)."""
    probes = model.get("stray_probes") or []
    if not probes:
        return []
    names = ", ".join(probes)
    return [
        f"  stray probe endpoints left by an interrupted apply: {names} (will be removed by apply)",
        "",
    ]


def _verb(action: str) -> str:
    return {"create": "create", "update": "update in place", "replace": "replace"}.get(
        action, action
    )


def _change(change: dict[str, Any], paint: Any) -> list[str]:
    action = change["action"]
    head = f"  {SYMBOLS[action]} {action} {change['inference_id']} ({change['task_type']})"
    lines = [paint(head, COLOURS.get(action)), f"      reason: {change['reason']}"]
    if change["drift"]:
        lines.append("      drift: the live endpoint was changed outside reconciler")
    forced = set(change["replace_paths"])
    lines.extend(_field(field, forced) for field in change["fields"])
    lines.extend(_in_use(change))
    if change.get("origin"):
        lines.append(f"      declared at {change['origin']}")
    lines.append("")
    return lines


def _secret_verb(field: dict[str, Any]) -> str:
    """`changed`, or `removed` for a secret path the manifest no longer declares."""
    return "removed" if field["op"] == "removed" else "changed"


def _field(field: dict[str, Any], forced: set[str]) -> str:
    symbol = FIELD_SYMBOLS.get(field["op"], "~")
    path = field["path"]
    if field["sensitive"]:  # a secret: only whether it changed, never a value
        text = f"      {symbol} {path}: (sensitive) {_secret_verb(field)}"
    elif field["op"] == "added":
        text = f"      {symbol} {path}: {format_value(field['after'], field['computed'])}"
    elif field["op"] == "removed":
        text = f"      {symbol} {path}: {format_value(field['before'], False)} → (removed)"
    else:
        before, after = (
            format_value(field["before"], False),
            format_value(field["after"], field["computed"]),
        )
        text = f"      {symbol} {path}: {before} → {after}"
    if path in forced:
        text += "  # forces replacement"
    if field["drift"]:
        text += "  # changed outside reconciler"
    return text


def format_value(value: Any, computed: bool) -> str:
    if computed:
        return "(known after apply)"
    return json.dumps(value, ensure_ascii=False)


def _in_use(change: dict[str, Any]) -> list[str]:
    used = change["in_use"]
    lines = []
    if used["indexes"]:
        lines.append(f"      used by indexes: {', '.join(used['indexes'])}")
    if used["pipelines"]:
        lines.append(f"      used by pipelines: {', '.join(used['pipelines'])}")
    if change["breaking"]:
        lines.append("      breaking: semantic_text fields were built with the old settings")
    return lines


def _painter(colour: bool) -> Any:
    def paint(text: str, code: str | None) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text

    return paint
