"""The watcher's hold on the state lock: taken once, renewed, checked before every cycle.

See `watch.py` for why the watcher holds the lock for its whole life instead of per cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from reconciler.errors import ApiError, StateError

if TYPE_CHECKING:
    from reconciler.lock import Lease, LockInfo
    from reconciler.model import StateRecord
    from reconciler.state import StateSnapshot, StateStore

LEASE_S = 120.0
"""The watcher's lock lease: a killed watcher blocks other writers at most this long."""
RENEW_S = 30.0


class LockLostError(StateError):
    """The watcher's state lock was removed or taken over: it must stop writing."""


async def keep_lease(lease: Lease, log: Callable[[str], None], every: float = RENEW_S) -> None:
    """Renew the lease forever; a lost lock is fatal, an unreachable server is retried."""
    while True:
        await asyncio.sleep(every)
        try:
            await lease.renew()
        except StateError as error:
            raise LockLostError(f"stopped watching: {error}") from None
        except ApiError as error:
            log(f"warning: could not renew the state lock ({error}); retrying")


class HeldLock:
    """The state store as a cycle sees it: its lock is already held, for the watcher's life.

    `lock()` does not take the lock again (it is not re-entrant); it checks the lock is still
    ours and yields the held lease, so `apply_changes` runs unchanged under it.
    """

    def __init__(self, store: StateStore, lease: Lease) -> None:
        self._store, self._lease, self.name = store, lease, store.name

    def lock(
        self, *, command: str = "", timeout: float = 0.0, holder: str | None = None
    ) -> AbstractAsyncContextManager[Lease]:
        return self._still_ours()

    @asynccontextmanager
    async def _still_ours(self) -> AsyncIterator[Lease]:
        info = await self._store.lock_info()
        if info is None or info.id != self._lease.info.id:
            taker = info.describe() if info else "nobody (removed, e.g. by `reconcile unlock`)"
            raise LockLostError(f"stopped watching: the state lock is now held by {taker}")
        yield self._lease

    async def read(self) -> StateSnapshot:
        return await self._store.read()

    async def read_all(self) -> dict[str, StateRecord]:
        return await self._store.read_all()

    async def salt(self) -> str:
        return await self._store.salt()

    async def put(self, record: StateRecord) -> None:
        await self._store.put(record)

    async def delete(self, inference_id: str) -> None:
        await self._store.delete(inference_id)

    async def lock_info(self) -> LockInfo | None:
        return await self._store.lock_info()

    async def force_unlock(self, lock_id: str) -> LockInfo | None:
        return await self._store.force_unlock(lock_id)
