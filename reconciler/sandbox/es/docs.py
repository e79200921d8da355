"""Document semantics of a single-shard index: versions, sequence numbers, optimistic
concurrency (`op_type=create`, `if_seq_no`/`if_primary_term`) and near-real-time refresh."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from .errors import EsError
from .store import Index

SEARCH_IDLE_AFTER = 30.0  # index.search.idle.after
REFRESH_INTERVAL = 1.0  # index.refresh_interval


@dataclass(frozen=True)
class WriteOptions:
    op_create: bool = False
    if_seq_no: int | None = None
    if_primary_term: int | None = None


def new_doc_id() -> str:
    """A 20-character auto-generated id, like `UUIDs.base64UUID()`."""
    return base64.urlsafe_b64encode(os.urandom(15)).decode()


def validate_write(options: WriteOptions) -> None:
    """`IndexRequest.validate` / `DeleteRequest.validate` for the concurrency parameters."""
    errors = []
    if options.op_create and options.if_seq_no is not None:
        errors.append("create operations do not support compare and set. use index instead")
    if options.if_seq_no is not None and options.if_primary_term in (None, 0):
        errors.append("ifSeqNo is set, but primary term is [0]")
    if options.if_seq_no is None and options.if_primary_term not in (None, 0):
        errors.append(f"ifSeqNo is unassigned, but primary term is [{options.if_primary_term}]")
    if errors:
        text = "".join(f"{i}: {m};" for i, m in enumerate(errors, start=1))
        raise EsError(400, "action_request_validation_exception", f"Validation Failed: {text}")


def _conflict(index: Index, doc_id: str, detail: str) -> EsError:
    extra = {"index_uuid": index.uuid, "shard": "0", "index": index.name}
    return EsError(
        409,
        "version_conflict_engine_exception",
        f"[{doc_id}]: version conflict, {detail}",
        extra=extra,
    )


def check_concurrency(index: Index, doc_id: str, options: WriteOptions) -> None:
    current = index.docs.get(doc_id)
    if options.op_create and current is not None:
        raise _conflict(
            index, doc_id, f"document already exists (current version [{current['_version']}])"
        )
    if options.if_seq_no is None:
        return
    required = f"required seqNo [{options.if_seq_no}], primary term [{options.if_primary_term}]"
    if current is None:
        raise _conflict(index, doc_id, f"{required}. but no document was found")
    if (current["_seq_no"], current["_primary_term"]) != (
        options.if_seq_no,
        options.if_primary_term,
    ):
        raise _conflict(
            index,
            doc_id,
            f"{required}. current document has seqNo [{current['_seq_no']}] and primary term "
            f"[{current['_primary_term']}]",
        )


def write_doc(
    index: Index, doc_id: str, source: dict[str, Any], options: WriteOptions
) -> tuple[dict[str, Any], bool]:
    """Index a document; return its new record and whether it was created."""
    check_concurrency(index, doc_id, options)
    current = index.docs.get(doc_id)
    version = (current["_version"] if current else index.tombstones.get(doc_id, 0)) + 1
    index.max_seq_no += 1
    record = {
        "_source": source,
        "_version": version,
        "_seq_no": index.max_seq_no,
        "_primary_term": index.primary_term,
    }
    index.docs[doc_id] = record
    index.tombstones.pop(doc_id, None)
    return record, current is None


def delete_doc(index: Index, doc_id: str, options: WriteOptions) -> dict[str, Any] | None:
    """Delete a document; None when it did not exist (ES still uses a sequence number)."""
    check_concurrency(index, doc_id, options)
    current = index.docs.pop(doc_id, None)
    index.max_seq_no += 1
    if current is None:
        return None
    version = current["_version"] + 1
    index.tombstones[doc_id] = version
    return {"_version": version, "_seq_no": index.max_seq_no, "_primary_term": index.primary_term}


def write_result(index: Index, doc_id: str, record: dict[str, Any], result: str) -> dict[str, Any]:
    return {
        "_index": index.name,
        "_id": doc_id,
        "_version": record["_version"],
        "result": result,
        "_shards": {"total": 2, "successful": 1, "failed": 0},
        "_seq_no": record["_seq_no"],
        "_primary_term": record["_primary_term"],
    }


def searchable_docs(index: Index, now: float) -> dict[str, dict[str, Any]]:
    """What a search sees: a search-idle shard refreshes before searching; an active one
    shows what its last scheduled refresh (every second) exposed."""
    idle = now - index.last_search >= SEARCH_IDLE_AFTER
    if idle or now - index.last_refresh >= REFRESH_INTERVAL:
        index.refresh(now)
    index.last_search = now
    return index.searchable


def parse_refresh(value: str | None) -> str | None:
    """`WriteRequest.RefreshPolicy.parse`: `true`/empty → immediate, `wait_for`, `false`."""
    if value is None or value == "false":
        return None
    if value in ("", "true"):
        return "true"
    if value == "wait_for":
        return "wait_for"
    raise EsError(400, "illegal_argument_exception", f"Unknown value for refresh: [{value}].")
