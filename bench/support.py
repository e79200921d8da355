"""What the benchmarks share: the test fixtures on the path, a sandbox process, its latency,
and the median of in-process plans."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from reconciler.client import EsClient
from reconciler.pipeline import ManifestSet, Ports, compute_plan
from reconciler.planner import PlanOptions
from reconciler.target import Target

REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_on_path() -> None:
    """The benchmarks reuse the test fixtures (sandbox launcher, corpus)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


@contextmanager
def sandbox_process(**options: object) -> Iterator[str]:
    """A real sandbox process on a free port (the test fixture's launcher); yields its URL."""
    repo_on_path()
    from tests.fixtures.sandbox import start_sandbox_process

    with start_sandbox_process(**options) as process:
        yield process.url


async def set_latency(url: str, ms: float) -> None:
    """Every later request to the sandbox waits `ms` first (admin routes excepted)."""
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.put("/_sandbox/latency", json={"ms": ms})
        response.raise_for_status()


async def median_plan(
    url: str, manifests: ManifestSet, ports_for: Callable[[EsClient], Ports], rounds: int
) -> tuple[float, int]:
    """Median seconds of `compute_plan` with a fresh client each round (so the version is
    asked, as in the CLI), and the requests of one round; the seeded server needs no change."""
    timings, requests = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        async with EsClient(Target(url)) as client:
            result = await compute_plan(manifests, ports_for(client), PlanOptions())
            requests = client.request_count
        timings.append(time.perf_counter() - started)
        assert not result.plan.has_changes, "the seeded server should need no change"
    return statistics.median(timings), requests
