"""Advisories: warnings `plan` gives (and apply's plan, watch's re-plans) that never fail it.

Pure functions of what the server answered and of the date (injected by the caller):

* **What the cluster offers.** `GET _inference/_services` (elastic/elasticsearch
  `x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/rest/
  RestGetInferenceServicesAction.java`, 8.16+) lists the services this cluster has and their
  task types. It is a form descriptor for Kibana, internal on serverless, and its format has
  changed (elastic/elasticsearch PR #114862 → PR #118491 → PR #120150, and the per-setting task
  list renamed from `available_for_task_types` to `supported_task_types`), so it is read as a
  cross-check only: a manifest whose service, or task type of it, the cluster does not list is
  warned about; an answer that is missing or cannot be read gives no warning at all.
  `offered` reads the `task_types` list of each service, else the union of its
  configurations' `supported_task_types` / `available_for_task_types`.
* **EIS model end of life.** An `elastic` endpoint's `metadata.heuristics.end_of_life_date`
  (elastic/elasticsearch `server/src/main/java/org/elasticsearch/inference/metadata/
  EndpointMetadata.java`, written by EIS) past, or within `EOL_HORIZON_DAYS`, is warned about,
  naming the endpoint, its model and the date. `metadata` itself is never diffed nor exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reconciler.model import DesiredEndpoint, LiveEndpoint, get_path

EOL_HORIZON_DAYS = 90
"""How far ahead an EIS model's end of life is announced."""

SERVICE_NOT_OFFERED = "service-not-offered"
TASK_TYPE_NOT_OFFERED = "task-type-not-offered"
MODEL_END_OF_LIFE = "model-end-of-life"
TASK_LIST_KEYS = ("supported_task_types", "available_for_task_types")
"""The per-configuration task-type list, by the name of each format (PR #120150 and later)."""

Offered = Mapping[str, frozenset[str] | None]
"""Service → the task types the cluster lists for it (None: it lists the service, but no task
types could be read)."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """One warning: a stable code, the endpoint it is about, the text, and where the
    endpoint's manifest is (`file:line:column`, None for a live-only endpoint)."""

    code: str
    inference_id: str
    message: str
    origin: str | None = None


# --- GET _inference/_services ----------------------------------------------------------------


def offered(body: Any) -> Offered | None:
    """What `_services` says the cluster offers; None when the answer cannot be read as a
    list of services (absent, an error body, a format this reader does not know)."""
    entries = body.get("services", body.get("endpoints")) if isinstance(body, Mapping) else body
    if not isinstance(entries, list):
        return None
    found: dict[str, frozenset[str] | None] = {}
    for entry in entries:
        name = entry.get("service") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            continue
        task_types = _task_types(entry)
        known = found.get(name)
        found[name] = task_types if known is None else known | (task_types or frozenset())
    return found or None


def _task_types(entry: Mapping[str, Any]) -> frozenset[str] | None:
    listed = entry.get("task_types")
    if isinstance(listed, list):
        return _names(listed)
    configurations = entry.get("configurations")
    if not isinstance(configurations, Mapping):
        return None
    seen: set[str] = set()
    read = False
    for setting in configurations.values():
        for key in TASK_LIST_KEYS:
            values = setting.get(key) if isinstance(setting, Mapping) else None
            if isinstance(values, list):
                seen |= _names(values)
                read = True
    return frozenset(seen) if read else None


def _names(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(v.lower() for v in values if isinstance(v, str))


def offering_advisories(
    desired: Sequence[DesiredEndpoint], services: Offered | None
) -> list[Advisory]:
    """A warning per manifest whose service, or task type of that service, the cluster does
    not list; none at all when `services` is unknown."""
    if not services:
        return []
    advisories = []
    for endpoint in desired:
        service = str(endpoint.body.get("service", ""))
        task_type = endpoint.task_type.lower()
        where = str(endpoint.origin)
        if service not in services:
            listed = ", ".join(sorted(services))
            message = (
                f"{endpoint.inference_id}: the cluster does not offer service {service!r} "
                f"(GET _inference/_services lists {listed}); creating it will likely fail"
            )
            advisories.append(Advisory(SERVICE_NOT_OFFERED, endpoint.inference_id, message, where))
            continue
        task_types = services[service]
        if task_types is not None and task_type not in task_types:
            listed = ", ".join(sorted(task_types)) or "none"
            message = (
                f"{endpoint.inference_id}: the cluster offers service {service!r} without task "
                f"type {task_type!r} (it lists {listed}); creating it will likely fail"
            )
            advisories.append(
                Advisory(TASK_TYPE_NOT_OFFERED, endpoint.inference_id, message, where)
            )
    return advisories


# --- EIS model end of life ---------------------------------------------------------------------


def end_of_life_advisories(
    live: Sequence[LiveEndpoint],
    today: date,
    *,
    horizon_days: int = EOL_HORIZON_DAYS,
    origins: Mapping[str, str] | None = None,
) -> list[Advisory]:
    """A warning per live `elastic` endpoint whose model's end of life is past or at most
    `horizon_days` away, in inference id order. An unreadable date is no warning."""
    advisories = []
    for endpoint in sorted(live, key=lambda e: e.inference_id):
        if endpoint.service != "elastic":
            continue
        end = end_of_life(endpoint.body)
        if end is None:
            continue
        days = (end - today).days
        if days > horizon_days:
            continue
        model = _model(endpoint.body)
        when = (
            f"reached its end of life on {end.isoformat()} ({_days(-days)} ago)"
            if days < 0
            else f"reaches its end of life on {end.isoformat()} "
            + ("(today)" if days == 0 else f"(in {_days(days)})")
        )
        message = (
            f"{endpoint.inference_id}: EIS model {model!r} {when}; "
            "move the endpoint to a newer model"
        )
        where = (origins or {}).get(endpoint.inference_id)
        advisories.append(Advisory(MODEL_END_OF_LIFE, endpoint.inference_id, message, where))
    return advisories


def end_of_life(body: Mapping[str, Any]) -> date | None:
    """`metadata.heuristics.end_of_life_date` as a date (an ISO date, or the date part of an
    ISO timestamp); None when absent or unreadable."""
    value = get_path(body, ("metadata", "heuristics", "end_of_life_date"))
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _model(body: Mapping[str, Any]) -> str:
    model = get_path(body, ("service_settings", "model_id"))
    return model if isinstance(model, str) else "(unknown model)"


def _days(number: int) -> str:
    return f"{number} day{'' if number == 1 else 's'}"


def advisories_for(
    desired: Sequence[DesiredEndpoint],
    live: Sequence[LiveEndpoint],
    services_body: Any,
    today: date,
) -> list[Advisory]:
    """Every advisory of one plan: the `_services` cross-check, then EIS ends of life."""
    origins = {d.inference_id: str(d.origin) for d in desired}
    return [
        *offering_advisories(desired, offered(services_body)),
        *end_of_life_advisories(live, today, origins=origins),
    ]
