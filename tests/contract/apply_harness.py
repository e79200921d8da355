"""A small harness for apply tests: manifests on disk, an in-process sandbox, plan and execute.

Plans come from `pipeline.compute_plan` (the real planner against the real sandbox), so the
tests exercise the same values the CLI would hand the executor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from reconciler.client import EsClient
from reconciler.executor import ApplyOutcome, ApplySettings, EndpointOutcome, execute
from reconciler.model import Action, LiveEndpoint, Plan
from reconciler.pipeline import PlanResult, Ports, compute_plan, load_manifests
from reconciler.planner import PlanOptions
from reconciler.retry import RetryPolicy
from reconciler.sandbox import SandboxApp
from reconciler.smoke import SmokeResult, smoke_test
from reconciler.state import FileStateStore, IndexStateStore, StateStore
from reconciler.target import Target
from tests.fixtures.sandbox import make_sandbox_app

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY_VAR = "OPENAI_API_KEY"


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox, keeps (method, path) of each, counts those in flight."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []
        self.in_flight = self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    def writes(self, prefix: str = "/_inference/") -> list[tuple[str, str]]:
        """Requests that change an inference endpoint (PUT, DELETE; not dry runs)."""
        return [c for c in self.calls if c[0] in ("PUT", "DELETE") and c[1].startswith(prefix)]


def manifest(inference_id: str, task_type: str = "text_embedding", **extra: Any) -> dict[str, Any]:
    """A manifest document; `settings`, `task`, `chunking`, `reconcile` fill the sections."""
    model = "text-embedding-3-small" if task_type == "text_embedding" else "gpt-4o-mini"
    settings = {"api_key": "${" + KEY_VAR + "}", "model_id": model, **extra.pop("settings", {})}
    doc: dict[str, Any] = {
        "inference_id": inference_id,
        "task_type": task_type,
        "service": "openai",
        "service_settings": settings,
    }
    for key, section in (("task", "task_settings"), ("chunking", "chunking_settings")):
        if key in extra:
            doc[section] = extra.pop(key)
    if "reconcile" in extra:
        doc["reconcile"] = extra.pop("reconcile")
    assert not extra, extra
    return doc


@dataclass
class Harness:
    """One sandbox, one client, one state store, one manifest folder."""

    app: SandboxApp
    client: EsClient
    store: StateStore
    recorder: Recorder
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    sleeps: list[float] = field(default_factory=list)
    progress: list[EndpointOutcome] = field(default_factory=list)

    def write(self, *docs: dict[str, Any]) -> None:
        """Replace the manifest folder's content with these documents, one file each."""
        for old in self.folder.glob("*.yaml"):
            old.unlink()
        for doc in docs:
            path = self.folder / f"{doc['inference_id']}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def ports(self) -> Ports:
        """The pipeline's ports on this harness: its client, store and environment, at NOW."""
        return Ports(client=self.client, store=self.store, env=self.env, now=lambda: NOW)

    async def plan(self, **options: Any) -> PlanResult:
        manifests = load_manifests([str(self.folder)])
        assert manifests.valid, manifests.diagnostics
        return await compute_plan(manifests, self.ports(), PlanOptions(**options))

    async def execute(
        self, result: PlanResult, plan: Plan | None = None, **settings: Any
    ) -> ApplyOutcome:
        """Execute the result's plan (or `plan`, e.g. an edited copy) with its manifests."""
        return await execute(
            plan or result.plan,
            desired={d.inference_id: d for d in result.desired},
            client=self.client,
            store=self.store,
            salt=await self.store.salt(),
            settings=ApplySettings(**settings),
            now=lambda: NOW,
            progress=self.progress.append,
        )

    async def apply(
        self, plan_options: dict[str, Any] | None = None, **settings: Any
    ) -> ApplyOutcome:
        """Plan and execute once."""
        return await self.execute(await self.plan(**(plan_options or {})), **settings)

    async def converge(self, rounds: int = 4, **options: Any) -> list[ApplyOutcome]:
        """Apply until a plan has nothing left to change; fails if it never gets there."""
        outcomes: list[ApplyOutcome] = []
        for _ in range(rounds):
            result = await self.plan(**options)
            if not result.plan.has_changes:
                return outcomes
            outcomes.append(await self.execute(result))
        raise AssertionError(f"no convergence after {rounds} rounds: {outcomes}")

    async def live(self) -> dict[str, LiveEndpoint]:
        """The user endpoints on the server (preconfigured `.…` ones left out)."""
        found = await self.client.list_endpoints()
        return {e.inference_id: e for e in found if not e.preconfigured}

    async def smoke(self) -> list[SmokeResult]:
        result = await self.plan()
        live = await self.live()
        return await smoke_test(
            self.client, [(d, live.get(d.inference_id)) for d in result.desired]
        )

    async def raw(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """A request outside the reconciler (setting up indexes, pipelines)."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
            return await http.request(method, path, json=body)


@asynccontextmanager
async def harness(
    tmp_path: Path, *, backend: str = "file", **sandbox: Any
) -> AsyncIterator[Harness]:
    """A fresh sandbox (`sandbox` are `SandboxConfig` options) and everything around it."""
    app = make_sandbox_app(**sandbox)
    recorder = Recorder(httpx.ASGITransport(app=app))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    retry = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.002, max_retry_after=0.0)
    client = EsClient(Target("http://sandbox"), transport=recorder, sleep=sleep, retry=retry)
    store: StateStore = (
        IndexStateStore(client) if backend == "index" else FileStateStore(tmp_path / "state.json")
    )
    folder = tmp_path / "manifests"
    folder.mkdir()
    try:
        yield Harness(app, client, store, recorder, folder, sleeps=sleeps)
    finally:
        await client.aclose()
        await app.aclose()


def by_id(outcome: ApplyOutcome) -> dict[str, EndpointOutcome]:
    return {item.inference_id: item for item in outcome.outcomes}


def actions(result: PlanResult) -> dict[str, Action]:
    return {change.inference_id: change.action for change in result.plan.changes}
