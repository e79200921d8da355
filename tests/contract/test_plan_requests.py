"""Plan reads the server in a constant number of requests, whatever the number of endpoints.

Issue #4 acceptance: "plan of 1,000 endpoints issues the same number as plan of 1". The
sandbox runs in process (`httpx.ASGITransport`), the plan is `pipeline.compute_plan` on
manifests loaded from disk with `pipeline.load_manifests`, and requests are counted by the
client itself (`EsClient.request_count`, retries included). Each plan gets a fresh client,
so both sides pay for the same version request.

Applying 1,000 endpoints in process takes about 3 s here, so the no-change case runs at the
full 1,000 as well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.executor import ApplySettings
from reconciler.model import Action, Plan
from reconciler.pipeline import (
    ApplyRequest,
    ManifestSet,
    Ports,
    apply_changes,
    compute_plan,
    load_manifests,
)
from reconciler.planner import PlanOptions
from reconciler.sandbox import SandboxApp
from reconciler.state import FileStateStore, IndexStateStore, StateStore
from reconciler.target import Target
from tests.fixtures.corpus import write_corpus
from tests.fixtures.sandbox import make_sandbox_app

pytestmark = pytest.mark.anyio

MANY = 1000
ENV = {"OPENAI_API_KEY": "sk-plan-requests-0123456789"}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

"""Every task type, in turn, so the count cannot depend on what the endpoints are."""

StoreFactory = Callable[[EsClient], StateStore]


def write_manifests(folder: Path, count: int) -> ManifestSet:
    """`count` manifests, one file each, loaded back the way the CLI loads them."""
    write_corpus(folder, count)
    manifests = load_manifests([str(folder)])
    assert manifests.valid, manifests.diagnostics[:3]
    assert len(manifests.documents) == count
    return manifests


def store_factory(backend: str, state_file: Path) -> StoreFactory:
    """A new store per client: the index on the target, or a state file of its own."""
    if backend == "index":
        return IndexStateStore
    return lambda client: FileStateStore(state_file)


@asynccontextmanager
async def sandbox() -> AsyncIterator[SandboxApp]:
    app = make_sandbox_app()
    try:
        yield app
    finally:
        await app.aclose()


def connect(app: SandboxApp) -> EsClient:
    return EsClient(Target("http://sandbox"), transport=httpx.ASGITransport(app=app))


def ports(client: EsClient, store: StoreFactory) -> Ports:
    return Ports(client=client, store=store(client), env=ENV, now=lambda: NOW)


async def plan_requests(
    app: SandboxApp, manifests: ManifestSet, store: StoreFactory
) -> tuple[int, Plan]:
    """(requests sent, plan) of one plan with a fresh client."""
    async with connect(app) as client:
        result = await compute_plan(manifests, ports(client, store), PlanOptions())
        return client.request_count, result.plan


async def apply(app: SandboxApp, manifests: ManifestSet, store: StoreFactory) -> None:
    """Create every endpoint through the pipeline (as `reconcile apply --smoke none`)."""
    request = ApplyRequest(
        options=PlanOptions(), settings=ApplySettings(concurrency=16), smoke="none"
    )
    async with connect(app) as client:
        report = await apply_changes(manifests, ports(client, store), request)
    assert report.ok, report.outcome.with_status("failed")[:3]


def actions(plan: Plan) -> dict[Action, int]:
    found: dict[Action, int] = {}
    for change in plan.changes:
        found[change.action] = found.get(change.action, 0) + 1
    return found


@pytest.mark.parametrize("backend", ["index", "file"])
async def test_planning_many_creates_costs_the_requests_of_one(
    tmp_path: Path, backend: str
) -> None:
    one = write_manifests(tmp_path / "one", 1)
    many = write_manifests(tmp_path / "many", MANY)
    async with sandbox() as app:
        one_count, one_plan = await plan_requests(
            app, one, store_factory(backend, tmp_path / "one.json")
        )
    async with sandbox() as app:
        many_count, many_plan = await plan_requests(
            app, many, store_factory(backend, tmp_path / "many.json")
        )

    assert actions(one_plan) == {Action.CREATE: 1}
    assert actions(many_plan) == {Action.CREATE: MANY}
    assert many_count == one_count


async def test_planning_many_applied_endpoints_costs_the_requests_of_one(tmp_path: Path) -> None:
    one = write_manifests(tmp_path / "one", 1)
    many = write_manifests(tmp_path / "many", MANY)
    async with sandbox() as app:
        await apply(app, one, IndexStateStore)
        one_count, one_plan = await plan_requests(app, one, IndexStateStore)
    async with sandbox() as app:
        await apply(app, many, IndexStateStore)
        many_count, many_plan = await plan_requests(app, many, IndexStateStore)

    assert actions(one_plan) == {Action.NOOP: 1}
    assert actions(many_plan) == {Action.NOOP: MANY}
    assert many_count == one_count
