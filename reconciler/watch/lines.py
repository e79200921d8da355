"""What the watcher prints: one timestamped line per event, from apply's own renderers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from reconciler.model import Action, Plan, Reason

if TYPE_CHECKING:
    from reconciler.executor import EndpointOutcome
    from reconciler.pipeline import ApplyReport, ManifestSet


class Log:
    """One timestamped line per event, flushed at once (a pipe reader sees it immediately)."""

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._stream, self._clock = stream, clock or (lambda: datetime.now().astimezone())

    def __call__(self, text: str) -> None:
        stamp = self._clock().strftime("%H:%M:%S")
        for line in text.rstrip("\n").split("\n"):
            print(f"{stamp} {line}", file=self._stream or sys.stdout, flush=True)


class Progress:
    """`[n/total] ✓ update comp (12 ms)` as each endpoint finishes (apply's own lines)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log, self.done, self.total = log, 0, 0

    def __call__(self, outcome: EndpointOutcome) -> None:
        from reconciler.render.apply_report import outcome_to_dict, progress_line

        self.done += 1
        self.log("  " + progress_line(outcome_to_dict(outcome), self.done, self.total or self.done))


def invalid_report(manifests: ManifestSet) -> str:
    """The `validate` text report, then what the watcher did about it (nothing)."""
    from reconciler.render.diagnostics import as_text

    text = as_text(
        manifests.diagnostics,
        documents=len(manifests.documents),
        files=manifests.files,
        skipped=manifests.skipped,
    )
    return text + "nothing was planned or changed; fix the files and save again"


def skipped_report(manifests: ManifestSet) -> str:
    """`skipped: path (reason)` per file the walk left out; empty when none was."""
    from reconciler.render.diagnostics import skipped_lines

    return "\n".join(skipped_lines(manifests.skipped))


def plan_summary(plan: Plan) -> str:
    from reconciler.render.plan_json import plan_to_dict
    from reconciler.render.plan_text import summary_line

    if not plan.has_changes and not plan.blocked:
        return "no changes"
    return summary_line(plan_to_dict(plan))


def change_lines(plan: Plan) -> list[str]:
    from reconciler.render.plan_text import SYMBOLS

    lines = [
        f"  {SYMBOLS[c.action.value]} {c.action.value} {c.inference_id}: {c.reason}"
        for c in plan.changes
        if c.action is not Action.NOOP and c.action is not Action.BLOCKED
    ]
    return lines + [
        f"  left alone: {c.inference_id}: {c.reason}"
        for c in plan.changes
        if c.action is Action.NOOP and c.code is Reason.CHUNKING_RESET_NOTED
    ]


def result_line(report: ApplyReport, seconds: float) -> str:
    """Smoke lines, then `applied: n ok, n failed … in x s`; silent when nothing ran."""
    from reconciler.render.apply_report import smoke_lines, smoke_to_dict

    ran = [o for o in report.outcome.outcomes if o.status != "skipped"]
    if not ran:
        return ""
    lines = smoke_lines([smoke_to_dict(s) for s in report.smoke])
    counts = {s: sum(1 for o in ran if o.status == s) for s in ("ok", "failed", "blocked")}
    verdict = "applied" if report.ok else "FAILED"
    lines.append(
        f"{verdict}: {counts['ok']} ok, {counts['failed']} failed, {counts['blocked']} blocked"
        f", {sum(1 for s in report.smoke if s.ok)}/{len(report.smoke)} smoke tests passed"
        f" ({seconds:.2f} s)"
    )
    return "\n".join(lines)
