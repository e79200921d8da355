"""Apply results and smoke tests: one JSON model, rendered as text, JSON or Markdown.

JSON (`format_version` 1): {"format_version", "ok", "plan": <plan model>, "results":
[{"inference_id", "task_type", "action", "status", "message", "duration_ms"}], "smoke":
[{"inference_id", "task_type", "ok", "detail", "latency_ms"}]}.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.render.plan_json import plan_to_dict

FORMAT_VERSION = 1
STATUS_MARKS = {"ok": "✓", "failed": "✗", "blocked": "!", "skipped": "·"}
WARNING = "warning: "
"""A done change whose message says this went through with a side effect the plan warned of
(an update that reset chunking settings): its message is shown like a failure's."""


def warned(result: Mapping[str, Any]) -> bool:
    return result["status"] == "ok" and WARNING in result["message"]


def outcome_to_dict(outcome: Any) -> dict[str, Any]:
    return {
        "inference_id": outcome.inference_id,
        "task_type": outcome.task_type,
        "action": outcome.action.value,
        "status": outcome.status,
        "message": outcome.message,
        "duration_ms": round(outcome.duration_ms, 1),
    }


def smoke_to_dict(result: Any) -> dict[str, Any]:
    return {
        "inference_id": result.inference_id,
        "task_type": result.task_type,
        "ok": result.ok,
        "detail": result.detail,
        "latency_ms": round(result.latency_ms, 1),
    }


def report_to_dict(report: Any) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "ok": report.ok,
        "plan": plan_to_dict(report.plan),
        "results": [outcome_to_dict(o) for o in report.outcome.outcomes if o.status != "skipped"],
        "smoke": [smoke_to_dict(s) for s in report.smoke],
    }


def as_json(model: dict[str, Any]) -> str:
    return json.dumps(model, indent=2) + "\n"


def progress_line(outcome: dict[str, Any], done: int, total: int, *, bar: bool = False) -> str:
    """One line per finished endpoint, as it finishes: plain for CI logs, with a bar on a TTY."""
    mark = STATUS_MARKS.get(outcome["status"], "?")
    counter = f"{_bar(done, total)} {done}/{total}" if bar else f"[{done}/{total}]"
    head = f"{counter} {mark} {outcome['action']} {outcome['inference_id']}"
    tail = f" ({outcome['duration_ms']:.0f} ms)" if outcome["status"] == "ok" else ""
    message = f": {outcome['message']}" if outcome["status"] != "ok" or warned(outcome) else ""
    return head + tail + message


def started_line(outcome: dict[str, Any]) -> str:
    """A long step that has begun (an in-cluster model deployment), before its outcome line."""
    return f"… {outcome['action']} {outcome['inference_id']}: {outcome['message']}"


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = width * done // max(total, 1)
    return "[" + "█" * filled + "░" * (width - filled) + "]"


def smoke_lines(smoke: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for result in smoke:
        mark = "✓" if result["ok"] else "✗"
        lines.append(
            f"  {mark} smoke {result['inference_id']} ({result['task_type']}): "
            f"{result['detail']} ({result['latency_ms']:.0f} ms)"
        )
    return lines


def as_text(model: dict[str, Any]) -> str:
    """The closing summary of an apply (progress lines were printed as they happened)."""
    results = model["results"]
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    lines = [
        f"Apply: {counts.get('ok', 0)} done, {counts.get('failed', 0)} failed, "
        f"{counts.get('blocked', 0)} blocked."
    ]
    lines += [
        f"  {STATUS_MARKS[r['status']]} {r['action']} {r['inference_id']}: {r['message']}"
        for r in results
        if r["status"] in ("failed", "blocked") or warned(r)
    ]
    if model["smoke"]:
        passed = sum(1 for s in model["smoke"] if s["ok"])
        lines.append(f"Smoke tests: {passed} of {len(model['smoke'])} passed.")
        lines += smoke_lines(model["smoke"])
    lines.append("OK" if model["ok"] else "FAILED")
    return "\n".join(lines) + "\n"


def as_markdown(model: dict[str, Any]) -> str:
    status = "succeeded" if model["ok"] else "failed"
    lines = [
        f"### reconcile apply {status}",
        "",
        "| endpoint | action | status | detail |",
        "|---|---|---|---|",
    ]
    for r in model["results"]:
        message = r["message"].replace("|", "\\|")
        lines.append(f"| `{r['inference_id']}` | {r['action']} | {r['status']} | {message} |")
    if model["smoke"]:
        lines += ["", "| smoke test | task type | result | latency |", "|---|---|---|---|"]
        for s in model["smoke"]:
            result = ("✓ " if s["ok"] else "✗ ") + s["detail"].replace("|", "\\|")
            lines.append(
                f"| `{s['inference_id']}` | {s['task_type']} | {result} | "
                f"{s['latency_ms']:.0f} ms |"
            )
    return "\n".join(lines) + "\n"


def smoke_markdown(smoke: Sequence[dict[str, Any]]) -> str:
    """The smoke tests as a markdown table (the CI job summary)."""
    passed = sum(1 for s in smoke if s["ok"])
    lines = [f"### reconcile smoke: {passed} of {len(smoke)} passed", ""]
    if smoke:
        lines += ["| endpoint | task type | result | latency |", "|---|---|---|---|"]
    for s in smoke:
        result = ("✓ " if s["ok"] else "✗ ") + s["detail"].replace("|", "\\|")
        lines.append(
            f"| `{s['inference_id']}` | {s['task_type']} | {result} | {s['latency_ms']:.0f} ms |"
        )
    return "\n".join(lines) + "\n"


def smoke_github(smoke: Sequence[dict[str, Any]], origins: Mapping[str, Any]) -> str:
    """GitHub Actions workflow commands: an `::error` on the manifest of each failed smoke
    test, a `::notice` for each passed one, then the plain summary line."""
    from reconciler.render.diagnostics import escape_data, escape_property

    lines = []
    for s in smoke:
        level = "notice" if s["ok"] else "error"
        where = origins.get(s["inference_id"])
        properties = [f"title={escape_property('reconcile smoke: ' + s['inference_id'])}"]
        if where is not None:
            properties[:0] = [
                f"file={escape_property(str(where.file))}",
                f"line={where.line}",
                f"col={where.column}",
            ]
        detail = f"{s['task_type']}: {s['detail']} ({s['latency_ms']:.0f} ms)"
        lines.append(f"::{level} {','.join(properties)}::{escape_data(detail)}")
    passed = sum(1 for s in smoke if s["ok"])
    lines.append(f"Smoke tests: {passed} of {len(smoke)} passed.")
    return "\n".join(lines) + "\n"
