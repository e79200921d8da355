"""The pure helpers of the executor's steps: read-back verification, labels, probe ids, the
in-flight marker's body, and the order of the executor's batches."""

from __future__ import annotations

import re
from typing import Any

from reconciler.executor import batches
from reconciler.executor.steps import (
    PROBE_PREFIX,
    labels,
    live_task_type,
    mismatches,
    previous_body,
    previous_endpoint,
    probe_id,
    related,
    without_server_choices,
)
from reconciler.model import (
    Action,
    DesiredEndpoint,
    FieldChange,
    LiveEndpoint,
    Location,
    Options,
    PlannedChange,
    Reason,
)
from reconciler.secrets import Secret

ES_ID = re.compile(r"[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?")  # ES `MlStrings`, inference ids


def _desired(**settings: Any) -> DesiredEndpoint:
    body = {"service": "openai", "service_settings": {"model_id": "m", **settings}}
    return DesiredEndpoint("e", "text_embedding", body, Secret("sk-x"), Options(), Location("f"))


def _spec(**settings: Any) -> dict[str, Any]:
    return {"task_type": "text_embedding", "service": "openai", "service_settings": settings}


def _live(**settings: Any) -> LiveEndpoint:
    return LiveEndpoint("e", "text_embedding", "openai", _spec(**settings))


def test_a_matching_read_back_has_no_mismatch() -> None:
    spec = _spec(model_id="m", dimensions=8)
    assert mismatches(spec, _desired(dimensions=8), _live(model_id="m", dimensions=8)) == []


def test_a_server_chosen_value_the_manifest_leaves_unset_is_ignored() -> None:
    spec = _spec(model_id="m", dimensions=1536)  # the planner's guess of the model default
    assert mismatches(spec, _desired(), _live(model_id="m", dimensions=256)) == []


def test_a_dimension_the_manifest_sets_is_checked() -> None:
    spec = _spec(model_id="m", dimensions=8)
    found = mismatches(spec, _desired(dimensions=8), _live(model_id="m", dimensions=16))
    assert found == ["service_settings.dimensions"]


def test_only_narrows_the_check_to_the_changed_paths() -> None:
    spec = {**_spec(model_id="m"), "task_settings": {"user": "bob"}}
    live = LiveEndpoint("e", "text_embedding", "openai", {**_spec(model_id="x")})
    assert mismatches(spec, _desired(), live) == [
        "service_settings.model_id",
        "task_settings",
    ]
    assert mismatches(spec, _desired(), live, only=["task_settings.user"]) == ["task_settings"]


def test_without_server_choices_leaves_the_spec_untouched() -> None:
    spec = _spec(model_id="m", dimensions=1536)
    assert without_server_choices(spec, _desired()) == _spec(model_id="m")
    assert spec == _spec(model_id="m", dimensions=1536)


def test_related_paths() -> None:
    assert related("task_settings.user", "task_settings.user")
    assert related("task_settings", "task_settings.user")
    assert related("task_settings.user", "task_settings")
    assert not related("task_settings_x", "task_settings")


def _change(*fields: FieldChange, task_type: str = "completion") -> PlannedChange:
    return PlannedChange("e", task_type, Action.REPLACE, "why", fields=fields)


def test_the_live_task_type_is_the_one_a_replace_moves_away_from() -> None:
    moved = FieldChange(path="task_type", before="text_embedding", after="completion")
    assert live_task_type(_change(moved)) == "text_embedding"
    assert live_task_type(_change()) == "completion"


def test_labels_never_show_a_key_value() -> None:
    key = FieldChange(path="service_settings.api_key", sensitive=True)
    user = FieldChange(path="task_settings.user", before="a", after="b")
    assert labels(_change(user, key)) == "task_settings.user, api_key (sensitive)"
    assert labels(_change()) == "no field"


def test_probe_ids_are_valid_inference_ids_and_distinct() -> None:
    ids = {probe_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(ES_ID.fullmatch(i) and i.startswith(PROBE_PREFIX) for i in ids)


def test_the_marker_keeps_the_old_endpoint_and_gives_it_back() -> None:
    old = LiveEndpoint("e", "completion", "openai", {"service": "openai", "task_settings": {}})
    kept = previous_body(old)
    assert kept == {"task_type": "completion", "service": "openai", "task_settings": {}}
    assert previous_endpoint("e", kept) == old


def test_what_completes_an_interrupted_replace_runs_in_a_batch_before_the_phases() -> None:
    def planned(id_: str, action: Action, code: Reason | None = None) -> PlannedChange:
        return PlannedChange(id_, "completion", action, "why", code=code)

    changes = [
        planned("a", Action.CREATE),
        planned("b", Action.CREATE, Reason.INTERRUPTED_REPLACE),
        planned("c", Action.ADOPT, Reason.INTERRUPTED_REPLACE),
        planned("d", Action.UPDATE),
        planned("e", Action.REPLACE),
        planned("f", Action.DELETE),
        planned("g", Action.NOOP),
    ]
    order = [[change.inference_id for _, change in batch] for batch in batches(changes)]
    assert order == [["b", "c"], ["a", "d"], ["e"], ["f"]]
