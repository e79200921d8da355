"""One contract suite for every state backend: records, salt, and the lock.

Each test runs against the file backend and the index backend; the index lives in the
sandbox (the Elasticsearch emulator, in process through `httpx.ASGITransport`), reached
through `EsClient`, so the real request path is exercised. Time and sleep are fakes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.errors import LockHeldError, StateError
from reconciler.lock import Lease, LockInfo
from reconciler.lock_holder import HolderProcess, current_process
from reconciler.model import Pending, StateRecord
from reconciler.secrets import Secret, fingerprint
from reconciler.state import (
    LOCK_ID,
    MAPPINGS,
    FileStateStore,
    IndexStateStore,
    StateStore,
    open_state_store,
    record_from_json,
    record_to_json,
)
from reconciler.target import Target
from tests.fixtures.sandbox import make_sandbox_app

pytestmark = pytest.mark.anyio

LEASE = 60.0
POLL = 2.0


class FakeClock:
    """`now()` and `sleep()` for the stores: sleeping moves time, never waits."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], Awaitable[None]] | None = None

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        if self.on_sleep is not None:
            await self.on_sleep()


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox and keeps them, to assert on what was sent.

    It yields to the event loop first, as a network would: concurrent writers interleave."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        await asyncio.sleep(0)
        return await self.inner.handle_async_request(request)


StoreFactory = Callable[[], StateStore]

OTHER_MACHINE = HolderProcess(host="ci-runner-7", machine="0123456789abcdef", pid=4242)


