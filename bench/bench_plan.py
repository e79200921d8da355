"""Benchmark: `reconcile plan` of 1,000 endpoints against a remote-like server (issue #4).

A real sandbox process (`python -m reconciler.sandbox --port 0`) is seeded with 1,000
openai endpoints through the pipeline (`apply_changes`, concurrency 16) while it adds no
latency; then `PUT /_sandbox/latency {"ms": 20}` makes every request cost 20 ms, as a
remote cluster would, and in the same run the benchmark measures:

(a) the plan of the 1,000 manifests (no changes expected): `compute_plan` in process with
    a fresh `EsClient` per round, and `reconcile plan` end to end in a new process;
(b) the baseline: one `GET _inference/{task_type}/{id}` per endpoint, as the Terraform
    provider refreshes each resource, sequentially and 10 in flight (Terraform's default
    parallelism), with the ratio of each to the plan;
(c) the local CPU cost per endpoint of validate + normalize + diff with no I/O:
    `load_manifests` of the 1,000 documents, key resolution and `planner.plan` over the
    live endpoints and state records read from the seeded server beforehand.

Prints figures; asserts nothing about speed (only that the seed worked and the plan found
no changes). Targets (issue #4): plan ≥ 20x faster than the per-endpoint loop; CPU cost
≤ 0.3 ms per endpoint. Run: python bench/bench_plan.py (1 to 1.5 minutes on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from support import median_plan, repo_on_path, sandbox_process, set_latency

from reconciler.client import EsClient
from reconciler.defaults import capabilities
from reconciler.executor import ApplySettings
from reconciler.model import LiveEndpoint, StateRecord
from reconciler.pipeline import (
    ApplyRequest,
    ManifestSet,
    Ports,
    apply_changes,
    load_manifests,
    resolve_keys,
)
from reconciler.planner import PlanOptions, plan
from reconciler.responses import to_live_endpoint
from reconciler.secrets import Secret, fingerprint
from reconciler.secrets import fingerprints as secret_fingerprints
from reconciler.state import IndexStateStore
from reconciler.target import Target

COUNT = 1000
LATENCY_MS = 20.0
SEED_CONCURRENCY = 16
PARALLELISM = 10
"""Terraform's default `-parallelism`."""
ENV = {"OPENAI_API_KEY": "sk-bench-plan-0123456789"}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds (a median when several rounds ran) and the requests of one round."""

    seconds: float
    requests: int


# --- set-up -------------------------------------------------------------------------------------


def write_corpus(root: Path, count: int) -> None:
    """`count` manifests, one file each (the common layout of a GitOps repository)."""
    repo_on_path()
    from tests.fixtures.corpus import write_corpus as write

    write(root, count, prefix="bench")


def ports_for(client: EsClient) -> Ports:
    """The CLI's ports: the default state index on the target, the benchmark's key."""
    return Ports(client=client, store=IndexStateStore(client), env=ENV, now=lambda: NOW)


async def seed(url: str, manifests: ManifestSet) -> Timing:
    """Apply every manifest through the pipeline (one round)."""
    request = ApplyRequest(
        options=PlanOptions(),
        settings=ApplySettings(concurrency=SEED_CONCURRENCY),
        smoke="none",
    )
    started = time.perf_counter()
    async with EsClient(Target(url)) as client:
        report = await apply_changes(manifests, ports_for(client), request)
        requests = client.request_count
    assert report.ok and len(report.outcome.outcomes) == COUNT, report.outcome.with_status("failed")
    return Timing(time.perf_counter() - started, requests)


@dataclass(frozen=True, slots=True)
class LiveFacts:
    """What a plan reads from the server, read once for the no-I/O measurement."""

    live: list[LiveEndpoint]
    records: list[StateRecord]
    salt: str
    version: str
    listing: bytes
    """The `GET _inference/_all` answer as sent."""


async def live_facts(url: str) -> LiveFacts:
    """Version, endpoints, state and the raw listing, read with no latency."""
    async with EsClient(Target(url)) as client:
        version = ".".join(map(str, (await client.info()).version))
        live = await client.list_endpoints()
        snapshot = await IndexStateStore(client).read()
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/_inference/_all")
        response.raise_for_status()
    assert snapshot.salt is not None
    records = list(snapshot.records.values())
    return LiveFacts(live, records, snapshot.salt, version, response.content)


# --- (a) plan -----------------------------------------------------------------------------------


async def plan_in_process(url: str, manifests: ManifestSet, rounds: int) -> Timing:
    """`compute_plan` with a fresh client each round (so the version is asked, as in the CLI)."""
    return Timing(*await median_plan(url, manifests, ports_for, rounds))


def plan_cli(url: str, folder: Path, rounds: int) -> float:
    """`reconcile plan DIR --detailed-exitcode` in a new process; exit 0 means no changes."""
    env = {**os.environ, **ENV, "ES_URL": url}
    command = ["reconcile", "plan", str(folder), "--detailed-exitcode", "--color", "never"]
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        timings.append(time.perf_counter() - started)
        assert done.returncode == 0, (done.returncode, done.stdout[-500:], done.stderr[-500:])
    return statistics.median(timings)


# --- (b) the per-endpoint baseline --------------------------------------------------------------


async def per_endpoint_loop(url: str, targets: Sequence[tuple[str, str]], width: int) -> Timing:
    """One GET per endpoint, `width` in flight (1: strictly one after the other)."""
    limit = asyncio.Semaphore(width)
    started = time.perf_counter()
    async with EsClient(Target(url)) as client:

        async def read(task_type: str, inference_id: str) -> LiveEndpoint:
            async with limit:
                return await client.get_endpoint(task_type, inference_id)

        if width == 1:
            found = [await client.get_endpoint(*target) for target in targets]
        else:
            found = await asyncio.gather(*(read(*target) for target in targets))
        requests = client.request_count
    assert len(found) == len(targets)
    return Timing(time.perf_counter() - started, requests)


# --- (c) CPU cost, no I/O -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CpuCost:
    """Median CPU milliseconds (`time.process_time`) for all endpoints, per stage."""

    load_ms: float
    decide_ms: float
    decode_ms: float
    derive_ms: float


def median_cpu_ms(work: Callable[[], object], rounds: int = 5) -> float:
    """CPU time, not wall time: other processes on the machine do not inflate it."""
    work()  # warm caches (compiled schemas, the key fingerprint), as in a long-lived process
    timings = []
    for _ in range(rounds):
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return statistics.median(timings) * 1000


def validate_cost(folder: Path) -> float:
    """`load_manifests` of the corpus: read, parse, schema and cross-document checks."""
    return median_cpu_ms(lambda: load_manifests([str(folder)]))


def decide_cost(manifests: ManifestSet, facts: LiveFacts, load_ms: float) -> CpuCost:
    """Resolve keys + fingerprint (cached) + normalize + diff + decide, over what was read."""
    caps = capabilities(facts.version)

    def decide() -> None:
        desired = resolve_keys(manifests, ENV)
        fingerprints = {d.inference_id: secret_fingerprints(d.secrets, facts.salt) for d in desired}
        result = plan(
            desired=desired,
            desired_fingerprints=fingerprints,
            live=facts.live,
            state=facts.records,
            capabilities=caps,
            in_use={},
            options=PlanOptions(),
            created_at=NOW.isoformat(),
        )
        assert not result.has_changes

    def decode() -> None:
        body = json.loads(facts.listing)
        [to_live_endpoint(entry) for entry in body["endpoints"]]

    started = time.process_time()
    fingerprint(Secret(ENV["OPENAI_API_KEY"]), facts.salt + "-fresh")  # one uncached derivation
    derive_ms = (time.process_time() - started) * 1000
    return CpuCost(load_ms, median_cpu_ms(decide), median_cpu_ms(decode), derive_ms)


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything measured in one run."""

    round_trip_ms: float
    seed: Timing
    plan: Timing
    cli_seconds: float
    sequential: Timing
    parallel: Timing
    cpu: CpuCost
    listing_bytes: int


