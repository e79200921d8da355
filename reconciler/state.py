"""The state store: what the reconciler remembers about the endpoints it manages.

Two backends behind one protocol, `StateStore`:

* `IndexStateStore`: one document per endpoint in an index on the target (default
  `reconciler-state`), plus a `_meta` document (the fingerprint salt) and a `_lock`
  document. Everything is read with ONE `_search` (up to 10,000 records); every write asks
  for `refresh=true`, so the next search sees it (reference 14: search is near-real-time;
  `wait_for` would stall each write up to a refresh interval, and the index is tiny).
  The index is created explicitly with a mapping on first write.
* `FileStateStore`: one JSON file for local use, written atomically (temp file, fsync,
  `os.replace`), with an `O_CREAT|O_EXCL` lock file beside it.

Records never hold a key: only `key_fingerprint = secrets.fingerprint(key, salt)`. The salt
is one random value per store, so 1,000 endpoints sharing a key cost one derivation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler.client import ConflictError, EsClient
from reconciler.errors import NotFoundError, ReconcilerError, StateError
from reconciler.lock import (
    DEFAULT_LEASE,
    DEFAULT_POLL,
    Clock,
    FileLock,
    Lease,
    Locker,
    LockInfo,
    Sleep,
    atomic_write,
    utc_now,
)
from reconciler.model import StateRecord

log = logging.getLogger(__name__)

STATE_INDEX = "reconciler-state"
FORMAT = 1
LOCK_ID = "_lock"
META_ID = "_meta"
MAX_RECORDS = 10_000
"""One `_search` returns at most this many documents (the default `max_result_window`)."""

_KEYWORD = {"type": "keyword"}
MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "kind": _KEYWORD,
        "inference_id": _KEYWORD,
        "task_type": _KEYWORD,
        "owner": _KEYWORD,
        "key_fingerprint": {"type": "keyword", "index": False},
        "commit": _KEYWORD,
        "protect": {"type": "boolean"},
        "applied_at": {"type": "date"},
        "last_applied": {"type": "object", "enabled": False},
        "format": {"type": "integer"},
        "salt": {"type": "keyword", "index": False},
        "id": _KEYWORD,
        "holder": _KEYWORD,
        "command": _KEYWORD,
        "acquired_at": {"type": "date"},
        "expires_at": {"type": "date"},
    },
}


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """Everything a plan needs from the store, from one read."""

    records: dict[str, StateRecord] = field(default_factory=dict)
    salt: str | None = None
    lock: LockInfo | None = None


class StateStore(Protocol):
    """What the pipeline needs from a state backend (both implementations pass one suite)."""

    name: str

    async def read(self) -> StateSnapshot: ...
    async def read_all(self) -> dict[str, StateRecord]: ...
    async def salt(self) -> str: ...
    async def put(self, record: StateRecord) -> None: ...
    async def delete(self, inference_id: str) -> None: ...
    def lock(
        self, *, command: str = "", timeout: float = 0.0, holder: str | None = None
    ) -> AbstractAsyncContextManager[Lease]: ...
    async def lock_info(self) -> LockInfo | None: ...
    async def force_unlock(self, lock_id: str | None = None) -> LockInfo | None: ...


def record_to_json(record: StateRecord) -> dict[str, Any]:
    """A record as stored; refuses one that carries a key (a bug upstream)."""
    service_settings = record.last_applied.get("service_settings")
    if isinstance(service_settings, Mapping) and "api_key" in service_settings:
        raise ValueError(f"state record for {record.inference_id} holds an api_key")
    data = asdict(record)
    data["last_applied"] = dict(record.last_applied)
    return {"kind": "endpoint", "format": FORMAT, **data}


def record_from_json(data: Mapping[str, Any]) -> StateRecord:
    return StateRecord(
        inference_id=str(data["inference_id"]),
        task_type=str(data["task_type"]),
        owner=str(data.get("owner", "")),
        key_fingerprint=str(data.get("key_fingerprint", "")),
        last_applied=dict(data.get("last_applied") or {}),
        applied_at=str(data.get("applied_at", "")),
        commit=data.get("commit"),
        protect=bool(data.get("protect", False)),
    )


class _StoreBase:
    """Lock plumbing shared by both backends; subclasses set `name` and `_locker`."""

    name: str
    _locker: Locker
    _lease: Lease | None = None

    def lock(
        self, *, command: str = "", timeout: float = 0.0, holder: str | None = None
    ) -> AbstractAsyncContextManager[Lease]:
        """`async with store.lock(command=...) as lease:` — one writer at a time."""
        return self._hold(command, timeout, holder)

    @asynccontextmanager
    async def _hold(self, command: str, timeout: float, holder: str | None) -> AsyncIterator[Lease]:
        lease = await self._locker.acquire(command=command, timeout=timeout, holder=holder)
        self._lease = lease
        try:
            yield lease
        except BaseException:
            self._lease = None
            await _release_quietly(lease)  # the body's error matters more than ours
            raise
        self._lease = None
        await lease.release()

    async def lock_info(self) -> LockInfo | None:
        return await self._locker.current()

    async def force_unlock(self, lock_id: str | None = None) -> LockInfo | None:
        """For `reconcile unlock`: remove a stale lock (only `lock_id`, if given)."""
        return await self._locker.force_unlock(lock_id)

    async def read(self) -> StateSnapshot:
        raise NotImplementedError

    async def read_all(self) -> dict[str, StateRecord]:
        """The records alone (`read` also gives the salt and the lock, same one request)."""
        return (await self.read()).records

    async def _renew(self) -> None:
        """Called before every write: a writer that lost the lock must not write."""
        if self._lease is not None:
            await self._lease.renew_if_due()


async def _release_quietly(lease: Lease) -> None:
    try:
        await lease.release()
    except ReconcilerError as error:
        log.warning(
            "could not release the state lock %s (it expires by itself): %s", lease.info.id, error
        )


# -- the index backend ---------------------------------------------------------------------


class IndexStateStore(_StoreBase):
    """State kept on the target, one document per endpoint (see the module docstring)."""

    def __init__(
        self,
        client: EsClient,
        index: str = STATE_INDEX,
        *,
        now: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        lease: float = DEFAULT_LEASE,
        poll: float = DEFAULT_POLL,
    ) -> None:
        self._client, self.index, self.name = client, index, f"index {index}"
        self._index_ready = False
        self._locker = Locker(
            _IndexLock(self), store_name=self.name, now=now, sleep=sleep, lease=lease, poll=poll
        )

    async def read(self) -> StateSnapshot:
        """Records, salt and lock in one `_search`."""
        docs, total = await self._client.search(self.index, {"match_all": {}}, MAX_RECORDS)
        if total > len(docs):
            raise StateError(f"{self.name} holds {total} documents; at most {MAX_RECORDS}")
        by_id = {d.id: d.source for d in docs}
        records = {i: record_from_json(s) for i, s in by_id.items() if s.get("kind") == "endpoint"}
        meta, lock = by_id.get(META_ID), by_id.get(LOCK_ID)
        salt = str(meta["salt"]) if meta and meta.get("salt") else None
        return StateSnapshot(records, salt, LockInfo.from_json(lock) if lock else None)

    async def salt(self) -> str:
        """The store's fingerprint salt, created on first use (race-safe)."""
        await self.ensure_index()
        doc = await self._client.get_doc(self.index, META_ID)
        if doc is None:
            meta = {"kind": "meta", "format": FORMAT, "salt": secrets.token_hex(16)}
            with contextlib.suppress(ConflictError):  # another writer was first: use theirs
                await self._client.put_doc(
                    self.index, META_ID, meta, op_type="create", refresh="true"
                )
            doc = await self._client.get_doc(self.index, META_ID)
        if doc is None or not doc.source.get("salt"):
            raise StateError(f"{self.name} has no readable salt in its {META_ID} document")
        return str(doc.source["salt"])

    async def put(self, record: StateRecord) -> None:
        doc = record_to_json(record)
        await self._renew()
        await self.ensure_index()
        await self._client.put_doc(self.index, record.inference_id, doc, refresh="true")

    async def delete(self, inference_id: str) -> None:
        await self._renew()
        await self._client.delete_doc(self.index, inference_id, refresh="true")

    async def ensure_index(self) -> None:
        """Create the index with its mapping, once (no dynamic-mapping auto-creation)."""
        if not self._index_ready:
            await self._client.create_index(self.index, MAPPINGS)
            self._index_ready = True


