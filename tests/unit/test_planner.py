"""One named test per plan class: create, update, replace, rotate, delete, adopt, no-op, drift,
blocked; plus ordering, in-use and the saved-plan invariants."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.defaults import capabilities
from reconciler.diff import API_KEY_PATH, last_applied_spec
from reconciler.model import (
    PROBE_PREFIX,
    Action,
    DesiredEndpoint,
    FieldChange,
    InUse,
    KeyRotation,
    LiveEndpoint,
    Location,
    Options,
    Pending,
    Plan,
    PlannedChange,
    Reason,
    StateRecord,
)
from reconciler.planner import PlanOptions, needs_in_use, plan
from reconciler.secrets import Secret
from tests.properties.server_echo import simulate_server_echo

KEY = FieldChange(path="service_settings.api_key", sensitive=True)


def body(model: str = "text-embedding-3-small", **settings: Any) -> dict[str, Any]:
    return {"service": "openai", "service_settings": {"model_id": model, **settings}}


def desired(
    id_: str, spec: dict[str, Any] | None = None, task_type: str = "text_embedding", **options: Any
) -> DesiredEndpoint:
    return DesiredEndpoint(
        id_,
        task_type,
        spec or body(),
        Secret("sk-canary"),
        Options(**options),
        Location(f"{id_}.yaml"),
    )


def live(
    item: DesiredEndpoint, spec: dict[str, Any] | None = None, release: Any = (8, 18)
) -> LiveEndpoint:
    """What the server holds after PUT of `spec` (default: the manifest's own body)."""
    entry = simulate_server_echo(
        item.inference_id, item.task_type, spec or dict(item.body), release=release
    )
    return LiveEndpoint(item.inference_id, entry["task_type"], entry["service"], entry)


def record(
    item: DesiredEndpoint, server: LiveEndpoint, owner: str = "reconciler", fp: str = "fp-1"
) -> StateRecord:
    return StateRecord(
        item.inference_id,
        server.task_type,
        owner,
        {API_KEY_PATH: fp},
        last_applied_spec(item, server),
        "t0",
    )


def run(
    wanted: list[DesiredEndpoint],
    found: list[LiveEndpoint],
    state: list[StateRecord],
    *,
    version: str = "8.18.0",
    fingerprints: dict[str, Any] | None = None,
    in_use: dict[str, InUse] | None = None,
    **options: Any,
) -> Plan:
    return plan(
        desired=wanted,
        desired_fingerprints=per_path(fingerprints or {i.inference_id: "fp-1" for i in wanted}),
        live=found,
        state=state,
        capabilities=capabilities(version),
        in_use=in_use or {},
        options=PlanOptions(**options),
        created_at="2026-01-01T00:00:00Z",
    )


def per_path(fingerprints: dict[str, Any]) -> dict[str, dict[str, str]]:
    """`{id: "fp"}` (the api_key's fingerprint, the one secret of openai) or `{id: {path: fp}}`."""
    return {
        id_: {API_KEY_PATH: value} if isinstance(value, str) else value
        for id_, value in fingerprints.items()
    }


def only(result: Plan) -> PlannedChange:
    (change,) = result.changes
    return change


def applied(item: DesiredEndpoint, before: dict[str, Any] | None = None, **kwargs: Any):
    """A managed endpoint: on the server as `before` (default: as declared), in state."""
    previous = desired(item.inference_id, before, item.task_type) if before else item
    server = live(previous)
    return server, record(previous, server, **kwargs)


# --- create, no-op ----------------------------------------------------------------------------


def test_create() -> None:
    change = only(run([desired("emb")], [], []))
    assert (change.action, change.code) == (Action.CREATE, Reason.CREATE)
    assert change.body == body()
    assert any(f.path == "service_settings.dimensions" and f.after == 1536 for f in change.fields)


def test_create_again_when_deleted_outside_reconciler() -> None:
    item = desired("emb")
    _, state = applied(item)
    change = only(run([item], [], [state]))
    assert (change.action, change.code, change.drift) == (
        Action.CREATE,
        Reason.RECREATE_MISSING,
        True,
    )
    assert "changed outside reconciler" in change.reason


def test_no_op_after_apply() -> None:
    item = desired("emb")
    server, state = applied(item)
    change = only(run([item], [server], [state]))
    assert (change.action, change.code, change.fields) == (Action.NOOP, Reason.UP_TO_DATE, ())


# --- update in place --------------------------------------------------------------------------


def test_update_in_place_task_settings() -> None:
    # 9.4+: the update keeps chunking (before, see tests/unit/test_release_safety.py)
    item = desired("emb", body() | {"task_settings": {"user": "new"}})
    server, state = applied(item, body() | {"task_settings": {"user": "old"}})
    change = only(run([item], [server], [state], version="9.4.0"))
    assert (change.action, change.code) == (Action.UPDATE, Reason.UPDATE)
    assert change.fields == (FieldChange("task_settings.user", "old", "new"),)
    assert change.spec is not None and change.body is None


def test_rate_limit_is_updated_in_place_on_9_5_but_replaced_on_9_4() -> None:
    item = desired("emb", body(rate_limit={"requests_per_minute": 10}))
    server, state = applied(item, body())
    assert only(run([item], [server], [state], version="9.5.0")).action is Action.UPDATE
    old = only(run([item], [server], [state], version="9.4.0"))
    assert old.action is Action.REPLACE
    assert old.replace_paths == ("service_settings.rate_limit.requests_per_minute",)


# --- replace ----------------------------------------------------------------------------------


def test_replace_model_id_with_reason() -> None:
    item = desired("chat", body("gpt-4o-mini"), "completion")
    server, state = applied(item, body("gpt-4o"))
    change = only(run([item], [server], [state]))
    assert (change.action, change.code) == (Action.REPLACE, Reason.REPLACE)
    assert change.replace_paths == ("service_settings.model_id",)
    assert change.reason == (
        "model_id changed and the server cannot update it in place "
        "(8.17–9.4 update API changes only api_key and task_settings)"
    )
    assert change.body == body("gpt-4o-mini")


def test_replace_when_a_task_settings_key_is_removed() -> None:
    item = desired("emb")
    server, state = applied(item, body() | {"task_settings": {"user": "a"}})
    change = only(run([item], [server], [state]))
    assert change.action is Action.REPLACE
    assert change.replace_paths == ("task_settings",)
    assert "merges" in change.reason and "removed" in change.reason


def test_replace_on_task_type_change() -> None:
    item = desired("chat", body("gpt-4o"), "chat_completion")
    server, state = applied(desired("chat", body("gpt-4o"), "completion"))
    change = only(run([item], [server], [state]))
    assert change.action is Action.REPLACE and change.replace_paths == ("task_type",)


def test_replace_everything_before_8_17() -> None:
    item = desired("emb", body() | {"task_settings": {"user": "b"}})
    server, state = applied(item, body() | {"task_settings": {"user": "a"}})
    change = only(run([item], [server], [state], version="8.16.0"))
    assert change.action is Action.REPLACE
    assert "no update API before 8.17" in change.reason


# --- rotate key -------------------------------------------------------------------------------


def test_rotate_key_auto_updates_in_place_on_8_17() -> None:
    item = desired("comp", body("gpt-4o"), "completion")
    server, state = applied(item)
    change = only(run([item], [server], [state], version="8.17.0", fingerprints={"comp": "fp-2"}))
    assert (change.action, change.code, change.fields) == (
        Action.UPDATE,
        Reason.ROTATE_UPDATE,
        (KEY,),
    )


def test_rotate_key_auto_recreates_before_8_17() -> None:
    item = desired("emb")
    server, state = applied(item)
    change = only(run([item], [server], [state], version="8.16.0", fingerprints={"emb": "fp-2"}))
    assert (change.action, change.code) == (Action.REPLACE, Reason.ROTATE_RECREATE)
    assert change.replace_paths == ("service_settings.api_key",)
    assert change.reason.startswith("api_key changed and the server cannot update it in place")


def test_rotate_key_recreate_policy_from_manifest_and_flag() -> None:
    item = desired("emb", key_rotation=KeyRotation.RECREATE)
    server, state = applied(item)
    change = only(run([item], [server], [state], fingerprints={"emb": "fp-2"}))
    assert (change.action, change.reason) == (
        Action.REPLACE,
        "api_key changed and key_rotation is recreate",
    )
    flagged = only(
        run(
            [desired("emb")],
            [server],
            [state],
            fingerprints={"emb": "fp-2"},
            key_rotation=KeyRotation.RECREATE,
        )
    )
    assert flagged.action is Action.REPLACE


def test_rotate_key_update_policy_is_blocked_without_update_api() -> None:
    item = desired("emb", key_rotation=KeyRotation.UPDATE)
    server, state = applied(item)
    change = only(run([item], [server], [state], version="8.16.0", fingerprints={"emb": "fp-2"}))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.NO_UPDATE_API)


