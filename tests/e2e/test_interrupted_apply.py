"""An apply that is killed recovers by itself: the next plain `apply` (no `unlock`) completes
an interrupted replace first and removes the probe endpoints the dead run left, and `plan`
then has nothing to do. `plan` only lists stray probes; `apply` removes them under the lock.

The kill test SIGKILLs `reconcile apply` at random (seeded) moments spanning a whole run of
six replaces against a sandbox with latency, and prints its figures (`-s` shows them).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import KEY, Cli, embeddings, write_manifest

pytestmark = pytest.mark.e2e

PROBE = "reconcile-probe-ab12cd34"
ENDPOINTS = tuple(f"emb-{i}" for i in range(6))
RUNS = 12
LATENCY_MS = 60
SEED = 20260301


def live(cli: Cli) -> dict[str, dict[str, Any]]:
    with cli.es() as es:
        endpoints = es.get("/_inference/_all").json()["endpoints"]
    return {e["inference_id"]: e for e in endpoints if not e["inference_id"].startswith(".")}


def probes(cli: Cli) -> list[str]:
    return sorted(name for name in live(cli) if name.startswith("reconcile-probe-"))


def test_plan_lists_stray_probes_and_apply_removes_them(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings(dimensions=64))
    assert cli("apply", str(folder))[0] == 0
    body = {"service": "openai", "service_settings": {"api_key": KEY, "model_id": "gpt-4o-mini"}}
    with cli.es() as es:  # what a run killed while proving a replace leaves behind
        es.put(f"/_inference/completion/{PROBE}", json=body).raise_for_status()

    code, out, _ = cli("plan", str(folder), "--detailed-exitcode")
    assert code == 2
    line = f"stray probe endpoints left by an interrupted apply: {PROBE} (will be removed by apply)"
    assert line in out and "No changes" not in out
    assert cli.plan_json(str(folder))["stray_probes"] == [PROBE]
    markdown = cli("plan", str(folder), "--format", "markdown")[1]
    assert f"Stray probe endpoints left by an interrupted apply: `{PROBE}`" in markdown
    assert probes(cli) == [PROBE]  # plan never removes them

    code, out, err = cli("apply", str(folder), "--yes")
    assert code == 0, out + err
    assert line in out
    assert probes(cli) == []
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0


# --- the kill test ----------------------------------------------------------------------------


@dataclass
class Figures:
    """What the kills found: how many landed mid-apply, what they left, how long it took."""

    runs: int = 0
    before_writes: int = 0  # killed before the run touched the server or the state
    mid_apply: int = 0  # some of the six replaces done or under way
    after_end: int = 0  # the run had already finished
    markers: int = 0  # interrupted replaces recorded in state, found after the kill
    missing: int = 0  # endpoints absent from the server after the kill
    stray: int = 0  # probe endpoints left on the server
    apply_s: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        worst = max(self.apply_s, default=0.0)
        return (
            f"kill test: {self.runs} runs, {self.mid_apply} killed mid-apply"
            f" ({self.before_writes} before any write, {self.after_end} after the end);"
            f" left {self.markers} interrupted replaces, {self.missing} missing endpoints,"
            f" {self.stray} stray probes; every re-apply converged (slowest {worst:.2f} s);"
            f" {self.seconds:.1f} s in all"
        )


def write_set(folder: Path, dimensions: int) -> None:
    for name in ENDPOINTS:
        write_manifest(folder, name, embeddings(name, dimensions=dimensions))


def markers(state: Path) -> int:
    records = json.loads(state.read_text())["records"] if state.exists() else {}
    return sum(1 for record in records.values() if record.get("pending"))


def classify(figures: Figures, cli: Cli, state: Path, old: int, finished: bool) -> None:
    """Count what the dead run left, and where the kill landed."""
    server = live(cli)
    left = [name for name in ENDPOINTS if name not in server]
    stray = [name for name in server if name.startswith("reconcile-probe-")]
    marked = markers(state)
    figures.markers += marked
    figures.missing += len(left)
    figures.stray += len(stray)
    untouched = all(
        name in server and server[name]["service_settings"]["dimensions"] == old
        for name in ENDPOINTS
    )
    if finished:
        figures.after_end += 1
    elif untouched and not stray and not marked:
        figures.before_writes += 1
    else:
        figures.mid_apply += 1


def set_latency(cli: Cli, ms: int) -> None:
    with cli.es() as es:
        es.put("/_sandbox/latency", json={"ms": ms}).raise_for_status()


@pytest.mark.slow
def test_an_apply_killed_at_random_points_recovers_with_a_plain_apply(
    cli: Cli, tmp_path: Path
) -> None:
    started = time.monotonic()
    folder, state = tmp_path / "m", tmp_path / "state.json"
    flags = ["--state", f"file:{state}", "--yes", "--smoke", "none"]
    victim_command = [sys.executable, "-m", "reconciler", "apply", str(folder), *flags]
    write_set(folder, 128)
    assert cli("apply", str(folder), *flags)[0] == 0

    # how long one whole apply of six replaces takes here, with the latency the kills see
    write_set(folder, 64)
    set_latency(cli, LATENCY_MS)
    timed = time.monotonic()
    done = subprocess.run(victim_command, env=cli.env, capture_output=True, timeout=60)
    whole = time.monotonic() - timed
    assert done.returncode == 0, done.stderr

    rng = random.Random(SEED)
    figures = Figures()
    dimensions = 64
    for _ in range(RUNS):
        old, dimensions = dimensions, 192 - dimensions  # 64 ↔ 128
        write_set(folder, dimensions)
        set_latency(cli, LATENCY_MS)
        victim = subprocess.Popen(
            victim_command, env=cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.0, whole))
        finished = victim.poll() is not None
        victim.kill()
        victim.wait(10)
        set_latency(cli, 0)
        figures.runs += 1
        classify(figures, cli, state, old, finished)

        again = time.monotonic()
        code, out, err = cli("apply", str(folder), *flags)  # plain: no unlock, no flags
        figures.apply_s.append(time.monotonic() - again)
        assert code == 0, out + err
        plan = cli.plan_json(str(folder), "--state", f"file:{state}")
        assert not plan["has_changes"], plan
        assert plan["stray_probes"] == []
        server = live(cli)
        assert probes(cli) == []
        assert {n: server[n]["service_settings"]["dimensions"] for n in ENDPOINTS} == dict.fromkeys(
            ENDPOINTS, dimensions
        )
        assert markers(state) == 0

    figures.seconds = time.monotonic() - started
    print(f"\n{figures.line()} (one whole apply: {whole:.2f} s)")
    assert figures.mid_apply >= RUNS // 3, figures.line()
