"""Results where CI shows them: JUnit XML files and the GitHub Actions job summary.

The edge that writes them; what they say comes from the renderers (`render/junit.py`,
`render/plan_markdown.py`, `render/apply_report.py`), whose input was sanitized where it was
made, so nothing here can carry a secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import UsageError
from reconciler.lock import atomic_write
from reconciler.render import junit

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
"""The file a GitHub Actions step appends markdown to for its job summary
(https://docs.github.com/actions/reference/workflow-commands-for-github-actions)."""


def append_step_summary(env: Mapping[str, str], markdown: str) -> None:
    """Append to the job summary when running under GitHub Actions; else do nothing."""
    path = env.get(STEP_SUMMARY)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        raise UsageError(f"cannot append to ${STEP_SUMMARY} ({path}): {exc.strerror}") from None


def write_apply_junit(path: str, model: Mapping[str, Any]) -> None:
    """The apply's changes and its smoke tests as two suites."""
    suites = [junit.apply_suite(model["results"]), junit.smoke_suite(model["smoke"])]
    _write(path, junit.document(suites, "reconcile apply"))


def write_smoke_junit(path: str, results: Sequence[Mapping[str, Any]]) -> None:
    _write(path, junit.document([junit.smoke_suite(results)], "reconcile smoke"))


def _write(path: str, text: str) -> None:
    try:
        atomic_write(Path(path), text)
    except OSError as exc:
        raise UsageError(f"cannot write --junit {path}: {exc.strerror or exc}") from None
