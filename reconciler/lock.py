"""One writer per state store: a leased lock with holder, command and expiry.

The algorithm is shared; each state backend supplies the atomic primitives (`LockBackend`):
create-if-absent, read with a version, compare-and-swap, remove-if-unchanged. A second
writer polls (with the injected `sleep`) until `timeout`, then fails with `LockHeldError`
naming the holder. A lock past its `expires_at` (the holder died) is taken over by
compare-and-swap, so of two writers racing for a stale lock only one wins. The holder renews
its lease as it makes progress (`Lease.renew_if_due`, called by every state write).
Unlike Terraform's locks (hashicorp/terraform#25776), a killed CI job cannot strand the
lock for longer than one lease, and a killed run on the same machine does not strand it at
all: the lock records its holder's process (`lock_holder.py`), and a lock whose holder ran
here and is gone is taken over at once, with a note. `reconcile unlock LOCK_ID` (the id is
required, as in `terraform force-unlock LOCK_ID`) removes a lock, but never one whose holder
still runs on this machine.

`FileLock` (an `O_CREAT|O_EXCL` lock file) is the file backend's set of primitives; the
index backend's (`_lock` document, `op_type=create`, `if_seq_no`) lives in `state.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import os
import secrets
import socket
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import LockHeldError, StateError
from reconciler.lock_holder import HolderProcess, Liveness, current_process

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
DEFAULT_LEASE = 15 * 60.0
DEFAULT_POLL = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_holder() -> str:
    """`user@host pid N`: who to ask when the lock is held."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


@dataclass(frozen=True, slots=True)
class LockInfo:
    """The content of a lock: who holds it, doing what, since when, until when."""

    id: str
    holder: str
    command: str
    acquired_at: datetime
    expires_at: datetime
    process: HolderProcess = field(default_factory=HolderProcess)

    def liveness(self) -> Liveness:
        """Whether the holder still runs, as far as this machine can tell."""
        return self.process.liveness()

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def describe(self) -> str:
        command = f" running `{self.command}`" if self.command else ""
        return f"{self.holder}{command} since {_iso(self.acquired_at)} (lock id {self.id})"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "holder": self.holder,
            "command": self.command,
            "acquired_at": _iso(self.acquired_at),
            "expires_at": _iso(self.expires_at),
            "host": self.process.host,
            "machine": self.process.machine,
            "pid": self.process.pid,
            "started": self.process.started,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockInfo:
        return cls(
            id=str(data.get("id", "")),
            holder=str(data.get("holder", "unknown")),
            command=str(data.get("command", "")),
            acquired_at=_parse_time(data.get("acquired_at")),
            expires_at=_parse_time(data.get("expires_at")),
            process=HolderProcess(
                host=str(data.get("host") or ""),
                machine=str(data.get("machine") or ""),
                pid=_pid(data.get("pid")),
                started=str(data.get("started") or ""),
            ),
        )


class LockBackend(Protocol):
    """Atomic operations on the one lock record of a state store. `version` is opaque."""

    async def create(self, info: LockInfo) -> Any | None:
        """Write the lock if none exists; its version, or None if one exists."""

    async def read(self) -> tuple[LockInfo, Any] | None:
        """The current lock and its version, or None."""

    async def renew(self, info: LockInfo, version: Any) -> Any | None:
        """Rewrite our own lock if still at `version`; the new version, or None if lost."""

    async def take_over(self, info: LockInfo, stale: Any) -> Any | None:
        """Replace a stale lock still at version `stale`; the new version, or None."""

    async def remove(self, version: Any | None) -> bool:
        """Delete the lock (only if still at `version`, unless None); False if it was not."""