class _IndexLock:
    """The lock as a `_lock` document; versions are (`_seq_no`, `_primary_term`)."""

    def __init__(self, store: IndexStateStore) -> None:
        self._store = store
        self._client = store._client

    async def create(self, info: LockInfo) -> Any | None:
        await self._store.ensure_index()
        return await self._write(info, op_type="create")

    async def read(self) -> tuple[LockInfo, Any] | None:
        doc = await self._client.get_doc(self._store.index, LOCK_ID)
        if doc is None:
            return None
        return LockInfo.from_json(doc.source), (doc.seq_no, doc.primary_term)

    async def renew(self, info: LockInfo, version: Any) -> Any | None:
        return await self._write(info, if_seq_no=version[0], if_primary_term=version[1])

    async def take_over(self, info: LockInfo, stale: Any) -> Any | None:
        return await self.renew(info, stale)

    async def remove(self, version: Any | None) -> bool:
        seq_no, term = version if version is not None else (None, None)
        try:
            return await self._client.delete_doc(
                self._store.index, LOCK_ID, if_seq_no=seq_no, if_primary_term=term, refresh="true"
            )
        except ConflictError:
            return False

    async def _write(self, info: LockInfo, **cas: Any) -> Any | None:
        doc = {"kind": "lock", **info.to_json()}
        try:
            written = await self._client.put_doc(
                self._store.index, LOCK_ID, doc, refresh="true", **cas
            )
        except (ConflictError, NotFoundError):
            return None
        return written.seq_no, written.primary_term


