"""Saved plans: a plan survives the file round trip; stale or foreign files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import saved_plan
from reconciler.errors import UsageError
from reconciler.saved_plan import SavedPlan
from tests.unit.test_golden_plans import every_kind_of_change


def test_a_saved_plan_reads_back_as_the_same_plan(tmp_path: Path) -> None:
    plan = every_kind_of_change()
    path = tmp_path / "plan.json"
    saved_plan.write(str(path), SavedPlan(plan, "nonce", "m-digest", "l-digest"))
    loaded = saved_plan.read(str(path))
    assert loaded.plan == plan
    assert (loaded.nonce, loaded.manifests_digest, loaded.live_digest) == (
        "nonce",
        "m-digest",
        "l-digest",
    )
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_a_file_that_is_not_a_saved_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"format_version": 1}')
    with pytest.raises(UsageError, match="not a plan saved by"):
        saved_plan.read(str(path))
    with pytest.raises(UsageError, match="cannot read saved plan"):
        saved_plan.read(str(tmp_path / "missing.json"))
