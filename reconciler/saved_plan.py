"""Saved plans (`plan --out FILE`, `apply --plan FILE`): the plan as a value, without secrets.

A saved plan records every planned change in full (bodies and specs, never a key) plus digests
of what it was computed from: the manifests (including which secrets they resolve to, as an HMAC
under a random nonce kept in the file) and the live state (endpoints and state records). Apply
recomputes both digests and refuses a plan whose world has moved on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import UsageError
from reconciler.model import (
    API_KEY,
    PROBE_PREFIX,
    Action,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    InUse,
    LiveEndpoint,
    Location,
    Plan,
    PlannedChange,
    Reason,
    StateRecord,
    dotted,
)
from reconciler.render.plan_json import change_to_dict
from reconciler.secrets import Secret

KIND = "reconcile-saved-plan"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedPlan:
    plan: Plan
    nonce: str
    manifests_digest: str
    live_digest: str
    paths: tuple[str, ...] = ()
    """The manifest paths the plan was made from, as given: `apply --plan FILE` reads them
    when it is given no PATH (and the manifests digest proves they still say the same)."""


def manifests_digest(desired: Sequence[DesiredEndpoint], nonce: str) -> str:
    """What the manifests ask for, every secret included as an HMAC (never a secret itself).

    Each secret goes in by path; `service_settings.api_key` without its path, as before secret
    maps, so a plan saved by a reconciler of then still applies."""
    mac = hmac.new(nonce.encode(), digestmod=hashlib.sha256)
    for item in sorted(desired, key=lambda d: d.inference_id):
        mac.update(_canonical([item.inference_id, item.task_type, item.body]).encode())
        for path, secret in sorted(item.secrets.items()):
            value = secret.reveal() if isinstance(secret, Secret) else str(secret)
            named = b"" if path == API_KEY else dotted(path).encode()
            mac.update(named + b"\0" + value.encode() + b"\0")
        mac.update(_canonical([item.options.protect, item.options.key_rotation]).encode())
    return mac.hexdigest()


def live_digest(live: Sequence[LiveEndpoint], records: Mapping[str, StateRecord]) -> str:
    """What the server and the state store held when the plan was made (probes left out:
    apply removes whatever probes it finds, and another apply's come and go)."""
    endpoints = [
        [e.inference_id, e.task_type, e.service, e.body]
        for e in sorted(live, key=lambda e: e.inference_id)
        if not e.inference_id.startswith(PROBE_PREFIX)
    ]
    state = [
        [r.inference_id, r.task_type, r.owner, _fingerprints(r), r.last_applied]
        for r in sorted(records.values(), key=lambda r: r.inference_id)
    ]
    return hashlib.sha256(_canonical([endpoints, state]).encode()).hexdigest()


def _fingerprints(record: StateRecord) -> str | dict[str, str]:
    """A record's secret fingerprints as digested: the lone api_key fingerprint as before
    secret maps ("" when none: a plan saved then still applies), else the whole map."""
    found, api_key = record.secret_fingerprints, dotted(API_KEY)
    if set(found) <= {api_key}:
        return found.get(api_key, "")
    return dict(sorted(found.items()))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def new_nonce() -> str:
    return secrets.token_hex(16)


# --- writing -------------------------------------------------------------------------------


def dump(saved: SavedPlan) -> dict[str, Any]:
    plan = saved.plan
    return {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "created_at": plan.created_at,
        "server_version": plan.server_version,
        "nonce": saved.nonce,
        "manifests_digest": saved.manifests_digest,
        "live_digest": saved.live_digest,
        "manifest_paths": list(saved.paths),
        "stray_probes": list(plan.stray_probes),
        "changes": [_dump_change(change) for change in plan.changes],
    }


def _dump_change(change: PlannedChange) -> dict[str, Any]:
    """The JSON plan's view of the change, plus what the executor needs (never a key)."""
    return {**change_to_dict(change), "body": change.body, "spec": change.spec}


def write(path: str, saved: SavedPlan) -> None:
    """Write atomically, readable only by the owner (plans describe infrastructure)."""
    text = json.dumps(dump(saved), indent=2) + "\n"
    temporary = f"{path}.tmp-{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


# --- reading -------------------------------------------------------------------------------


def read(path: str) -> SavedPlan:
    """Load a saved plan, or a UsageError saying why it cannot be one."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read saved plan {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UsageError(f"{path} is not a plan saved by `reconcile plan --out`")
    if data.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"{path}: saved plan format {data.get('format_version')} is not supported")
    return load(data)


def load(data: Mapping[str, Any]) -> SavedPlan:
    changes = tuple(_load_change(item) for item in data["changes"])
    plan = Plan(
        changes,
        server_version=data["server_version"],
        created_at=data["created_at"],
        stray_probes=tuple(data.get("stray_probes", ())),
    )
    paths = tuple(str(p) for p in data.get("manifest_paths") or ())
    return SavedPlan(plan, data["nonce"], data["manifests_digest"], data["live_digest"], paths)


def _load_change(item: Mapping[str, Any]) -> PlannedChange:
    origin = item.get("origin")
    return PlannedChange(
        inference_id=item["inference_id"],
        task_type=item["task_type"],
        action=Action(item["action"]),
        reason=item["reason"],
        fields=tuple(_load_field(f) for f in item.get("fields", ())),
        replace_paths=tuple(item.get("replace_paths", ())),
        drift=bool(item.get("drift")),
        in_use=InUse(
            tuple(item.get("in_use", {}).get("indexes", ())),
            tuple(item.get("in_use", {}).get("pipelines", ())),
        ),
        origin=_location(origin) if origin else None,
        code=Reason(item["reason_code"]) if item.get("reason_code") else None,
        body=item.get("body"),
        spec=item.get("spec"),
        adopt=bool(item.get("adopt")),
        breaking=bool(item.get("breaking")),
    )


def _location(text: str) -> Location:
    file, line, column = text.rsplit(":", 2)
    return Location(file, int(line), int(column))


def _load_field(item: Mapping[str, Any]) -> FieldChange:
    sensitive = bool(item.get("sensitive"))
    return FieldChange(
        path=item["path"],
        before=None if sensitive else item.get("before"),
        after=None if sensitive else item.get("after"),
        sensitive=sensitive,
        op=FieldOp(item.get("op", "changed")),
        drift=bool(item.get("drift")),
        computed=bool(item.get("computed")),
    )