def test_rotate_key_with_a_model_change_is_one_replace() -> None:
    item = desired("chat", body("gpt-4o-mini"), "completion")
    server, state = applied(item, body("gpt-4o"))
    change = only(run([item], [server], [state], fingerprints={"chat": "fp-2"}))
    assert change.action is Action.REPLACE
    assert change.replace_paths == ("service_settings.model_id",)
    assert KEY in change.fields


# --- delete -----------------------------------------------------------------------------------


def test_delete_owned_orphan_with_prune() -> None:
    gone = desired("old")
    server, state = applied(gone)
    change = only(run([], [server], [state], prune=True))
    assert (change.action, change.code, change.task_type) == (
        Action.DELETE,
        Reason.PRUNE,
        "text_embedding",
    )


def test_owned_orphan_without_prune_is_listed_not_deleted() -> None:
    server, state = applied(desired("old"))
    change = only(run([], [server], [state]))
    assert (change.action, change.code) == (Action.NOOP, Reason.ORPHAN)


def test_orphan_already_gone_is_forgotten() -> None:
    _, state = applied(desired("old"))
    change = only(run([], [], [state], prune=True))
    assert (change.action, change.code) == (Action.DELETE, Reason.FORGET)


def test_prune_never_touches_unowned_preconfigured_or_foreign_endpoints() -> None:
    elser = LiveEndpoint(".elser-2-elasticsearch", "sparse_embedding", "elasticsearch", {})
    stranger = live(desired("stranger"))
    server, theirs = applied(desired("theirs"), owner="other-repo")
    assert run([], [elser, stranger, server], [theirs], prune=True).changes == ()


