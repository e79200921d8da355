"""State records what the manifest says: a `reconcile:` option state keeps (`protect`) that
changes alone is a state-only change in the plan, applied with no server write, so prune
sees it once the manifest is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, completion, only_change, write_manifest

pytestmark = pytest.mark.e2e


def live_ids(cli: Cli) -> set[str]:
    with cli.es() as es:
        endpoints = es.get("/_inference/_all").json()["endpoints"]
    return {e["inference_id"] for e in endpoints if not e["inference_id"].startswith(".")}


def test_removing_protect_is_recorded_so_prune_can_delete_the_endpoint(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    keep = write_manifest(folder, "keep", completion("keep") + "reconcile:\n  protect: true\n")
    write_manifest(folder, "other", completion("other"))
    assert cli("apply", str(folder))[0] == 0

    write_manifest(folder, "keep", completion("keep"))  # protect: true removed, nothing else
    code, out, _ = cli("plan", str(folder), "--detailed-exitcode")
    assert code == 2
    assert "= adopt keep (completion)" in out
    assert "reason: protect: true → false recorded in state (no server write)" in out
    change = only_change(cli.plan_json(str(folder)), "keep")
    assert (change["action"], change["reason_code"]) == ("adopt", "state-only")

    with cli.es() as es:
        es.put("/_sandbox/openai/keys", json={"valid": []})  # any server write would fail now
    code, out, err = cli("apply", str(folder), "--yes", "--smoke", "none")
    assert code == 0, out + err
    assert "keep" in out and "recorded in state (no server write)" in out
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0

    keep.unlink()
    code, out, err = cli("apply", str(folder), "--prune", "--yes", "--smoke", "none")
    assert code == 0, out + err
    assert "keep" not in live_ids(cli) and "other" in live_ids(cli)
