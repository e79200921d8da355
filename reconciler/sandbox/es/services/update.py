"""`_update` of a non-openai endpoint, per release, as `TransportUpdateInferenceModelAction`
merges it (elastic/elasticsearch PR #114457 for 8.17; #147465, #149430, #149628 and #149723 for
9.5): the service applies `service_settings` (secrets before 9.5; its updatable settings from
9.5), `task_settings` are merged, `chunking_settings` are replaced whole from 9.5, and from 9.5
any key left unconsumed is refused."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..chunking import parse_chunking
from ..extract import refuse_leftovers
from .base import Record, Service

if TYPE_CHECKING:
    from ..state import EsState


def merge_service_update(
    state: EsState, service: Service, record: Record, settings: dict[str, Any]
) -> Record:
    caps = state.caps
    merged = copy.deepcopy(record)
    service_map = dict(settings["service_settings"]) if "service_settings" in settings else None
    task_map = dict(settings["task_settings"]) if "task_settings" in settings else None
    if service_map is not None:
        service.update_service_settings(state, record, merged, service_map)
    if task_map is not None:
        update = service.parse_task_settings(record["task_type"], task_map, caps)
        merged["task_settings"] = {**(merged.get("task_settings") or {}), **update}
    if "chunking_settings" in settings and record.get("chunking_settings") is not None:
        # Replaced whole (`ChunkingSettingsBuilder.fromMap`), elastic/elasticsearch#149723.
        merged["chunking_settings"] = parse_chunking(dict(settings["chunking_settings"]), caps)
    if caps.update_rejects_unknown:
        # `validateConsumedUpdateSettings` (elastic/elasticsearch#149430): `throwIfNotEmptyMap`.
        refuse_leftovers(service.name, service_map, task_map)
    return merged