def test_prune_never_deletes_another_service() -> None:
    item = desired("mixed")
    _, state = applied(item)
    other = LiveEndpoint("mixed", "text_embedding", "elasticsearch", {"service": "elasticsearch"})
    change = only(run([], [other], [state], prune=True))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.FOREIGN_SERVICE)
    assert Reason("not-openai") is Reason.FOREIGN_SERVICE  # saved plans of earlier releases


def test_prune_never_deletes_a_preconfigured_id() -> None:
    item = desired(".weird")
    server, state = applied(item)
    change = only(run([], [server], [state], prune=True))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.PRECONFIGURED)


# --- adopt ------------------------------------------------------------------------------------


def test_adopt_matching_endpoint_is_a_state_write_only() -> None:
    item = desired("emb")
    change = only(run([item], [live(item)], []))
    assert (change.action, change.code, change.adopt) == (Action.ADOPT, Reason.ADOPT, True)
    assert change.body is None and "assumed" in change.reason


def test_adopt_with_an_in_place_difference_updates() -> None:
    item = desired("emb", body() | {"task_settings": {"user": "b"}})
    server = live(item, body() | {"task_settings": {"user": "a"}})
    change = only(run([item], [server], [], version="9.4.0"))
    assert (change.action, change.adopt) == (Action.UPDATE, True)


def test_adopt_needing_a_replace_is_blocked() -> None:
    item = desired("emb", body("text-embedding-3-large"))
    change = only(run([item], [live(item, body())], []))
    assert (change.action, change.code, change.adopt) == (Action.BLOCKED, Reason.UNMANAGED, True)
    assert change.replace_paths == ("service_settings.dimensions", "service_settings.model_id")


