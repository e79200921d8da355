"""Benchmark: `plan` of 1,000 endpoints of mixed full-tier services against a remote-like server.

A real sandbox process (9.5.0, EIS enabled) is seeded through the pipeline with no latency,
first with 250 endpoints, then with 1,000, spread evenly over eight (service, task type)
shapes: openai text_embedding, elasticsearch rerank, elastic chat_completion, azureopenai
completion, cohere rerank, amazonbedrock text_embedding, googlevertexai text_embedding and
cohere text_embedding. Then `PUT /_sandbox/latency {"ms": 20}` makes every request cost 20 ms
and, for each size, `compute_plan` runs in process (no changes expected); the HTTP reads it
makes are counted. Last, the baseline: one `GET _inference/{task_type}/{id}` per endpoint,
sequentially, for the 1,000.

Prints the read counts, the times and the ratio. Exits 1 if the plan's reads grow with the
number of endpoints or the ratio is under 20; 0 otherwise.
Run: python bench/bench_plan_services.py (about a minute).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from support import median_plan, sandbox_process, set_latency

from reconciler.client import EsClient
from reconciler.executor import ApplySettings
from reconciler.pipeline import (
    ApplyRequest,
    ManifestSet,
    Ports,
    apply_changes,
    load_manifests,
)
from reconciler.planner import PlanOptions
from reconciler.state import IndexStateStore
from reconciler.target import Target

SIZES = (250, 1000)
LATENCY_MS = 20.0
TARGET_RATIO = 20.0
ROUNDS = 3
ENV = {
    "OPENAI_API_KEY": "sk-bench-services-0123456789",
    "AZURE_OPENAI_API_KEY": "bench-azure-0123456789",
    "COHERE_API_KEY": "bench-cohere-0123456789",
    "AWS_ACCESS_KEY_ID": "AKIABENCH0123456789",
    "AWS_SECRET_ACCESS_KEY": "bench-aws-secret-0123456789",
    "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps({"type": "service_account", "private_key": "b"}),
}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

SHAPES: tuple[tuple[str, str, dict[str, Any], dict[str, Any]], ...] = (
    (
        "openai",
        "text_embedding",
        {"api_key": "${OPENAI_API_KEY}", "model_id": "text-embedding-3-small", "dimensions": 64},
        {},
    ),
    (
        "elasticsearch",
        "rerank",
        {"model_id": ".rerank-v1", "num_threads": 1, "num_allocations": 1},
        {"return_documents": True},
    ),
    ("elastic", "chat_completion", {"model_id": "rainbow-sprinkles"}, {}),
    (
        "azureopenai",
        "completion",
        {
            "api_key": "${AZURE_OPENAI_API_KEY}",
            "resource_name": "bench",
            "deployment_id": "gpt-4o-mini",
            "api_version": "2024-10-21",
        },
        {"user": "bench"},
    ),
    ("cohere", "rerank", {"api_key": "${COHERE_API_KEY}", "model_id": "rerank-v3.5"}, {}),
    (
        "amazonbedrock",
        "text_embedding",
        {
            "access_key": "${AWS_ACCESS_KEY_ID}",
            "secret_key": "${AWS_SECRET_ACCESS_KEY}",
            "region": "us-east-1",
            "provider": "amazontitan",
            "model": "amazon.titan-embed-text-v2:0",
        },
        {},
    ),
    (
        "googlevertexai",
        "text_embedding",
        {
            "service_account_json": "${GOOGLE_SERVICE_ACCOUNT_JSON}",
            "model_id": "text-embedding-005",
            "location": "us-central1",
            "project_id": "bench",
            "dimensions": 256,
        },
        {},
    ),
    (
        "cohere",
        "text_embedding",
        {"api_key": "${COHERE_API_KEY}", "model_id": "embed-english-v3.0"},
        {"input_type": "ingest"},
    ),
)


def write_corpus(folder: Path, start: int, stop: int) -> list[tuple[str, str]]:
    """Manifests `start`..`stop` (one file each), cycling through SHAPES."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(start, stop):
        service, task_type, settings, task = SHAPES[i % len(SHAPES)]
        inference_id = f"bench-{service}-{i:04d}"
        document: dict[str, Any] = {
            "inference_id": inference_id,
            "task_type": task_type,
            "service": service,
            "service_settings": settings,
        }
        if task:
            document["task_settings"] = task
        (folder / f"{inference_id}.yaml").write_text(json.dumps(document))
        written.append((task_type, inference_id))
    return written


def ports_for(client: EsClient) -> Ports:
    return Ports(client=client, store=IndexStateStore(client), env=ENV, now=lambda: NOW)


def manifests_of(folder: Path, count: int) -> ManifestSet:
    manifests = load_manifests([str(folder)])
    assert manifests.valid, manifests.diagnostics[:3]
    assert len(manifests.documents) == count, len(manifests.documents)
    return manifests


async def seed(url: str, manifests: ManifestSet) -> None:
    request = ApplyRequest(
        options=PlanOptions(), settings=ApplySettings(concurrency=16), smoke="none"
    )
    async with EsClient(Target(url)) as client:
        report = await apply_changes(manifests, ports_for(client), request)
    assert report.ok, report.outcome.with_status("failed")[:3]


async def per_endpoint_loop(url: str, targets: Sequence[tuple[str, str]]) -> tuple[float, int]:
    started = time.perf_counter()
    async with EsClient(Target(url)) as client:
        for task_type, inference_id in targets:
            await client.get_endpoint(task_type, inference_id)
        requests = client.request_count
    return time.perf_counter() - started, requests


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(es_version="9.5.0") as url:
        async with httpx.AsyncClient(base_url=url) as http:
            (await http.put("/_sandbox/eis", json={"enabled": True})).raise_for_status()
        folder = Path(tmp) / "manifests"
        targets: list[tuple[str, str]] = []
        reads: dict[int, tuple[float, int]] = {}
        for size in SIZES:
            targets += write_corpus(folder, len(targets), size)
            manifests = manifests_of(folder, size)
            await set_latency(url, 0)
            started = time.perf_counter()
            await seed(url, manifests)
            print(f"seeded {size} endpoints in {time.perf_counter() - started:.1f} s (no latency)")
            await set_latency(url, LATENCY_MS)
            reads[size] = await median_plan(url, manifests, ports_for, ROUNDS)
            seconds, requests = reads[size]
            print(f"plan of {size:>5} endpoints: {seconds * 1000:8.0f} ms, {requests} HTTP reads")
        loop_seconds, loop_requests = await per_endpoint_loop(url, targets)
        print(
            f"per-endpoint GET loop of {len(targets)}: {loop_seconds:.1f} s, "
            f"{loop_requests} HTTP reads ({LATENCY_MS:.0f} ms per request)"
        )
    plan_seconds, _ = reads[SIZES[-1]]
    ratio = loop_seconds / plan_seconds
    counts = {size: requests for size, (_, requests) in reads.items()}
    constant = len(set(counts.values())) == 1
    print(f"plan reads by size: {counts} ({'constant' if constant else 'GROWS with N'})")
    print(f"ratio (per-endpoint loop / plan) at {SIZES[-1]}: {ratio:.1f}x", end=" ")
    print(f"(target >= {TARGET_RATIO:.0f}x)")
    return 0 if constant and ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
