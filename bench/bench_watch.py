"""Benchmark: `reconcile watch` save-to-applied latency (issue #6; target median ≤ 1 s).

A real sandbox process and a real watcher process (`python -m reconciler watch` once the
command is wired, else `run_watch` with the same arguments). For each save the benchmark
rewrites a manifest, then polls `GET _inference/_all` every 10 ms until the server holds the
new value; the time from the write to that GET is one sample. Two kinds of saves:

* update: `task_settings.user` of a completion endpoint changes (update in place + smoke);
* create: a new manifest file appears (create, read-back, state write, smoke).

Run once against a local sandbox and once with 20 ms added to every request (`--latency-ms`),
as a remote cluster would. The figures include the watcher's debounce (100 ms of quiet
files, seen 100-200 ms after the write). `cycle` is the watcher's own time per cycle (plan,
apply, smoke). Prints figures; asserts nothing about speed. Run: python bench/bench_watch.py
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-bench-0123456789abcdefghij"
SAVES = 10
CREATES = 5
RUNNER = (
    "import os, sys\n"
    "from reconciler.connect import Connection\n"
    "from reconciler.watch import WatchCommand, run_watch\n"
    "sys.exit(run_watch(WatchCommand([sys.argv[1]], Connection()), dict(os.environ)))\n"
)


def manifest(inference_id: str, user: str) -> str:
    return (
        f"inference_id: {inference_id}\ntask_type: completion\nservice: openai\n"
        "service_settings:\n  api_key: ${OPENAI_API_KEY}\n  model_id: gpt-4o-mini\n"
        f"task_settings:\n  user: {user}\n"
    )


@contextmanager
def process(
    args: list[str], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """A child process whose output lines are collected as they come; SIGTERM after."""
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        lines.extend(line.rstrip("\n") for line in proc.stdout)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield proc, lines
    finally:
        proc.terminate()
        proc.wait(10)


def wait_for(lines: list[str], pattern: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if re.search(pattern, line):
                return line
        time.sleep(0.01)
    raise RuntimeError(f"no {pattern!r} in:\n" + "\n".join(lines))


def watch_args(folder: Path) -> list[str]:
    import typer

    from reconciler.cli import app

    if "watch" in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        return [sys.executable, "-m", "reconciler", "watch", str(folder)]
    return [sys.executable, "-c", RUNNER, str(folder)]


Users = dict[str, str | None]


def holds(inference_id: str, user: str) -> Callable[[Users], bool]:
    return lambda users: users.get(inference_id) == user


def until(es: httpx.Client, done: Callable[[Users], bool]) -> float:
    """Poll the server every 10 ms until `done(users)`; when it was seen (monotonic)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        endpoints = es.get("/_inference/_all").json()["endpoints"]
        users = {e["inference_id"]: e.get("task_settings", {}).get("user") for e in endpoints}
        if done(users):
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError("the server never got the change")


def measure(latency_ms: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": KEY}
    sandbox = [sys.executable, "-m", "reconciler.sandbox", "--port", "0"]
    sandbox += ["--latency-ms", str(latency_ms)]
    with process(sandbox, env) as (_, sandbox_lines), tempfile.TemporaryDirectory() as tmp:
        url = wait_for(sandbox_lines, r"^Sandbox listening on ").split()[-1]
        folder = Path(tmp)
        (folder / "comp.yaml").write_text(manifest("comp", "u0"))
        with (
            process(watch_args(folder), {**env, "ES_URL": url}) as (_, lines),
            httpx.Client(base_url=url, timeout=30) as es,
        ):
            wait_for(lines, r"applied: 1 ok")
            until(es, holds("comp", "u0"))
            samples: dict[str, list[float]] = {"update": [], "create": []}
            for i in range(1, SAVES + 1):
                time.sleep(0.3)  # the previous cycle's smoke test has finished
                started = time.monotonic()
                (folder / "comp.yaml").write_text(manifest("comp", f"u{i}"))
                samples["update"].append(until(es, holds("comp", f"u{i}")) - started)
            for i in range(CREATES):
                time.sleep(0.3)
                started = time.monotonic()
                (folder / f"new{i}.yaml").write_text(manifest(f"new{i}", "n"))
                samples["create"].append(until(es, holds(f"new{i}", "n")) - started)
            cycles = [float(m) for m in re.findall(r"passed \((\d+\.\d+) s\)", "\n".join(lines))]
            samples["cycle"] = cycles[1:]  # the watcher's own cycle time, debounce excluded
    return samples


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    print(f"reconcile watch: save-to-applied latency ({SAVES} updates, {CREATES} creates)")
    for latency in (0, 20):
        samples = measure(latency)
        where = "local sandbox" if latency == 0 else f"sandbox + {latency} ms per request"
        print(f"\n{where}:")
        for kind, values in samples.items():
            ms = [v * 1000 for v in values]
            print(
                f"  {kind:7} median {statistics.median(ms):6.0f} ms   p90 {p90(ms):6.0f} ms   "
                f"max {max(ms):6.0f} ms   (n={len(ms)})"
            )
    print("\ntarget: median ≤ 1000 ms (update and create include the 100-200 ms debounce)")


if __name__ == "__main__":
    main()
