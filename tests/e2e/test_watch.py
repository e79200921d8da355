"""`reconcile watch` end to end: a real watcher process, a real sandbox process, real file edits.

Each test edits manifests while the watcher runs and polls the sandbox (`GET _inference`)
until it holds what the files say. The watcher runs as `python -m reconciler watch` once the
command is wired into the CLI, else through `run_watch` with the same flags (`RUNNER`).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import KEY, Cli, completion, write_manifest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
RUNNER = """
import argparse, os, sys
from reconciler.connect import Connection
from reconciler.errors import ReconcilerError
from reconciler.planner import PlanOptions
from reconciler.watch import WatchCommand, run_watch
p = argparse.ArgumentParser()
p.add_argument("paths", nargs="+")
p.add_argument("--interval", type=float, default=60.0)
p.add_argument("--no-heal", action="store_true")
p.add_argument("--prune", action="store_true")
p.add_argument("--lock-timeout", type=float, default=0.0)
a = p.parse_args()
command = WatchCommand(a.paths, Connection(), PlanOptions(prune=a.prune), interval=a.interval,
                       heal=not a.no_heal, lock_timeout=a.lock_timeout)
try:
    sys.exit(run_watch(command, dict(os.environ)))
except ReconcilerError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(1)
"""


def watch_wired() -> bool:
    import typer

    from reconciler.cli import app

    return "watch" in typer.main.get_command(app).commands  # type: ignore[attr-defined]


def watch_command(*args: str) -> list[str]:
    if watch_wired():
        return [sys.executable, "-m", "reconciler", "watch", *args]
    return [sys.executable, "-c", RUNNER, *args]


class Watcher:
    """A watcher process whose output lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            watch_command(*args),
            env={**env, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 8.0, start: int = 0) -> int:
        """The index of the first line from `start` matching `pattern`; fails after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index in range(start, len(self.lines)):
                if re.search(pattern, self.lines[index]):
                    return index
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in:\n{self.output}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._reader.join(5)
        return self.proc.returncode


@contextmanager
def watching(cli: Cli, *args: str) -> Iterator[Watcher]:
    watcher = Watcher(list(args), cli.env)
    try:
        watcher.wait_for(r"watching ", timeout=10)
        yield watcher
    finally:
        watcher.stop()


def users(cli: Cli) -> dict[str, Any]:
    with cli.es() as es:
        endpoints = es.get("/_inference/_all").json()["endpoints"]
    return {
        e["inference_id"]: e.get("task_settings", {}).get("user")
        for e in endpoints
        if not e["inference_id"].startswith(".")
    }


def converge(cli: Cli, wanted: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> float:
    """Poll the sandbox until `wanted(users)`; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if wanted(users(cli)):
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the sandbox did not converge: {users(cli)}")


def test_saves_are_applied_within_a_second_or_so(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    manifest = write_manifest(folder, "comp", completion(user="alice"))
    with watching(cli, str(folder), "--interval", "60") as watcher:
        converge(cli, lambda u: u == {"comp": "alice"})
        watcher.wait_for(r"applied: 1 ok")
        manifest.write_text(completion(user="bob"))
        took = converge(cli, lambda u: u == {"comp": "bob"})
        write_manifest(folder, "more", completion("more", user="carol"))
        converge(cli, lambda u: u == {"comp": "bob", "more": "carol"})
    assert took < 2.0, watcher.output
    assert re.search(r"^\d\d:\d\d:\d\d changed: .*comp\.yaml$", watcher.output, re.M)
    assert "save: Plan: 0 to create, 1 to update in place" in watcher.output
    assert re.search(r"✓ smoke comp \(completion\)", watcher.output)
    assert KEY not in watcher.output


def test_a_syntax_error_or_an_emptied_file_mid_edit_deletes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "keep", completion("keep", user="alice"))
    edited = write_manifest(folder, "edited", completion("edited", user="alice"))
    with watching(cli, str(folder), "--prune", "--interval", "1") as watcher:
        converge(cli, lambda u: u == {"keep": "alice", "edited": "alice"})
        mark = len(watcher.lines)
        edited.write_text("inference_id: edited\ntask_type: [\n")  # half-way through an edit
        watcher.wait_for(r"edited\.yaml:3:1: error: invalid YAML", start=mark)
        edited.write_text("")  # truncated, about to be written again
        watcher.wait_for(r"file holds no manifest", start=mark)
        time.sleep(1.5)  # a drift check passes too: it must not plan either
        assert users(cli) == {"keep": "alice", "edited": "alice"}
        assert "nothing was planned or changed" in watcher.output
        edited.write_text(completion("edited", user="bob"))
        converge(cli, lambda u: u == {"keep": "alice", "edited": "bob"})
        edited.unlink()  # a real removal: with --prune it goes
        converge(cli, lambda u: u == {"keep": "alice"})