def test_adopt_needing_a_replace_proceeds_when_disruption_is_allowed() -> None:
    item = desired("emb", body("text-embedding-3-large"))
    change = only(run([item], [live(item, body())], [], allow_disruptive=True))
    assert (change.action, change.adopt) == (Action.REPLACE, True)


# --- drift ------------------------------------------------------------------------------------


def test_drift_is_marked_changed_outside_reconciler() -> None:
    item = desired("emb", body() | {"task_settings": {"user": "a"}})
    _, state = applied(item)
    tampered = live(item, body() | {"task_settings": {"user": "mallory"}})
    change = only(run([item], [tampered], [state], version="9.4.0"))
    assert (change.action, change.drift) == (Action.UPDATE, True)
    assert change.reason.endswith("changed outside reconciler: task_settings.user")


# --- blocked ----------------------------------------------------------------------------------


def test_protect_blocks_replace() -> None:
    item = desired("chat", body("gpt-4o-mini"), "completion", protect=True)
    server, state = applied(item, body("gpt-4o"))
    change = only(run([item], [server], [state], allow_disruptive=True))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.PROTECTED)
    assert change.body is None and change.replace_paths == ("service_settings.model_id",)


def test_in_use_blocks_replace_and_names_the_users() -> None:
    item = desired("chat", body("gpt-4o-mini"), "completion")
    server, state = applied(item, body("gpt-4o"))
    users = {"chat": InUse(indexes=("docs",), pipelines=("ingest-a", "ingest-b"))}
    change = only(run([item], [server], [state], in_use=users))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.IN_USE)
    assert "in use by indexes [docs] and pipelines [ingest-a, ingest-b]" in change.reason


def test_in_use_blocks_prune() -> None:
    server, state = applied(desired("old"))
    change = only(run([], [server], [state], prune=True, in_use={"old": InUse(pipelines=("p",))}))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.IN_USE)


def test_dimension_change_under_semantic_text_is_breaking() -> None:
    item = desired("emb", body(dimensions=256))
    server, state = applied(item, body())
    users = {"emb": InUse(indexes=("docs",))}
    blocked = only(run([item], [server], [state], in_use=users))
    assert (blocked.action, blocked.breaking) == (Action.BLOCKED, True)
    forced = only(run([item], [server], [state], in_use=users, allow_disruptive=True))
    assert (forced.action, forced.breaking) == (Action.REPLACE, True)
    assert "breaks the semantic_text fields of indexes [docs]" in forced.reason


def test_url_change_in_use_is_not_breaking() -> None:
    item = desired("emb", body(url="http://proxy/v1"))
    server, state = applied(item, body())
    change = only(
        run(
            [item],
            [server],
            [state],
            in_use={"emb": InUse(indexes=("docs",))},
            allow_disruptive=True,
        )
    )
    assert (change.action, change.breaking) == (Action.REPLACE, False)


def test_feature_the_server_lacks_is_blocked() -> None:
    change = only(
        run([desired("chat", body("gpt-4o"), "chat_completion")], [], [], version="8.17.2")
    )
    assert (change.action, change.code) == (Action.BLOCKED, Reason.UNSUPPORTED)
    assert change.reason == "chat_completion needs Elasticsearch 8.18 or later (server is 8.17.2)"


def test_another_owners_endpoint_is_blocked() -> None:
    item = desired("emb")
    server, state = applied(item, owner="other-repo")
    change = only(run([item], [server], [state]))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.FOREIGN_OWNER)


# --- the plan as a whole ----------------------------------------------------------------------


def test_order_is_by_action_then_name() -> None:
    keep, change_me, old = (
        desired("b-keep"),
        desired("c-upd", body() | {"task_settings": {"user": "x"}}),
        desired("a-old"),
    )
    servers_states = [applied(keep), applied(change_me, body()), applied(old)]
    found = [server for server, _ in servers_states]
    state = [entry for _, entry in servers_states]
    wanted = [desired("z-new"), desired("y-new"), keep, change_me]
    result = run(wanted, found, state, prune=True, version="9.4.0")
    assert [(c.action, c.inference_id) for c in result.changes] == [
        (Action.CREATE, "y-new"),
        (Action.CREATE, "z-new"),
        (Action.UPDATE, "c-upd"),
        (Action.DELETE, "a-old"),
        (Action.NOOP, "b-keep"),
    ]
    assert result.counts() == {
        "create": 2,
        "update": 1,
        "replace": 0,
        "delete": 1,
        "adopt": 0,
        "no-op": 1,
        "blocked": 0,
    }
    assert result.has_changes and result.server_version == "9.4.0"


