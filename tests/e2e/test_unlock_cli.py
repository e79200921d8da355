"""`reconcile unlock LOCK_ID` against a live apply (refused) and a dead one (allowed), and the
advice a lock error prints working as printed."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, completion, write_manifest

pytestmark = pytest.mark.e2e


def start_slow_apply(cli: Cli, folder: Path, state: Path) -> subprocess.Popen[bytes]:
    """An apply that holds the lock for a while (the sandbox answers slowly)."""
    for i in range(6):
        write_manifest(folder, f"c{i}", completion(f"c{i}"))
    with cli.es() as es:
        es.put("/_sandbox/latency", json={"ms": 400})
    command = [sys.executable, "-m", "reconciler", "apply", str(folder), "--yes"]
    command += ["--smoke", "none", "--concurrency", "1", "--state", f"file:{state}"]
    return subprocess.Popen(command, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_lock(lock_file: Path) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return dict(json.loads(lock_file.read_text()))
        except (FileNotFoundError, ValueError):
            time.sleep(0.05)
    raise AssertionError("the apply never took the lock")


def test_unlock_refuses_a_live_apply_and_frees_a_dead_one(cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    lock_file = tmp_path / "state.json.lock"
    victim = start_slow_apply(cli, tmp_path / "m", state)
    try:
        lock = wait_for_lock(lock_file)
        assert lock["pid"] == victim.pid
        code, out, err = cli("unlock", str(lock["id"]), "--state", f"file:{state}")
        assert code == 1
        assert "refusing to unlock" in err
        assert f"pid {victim.pid}) is still running on this machine" in err
        assert "running `apply`" in err
        assert json.loads(lock_file.read_text())["id"] == lock["id"]  # still held
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    code, out, err = cli("unlock", str(lock["id"]), "--state", f"file:{state}")
    assert code == 0, err
    assert "removed the lock held by" in out and str(lock["id"]) in out
    assert not lock_file.exists()


def test_unlock_needs_the_lock_id(cli: Cli, tmp_path: Path) -> None:
    for args in (("unlock",), ("unlock", " "), ("unlock", "--lock-id", "")):
        code, _out, err = cli(*args, "--state", f"file:{tmp_path / 's.json'}")
        assert code == 1, args
        assert "unlock needs the lock id" in err
        assert "internal error" not in err


def test_unlock_with_another_id_is_refused(cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    planted = plant_foreign_lock(state)
    code, _out, err = cli("unlock", "0000", "--state", f"file:{state}")
    assert code == 1
    assert "not lock id 0000" in err
    assert (tmp_path / "state.json.lock").exists()
    assert planted in err


def plant_foreign_lock(state: Path) -> str:
    """A lock as a run on another machine (a CI runner) leaves it when it is killed."""
    lock = {
        "id": "feedc0ffee123456",
        "holder": "runner@ci-7 pid 4242",
        "command": "apply",
        "acquired_at": "2026-12-04T10:00:00Z",
        "expires_at": "2999-01-01T00:00:00Z",
        "host": "ci-7",
        "machine": "another-machine0",
        "pid": 4242,
        "started": "99",
    }
    state.with_name(state.name + ".lock").write_text(json.dumps(lock))
    return str(lock["id"])


def test_the_advice_of_a_lock_error_works_as_printed(cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    folder = tmp_path / "m"
    write_manifest(folder, "c0", completion("c0"))
    planted = plant_foreign_lock(state)
    code, _out, err = cli("apply", str(folder), "--yes", "--state", f"file:{state}")
    assert code == 1
    assert "runner@ci-7 pid 4242 running `apply`" in err
    advice = err[err.index("reconcile unlock") :].split("\n")[0].strip()
    assert advice == f"reconcile unlock {planted} --state file:{state}"
    code, _out, err = cli(*shlex.split(advice)[1:])
    assert code == 0, err
    code, _out, err = cli("apply", str(folder), "--yes", "--state", f"file:{state}")
    assert code == 0, err


def test_a_killed_apply_needs_no_unlock(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.json"
    folder = tmp_path / "m"
    victim = start_slow_apply(cli, folder, state)
    wait_for_lock(tmp_path / "state.json.lock")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    with cli.es() as es:
        es.put("/_sandbox/latency", json={"ms": 0})
    code, out, err = cli("apply", str(folder), "--yes", "--state", f"file:{state}")
    assert code == 0, err
    # the note goes to the log (stderr outside pytest, which captures logging instead)
    assert "took over the state lock" in caplog.text and "whose process" in caplog.text
    code, out, err = cli("plan", str(folder), "--detailed-exitcode", "--state", f"file:{state}")
    assert code == 0, out + err
