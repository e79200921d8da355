"""The state store: what the reconciler remembers about the endpoints it manages.

Two backends behind one protocol, `StateStore`:

* `IndexStateStore`: one document per endpoint in an index on the target (default
  `reconciler-state`), plus a `_meta` document (the fingerprint salt) and a `_lock`
  document. Everything is read with ONE `_search` (up to 10,000 records); every write asks
  for `refresh=true`, so the next search sees it (search is near-real-time:
  https://www.elastic.co/docs/manage-data/data-store/near-real-time-search; `wait_for` would
  stall each write up to a refresh interval, and the index is tiny).
  The index is created explicitly with a mapping on first write.
* `FileStateStore`: one JSON file for local use, written atomically (temp file, fsync,
  `os.replace`), with an `O_CREAT|O_EXCL` lock file beside it.

Records never hold a key: only `secret_fingerprints`, each secret path (dotted) to
`secrets.fingerprint(secret, salt)`. The salt is one random value per store, so 1,000
endpoints sharing a key cost one derivation. A record also keeps its `service_settings.api_key`
entry as `key_fingerprint`, the one field records had before secret maps: older reconcilers
still read it, and a record that has only it (written by one of them) reads as that entry.
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
from reconciler.errors import NotFoundError, ReconcilerError, StateError, UsageError
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
from reconciler.model import API_KEY, ChunkingReset, NotTaken, Pending, StateRecord, dotted

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
        "secret_fingerprints": {"type": "object", "enabled": False},
        "commit": _KEYWORD,
        "protect": {"type": "boolean"},
        "applied_at": {"type": "date"},
        "last_applied": {"type": "object", "enabled": False},
        "pending": {"type": "object", "enabled": False},
        "chunking_reset": {"type": "object", "enabled": False},
        "not_taken": {"type": "object", "enabled": False},
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
    async def force_unlock(self, lock_id: str) -> LockInfo | None: ...


API_KEY_PATH = dotted(API_KEY)


def record_to_json(record: StateRecord) -> dict[str, Any]:
    """A record as stored; refuses one that carries a secret at any of its secret paths (or
    an api_key anywhere in service_settings): a bug upstream."""
    paths = secret_paths(record)
    if held := holds_secret(record.last_applied, paths):
        raise ValueError(f"state record for {record.inference_id} holds a secret at {held}")
    data = asdict(record)
    data["last_applied"] = dict(record.last_applied)
    data["secret_fingerprints"] = dict(sorted(record.secret_fingerprints.items()))
    if API_KEY_PATH in record.secret_fingerprints:  # what readers before secret maps read
        data["key_fingerprint"] = record.secret_fingerprints[API_KEY_PATH]
    for name in ("pending", "chunking_reset", "not_taken"):
        data.pop(name)
    if record.pending is not None:  # absent unless a replace is under way
        data["pending"] = pending_to_json(record.pending, record.inference_id, paths)
    if record.chunking_reset is not None:  # absent unless the server reset chunking
        data["chunking_reset"] = chunking_reset_to_json(record.chunking_reset)
    if record.not_taken is not None:  # absent unless the last apply was not taken
        data["not_taken"] = asdict(record.not_taken)
    return {"kind": "endpoint", "format": FORMAT, **data}


class MalformedRecord(ValueError):
    """A stored record that is not what reconciler writes (hand-edited or corrupted)."""


_RECORD_FIELDS: tuple[tuple[str, type | tuple[type, ...], bool], ...] = (
    ("inference_id", str, True),
    ("task_type", str, True),
    ("owner", str, False),
    ("key_fingerprint", str, False),
    ("secret_fingerprints", dict, False),
    ("last_applied", dict, False),
    ("applied_at", str, False),
    ("commit", (str, type(None)), False),
    ("protect", bool, False),
)
"""Each stored field, its JSON type and whether it must be present."""


def record_from_json(data: Mapping[str, Any]) -> StateRecord:
    """A stored record; `MalformedRecord` names the first field that is not as written."""
    if not isinstance(data, Mapping):
        raise MalformedRecord(f"is a JSON {type(data).__name__}, not an object")
    for name, kinds, required in _RECORD_FIELDS:
        if name not in data or (data[name] is None and not required and name != "commit"):
            if required:
                raise MalformedRecord(f"has no {name!r}")
            continue
        if not isinstance(data[name], kinds) or (name == "inference_id" and not data[name]):
            expected = "a JSON object" if kinds is dict else _type_names(kinds)
            found = type(data[name]).__name__
            raise MalformedRecord(f"field {name!r} should be {expected}, found {found}")
    return StateRecord(
        inference_id=data["inference_id"],
        task_type=data["task_type"],
        owner=data.get("owner") or "",
        secret_fingerprints=secret_fingerprints_from_json(data),
        last_applied=dict(data.get("last_applied") or {}),
        applied_at=data.get("applied_at") or "",
        commit=data.get("commit"),
        protect=bool(data.get("protect", False)),
        pending=pending_from_json(data.get("pending")),
        chunking_reset=chunking_reset_from_json(data.get("chunking_reset")),
        not_taken=not_taken_from_json(data.get("not_taken")),
    )


def secret_fingerprints_from_json(data: Mapping[str, Any]) -> dict[str, str]:
    """The stored fingerprints by dotted secret path. A record written before secret maps has
    only `key_fingerprint`: the fingerprint of its `service_settings.api_key`, so it becomes
    that entry (same salt, same value: the next plan sees no rotation). Both present (every
    record written since): the map is the truth."""
    stored = data.get("secret_fingerprints")
    if stored is not None:
        bad = [key for key, value in stored.items() if not isinstance(value, str) or not value]
        if bad:
            raise MalformedRecord(f"field 'secret_fingerprints' has no fingerprint for {bad[0]!r}")
        return {str(key): value for key, value in stored.items()}
    legacy = data.get("key_fingerprint")
    return {API_KEY_PATH: legacy} if legacy else {}


def secret_paths(record: StateRecord) -> tuple[str, ...]:
    """The secret paths (dotted) a record must never hold a value at: those it keeps a
    fingerprint for, and `service_settings.api_key` in any case."""
    return tuple(sorted({API_KEY_PATH, *record.secret_fingerprints}))


def holds_secret(body: Mapping[str, Any] | None, paths: tuple[str, ...]) -> str | None:
    """The first of `paths` (dotted) the body holds a value at, or None. Compared dotted, so a
    map key with a dot in it (a secret parameter's name) is matched too."""
    if not body:
        return None
    wanted = set(paths)
    found = [path for path in _dotted_paths(body, "") if path in wanted]
    return min(found) if found else None


def _dotted_paths(node: Mapping[str, Any], prefix: str) -> list[str]:
    paths = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, Mapping):
            paths.extend(_dotted_paths(value, path + "."))
    return paths