class Lease:
    """A held lock. Renew it while working; release it when done (`Locker.hold` does)."""

    def __init__(self, locker: Locker, info: LockInfo, version: Any) -> None:
        self._locker, self.info, self._version = locker, info, version
        self._renewed_at = info.acquired_at
        self._renewing = asyncio.Lock()  # concurrent writers renew once, not race each other
        self.released = False

    async def renew(self) -> None:
        """Extend the lease by its full length; `StateError` if another writer took it."""
        async with self._renewing:
            await self._renew()

    async def renew_if_due(self) -> None:
        """Renew once half the lease has passed since the last renewal."""
        async with self._renewing:
            if not self.released and self._due():
                await self._renew()

    def _due(self) -> bool:
        return self._locker.now() >= self._renewed_at + self._locker.lease / 2

    async def _renew(self) -> None:
        now = self._locker.whole_seconds()
        info = replace(self.info, expires_at=now + self._locker.lease)
        version = await self._locker.backend.renew(info, self._version)
        if version is None:
            raise StateError(await self._locker.lost_message(self.info))
        self.info, self._version, self._renewed_at = info, version, now

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        if not await self._locker.backend.remove(self._version):
            log.warning("the state lock was no longer ours at release: %s", self.info.id)


class Locker:
    """Acquires, holds and breaks the lock of one state store."""

    def __init__(
        self,
        backend: LockBackend,
        *,
        store_name: str,
        now: Clock = utc_now,
        sleep: Sleep,
        lease: float = DEFAULT_LEASE,
        poll: float = DEFAULT_POLL,
        unlock_flags: str = "",
    ) -> None:
        self.backend, self.store_name, self.now, self._sleep = backend, store_name, now, sleep
        self.lease, self._poll = timedelta(seconds=lease), poll
        self.unlock_flags = unlock_flags  # e.g. ` --state file:PATH`, for advice that works

    async def acquire(self, *, command: str, timeout: float, holder: str | None) -> Lease:
        """Take the lock, waiting up to `timeout` seconds; `LockHeldError` names the holder."""
        deadline = self.now() + timedelta(seconds=timeout)
        mine = self._new_info(command, holder)
        while True:
            lease = await self._try(mine)
            if lease is not None:
                return lease
            await self._wait_or_fail(deadline)
            now = self.whole_seconds()
            mine = replace(mine, acquired_at=now, expires_at=now + self.lease)

    async def current(self) -> LockInfo | None:
        found = await self.backend.read()
        return found[0] if found else None

    async def force_unlock(self, lock_id: str) -> LockInfo | None:
        """Remove the lock with `lock_id`; what was removed (None: no lock was held).

        Refused when the id is another lock's, and when the holder still runs on this
        machine: removing a live writer's lock would let a second writer in."""
        found = await self.backend.read()
        if found is None:
            return None
        info, version = found
        if lock_id != info.id:
            raise StateError(f"the lock is {info.describe()}, not lock id {lock_id}")
        if info.liveness() is Liveness.ALIVE:
            raise StateError(
                f"refusing to unlock: the lock of {self.store_name} is {info.describe()}, and that"
                f" process (pid {info.process.pid}) is still running on this machine. Let it"
                " finish, or stop it first; a lock whose process is gone is taken over by the"
                " next run on its own"
            )
        if not await self.backend.remove(version):
            raise StateError("the lock changed while removing it; run unlock again")
        return info

    async def lost_message(self, ours: LockInfo) -> str:
        now = await self.current()
        taker = now.describe() if now else "nobody (it was removed)"
        return f"lost the state lock of {self.store_name} (lock id {ours.id}); it is now {taker}"

    async def _try(self, mine: LockInfo) -> Lease | None:
        version = await self.backend.create(mine)
        if version is not None:
            return Lease(self, mine, version)
        found = await self.backend.read()
        if found is None:
            return None  # released between our create and read: the next round may win
        theirs, stale = found
        if theirs.id == mine.id:  # a retried create that had in fact succeeded
            return Lease(self, theirs, stale)
        why = self._stale(theirs)
        if why is None:
            return None
        version = await self.backend.take_over(mine, stale)
        if version is not None:
            log.warning("note: took over the state lock %s: %s", why, theirs.describe())
        return Lease(self, mine, version) if version is not None else None

    def _stale(self, theirs: LockInfo) -> str | None:
        """Why another's lock may be taken over (its holder is gone), or None if not."""
        if theirs.expired(self.now()):
            return f"of {self.store_name}, expired at {_iso(theirs.expires_at)}"
        if theirs.liveness() is Liveness.DEAD:
            return f"of {self.store_name}, whose process (pid {theirs.process.pid}) is gone"
        return None

    async def _wait_or_fail(self, deadline: datetime) -> None:
        remaining = (deadline - self.now()).total_seconds()
        if remaining <= 0:
            raise LockHeldError(await self._held_message())
        await self._sleep(min(self._poll, remaining))

    async def _held_message(self) -> str:
        info = await self.current()
        if info is None:
            return f"could not take the state lock of {self.store_name}; try again"
        held = f"the state of {self.store_name} is locked by {info.describe()}"
        if info.liveness() is Liveness.ALIVE:
            return (
                f"{held}; that process (pid {info.process.pid}) is still running on this machine."
                " Wait for it with --lock-timeout SECONDS"
            )
        return (
            f"{held}; the lock expires at {_iso(info.expires_at)}. Wait with --lock-timeout"
            f" SECONDS, or if that run is gone: reconcile unlock {info.id}{self.unlock_flags}"
        )

    def whole_seconds(self) -> datetime:
        """Now, to the second: lock times round-trip through storage unchanged."""
        return self.now().replace(microsecond=0)

    def _new_info(self, command: str, holder: str | None) -> LockInfo:
        now = self.whole_seconds()
        return LockInfo(
            id=secrets.token_hex(8),
            holder=holder or default_holder(),
            command=command,
            acquired_at=now,
            expires_at=now + self.lease,
            process=current_process(),
        )


