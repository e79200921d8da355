"""`reconcile watch` backs off from a change the server keeps not taking: per endpoint,
exponentially, capped, and at once again when its manifest is edited."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.connect import Connection
from reconciler.model import Action, NotTaken, Plan, PlannedChange, Reason, StateRecord
from reconciler.pipeline import Ports
from reconciler.planner import PlanOptions
from reconciler.state import IndexStateStore
from reconciler.target import Target
from reconciler.watch import BACKOFF_CAP_S, WatchCommand, Watcher, backed_off, backoff_delay
from reconciler.watch.files import Kind, Trigger
from reconciler.watch.lines import Log
from reconciler.watch.lock import HeldLock
from tests.contract.test_release_updates import IgnoresUpdates
from tests.fixtures.sandbox import make_sandbox_app
from tests.unit.test_watch_cycle import KEY, completion

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INTERVAL = 60.0


class Switch(httpx.AsyncBaseTransport):
    """The sandbox, optionally behind `IgnoresUpdates`; counts the `_update` requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.ignoring, self.updates = inner, IgnoresUpdates(inner), 0
        self.ignore = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/_update"):
            self.updates += 1
        target = self.ignoring if self.ignore else self.inner
        return await target.handle_async_request(request)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Rig:
    watcher: Watcher
    switch: Switch
    clock: Clock
    folder: Path
    output: io.StringIO
    store: IndexStateStore

    async def marker(self) -> NotTaken | None:
        return (await self.store.read_all())["comp"].not_taken


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    folder = tmp_path / "m"
    folder.mkdir()
    app = make_sandbox_app()
    switch = Switch(httpx.ASGITransport(app=app))
    command = WatchCommand([str(folder)], Connection(), PlanOptions(), interval=INTERVAL)
    output, clock = io.StringIO(), Clock()
    async with EsClient(Target("http://sandbox"), transport=switch) as client:
        store = IndexStateStore(client)
        async with store.lock(command="watch") as lease:
            ports = Ports(client, HeldLock(store, lease), {"OPENAI_API_KEY": KEY}, clock)
            watcher = Watcher(command, ports, Log(output))
            yield Rig(watcher, switch, clock, folder, output, store)
    await app.aclose()


async def test_a_change_not_taken_is_retried_after_growing_waits_and_at_once_on_a_save(
    rig: Rig,
) -> None:
    manifest = rig.folder / "comp.yaml"
    manifest.write_text(completion("comp", "alice"))
    await rig.watcher.cycle(Trigger(Kind.START))
    rig.switch.ignore = True
    manifest.write_text(completion("comp", "bob"))
    await rig.watcher.cycle(Trigger(Kind.SAVE, ("m/comp.yaml",)))
    assert rig.switch.updates == 1
    assert (marker := await rig.marker()) is not None and marker.count == 1
    assert "the server did not take: task_settings.user" in rig.output.getvalue()

    async def check_after(seconds: float) -> int:
        rig.clock.advance(seconds)
        before = rig.switch.updates
        await rig.watcher.cycle(Trigger(Kind.CHECK))
        return rig.switch.updates - before

    assert await check_after(30) == 0  # 1 failure: wait one interval
    assert "held back: comp: not taken by the server once; next try at" in rig.output.getvalue()
    assert await check_after(30) == 1
    assert (marker := await rig.marker()) is not None and marker.count == 2
    assert await check_after(60) == 0  # 2 failures: two intervals
    assert await check_after(60) == 1
    assert await check_after(120) == 0  # 3 failures: four intervals
    manifest.write_text(completion("comp", "carol"))  # an edit: at once, and another change
    before = rig.switch.updates
    await rig.watcher.cycle(Trigger(Kind.SAVE, ("m/comp.yaml",)))
    assert rig.switch.updates == before + 1
    rig.switch.ignore = False
    assert await check_after(INTERVAL) == 1  # carol's change failed once: one interval
    assert await rig.marker() is None
    assert await check_after(INTERVAL) == 0  # converged: nothing to retry


def test_the_wait_doubles_per_failure_and_is_capped() -> None:
    assert [backoff_delay(n, 60) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff_delay(50, 60) == BACKOFF_CAP_S
    assert backoff_delay(3, 7200) == 7200  # an interval longer than the cap is the floor


def _change(inference_id: str, code: Reason) -> PlannedChange:
    return PlannedChange(inference_id, "completion", Action.UPDATE, "why", code=code)


def _record(inference_id: str, count: int, at: datetime) -> StateRecord:
    failed = NotTaken("d", count, "cause", at.isoformat())
    fingerprints = {"service_settings.api_key": "fp"}
    owner = "reconciler"
    return StateRecord(inference_id, "completion", owner, fingerprints, {}, "t", not_taken=failed)


def test_only_changes_named_not_taken_are_held_and_per_endpoint() -> None:
    plan = Plan(
        (
            _change("a", Reason.NOT_TAKEN),
            _change("b", Reason.NOT_TAKEN),
            _change("c", Reason.UPDATE),
        ),
        "9.5.0",
        "t",
    )
    records = {
        "a": _record("a", 1, START),
        "b": _record("b", 3, START - timedelta(seconds=300)),
        "c": _record("c", 5, START),
    }
    kept, held = backed_off(plan, records, now=START, interval=60, edited=set())
    assert [c.inference_id for c in kept] == ["b", "c"]
    assert [(h.change.inference_id, h.count) for h in held] == [("a", 1)]
    kept, held = backed_off(plan, records, now=START, interval=60, edited={"a"})
    assert held == ()