def pending_to_json(
    pending: Pending, inference_id: str, paths: tuple[str, ...] = (API_KEY_PATH,)
) -> dict[str, Any]:
    """`{"action", "started_at", "previous"}`; refuses a previous body that carries a secret
    at any of `paths` (dotted)."""
    previous = dict(pending.previous) if pending.previous is not None else None
    if held := holds_secret(previous, paths):
        raise ValueError(f"the pending {pending.action} of {inference_id} holds a secret at {held}")
    return {"action": pending.action, "started_at": pending.started_at, "previous": previous}


def pending_from_json(data: Any) -> Pending | None:
    """The marker of a replace under way; one that is not as written reads as none (the next
    plan then treats a missing endpoint as deleted outside reconciler and creates it again)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("action"), str):
        return None
    previous = data.get("previous")
    return Pending(
        action=data["action"],
        started_at=str(data.get("started_at") or ""),
        previous=dict(previous) if isinstance(previous, Mapping) else None,
    )


def chunking_reset_to_json(reset: ChunkingReset) -> dict[str, Any]:
    """`{"at", "version", "expected", "found"}`: two chunking settings objects, never a key."""
    return {
        "at": reset.at,
        "version": reset.version,
        "expected": dict(reset.expected),
        "found": dict(reset.found),
    }


def chunking_reset_from_json(data: Any) -> ChunkingReset | None:
    """The note of a chunking reset; one that is not as written reads as none (the next plan then
    shows the chunking difference as a change again)."""
    if not isinstance(data, Mapping):
        return None
    expected, found = data.get("expected"), data.get("found")
    if not isinstance(expected, Mapping) or not isinstance(found, Mapping):
        return None
    return ChunkingReset(
        at=str(data.get("at") or ""),
        version=str(data.get("version") or ""),
        expected=dict(expected),
        found=dict(found),
    )


def not_taken_from_json(data: Any) -> NotTaken | None:
    """`{"digest", "count", "cause", "at"}`; one that is not as written reads as none."""
    if not isinstance(data, Mapping) or not isinstance(data.get("digest"), str):
        return None
    count = data.get("count")
    return NotTaken(
        digest=data["digest"],
        count=count if isinstance(count, int) and count > 0 else 1,
        cause=str(data.get("cause") or ""),
        at=str(data.get("at") or ""),
    )


def records_from(
    documents: Mapping[str, Any], store_name: str, repair: str
) -> dict[str, StateRecord]:
    """Every stored record, or a `StateError` naming the bad one and how to repair it."""
    records: dict[str, StateRecord] = {}
    for key, data in documents.items():
        try:
            records[key] = record_from_json(data)
        except MalformedRecord as why:
            raise StateError(
                f"the state record {key!r} in {store_name} {why}; nothing was written. Repair"
                f" or remove that record ({repair.format(key=key)}); an endpoint whose record is"
                " removed is adopted again by the next plan when it matches its manifest"
            ) from None
    return records


def _type_names(kinds: type | tuple[type, ...]) -> str:
    names = {str: "a string", bool: "true or false", type(None): "null", dict: "a JSON object"}
    chosen = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(names.get(kind, kind.__name__) for kind in chosen)


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

    async def force_unlock(self, lock_id: str) -> LockInfo | None:
        """For `reconcile unlock LOCK_ID`: remove a stale lock (never a live holder's)."""
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
            _IndexLock(self),
            store_name=self.name,
            now=now,
            sleep=sleep,
            lease=lease,
            poll=poll,
            unlock_flags="" if index == STATE_INDEX else f" --state {index}",
        )

    async def read(self) -> StateSnapshot:
        """Records, salt and lock in one `_search`."""
        docs, total = await self._client.search(self.index, {"match_all": {}}, MAX_RECORDS)
        if total > len(docs):
            raise StateError(f"{self.name} holds {total} documents; at most {MAX_RECORDS}")
        by_id = {d.id: d.source for d in docs}
        endpoints = {i: s for i, s in by_id.items() if s.get("kind") == "endpoint"}
        repair = f"DELETE {self.index}/_doc/{{key}}"
        records = records_from(endpoints, self.name, repair)
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
            backend,
            store_name=self.name,
            now=now,
            sleep=sleep,
            lease=lease,
            poll=poll,
            unlock_flags=f" --state file:{self.path}",
        )

    async def read(self) -> StateSnapshot:
        data = self._load()
        repair = f'edit the "records" of {self.path}'
        records = records_from(data["records"], self.name, repair)
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