def test_plan_without_changes() -> None:
    item = desired("emb")
    server, state = applied(item)
    result = run([item], [server], [state])
    assert not result.has_changes and result.blocked == ()


def test_needs_in_use_names_destructive_changes_only() -> None:
    replaced = desired("chat", body("gpt-4o-mini"), "completion")
    server, state = applied(replaced, body("gpt-4o"))
    orphan_server, orphan_state = applied(desired("old"))
    result = run(
        [replaced, desired("new")], [server, orphan_server], [state, orphan_state], prune=True
    )
    assert needs_in_use(result) == ("chat", "old")


@pytest.mark.parametrize("version", ["8.16.0", "8.18.0", "9.5.0"])
def test_the_key_never_appears_in_a_plan(version: str, canary_key: str) -> None:
    item = DesiredEndpoint(
        "emb", "text_embedding", body(), Secret(canary_key), Options(), Location("e.yaml")
    )
    server, state = applied(desired("emb", body("text-embedding-3-large")))
    result = run(
        [item, desired("new")], [server], [state], version=version, fingerprints={"emb": "fp-9"}
    )
    assert canary_key not in repr(result)


def test_incompatible_recreate_under_semantic_text_is_blocked_on_9_1_7_even_when_forced() -> None:
    # 9.1.7+ refuses a PUT whose settings the semantic_text mappings cannot take; deleting first
    # would lose the endpoint (TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId,
    # elastic/elasticsearch#137055, backported to 9.1 in 9.1.7)
    item = desired("emb", body(dimensions=256))
    server, state = applied(item, body())
    users = {"emb": InUse(indexes=("docs",))}
    change = only(
        run([item], [server], [state], version="9.1.7", in_use=users, allow_disruptive=True)
    )
    assert (change.action, change.code) == (Action.BLOCKED, Reason.INCOMPATIBLE_MAPPINGS)
    assert "dimensions changed" in change.reason and "[docs]" in change.reason
    compatible = desired("emb", body("text-embedding-3-large", dimensions=1536))
    server, state = applied(compatible, body(dimensions=1536))
    allowed = only(
        run([compatible], [server], [state], version="9.1.7", in_use=users, allow_disruptive=True)
    )
    assert (allowed.action, allowed.breaking) == (Action.REPLACE, True)
    item_server, item_state = applied(item, body())
    before_the_check = only(
        run(
            [item],
            [item_server],
            [item_state],
            version="9.1.6",
            in_use=users,
            allow_disruptive=True,
        )
    )
    assert before_the_check.action is Action.REPLACE


@pytest.mark.parametrize(
    ("version", "checks"),
    [
        ("8.19.6", False),
        ("8.19.7", True),
        ("9.0.8", False),
        ("9.1.6", False),
        ("9.1.7", True),
        ("9.2.0", False),
        ("9.2.1", True),
        ("9.3.0", True),
    ],
)
def test_the_mapping_check_arrived_in_patch_releases(version: str, checks: bool) -> None:
    assert ("mapping_compatibility_check" in capabilities(version).features) is checks


def test_protect_outlives_the_manifest_prune_is_blocked_by_the_state_record() -> None:
    server, state = applied(desired("keep", protect=True))
    protected = dataclasses.replace(state, protect=True)
    change = only(run([], [server], [protected], prune=True))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.PROTECTED)
    assert only(run([], [server], [state], prune=True)).action is Action.DELETE


# --- state-only changes -----------------------------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [(True, False), (False, True)])
def test_a_protect_change_alone_is_a_state_write(before: bool, after: bool) -> None:
    item = desired("emb", protect=after)
    server, state = applied(item)
    state = dataclasses.replace(state, protect=before)
    result = run([item], [server], [state])
    change = only(result)
    assert (change.action, change.code, change.fields) == (Action.ADOPT, Reason.STATE_ONLY, ())
    assert change.reason == (
        f"protect: {str(before).lower()} → {str(after).lower()} recorded in state (no server write)"
    )
    assert not change.adopt and change.body is None
    assert result.has_changes