async def round_trip_ms(url: str, rounds: int = 20) -> float:
    """Median wall time of `GET /` (the smallest request): the latency a request really sees."""
    timings = []
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(rounds):
            started = time.perf_counter()
            (await http.get("/")).raise_for_status()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


async def measure(url: str, folder: Path) -> Figures:
    """Validate cost, seed, read the facts; then, with the latency on, (a), (b) and the rest."""
    load_ms = validate_cost(folder)  # first, while the heap is as small as in a new CLI process
    manifests = load_manifests([str(folder)])
    assert manifests.valid and len(manifests.documents) == COUNT, manifests.diagnostics[:3]
    seeded = await seed(url, manifests)
    facts = await live_facts(url)
    cpu = decide_cost(manifests, facts, load_ms)
    targets = [(e.task_type, e.inference_id) for e in facts.live if not e.preconfigured]
    assert len(targets) == COUNT, len(targets)

    await set_latency(url, LATENCY_MS)
    return Figures(
        round_trip_ms=await round_trip_ms(url),
        seed=seeded,
        plan=await plan_in_process(url, manifests, rounds=5),
        cli_seconds=await asyncio.to_thread(plan_cli, url, folder, 3),
        sequential=await per_endpoint_loop(url, targets, 1),
        parallel=await per_endpoint_loop(url, targets, PARALLELISM),
        cpu=cpu,
        listing_bytes=len(facts.listing),
    )