# -- the file backend ----------------------------------------------------------------------


class FileStateStore(_StoreBase):
    """State in one local JSON file, with a lock file beside it (`<path>.lock`)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        now: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        lease: float = DEFAULT_LEASE,
        poll: float = DEFAULT_POLL,
    ) -> None:
        self.path = Path(path)
        self.name = f"file {self.path}"
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None
        self._lines: dict[str, str] = {}  # encoded records of the cached data, by id
        backend = FileLock(self.path.with_name(self.path.name + ".lock"))
        self._locker = Locker(
            backend, store_name=self.name, now=now, sleep=sleep, lease=lease, poll=poll
        )

    async def read(self) -> StateSnapshot:
        data = self._load()
        records = {i: record_from_json(r) for i, r in data["records"].items()}
        return StateSnapshot(records, data.get("salt"), await self.lock_info())

    async def salt(self) -> str:
        data = self._load()
        if not data.get("salt"):
            data["salt"] = secrets.token_hex(16)
            self._save(data)
        return str(data["salt"])

    async def put(self, record: StateRecord) -> None:
        doc = record_to_json(record)
        await self._renew()
        data = self._load()
        data["records"][record.inference_id] = doc
        self._lines.pop(record.inference_id, None)
        self._save(data)

    async def delete(self, inference_id: str) -> None:
        await self._renew()
        data = self._load()
        if data["records"].pop(inference_id, None) is not None:
            self._save(data)

    def _load(self) -> dict[str, Any]:
        """The file's content; re-parsed only when the file changed since we last saw it."""
        key = _stat_key(self.path)
        if key is None:
            return {"format": FORMAT, "salt": None, "records": {}}
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        data = _read_json(self.path)
        if not isinstance(data.get("records"), dict):
            raise StateError(f"{self.name} is not a reconciler state file (no records)")
        self._cache, self._lines = (key, data), {}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        atomic_write(self.path, _dump(data, self._lines))
        key = _stat_key(self.path)
        self._cache = (key, data) if key is not None else None


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _dump(data: dict[str, Any], lines_by_id: dict[str, str]) -> str:
    """One record per line (readable, diffable); each line encoded once and reused, so a
    thousand writes do not re-encode a thousand records each."""
    records = data["records"]
    for key in records.keys() - lines_by_id.keys():
        lines_by_id[key] = f"{json.dumps(key)}: {json.dumps(records[key], sort_keys=True)}"
    for key in lines_by_id.keys() - records.keys():
        del lines_by_id[key]
    lines = [lines_by_id[k] for k in sorted(records)]
    head = {k: v for k, v in data.items() if k != "records"}
    body = ",\n".join(lines)
    return json.dumps(head, sort_keys=True)[:-1] + ', "records": {\n' + body + "\n}}\n"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read the state file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StateError(f"the state file {path} does not hold a JSON object")
    return data


def open_state_store(
    spec: str | None, client: EsClient | None, **options: Any
) -> IndexStateStore | FileStateStore:
    """`--state` → a store: `file:PATH` or a path (has `/` or ends `.json`), else an index name."""
    spec = spec or STATE_INDEX
    if spec.startswith("file:"):
        return FileStateStore(spec.removeprefix("file:"), **options)
    if "/" in spec or os.sep in spec or spec.endswith(".json"):
        return FileStateStore(spec, **options)
    if client is None:
        raise StateError(f"the state index {spec} needs a target")
    return IndexStateStore(client, spec, **options)