def test_options_state_does_not_keep_are_not_a_change() -> None:
    item = desired("emb", key_rotation=KeyRotation.RECREATE, smoke=False, smoke_input="hi")
    server, state = applied(item)
    assert only(run([item], [server], [state])).action is Action.NOOP


def test_a_protect_change_with_a_server_change_is_that_change() -> None:
    item = desired("emb", body() | {"task_settings": {"user": "new"}})
    server, state = applied(item, body() | {"task_settings": {"user": "old"}})
    marked = [dataclasses.replace(state, protect=True)]
    change = only(run([item], [server], marked, version="9.4.0"))
    assert (change.action, change.code) == (Action.UPDATE, Reason.UPDATE)  # records it too


# --- interrupted replace ----------------------------------------------------------------------


def marked(state: StateRecord, previous: dict[str, Any] | None = None) -> StateRecord:
    """The record as a replace leaves it just before its delete."""
    pending = Pending("replace", "2026-01-01T00:00:00Z", previous)
    return dataclasses.replace(state, pending=pending)


def test_a_replace_stopped_between_delete_and_create_is_created_first() -> None:
    item = desired("zz-emb", body(dimensions=64))
    server, state = applied(item, body(dimensions=128))
    previous = {"task_type": "text_embedding", **server.body}
    others = [desired("aa-new"), desired("mm-new")]
    result = run([item, *others], [], [marked(state, previous)])
    first, *rest = result.changes
    assert (first.inference_id, first.action, first.code) == (
        "zz-emb",
        Action.CREATE,
        Reason.INTERRUPTED_REPLACE,
    )
    assert first.reason == (
        "interrupted replace of zz-emb (apply was stopped between delete and create);"
        " will be recreated"
    )
    assert not first.drift and first.body == body(dimensions=64)
    assert [c.inference_id for c in rest] == ["aa-new", "mm-new"]


def test_a_replace_stopped_after_its_create_is_recorded_only() -> None:
    item = desired("emb", body(dimensions=64))
    server = live(item)  # the new configuration reached the server
    state = applied(item, body(dimensions=128))[1]  # state still holds the old one
    change = only(run([item], [server], [marked(state)]))
    assert (change.action, change.code, change.fields) == (
        Action.ADOPT,
        Reason.INTERRUPTED_REPLACE,
        (),
    )
    assert change.reason.startswith("interrupted replace of emb (apply was stopped before")
    assert change.reason.endswith("recorded in state (no server write)")


def test_a_replace_stopped_before_its_delete_is_planned_again() -> None:
    item = desired("emb", body(dimensions=64))
    server, state = applied(item, body(dimensions=128))
    change = only(run([item], [server], [marked(state)]))
    assert (change.action, change.code) == (Action.REPLACE, Reason.REPLACE)
    assert change.reason.endswith("; an earlier apply was stopped during a replace of it")


def test_an_orphan_an_interrupted_replace_left_missing_is_named() -> None:
    _, state = applied(desired("emb"))
    change = only(run([], [], [marked(state)]))
    assert (change.action, change.code) == (Action.NOOP, Reason.ORPHAN)
    assert "interrupted replace left it missing" in change.reason
    assert only(run([], [], [marked(state)], prune=True)).code is Reason.FORGET


# --- stray probes -----------------------------------------------------------------------------


def test_probes_on_the_server_are_listed_not_planned() -> None:
    item = desired("emb")
    server, state = applied(item)
    probes = [live(desired(f"{PROBE_PREFIX}{n}")) for n in ("ab12cd34", "00ff00ff")]
    result = run([item], [server, *probes], [state])
    assert result.stray_probes == (f"{PROBE_PREFIX}00ff00ff", f"{PROBE_PREFIX}ab12cd34")
    assert [c.action for c in result.changes] == [Action.NOOP]
    assert result.has_changes  # apply removes them
    assert not run([item], [server], [state]).has_changes
