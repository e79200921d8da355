"""The watcher's hold on the state lock: re-entry without re-locking, loss detection, renewal."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import LockHeldError, TemporaryApiError
from reconciler.state import FileStateStore
from reconciler.watch.lock import HeldLock, LockLostError, keep_lease

pytestmark = pytest.mark.anyio


async def test_held_lock_yields_the_lease_it_holds_without_locking_again(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    async with store.lock(command="watch") as lease:
        held = HeldLock(store, lease)
        for _ in range(2):  # an apply per cycle, under the one lock
            async with held.lock(command="apply") as inner:
                assert inner is lease
        other = FileStateStore(tmp_path / "state.json")
        with pytest.raises(LockHeldError, match="running `watch`"):
            async with other.lock(command="apply"):
                pass


async def test_a_removed_lock_stops_the_watcher(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    async with store.lock(command="watch") as lease:
        held = HeldLock(store, lease)
        (tmp_path / "state.json.lock").unlink()  # removed behind the watcher's back
        with pytest.raises(LockLostError, match="reconcile unlock"):
            async with held.lock(command="apply"):
                pass


async def test_keep_lease_renews_until_the_lock_is_lost(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    async with store.lock(command="watch") as lease:
        first_expiry = lease.info.expires_at
        (tmp_path / "state.json.lock").unlink()  # removed behind the watcher's back
        with pytest.raises(LockLostError, match="stopped watching"):
            await keep_lease(lease, print, every=0.01)
    assert lease.info.expires_at == first_expiry


class FlakyLease:
    """A lease whose renewals fail twice with an unreachable server, then lose the lock."""

    def __init__(self) -> None:
        self.calls = 0

    async def renew(self) -> None:
        from reconciler.errors import StateError

        self.calls += 1
        if self.calls <= 2:
            raise TemporaryApiError("connection refused")
        raise StateError("taken")


async def test_keep_lease_rides_out_an_unreachable_server() -> None:
    lease, seen = FlakyLease(), list[str]()
    with pytest.raises(LockLostError):
        await keep_lease(lease, seen.append, every=0.001)  # type: ignore[arg-type]
    assert lease.calls == 3
    assert all("could not renew the state lock" in line for line in seen) and len(seen) == 2
