"""The README's main job through the CLI against a sandbox process: validate every example
(`examples/services/` included), apply the openai ones (`examples/*.yaml`, as the README's
command does; plan and apply manage openai only so far), smoke-tested, then a plan that finds
the cluster in sync. Part of the
`newest` subset `.ci/run` also runs against the newest release of every dependency."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.newest]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_validate_apply_then_plan_in_sync(cli: Cli) -> None:
    code, out, err = cli("validate", str(EXAMPLES))
    assert code == 0, out + err
    openai = [str(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    code, out, err = cli("apply", *openai, "--yes", "--detailed-exitcode")
    assert code == 2, out + err  # created, and every smoke test passed
    assert "Smoke tests: 4 of 4 passed." in out
    code, out, err = cli("plan", *openai, "--detailed-exitcode")
    assert code == 0, out + err
    assert "0 to create" in out and "0 blocked" in out