def test_an_out_of_band_change_is_healed_within_one_interval(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion(user="alice"))
    with watching(cli, str(folder), "--interval", "1") as watcher:
        converge(cli, lambda u: u == {"comp": "alice"})
        with cli.es() as es:
            update = {"task_settings": {"user": "mallory"}}
            assert es.put("/_inference/completion/comp/_update", json=update).status_code == 200
        took = converge(cli, lambda u: u == {"comp": "alice"}, timeout=3.0)
    assert took <= 2.0
    assert "changed outside reconciler" in watcher.output


def test_no_heal_reports_drift_and_leaves_it(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    manifest = write_manifest(folder, "comp", completion(user="alice"))
    with watching(cli, str(folder), "--interval", "1", "--no-heal") as watcher:
        converge(cli, lambda u: u == {"comp": "alice"})
        with cli.es() as es:
            update = {"task_settings": {"user": "mallory"}}
            assert es.put("/_inference/completion/comp/_update", json=update).status_code == 200
        watcher.wait_for(r"drift left alone \(--no-heal\): comp", timeout=4)
        assert users(cli) == {"comp": "mallory"}
        manifest.write_text(completion(user="carol"))  # a save of its manifest applies
        converge(cli, lambda u: u == {"comp": "carol"})


def test_one_watcher_per_state_store_and_ctrl_c_releases_the_lock(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion(user="alice"))
    with watching(cli, str(folder)) as first:
        converge(cli, lambda u: u == {"comp": "alice"})
        second = Watcher([str(folder)], cli.env)
        assert second.proc.wait(15) == 1
        second.stop()
        assert re.search(r"locked by .* running `watch`", second.output), second.output
        code, _, err = cli("apply", str(folder))
        assert code == 1 and "running `watch`" in err
        assert first.stop(signal.SIGINT) == 130
    assert "stopped; the state lock was released" in first.output
    code, _, err = cli("apply", str(folder))
    assert code == 0, err


def test_a_missing_path_is_refused_at_once(cli: Cli, tmp_path: Path) -> None:
    watcher = Watcher([str(tmp_path / "nope")], cli.env)
    assert watcher.proc.wait(15) == 1
    watcher.stop()
    assert "no such file or directory" in watcher.output


def test_an_emptied_set_deletes_nothing_unless_allow_empty(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    first = write_manifest(folder, "one", completion("one", user="alice"))
    second = write_manifest(folder, "two", completion("two", user="alice"))
    with watching(cli, str(folder), "--prune", "--interval", "1") as watcher:
        converge(cli, lambda u: u == {"one": "alice", "two": "alice"})
        mark = len(watcher.lines)
        first.unlink()
        second.rename(folder / ".two.yaml")  # every manifest gone or hidden
        watcher.wait_for(r"no manifest document in .*\[manifest\.empty-set\]", start=mark)
        time.sleep(1.5)  # a drift check passes too: it must not prune either
        assert users(cli) == {"one": "alice", "two": "alice"}
        assert re.search(r"skipped: .*\.two\.yaml \(hidden\)", watcher.output)
    with watching(cli, str(folder), "--prune", "--allow-empty", "--interval", "1"):
        converge(cli, lambda u: u == {})
