"""The plan as Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.

A summary table first (what a reviewer reads), field-level detail folded in `<details>`, and
the whole bounded below GitHub's 65,536-character comment limit.
"""

from __future__ import annotations

from typing import Any

from reconciler.render.plan_text import NOTED, SYMBOLS, format_value, summary_line

MAX_CHARS = 60_000


def render(model: dict[str, Any]) -> str:
    changing = [c for c in model["changes"] if c["action"] != "no-op"]
    title = "### reconcile plan: " + ("changes" if model["has_changes"] else "no changes")
    lines = [title, "", f"`{summary_line(model)}` (Elasticsearch {model['server_version']})", ""]
    if changing:
        lines += ["| | action | endpoint | task type | reason |", "|---|---|---|---|---|"]
        lines += [_row(change) for change in changing]
        lines += ["", "<details><summary>Field changes</summary>", "", "```diff"]
        for change in changing:
            lines.extend(_detail(change))
        lines += ["```", "", "</details>"]
    noted = [
        c for c in model["changes"] if c["action"] == "no-op" and c.get("reason_code") in NOTED
    ]
    if noted:
        lines += ["", "Differences left alone (no change planned):", ""]
        lines += [f"- `{c['inference_id']}`: {c['reason']}" for c in noted]
    if model.get("stray_probes"):
        names = ", ".join(f"`{name}`" for name in model["stray_probes"])
        lines += [
            "",
            f"Stray probe endpoints left by an interrupted apply: {names} (will be"
            " removed by apply)",
        ]
    return _bounded("\n".join(lines) + "\n")


def _row(change: dict[str, Any]) -> str:
    reason = change["reason"].replace("|", "\\|")
    symbol = SYMBOLS[change["action"]]
    flags = " ⚠ drift" if change["drift"] else ""
    return (
        f"| `{symbol}` | {change['action']} | `{change['inference_id']}` | "
        f"{change['task_type']} | {reason}{flags} |"
    )


def _detail(change: dict[str, Any]) -> list[str]:
    """A diff hunk per endpoint: `-` the live value, `+` the desired one (GitHub colours them)."""
    lines = [f"@@ {change['action']} {change['inference_id']} ({change['task_type']}) @@"]
    forced = set(change["replace_paths"])
    for field in change["fields"]:
        lines.extend(_diff_lines(field, " # forces replacement" if field["path"] in forced else ""))
    return lines


def _diff_lines(field: dict[str, Any], note: str) -> list[str]:
    path = field["path"]
    if field["sensitive"]:  # a secret: only whether it changed, never a value
        verb = "removed" if field["op"] == "removed" else "changed"
        return [f"! {path}: (sensitive) {verb}{note}"]
    before = f"- {path}: {format_value(field['before'], False)}{note}"
    after = f"+ {path}: {format_value(field['after'], field['computed'])}{note}"
    if field["op"] == "added":
        return [after]
    if field["op"] == "removed":
        return [before]
    return [before, after]


def _bounded(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    note = "\n\n… plan truncated; run `reconcile plan --format json` for all of it.\n"
    return text[: MAX_CHARS - len(note)] + note