# -- the file backend's primitives (the index backend's live in state.py) -----------


class FileLock:
    """An exclusive lock file. Versions are lock ids; a stale lock is taken over by renaming
    it aside first (only one racer's rename succeeds), then creating ours exclusively."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def create(self, info: LockInfo) -> Any | None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info.to_json(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        return info.id

    async def read(self) -> tuple[LockInfo, Any] | None:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            info = LockInfo.from_json(json.loads(text))
        except (ValueError, AttributeError):  # half-written by a killed process
            info = LockInfo.from_json({"holder": "unknown (unreadable lock file)"})
        return info, info.id

    async def renew(self, info: LockInfo, version: Any) -> Any | None:
        current = await self.read()
        if current is None or current[1] != version:
            return None
        atomic_write(self._path, json.dumps(info.to_json()))
        return info.id

    async def take_over(self, info: LockInfo, stale: Any) -> Any | None:
        if not self._set_aside(stale):
            return None
        return await self.create(info)

    async def remove(self, version: Any | None) -> bool:
        if version is None:
            try:
                self._path.unlink()
            except FileNotFoundError:
                return False
            return True
        return self._set_aside(version)

    def _set_aside(self, version: Any) -> bool:
        """Atomically move the lock away if it is still `version`; put it back otherwise."""
        aside = self._path.with_name(f"{self._path.name}.{secrets.token_hex(6)}.old")
        try:
            os.rename(self._path, aside)
        except FileNotFoundError:
            return False
        try:
            ours = LockInfo.from_json(json.loads(aside.read_text(encoding="utf-8"))).id == version
        except (ValueError, AttributeError):
            ours = version == ""
        if not ours:
            _restore(aside, self._path)
        aside.unlink(missing_ok=True)
        return ours


def _restore(aside: Path, path: Path) -> None:
    with contextlib.suppress(FileExistsError):  # a new lock appeared meanwhile: it stays
        os.link(aside, path)


def atomic_write(path: Path, text: str) -> None:
    """Write a temp file in the same directory, fsync it, rename over, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _pid(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _parse_time(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)  # unreadable: treat the lock as long expired
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