INDEX_NAME_FORBIDDEN = frozenset('\\/*?"<>| ,#:')
"""Characters Elasticsearch refuses in an index name (`MetadataCreateIndexService
.validateIndexOrAliasName`, `Strings.INVALID_FILENAME_CHARS` plus `#` and `:`)."""


def parse_state_spec(spec: str | None) -> tuple[str, str]:
    """`--state` → ("file", path) or ("index", name); `UsageError` saying what is wrong.

    `file:PATH`, or a path (has `/` or ends `.json`), is a file; anything else must be a
    name Elasticsearch accepts for an index (lower case, no `\\ / * ? " < > | , # :` or
    space, not starting with `-`, `_` or `+`, not `.` or `..`, at most 255 bytes)."""
    spec = STATE_INDEX if spec is None else spec
    if spec.startswith("file:") or "/" in spec or os.sep in spec or spec.endswith(".json"):
        path = spec.removeprefix("file:")
        if not path:
            raise UsageError("--state file: needs a path, such as --state file:state.json")
        if path.endswith(("/", os.sep)):
            raise UsageError(f"--state {spec}: {path} names a directory; name a file in it")
        if os.path.isdir(path):
            raise UsageError(f"--state {spec}: {path} is a directory; name a file in it")
        return "file", path
    problem = _index_name_problem(spec)
    if problem:
        raise UsageError(
            f"--state {spec!r} is neither file:PATH nor an index name Elasticsearch accepts"
            f" ({problem})"
        )
    return "index", spec


def _index_name_problem(name: str) -> str:
    bad = sorted(INDEX_NAME_FORBIDDEN.intersection(name))
    if not name:
        return "it is empty"
    if bad:
        return "it contains " + " ".join(repr(c) for c in bad)
    if name != name.lower():
        return "it must be lower case"
    if name[0] in "-_+" or name in (".", ".."):
        return "it cannot start with -, _ or +, nor be . or .."
    if len(name.encode()) > 255:
        return "it is longer than 255 bytes"
    return ""


def open_state_store(
    spec: str | None, client: EsClient | None, **options: Any
) -> IndexStateStore | FileStateStore:
    """`--state` → a store (see `parse_state_spec`)."""
    kind, where = parse_state_spec(spec)
    if kind == "file":
        return FileStateStore(where, **options)
    if client is None:
        raise StateError(f"the state index {where} needs a target")
    return IndexStateStore(client, where, **options)
