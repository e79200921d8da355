"""Benchmark: `reconcile apply` of 200 creates, `--concurrency 8` vs `--concurrency 1` (issue #5).

Each run gets a fresh sandbox process (`python -m reconciler.sandbox --port 0
--latency-ms 20`: every request waits 20 ms, as against a remote cluster) and 200 new
manifests, and runs the CLI end to end in a new process:

    ES_URL=<sandbox> reconcile apply DIR --concurrency N --smoke none

The state lives in the default index on the target, as in CI. After the CLI runs, one more
in-process `apply_changes` at concurrency 8 on another fresh sandbox counts the requests a
create costs (the CLI does not print them).

Prints figures; asserts nothing about speed (only that every create succeeded). Target
(issue #5): concurrency 8 at least 3x faster than concurrency 1.
Run: python bench/bench_apply.py (about 30 s to 1 min on 2 cores).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from support import repo_on_path, sandbox_process

from reconciler.client import EsClient
from reconciler.executor import ApplySettings
from reconciler.pipeline import ApplyRequest, Ports, apply_changes, load_manifests
from reconciler.planner import PlanOptions
from reconciler.state import IndexStateStore
from reconciler.target import Target

COUNT = 200
LATENCY_MS = 20.0
CONCURRENCY = (1, 8)
ENV = {"OPENAI_API_KEY": "sk-bench-apply-0123456789"}


def write_corpus(root: Path, count: int) -> None:
    """`count` text_embedding manifests, one file each."""
    repo_on_path()
    from tests.fixtures.corpus import SHAPES
    from tests.fixtures.corpus import write_corpus as write

    write(root, count, prefix="apply", shapes=SHAPES[:1])


def endpoints_on(url: str) -> int:
    """User endpoints the server holds (preconfigured `.…` ids left out)."""
    body = httpx.get(f"{url}/_inference/_all", timeout=60).json()
    return sum(1 for e in body["endpoints"] if not e["inference_id"].startswith("."))


def apply_cli(folder: Path, concurrency: int) -> float:
    """Seconds for `reconcile apply` against a fresh sandbox with the latency on."""
    with sandbox_process(latency_ms=LATENCY_MS) as url:
        env = {**os.environ, **ENV, "ES_URL": url}
        command = [
            "reconcile",
            "apply",
            str(folder),
            "--concurrency",
            str(concurrency),
            "--smoke",
            "none",
            "--color",
            "never",
        ]
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        assert done.returncode == 0, (done.returncode, done.stdout[-500:], done.stderr[-500:])
        assert endpoints_on(url) == COUNT
    return elapsed


async def requests_per_create(folder: Path, concurrency: int) -> tuple[float, int]:
    """(seconds, requests) of `apply_changes` in process against a fresh sandbox."""
    manifests = load_manifests([str(folder)])
    request = ApplyRequest(
        options=PlanOptions(), settings=ApplySettings(concurrency=concurrency), smoke="none"
    )
    with sandbox_process(latency_ms=LATENCY_MS) as url:
        async with EsClient(Target(url)) as client:
            ports = Ports(client, IndexStateStore(client), ENV, lambda: datetime.now(UTC))
            started = time.perf_counter()
            report = await apply_changes(manifests, ports, request)
            elapsed = time.perf_counter() - started
            requests = client.request_count
        assert report.ok and len(report.outcome.outcomes) == COUNT
    return elapsed, requests


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_corpus(folder, COUNT)
        seconds = {n: apply_cli(folder, n) for n in CONCURRENCY}
        in_process, requests = asyncio.run(requests_per_create(folder, CONCURRENCY[-1]))
    slow, fast = seconds[CONCURRENCY[0]], seconds[CONCURRENCY[-1]]
    print(f"reconcile apply: {COUNT} creates, {LATENCY_MS:g} ms added per request, --smoke none")
    for n, elapsed in seconds.items():
        per = elapsed / COUNT * 1000
        print(f"  --concurrency {n}:   {elapsed:8.2f} s  ({per:6.1f} ms per create)")
    print(f"  speed-up 8 vs 1:   {slow / fast:8.1f}x (target >= 3x)")
    print(f"apply_changes in process, concurrency {CONCURRENCY[-1]}, fresh sandbox:")
    print(f"  {in_process:8.2f} s, {requests} requests ({requests / COUNT:.2f} per create)")


if __name__ == "__main__":
    main()
