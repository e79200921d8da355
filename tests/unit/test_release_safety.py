"""The planner on each release's `_update`: where it resets chunking (elastic/elasticsearch#139574)
and where it stores a key without trying it (elastic/elasticsearch#122356, fixed by #140003).

Releases, from `defaults.UPDATE_FACTS`: 8.16 has no update API; 8.17.0-9.2.5 and 9.3.0 reset
chunking and do not validate; 9.2.6+ and 9.3.1+ keep chunking and do not validate; 9.4+ keep
chunking and validate; 9.5 also update chunking_settings in place.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.defaults import capabilities
from reconciler.diff import intent_digest
from reconciler.model import (
    Action,
    ChunkingReset,
    FieldChange,
    FieldOp,
    InUse,
    KeyRotation,
    LiveEndpoint,
    NotTaken,
    Reason,
)
from tests.unit.test_planner import KEY, applied, body, desired, live, only, run

RESETS = ["8.17.0", "8.17.3", "8.19.8", "9.0.8", "9.1.7", "9.2.5", "9.3.0"]
"""Releases whose `_update` drops chunking_settings."""
KEEPS_UNVALIDATED = ["9.2.6", "9.3.1"]
"""Releases whose `_update` keeps chunking but stores a key untried."""
KEEPS_VALIDATED = ["9.4.0", "9.5.0"]

WORD = {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
SENTENCE = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
ROTATED = {"emb": "fp-2", "comp": "fp-2"}


def rotation(version: str, *, task_type: str = "text_embedding", **options: Any):
    """The plan of a key rotation of one endpoint that is otherwise as declared."""
    item = (
        desired("emb", key_rotation=options.pop("key_rotation", KeyRotation.AUTO))
        if task_type == "text_embedding"
        else desired("comp", body("gpt-4o"), "completion")
    )
    server, state = applied(item)
    return only(run([item], [server], [state], version=version, fingerprints=ROTATED, **options))


def reset_server(item_body: dict[str, Any] | None = None) -> tuple[Any, Any, Any]:
    """An endpoint whose chunking an in-place update reset, with the state record the executor
    writes after it (the read-back as last applied, and the reset noted)."""
    item = desired("emb", item_body)
    server, state = applied(item)
    reset_body = {**server.body, "chunking_settings": dict(WORD)}
    reset_live = LiveEndpoint("emb", server.task_type, server.service, reset_body)
    last = {**state.last_applied, "chunking_settings": dict(WORD)}
    note = ChunkingReset("2026-03-01T12:00:00+00:00", "9.1.7", dict(SENTENCE), dict(WORD))
    record = dataclasses.replace(state, last_applied=last, chunking_reset=note)
    return item, reset_live, record


# --- key rotation of a text_embedding endpoint --------------------------------------------------


def test_no_update_api_on_8_16_means_a_replace() -> None:
    change = rotation("8.16.0")
    assert (change.action, change.code) == (Action.REPLACE, Reason.ROTATE_RECREATE)


@pytest.mark.parametrize("version", RESETS)
def test_embeddings_key_rotation_is_a_replace_where_the_update_resets_chunking(
    version: str,
) -> None:
    change = rotation(version)
    assert (change.action, change.code) == (Action.REPLACE, Reason.CHUNKING_RESET_REPLACE)
    assert change.replace_paths == ("service_settings.api_key",)
    assert change.reason == (
        f"api_key changed, and an in-place update on Elasticsearch {version} would reset"
        " chunking_settings from sentence/250/1 to word/250/100 (elastic/elasticsearch#139574,"
        " fixed in 9.2.6, 9.3.1): replaced instead"
    )
    assert change.body is not None  # the replace re-creates it from the manifest


@pytest.mark.parametrize("version", KEEPS_UNVALIDATED + KEEPS_VALIDATED)
def test_embeddings_key_rotation_is_an_update_where_the_update_keeps_chunking(
    version: str,
) -> None:
    change = rotation(version)
    assert (change.action, change.code, change.fields) == (
        Action.UPDATE,
        Reason.ROTATE_UPDATE,
        (KEY,),
    )


def test_a_declared_chunking_is_what_the_reason_says_would_be_lost() -> None:
    chunking = {"strategy": "word", "max_chunk_size": 120, "overlap": 40}
    item = desired("emb", body() | {"chunking_settings": chunking})
    server, state = applied(item)
    change = only(run([item], [server], [state], version="9.1.7", fingerprints=ROTATED))
    assert change.action is Action.REPLACE
    assert "from word/120/40 to word/250/100" in change.reason


def test_an_endpoint_already_at_the_fallback_chunking_loses_nothing_in_place() -> None:
    item = desired("emb", body() | {"chunking_settings": dict(WORD)})
    server, state = applied(item)
    change = only(run([item], [server], [state], version="9.1.7", fingerprints=ROTATED))
    assert (change.action, change.code) == (Action.UPDATE, Reason.ROTATE_UPDATE)


@pytest.mark.parametrize("version", [*RESETS, *KEEPS_UNVALIDATED])
def test_a_task_settings_change_of_embeddings_follows_the_same_rule(version: str) -> None:
    item = desired("emb", body() | {"task_settings": {"user": "new"}})
    server, state = applied(item, body() | {"task_settings": {"user": "old"}})
    change = only(run([item], [server], [state], version=version))
    expected = Action.REPLACE if version in RESETS else Action.UPDATE
    assert change.action is expected


# --- completion endpoints have no chunking ------------------------------------------------------


@pytest.mark.parametrize("version", RESETS + KEEPS_UNVALIDATED + KEEPS_VALIDATED)
def test_a_completion_endpoint_rotates_in_place_everywhere_from_8_17(version: str) -> None:
    change = rotation(version, task_type="completion")
    assert (change.action, change.code) == (Action.UPDATE, Reason.ROTATE_UPDATE)


# --- proof before an update that does not validate ---------------------------------------------


@pytest.mark.parametrize("version", RESETS + KEEPS_UNVALIDATED + KEEPS_VALIDATED)
def test_the_new_key_is_proven_first_where_the_update_api_does_not_validate(
    version: str,
) -> None:
    change = rotation(version, task_type="completion")
    proof = (
        "the new api_key is proven on a probe endpoint first (the update API of Elasticsearch"
        f" {version} stores a key without trying it: elastic/elasticsearch#122356; it does from"
        " 9.4)"
    )
    if capabilities(version).update_validates:
        assert change.reason == "api_key updated in place"
    else:
        assert change.reason == f"api_key updated in place; {proof}"


def test_a_change_without_a_new_key_needs_no_proof() -> None:
    item = desired("comp", body("gpt-4o") | {"task_settings": {"user": "b"}}, "completion")
    server, state = applied(item, body("gpt-4o") | {"task_settings": {"user": "a"}})
    change = only(run([item], [server], [state], version="8.17.0"))
    assert change.reason == "task_settings.user updated in place"


# --- the user's choices --------------------------------------------------------------------------


def test_key_rotation_update_is_an_update_with_a_warning_where_chunking_resets() -> None:
    change = rotation("9.3.0", key_rotation=KeyRotation.UPDATE)
    assert (change.action, change.code) == (Action.UPDATE, Reason.CHUNKING_RESET_UPDATE)
    assert change.reason.startswith(
        "api_key updated in place (key_rotation: update); warning: Elasticsearch 9.3.0 resets"
        " chunking_settings on update (elastic/elasticsearch#139574), so sentence/250/1 becomes"
        " word/250/100; apply reports the reset and records it in state; the new api_key is"
        " proven on a probe endpoint first"
    )
    flagged = rotation("9.3.0", key_rotation=KeyRotation.AUTO)
    assert flagged.action is Action.REPLACE
    by_flag = only(
        run(
            [desired("emb")],
            [applied(desired("emb"))[0]],
            [applied(desired("emb"))[1]],
            version="9.3.0",
            fingerprints=ROTATED,
            key_rotation=KeyRotation.UPDATE,
        )
    )
    assert by_flag.code is Reason.CHUNKING_RESET_UPDATE


USERS = {"emb": InUse(indexes=("docs",))}


def test_in_use_embeddings_where_the_update_resets_chunking_offer_a_choice() -> None:
    change = rotation("9.1.7", in_use=USERS)
    assert (change.action, change.code) == (Action.BLOCKED, Reason.CHUNKING_RESET_CHOICE)
    assert change.reason == (
        "in use by indexes [docs]; api_key changed, and no way is free on Elasticsearch 9.1.7:"
        " an in-place update on Elasticsearch 9.1.7 would reset chunking_settings from"
        " sentence/250/1 to word/250/100 (elastic/elasticsearch#139574, fixed in 9.2.6, 9.3.1),"
        " and a replace deletes and re-creates it under its users. Choose one: allow disruptive"
        " changes to replace it (chunking stays sentence/250/1; what uses the endpoint fails"
        " until the re-create, a few seconds), or set key_rotation: update (manifest or flag) to"
        " update it in place (no interruption; chunking becomes word/250/100 for what is"
        " chunked from then on, until a replace or an upgrade to 9.5 puts it back)"
    )


def test_allow_disruptive_chooses_the_replace() -> None:
    change = rotation("9.1.7", in_use=USERS, allow_disruptive=True)
    assert (change.action, change.code) == (Action.REPLACE, Reason.CHUNKING_RESET_REPLACE)
    assert not change.breaking  # the vectors stay valid: same model, same size


def test_key_rotation_update_chooses_the_update_in_place() -> None:
    change = rotation("9.1.7", in_use=USERS, key_rotation=KeyRotation.UPDATE)
    assert (change.action, change.code) == (Action.UPDATE, Reason.CHUNKING_RESET_UPDATE)


def test_in_use_is_no_obstacle_where_the_update_keeps_chunking() -> None:
    change = rotation("9.3.1", in_use=USERS)
    assert (change.action, change.code) == (Action.UPDATE, Reason.ROTATE_UPDATE)


def test_protect_blocks_the_replace_a_reset_would_need() -> None:
    item = desired("emb", protect=True)
    server, state = applied(item)
    change = only(run([item], [server], [state], version="9.1.7", fingerprints=ROTATED))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.PROTECTED)
    assert "elastic/elasticsearch#139574" in change.reason


def test_adopting_an_endpoint_whose_update_would_reset_chunking_needs_consent() -> None:
    item = desired("emb", body() | {"task_settings": {"user": "b"}})
    server = live(item, body() | {"task_settings": {"user": "a"}})
    blocked = only(run([item], [server], [], version="9.1.7"))
    assert (blocked.action, blocked.code, blocked.adopt) == (Action.BLOCKED, Reason.UNMANAGED, True)
    assert "elastic/elasticsearch#139574" in blocked.reason
    assert "key_rotation: update" in blocked.reason
    allowed = only(run([item], [server], [], version="9.1.7", allow_disruptive=True))
    assert (allowed.action, allowed.code, allowed.adopt) == (
        Action.REPLACE,
        Reason.CHUNKING_RESET_REPLACE,
        True,
    )
    forced = only(run([item], [server], [], version="9.1.7", key_rotation=KeyRotation.UPDATE))
    assert (forced.action, forced.code, forced.adopt) == (
        Action.UPDATE,
        Reason.CHUNKING_RESET_UPDATE,
        True,
    )
    assert only(run([item], [server], [], version="9.3.1")).action is Action.UPDATE


# --- after a forced update reset the chunking: no plan that repeats -----------------------------


def test_a_recorded_reset_is_a_no_op_that_says_how_to_restore_it() -> None:
    item, server, record = reset_server()
    result = run([item], [server], [record], version="9.1.7")
    change = only(result)
    assert (change.action, change.code) == (Action.NOOP, Reason.CHUNKING_RESET_NOTED)
    assert change.reason == (
        "matches the manifest but for chunking_settings: the server reset it on the in-place"
        " update of 2026-03-01T12:00:00+00:00 on Elasticsearch 9.1.7"
        " (elastic/elasticsearch#139574), and state records it: the server has word/250/100"
        " where the manifest says sentence/250/1. To restore sentence/250/1, allow disruptive"
        " changes (a replace), or upgrade to 9.5, whose update API sets chunking_settings (the"
        " next plan then updates it in place)"
    )
    assert {f.path for f in change.fields} >= {"chunking_settings.strategy"}
    assert result.in_sync and not result.has_changes


def test_without_the_record_the_same_difference_is_a_replace() -> None:
    item, server, record = reset_server()
    unnoted = dataclasses.replace(record, chunking_reset=None)
    change = only(run([item], [server], [unnoted], version="9.1.7"))
    assert change.action is Action.REPLACE


def test_allow_disruptive_restores_the_chunking_by_a_replace() -> None:
    item, server, record = reset_server()
    change = only(run([item], [server], [record], version="9.1.7", allow_disruptive=True))
    assert change.action is Action.REPLACE
    assert change.reason == (
        "the server reset chunking_settings to word/250/100 on the in-place update of"
        " 2026-03-01T12:00:00+00:00 on Elasticsearch 9.1.7 (elastic/elasticsearch#139574);"
        " replaced to restore sentence/250/1 (disruptive changes allowed)"
    )


def test_after_an_upgrade_to_9_5_the_chunking_is_put_back_in_place() -> None:
    item, server, record = reset_server()
    change = only(run([item], [server], [record], version="9.5.0"))
    assert (change.action, change.code) == (Action.UPDATE, Reason.UPDATE)


def test_a_manifest_asking_for_other_chunking_is_a_change_again() -> None:
    chunking = {"strategy": "sentence", "max_chunk_size": 100, "sentence_overlap": 0}
    _, server, record = reset_server()
    changed = desired("emb", body() | {"chunking_settings": chunking})
    change = only(run([changed], [server], [record], version="9.1.7"))
    assert change.action is Action.REPLACE


def test_a_later_key_rotation_keeps_the_chosen_way() -> None:
    _, server, record = reset_server()
    forced = desired("emb", key_rotation=KeyRotation.UPDATE)
    change = only(run([forced], [server], [record], version="9.1.7", fingerprints=ROTATED))
    assert (change.action, change.fields) == (Action.UPDATE, (KEY,))
    assert "chunking_settings left as is" in change.reason
    auto = desired("emb")
    replaced = only(run([auto], [server], [record], version="9.1.7", fingerprints=ROTATED))
    assert replaced.action is Action.REPLACE  # the replace puts the chunking back too
    assert any(f.path.startswith("chunking_settings") for f in replaced.fields)


# --- a change the server did not take -----------------------------------------------------------


def test_a_change_not_taken_before_says_so_with_its_count_and_cause() -> None:
    item = desired("emb", body(rate_limit={"requests_per_minute": 10}))
    server, state = applied(item, body())
    intended = FieldChange(
        "service_settings.rate_limit.requests_per_minute", 3000, 10, op=FieldOp.CHANGED
    )
    cause = "service_settings.rate_limit.requests_per_minute: sent 10, read back 3000"
    marker = NotTaken(intent_digest([intended]), 2, cause, "2026-03-01T12:00:00+00:00")
    failing = dataclasses.replace(state, not_taken=marker)
    change = only(run([item], [server], [failing], version="9.5.0"))
    assert (change.action, change.code) == (Action.UPDATE, Reason.NOT_TAKEN)
    assert change.reason == (
        f"rate_limit updated in place; this change was not taken by the server 2 times: {cause}"
    )
    other = desired("emb", body(rate_limit={"requests_per_minute": 20}))
    fresh = only(run([other], [server], [failing], version="9.5.0"))
    assert (fresh.action, fresh.code) == (Action.UPDATE, Reason.UPDATE)


# --- what people and state see -------------------------------------------------------------------


def test_the_text_plan_shows_a_difference_left_alone() -> None:
    from reconciler.render import plan_markdown, plan_text
    from reconciler.render.plan_json import plan_to_dict

    item, server, record = reset_server()
    model = plan_to_dict(run([item], [server], [record], version="9.1.7"))
    text = plan_text.render(model)
    assert "No changes. The server matches the manifests but for the differences left alone" in text
    assert "Differences left alone (no change planned):" in text
    assert '~ chunking_settings.strategy: "word" → "sentence"' in text
    assert "- `emb`: matches the manifest but for chunking_settings" in plan_markdown.render(model)


def test_an_apply_that_reset_chunking_shows_its_warning() -> None:
    from reconciler.render.apply_report import as_text, progress_line

    result = {
        "inference_id": "emb",
        "task_type": "text_embedding",
        "action": "update",
        "status": "ok",
        "message": "updated in place: api_key (sensitive); warning: Elasticsearch 9.1.7 reset …",
        "duration_ms": 3.0,
    }
    model = {"results": [result], "smoke": [], "ok": True}
    assert "✓ update emb: updated in place: api_key (sensitive); warning:" in as_text(model)
    assert progress_line(result, 1, 1).endswith("warning: Elasticsearch 9.1.7 reset …")
    quiet = {**result, "message": "updated in place: api_key (sensitive)"}
    assert progress_line(quiet, 1, 1) == "[1/1] ✓ update emb (3 ms)"


def test_state_keeps_both_markers_and_reads_a_damaged_one_as_none() -> None:
    from reconciler.state import record_from_json, record_to_json

    _, _, record = reset_server()
    failed = NotTaken("0123456789abcdef", 3, "task_settings.user: sent 1, read back 2", "t")
    marked = dataclasses.replace(record, not_taken=failed)
    stored = record_to_json(marked)
    assert stored["chunking_reset"] == {
        "at": "2026-03-01T12:00:00+00:00",
        "version": "9.1.7",
        "expected": SENTENCE,
        "found": WORD,
    }
    assert stored["not_taken"] == {
        "digest": "0123456789abcdef",
        "count": 3,
        "cause": "task_settings.user: sent 1, read back 2",
        "at": "t",
    }
    assert record_from_json(stored) == marked
    assert "chunking_reset" not in record_to_json(dataclasses.replace(marked, chunking_reset=None))
    damaged = {**stored, "chunking_reset": {"found": "word"}, "not_taken": {"count": 2}}
    back = record_from_json(damaged)
    assert (back.chunking_reset, back.not_taken) == (None, None)
