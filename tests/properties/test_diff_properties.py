"""Properties of normalize and diff over generated manifests of all three task types.

The server side is `server_echo.simulate_server_echo`, an independent reading of what GET
returns (ES `ModelConfigurations.toFilteredXContent`).
"""

from __future__ import annotations

import copy
from typing import Any

from deepdiff import DeepDiff
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.defaults import capabilities
from reconciler.diff import (
    changed_paths,
    compare,
    compare_endpoint,
    field_changes,
    last_applied_spec,
    normalize_desired,
    normalize_live,
    request_body,
)
from reconciler.model import (
    Action,
    DesiredEndpoint,
    LiveEndpoint,
    Location,
    Options,
    StateRecord,
)
from reconciler.planner import PlanOptions, plan
from reconciler.secrets import SecretRef
from tests.properties.manifests import Case, cases
from tests.properties.server_echo import DEFAULT_URLS, simulate_server_echo

PROPERTY = settings(max_examples=300, deadline=None)

OPTIONAL_PATHS: tuple[tuple[str, ...], ...] = (
    ("service_settings", "url"),
    ("service_settings", "organization_id"),
    ("service_settings", "max_input_tokens"),
    ("service_settings", "rate_limit"),
    ("service_settings", "rate_limit", "requests_per_minute"),
    ("service_settings", "similarity"),
    ("service_settings", "dimensions"),
    ("task_settings",),
    ("task_settings", "user"),
    ("task_settings", "headers"),
    ("chunking_settings",),
    ("chunking_settings", "sentence_overlap"),
    ("chunking_settings", "separators"),
    ("chunking_settings", "separator_group"),
)


def desired(case: Case, body: dict[str, Any] | None = None) -> DesiredEndpoint:
    return DesiredEndpoint(
        inference_id="ep",
        task_type=case.task_type,
        body=case.body if body is None else body,
        api_key=SecretRef("OPENAI_API_KEY"),
        options=Options(),
        origin=Location("ep.yaml"),
    )


def echo(case: Case, body: dict[str, Any] | None = None) -> LiveEndpoint:
    entry = simulate_server_echo(
        "ep", case.task_type, case.body if body is None else body, release=case.release
    )
    return LiveEndpoint("ep", entry["task_type"], entry["service"], entry)


def present(body: dict[str, Any], path: tuple[str, ...]) -> bool:
    value: Any = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def without(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    smaller = copy.deepcopy(body)
    parent = smaller
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return smaller


def effective(live: LiveEndpoint) -> dict[str, Any]:
    """The echo minus an explicit default URL: it calls the same upstream as no URL at all, so
    reconciler treats both alike (a replace for it would change nothing)."""
    entry = copy.deepcopy(dict(live.body))
    if entry["service_settings"].get("url") == DEFAULT_URLS[entry["task_type"]]:
        del entry["service_settings"]["url"]
    return entry


@PROPERTY
@given(cases())
def test_normalize_desired_is_idempotent(case: Case) -> None:
    once = normalize_desired(case.body, task_type=case.task_type, release=case.release)
    twice = normalize_desired(once, task_type=case.task_type, release=case.release)
    assert twice == once


@PROPERTY
@given(cases())
def test_normalize_live_is_idempotent(case: Case) -> None:
    live = echo(case)
    once = normalize_live(live.body, task_type=live.task_type)
    assert normalize_live(once, task_type=live.task_type) == once


@PROPERTY
@given(cases())
def test_normalize_never_mutates_its_input(case: Case) -> None:
    before = copy.deepcopy(case.body)
    normalize_desired(case.body, task_type=case.task_type, release=case.release)
    request_body(desired(case))
    assert case.body == before


@PROPERTY
@given(cases())
def test_diff_of_a_spec_with_itself_is_empty(case: Case) -> None:
    spec = normalize_desired(case.body, task_type=case.task_type, release=case.release)
    assert field_changes(spec, spec) == ()
    assert compare(spec, spec, None).changes == ()
    assert compare(spec, spec, spec).changes == ()


@PROPERTY
@given(cases())
def test_desired_matches_what_the_server_echoes(case: Case) -> None:
    live = echo(case)
    assert (
        compare_endpoint(desired(case), live, last_applied=None, release=case.release).changes == ()
    )


@PROPERTY
@given(cases())
def test_desired_matches_the_echo_with_state_recorded(case: Case) -> None:
    live = echo(case)
    last = last_applied_spec(desired(case), live)
    comparison = compare_endpoint(desired(case), live, last_applied=last, release=case.release)
    assert comparison.changes == ()


@PROPERTY
@given(cases())
def test_apply_then_plan_is_a_no_op(case: Case) -> None:
    live = echo(case)
    fingerprints = {"service_settings.api_key": "fp"}
    last = last_applied_spec(desired(case), live)
    record = StateRecord("ep", live.task_type, "reconciler", fingerprints, last, "t0")
    version = "{}.{}.0".format(*case.release)
    common: dict[str, Any] = {
        "desired": [desired(case)],
        "desired_fingerprints": {"ep": fingerprints},
        "live": [live],
        "capabilities": capabilities(version),
        "in_use": {},
        "options": PlanOptions(),
        "created_at": "t1",
    }
    assert [c.action for c in plan(state=[record], **common).changes] == [Action.NOOP]
    assert [c.action for c in plan(state=[], **common).changes] == [Action.ADOPT]


@PROPERTY
@given(cases(), st.data())
def test_removing_an_optional_field_is_a_change_back_to_the_default(
    case: Case, data: st.DataObject
) -> None:
    paths = [path for path in OPTIONAL_PATHS if present(case.body, path)]
    assume(paths)
    path = data.draw(st.sampled_from(paths))
    smaller = without(case.body, path)
    live = echo(case)
    last = last_applied_spec(desired(case), live)
    changes = compare_endpoint(
        desired(case, smaller), live, last_applied=last, release=case.release
    ).changes
    server_differs = effective(echo(case, smaller)) != effective(live)
    if server_differs:
        assert changes, f"removing {'.'.join(path)} must show a change"
    elif path != ("service_settings", "dimensions"):  # an unknown model's default is unknowable
        assert not changes, f"removing {'.'.join(path)} (the default) must show no change"


def deepdiff_paths(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, ...]]:
    """deepdiff's answer, with list positions cut off (reconciler compares lists whole)."""
    tree = DeepDiff(
        before, after, view="tree", ignore_numeric_type_changes=True, threshold_to_diff_deeper=0
    )
    found = set()
    for levels in tree.values():
        for level in levels:
            path = level.path(output_format="list")
            cut = next((i for i, key in enumerate(path) if not isinstance(key, str)), len(path))
            found.add(tuple(path[:cut]))
    return sorted(found)


@PROPERTY
@given(cases(), cases())
def test_changed_paths_agree_with_deepdiff(first: Case, second: Case) -> None:
    before = normalize_desired(first.body, task_type=first.task_type, release=first.release)
    after = normalize_desired(second.body, task_type=second.task_type, release=second.release)
    assert changed_paths(before, after) == deepdiff_paths(before, after)
    assert changed_paths(echo(first).body, echo(second).body) == deepdiff_paths(
        dict(echo(first).body), dict(echo(second).body)
    )