def row(label: str, value: str) -> None:
    print(f"  {label:<52} {value}")


def report(f: Figures) -> None:
    n = f"{COUNT:,}"
    print(f"seed: apply {n} creates, concurrency {SEED_CONCURRENCY}, no added latency")
    row("apply_changes", f"{f.seed.seconds:8.2f} s, {f.seed.requests} requests")
    print(f"with {LATENCY_MS:g} ms added to every request:")
    row("round trip of GET / (median of 20)", f"{f.round_trip_ms:8.1f} ms")
    print(f"(a) plan of {n} endpoints, no changes")
    row(
        "compute_plan in process (median of 5)",
        f"{f.plan.seconds:8.3f} s, {f.plan.requests} requests",
    )
    row("reconcile plan, new process (median of 3)", f"{f.cli_seconds:8.3f} s")
    print("(b) baseline: one GET _inference/{task_type}/{id} per endpoint, same latency")
    row("sequential", f"{f.sequential.seconds:8.3f} s, {f.sequential.requests} requests")
    row(f"{PARALLELISM} in flight", f"{f.parallel.seconds:8.3f} s, {f.parallel.requests} requests")
    for label, base in (("sequential", f.sequential), (f"{PARALLELISM} in flight", f.parallel)):
        in_process, cli = base.seconds / f.plan.seconds, base.seconds / f.cli_seconds
        target = " (target >= 20x)" if base is f.sequential else ""
        row(
            f"speed-up of plan vs {label}", f"{in_process:8.1f}x in process, {cli:.1f}x CLI{target}"
        )
    cpu = f.cpu
    print(f"(c) CPU time per endpoint, no I/O (median of 5 rounds over {n}, one file each)")
    row("validate (load_manifests)", f"{cpu.load_ms / COUNT:8.4f} ms")
    row("resolve keys + normalize + diff + decide", f"{cpu.decide_ms / COUNT:8.4f} ms")
    total = (cpu.load_ms + cpu.decide_ms) / COUNT
    row("total", f"{total:8.4f} ms (target <= 0.3 ms)")
    kib = f.listing_bytes / 1024
    row(
        f"not counted: decode GET _inference/_all ({kib:.0f} KiB)",
        f"{cpu.decode_ms / COUNT:8.4f} ms",
    )
    row("not counted: one key fingerprint (per distinct key)", f"{cpu.derive_ms:8.1f} ms once")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process() as url:
        folder = Path(tmp)
        write_corpus(folder, COUNT)
        figures = asyncio.run(measure(url, folder))
    report(figures)


if __name__ == "__main__":
    main()
