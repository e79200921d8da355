"""The plan as a versioned JSON document; the human formats are rendered from this model.

Format (`format_version` 1), documented in the README:

    {"format_version": 1, "created_at": str, "server_version": str, "has_changes": bool,
     "in_sync": bool,
     "summary": {"create": n, "update": n, "replace": n, "delete": n, "adopt": n,
                 "no-op": n, "blocked": n},
     "stray_probes": [inference_id, ...],
     "blocked": [{"inference_id", "task_type", "reason", "reason_code"}],
     "changes": [{"inference_id", "task_type", "action", "reason", "reason_code", "drift",
                  "adopt", "breaking", "replace_paths": [...],
                  "in_use": {"indexes": [...], "pipelines": [...]}, "origin": "file:line:col",
                  "fields": [{"path", "op", "before", "after", "sensitive", "drift",
                              "computed"}]}]}

A sensitive field never carries values: `before` and `after` are the string "(sensitive)".
`stray_probes` are probe endpoints (`reconcile-probe-…`) an apply that was stopped left on the
server; apply removes them (they make `has_changes` true). `has_changes`: apply would write
something; `in_sync`: the target already is as the manifests say — no change and nothing
blocked (`plan --detailed-exitcode` exits 2 unless `in_sync`); `blocked` repeats the blocked
changes, the differences apply will not make, for a drift job to report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.advisories import Advisory
from reconciler.model import FieldChange, Plan, PlannedChange
from reconciler.render.advisories import advisories_to_list
from reconciler.secrets import REDACTED

PLAN_FORMAT_VERSION = 1


def plan_to_dict(plan: Plan, advisories: Sequence[Advisory] | None = None) -> dict[str, Any]:
    """The plan as plain data (the single model every renderer reads); with `advisories`
    (`PlanResult.advisories`), also `"advisories": [{"code", "inference_id", "message",
    "origin"}]`, the warnings that never fail a plan."""
    model = {
        "format_version": PLAN_FORMAT_VERSION,
        "created_at": plan.created_at,
        "server_version": plan.server_version,
        "has_changes": plan.has_changes,
        "in_sync": plan.in_sync,
        "summary": plan.counts(),
        "stray_probes": list(plan.stray_probes),
        "blocked": [
            {
                "inference_id": change.inference_id,
                "task_type": change.task_type,
                "reason": change.reason,
                "reason_code": change.code.value if change.code else None,
            }
            for change in plan.blocked
        ],
        "changes": [change_to_dict(change) for change in plan.changes],
    }
    if advisories is not None:
        model["advisories"] = advisories_to_list(advisories)
    return model


def change_to_dict(change: PlannedChange) -> dict[str, Any]:
    """One planned change as plain data (sensitive values already hidden)."""
    return {
        "inference_id": change.inference_id,
        "task_type": change.task_type,
        "action": change.action.value,
        "reason": change.reason,
        "reason_code": change.code.value if change.code else None,
        "drift": change.drift,
        "adopt": change.adopt,
        "breaking": change.breaking,
        "replace_paths": list(change.replace_paths),
        "in_use": {
            "indexes": list(change.in_use.indexes),
            "pipelines": list(change.in_use.pipelines),
        },
        "origin": str(change.origin) if change.origin else None,
        "fields": [_field(field) for field in change.fields],
    }


def _field(field: FieldChange) -> dict[str, Any]:
    hidden = field.sensitive
    return {
        "path": field.path,
        "op": field.op.value,
        "before": REDACTED if hidden else field.before,
        "after": REDACTED if hidden else field.after,
        "sensitive": field.sensitive,
        "drift": field.drift,
        "computed": field.computed,
    }


def as_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, sort_keys=False) + "\n"