def dead_process_here() -> HolderProcess:
    """The identity of a process of this machine that has exited (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return replace(current_process(), pid=child.pid, started="")


async def plant_lock(store: StateStore, process: HolderProcess) -> LockInfo:
    """Write a lock as another process would have left it (through the store's backend)."""
    locker = store._locker  # type: ignore[attr-defined]
    now = locker.whole_seconds()
    info = LockInfo(
        id="planted0123456789",
        holder=f"someone@{process.host} pid {process.pid}",
        command="apply",
        acquired_at=now,
        expires_at=now + locker.lease,
        process=process,
    )
    assert await locker.backend.create(info) is not None
    return info


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(httpx.ASGITransport(app=make_sandbox_app()))


@pytest.fixture
async def es(recorder: Recorder) -> AsyncIterator[EsClient]:
    """A client to a fresh in-process sandbox (the Elasticsearch emulator)."""
    async with EsClient(Target("http://sandbox"), transport=recorder) as client:
        yield client


@pytest.fixture(params=["file", "index"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path, clock: FakeClock, es: EsClient) -> StoreFactory:
    """New store objects over the same storage (as two processes would see it)."""
    options: dict[str, Any] = {"now": clock.now, "sleep": clock.sleep, "lease": LEASE, "poll": POLL}
    if backend == "file":
        return lambda: FileStateStore(tmp_path / "state" / "reconciler-state.json", **options)
    return lambda: IndexStateStore(es, "reconciler-state", **options)


@pytest.fixture
def store(make_store: StoreFactory) -> StateStore:
    return make_store()


Hold = Callable[..., Awaitable[Lease]]


@pytest.fixture
def hold() -> Iterator[Hold]:
    """Take a lock and keep it past the statement, as a process that died would (the
    context managers are kept alive so that garbage collection does not release them)."""
    kept: list[Any] = []

    async def take(store: StateStore, **options: Any) -> Lease:
        manager = store.lock(**options)
        kept.append(manager)
        return await manager.__aenter__()

    yield take
    kept.clear()


def record(inference_id: str = "emb", **changes: Any) -> StateRecord:
    base = StateRecord(
        inference_id=inference_id,
        task_type="text_embedding",
        owner="reconciler",
        secret_fingerprints={"service_settings.api_key": "scrypt:00ff"},
        last_applied={"service": "openai", "service_settings": {"model_id": "m", "dims": [1, 2]}},
        applied_at="2026-01-01T12:00:00Z",
        commit="abc123",
    )
    return replace(base, **changes)


# -- records -------------------------------------------------------------------------------


async def test_empty_store(store: StateStore) -> None:
    snapshot = await store.read()
    assert snapshot.records == {}
    assert snapshot.salt is None
    assert snapshot.lock is None


async def test_records_round_trip_and_are_seen_at_once(store: StateStore) -> None:
    await store.put(record("a"))
    await store.put(record("b", commit=None, task_type="completion"))
    assert await store.read_all() == {
        "a": record("a"),
        "b": record("b", commit=None, task_type="completion"),
    }


async def test_put_overwrites_and_delete_removes(
    store: StateStore, make_store: StoreFactory
) -> None:
    await store.put(record("a"))
    await store.put(record("a", secret_fingerprints={"service_settings.api_key": "scrypt:new"}))
    await store.put(record("b"))
    await store.delete("b")
    await store.delete("never-there")
    fingerprints = {"service_settings.api_key": "scrypt:new"}
    assert await make_store().read_all() == {"a": record("a", secret_fingerprints=fingerprints)}


async def test_a_record_with_a_key_is_refused(store: StateStore, canary_key: str) -> None:
    leaky = record(last_applied={"service_settings": {"api_key": canary_key}})
    with pytest.raises(ValueError, match="api_key"):
        await store.put(leaky)
    assert await store.read_all() == {}


PREVIOUS = {
    "task_type": "text_embedding",
    "service": "openai",
    "service_settings": {"model_id": "m", "dimensions": 128, "similarity": "dot_product"},
}


async def test_a_replace_marker_round_trips_and_goes_with_the_next_record(
    store: StateStore, make_store: StoreFactory
) -> None:
    marked = record("a", pending=Pending("replace", "2026-01-01T12:00:00Z", PREVIOUS))
    await store.put(marked)
    await store.put(record("b", pending=Pending("replace", "2026-01-01T12:00:00Z", None)))
    found = await make_store().read_all()
    assert found["a"] == marked and found["a"].pending is not None
    assert found["b"].pending == Pending("replace", "2026-01-01T12:00:00Z", None)
    await store.put(record("a"))
    assert (await make_store().read_all())["a"].pending is None


def test_a_record_without_a_marker_is_stored_as_before() -> None:
    assert "pending" not in record_to_json(record("a"))
    marked = record_to_json(record("a", pending=Pending("replace", "t", PREVIOUS)))
    assert marked["pending"] == {"action": "replace", "started_at": "t", "previous": PREVIOUS}


async def test_a_marker_with_a_key_is_refused(store: StateStore, canary_key: str) -> None:
    leaky = {**PREVIOUS, "service_settings": {"api_key": canary_key}}
    with pytest.raises(ValueError, match="api_key"):
        await store.put(record("a", pending=Pending("replace", "t", leaky)))
    assert await store.read_all() == {}


@pytest.mark.parametrize("stored", ["replace", {"started_at": "t"}, {"action": 3}])
def test_a_marker_not_as_written_reads_as_none(stored: Any) -> None:
    assert record_from_json({**record_to_json(record("a")), "pending": stored}).pending is None


async def test_salt_is_created_once_and_shared(store: StateStore, make_store: StoreFactory) -> None:
    salt = await store.salt()
    assert len(salt) >= 16
    assert await store.salt() == salt
    assert await make_store().salt() == salt
    assert (await make_store().read()).salt == salt


async def test_fingerprints_need_the_salt_not_the_key(store: StateStore, canary_key: str) -> None:
    salt = await store.salt()
    stored_fingerprint = fingerprint(Secret(canary_key), salt)
    await store.put(record(secret_fingerprints={"service_settings.api_key": stored_fingerprint}))
    snapshot = await store.read()
    stored = snapshot.records["emb"].key_fingerprint
    assert stored == fingerprint(Secret(canary_key), snapshot.salt or "")
    assert stored != fingerprint(Secret(canary_key + "-rotated"), snapshot.salt or "")


async def test_a_thousand_records(store: StateStore) -> None:
    for i in range(1000):
        await store.put(record(f"e{i:04d}"))
    records = await store.read_all()
    assert len(records) == 1000
    assert records["e0999"] == record("e0999")


# -- the lock ------------------------------------------------------------------------------


async def test_lock_records_holder_and_is_released(store: StateStore, clock: FakeClock) -> None:
    async with store.lock(command="reconcile apply examples/", holder="ci@runner pid 7") as lease:
        info = await store.lock_info()
        assert info == lease.info
        assert info is not None
        assert (info.holder, info.command) == ("ci@runner pid 7", "reconcile apply examples/")
        assert info.acquired_at == clock.now()
        assert info.expires_at == clock.now() + timedelta(seconds=LEASE)
        assert (await store.read()).lock == info
    assert await store.lock_info() is None


async def test_second_writer_waits_then_fails_naming_the_holder(
    store: StateStore, make_store: StoreFactory, clock: FakeClock
) -> None:
    async with store.lock(command="reconcile apply a/", holder="alice@laptop pid 1"):
        clock.sleeps.clear()
        with pytest.raises(LockHeldError) as caught:
            async with make_store().lock(command="reconcile apply b/", timeout=5):
                pytest.fail("two writers at once")
    message = str(caught.value)
    assert "alice@laptop pid 1" in message
    assert "reconcile apply a/" in message
    assert "2026-01-01T12:00:00Z" in message
    # the holder is this very process: alive, so no advice to unlock it
    assert f"pid {os.getpid()}) is still running on this machine" in message
    assert "reconcile unlock" not in message
    assert clock.sleeps == [2.0, 2.0, 1.0]


async def test_a_lock_held_on_another_machine_names_a_working_unlock(
    store: StateStore, make_store: StoreFactory
) -> None:
    planted = await plant_lock(store, OTHER_MACHINE)
    with pytest.raises(LockHeldError) as caught:
        async with make_store().lock(command="apply"):
            pytest.fail("two writers at once")
    message = str(caught.value)
    hint = f"reconcile unlock {planted.id}"
    assert hint in message
    # the advice names the state store when it is not the default index
    if isinstance(store, FileStateStore):
        assert f"{hint} --state file:{store.path}" in message


async def test_a_dead_holders_lock_on_this_machine_is_taken_over_at_once(
    store: StateStore, make_store: StoreFactory, clock: FakeClock, caplog: Any
) -> None:
    planted = await plant_lock(store, dead_process_here())
    async with make_store().lock(command="next apply") as lease:
        assert clock.sleeps == []  # no waiting for the 15-minute lease
        assert (await store.lock_info()) == lease.info
    assert f"took over the state lock of {store.name}, whose process" in caplog.text
    assert planted.id in caplog.text


async def test_a_reused_pid_does_not_keep_a_dead_holders_lock(
    store: StateStore, make_store: StoreFactory, clock: FakeClock
) -> None:
    # our own pid is alive, but it started at another time than the lock's holder
    reused = replace(current_process(), started="1")
    await plant_lock(store, reused)
    async with make_store().lock(command="next apply"):
        assert clock.sleeps == []


async def test_second_writer_gets_the_lock_when_the_first_releases(
    store: StateStore, make_store: StoreFactory, clock: FakeClock, hold: Hold
) -> None:
    first = await hold(store, command="one")

    async def release_on_second_poll() -> None:
        if len(clock.sleeps) == 2:
            await first.release()

    clock.on_sleep = release_on_second_poll
    async with make_store().lock(command="two", timeout=60) as lease:
        assert lease.info.command == "two"
        assert (await store.lock_info()) == lease.info
    assert clock.sleeps == [2.0, 2.0]


async def test_no_wait_by_default(store: StateStore, make_store: StoreFactory, hold: Hold) -> None:
    async with store.lock(command="one"):
        with pytest.raises(LockHeldError):
            await hold(make_store(), command="two")


async def test_an_expired_lock_is_taken_over(
    store: StateStore, make_store: StoreFactory, clock: FakeClock, hold: Hold
) -> None:
    dead = await hold(store, command="killed apply", holder="ci pid 1")
    clock.advance(LEASE + 1)
    async with make_store().lock(command="next apply", holder="ci pid 2") as lease:
        assert clock.sleeps == []
        with pytest.raises(StateError, match="lost the state lock"):
            await dead.renew()
        await dead.release()  # must not remove the new holder's lock
        assert await store.lock_info() == lease.info


async def test_only_one_of_two_racers_takes_a_stale_lock(
    store: StateStore, make_store: StoreFactory, clock: FakeClock, hold: Hold
) -> None:
    await hold(store, command="killed")
    clock.advance(LEASE + 1)
    racers = [make_store(), make_store()]
    backends = [r._locker.backend for r in racers]  # type: ignore[attr-defined]
    found = await backends[0].read()
    assert found is not None
    stale_version = found[1]
    mine = replace(found[0], id="racer-a", holder="a")
    theirs = replace(found[0], id="racer-b", holder="b")
    results = [
        await backends[0].take_over(mine, stale_version),
        await backends[1].take_over(theirs, stale_version),
    ]
    assert results[0] is not None and results[1] is None
    current = await store.lock_info()
    assert current is not None and current.id == "racer-a"


async def test_writes_renew_the_lease_past_half_its_life(
    store: StateStore, clock: FakeClock
) -> None:
    async with store.lock(command="long apply") as lease:
        clock.advance(LEASE / 4)
        await store.put(record("a"))
        assert lease.info.expires_at == lease.info.acquired_at + timedelta(seconds=LEASE)
        clock.advance(LEASE / 2)
        await store.put(record("b"))
        assert lease.info.expires_at == clock.now() + timedelta(seconds=LEASE)
        assert (await store.lock_info()) == lease.info


async def test_force_unlock_removes_a_lock_held_elsewhere(
    store: StateStore, make_store: StoreFactory
) -> None:
    assert await store.force_unlock("any") is None
    planted = await plant_lock(store, OTHER_MACHINE)
    with pytest.raises(StateError, match="not lock id nope"):
        await make_store().force_unlock("nope")
    removed = await make_store().force_unlock(planted.id)
    assert removed == planted
    assert await store.lock_info() is None
    async with make_store().lock(command="after unlock"):
        pass


async def test_force_unlock_refuses_a_live_holder_on_this_machine(
    store: StateStore, make_store: StoreFactory, hold: Hold
) -> None:
    held = await hold(store, command="apply", holder="me pid 1")
    with pytest.raises(StateError, match=r"refusing to unlock.*still running on this machine"):
        await make_store().force_unlock(held.info.id)
    assert await store.lock_info() == held.info


async def test_force_unlock_removes_a_dead_holders_lock(
    store: StateStore, make_store: StoreFactory
) -> None:
    planted = await plant_lock(store, dead_process_here())
    assert await make_store().force_unlock(planted.id) == planted
    assert await store.lock_info() is None


async def test_lock_is_released_when_the_body_fails(store: StateStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.lock(command="boom"):
            raise RuntimeError("apply failed")
    assert await store.lock_info() is None


# -- backend specifics ---------------------------------------------------------------------


async def test_index_read_is_one_request_whatever_the_size(es: EsClient, clock: FakeClock) -> None:
    store = IndexStateStore(es, now=clock.now, sleep=clock.sleep)
    counts = []
    for n in (1, 300):
        for i in range(n):
            await store.put(record(f"e{i}"))
        before = es.request_count
        assert len(await store.read_all()) == n
        counts.append(es.request_count - before)
    assert counts == [1, 1]


async def test_index_is_created_with_an_explicit_mapping(
    es: EsClient, clock: FakeClock, recorder: Recorder
) -> None:
    store = IndexStateStore(es, "team-state", now=clock.now, sleep=clock.sleep)
    await store.put(record())
    await store.put(record("b"))
    answer = await es._http.get("/team-state/_mapping")
    mappings = answer.json()["team-state"]["mappings"]
    assert mappings["dynamic"] in (False, "false")
    assert mappings["properties"]["last_applied"] == {"type": "object", "enabled": False}
    assert mappings["properties"]["inference_id"] == {"type": "keyword"}
    creates = [r for r in recorder.requests if r.method == "PUT" and r.url.path == "/team-state"]
    assert len(creates) == 1
    assert json.loads(creates[0].content)["mappings"] == MAPPINGS
    writes = [r for r in recorder.requests if "/_doc/" in r.url.path and r.method == "PUT"]
    assert writes and all(r.url.params["refresh"] == "true" for r in writes)


async def test_index_lock_is_a_document(es: EsClient, clock: FakeClock) -> None:
    store = IndexStateStore(es, now=clock.now, sleep=clock.sleep)
    async with store.lock(command="apply", holder="h"):
        doc = await es.get_doc("reconciler-state", LOCK_ID)
        assert doc is not None
        assert doc.source["kind"] == "lock" and doc.source["holder"] == "h"
        assert doc.source["acquired_at"] == "2026-01-01T12:00:00Z"
    assert await store.read_all() == {}


async def test_file_writes_are_atomic_and_leave_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    await store.put(record())
    async with store.lock(command="apply"):
        assert (tmp_path / "state.json.lock").exists()
        await store.put(record("b"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    assert set(json.loads(path.read_text())["records"]) == {"emb", "b"}


async def test_file_sees_changes_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    mine, other = FileStateStore(path), FileStateStore(path)
    await mine.put(record("a"))
    await other.put(record("b"))
    await mine.put(record("c"))
    assert set(await other.read_all()) == {"a", "b", "c"}


async def test_corrupt_state_file_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(StateError, match="cannot read the state file"):
        await FileStateStore(path).read_all()


async def test_half_written_lock_file_counts_as_expired(tmp_path: Path, clock: FakeClock) -> None:
    (tmp_path / "state.json.lock").write_text("{")
    store = FileStateStore(tmp_path / "state.json", now=clock.now, sleep=clock.sleep)
    async with store.lock(command="apply") as lease:
        assert lease.info.command == "apply"


def test_open_state_store_picks_the_backend(tmp_path: Path) -> None:
    es = EsClient(Target("http://es.test"))
    assert isinstance(open_state_store(None, es), IndexStateStore)
    assert isinstance(open_state_store("team-state", es), IndexStateStore)
    assert isinstance(open_state_store(f"file:{tmp_path}/s", None), FileStateStore)
    assert isinstance(open_state_store(str(tmp_path / "s.json"), None), FileStateStore)
    with pytest.raises(StateError, match="needs a target"):
        open_state_store("team-state", None)


async def test_concurrent_puts_all_land(store: StateStore) -> None:
    await asyncio.gather(*(store.put(record(f"c{i}")) for i in range(50)))
    assert len(await store.read_all()) == 50


async def test_concurrent_writes_renew_once(store: StateStore, clock: FakeClock) -> None:
    async with store.lock(command="parallel apply") as lease:
        clock.advance(LEASE * 0.75)
        await asyncio.gather(*(store.put(record(f"p{i}")) for i in range(8)))
        assert lease.info.expires_at == clock.now() + timedelta(seconds=LEASE)
    assert len(await store.read_all()) == 8


async def test_a_writer_that_lost_the_lock_does_not_write(
    store: StateStore, make_store: StoreFactory, clock: FakeClock
) -> None:
    async with store.lock(command="slow apply"):
        clock.advance(LEASE + 1)
        async with make_store().lock(command="new apply"):
            with pytest.raises(StateError, match="lost the state lock"):
                await store.put(record("late"))
    assert "late" not in await store.read_all()


async def test_a_failed_release_does_not_hide_the_real_error(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_release(self: Lease) -> None:
        raise StateError("state store unreachable")

    monkeypatch.setattr(Lease, "release", failing_release)
    with pytest.raises(RuntimeError, match="apply failed"):
        async with store.lock(command="boom"):
            raise RuntimeError("apply failed")
