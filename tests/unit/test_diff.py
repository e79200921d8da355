"""Normalizers, the three-way compare, and the bodies handed to the executor."""

from __future__ import annotations

import copy
from typing import Any

from reconciler.defaults import SEPARATOR_GROUPS
from reconciler.diff import (
    SERVER_CHOSEN_KEY,
    compare,
    compare_endpoint,
    create_fields,
    field_changes,
    last_applied_spec,
    normalize_desired,
    normalize_live,
    request_body,
    update_body,
)
from reconciler.model import (
    Action,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    LiveEndpoint,
    Location,
    Options,
    PlannedChange,
)
from reconciler.secrets import Secret

RELEASE = (8, 18)
SENTENCE = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}


def embedding(**settings: Any) -> dict[str, Any]:
    return {
        "service": "openai",
        "service_settings": {"model_id": "text-embedding-3-small", **settings},
    }


def live_embedding(**settings: Any) -> dict[str, Any]:
    service = {
        "model_id": "text-embedding-3-small",
        "similarity": "dot_product",
        "dimensions": 1536,
        "rate_limit": {"requests_per_minute": 3000},
    }
    body = {"inference_id": "emb", "task_type": "text_embedding", "service": "openai"}
    return body | {"service_settings": service | settings, "chunking_settings": dict(SENTENCE)}


def desired_endpoint(body: dict[str, Any], task_type: str = "text_embedding") -> DesiredEndpoint:
    return DesiredEndpoint("emb", task_type, body, Secret("sk-x"), Options(), Location("emb.yaml"))


def live_endpoint(body: dict[str, Any]) -> LiveEndpoint:
    return LiveEndpoint("emb", body["task_type"], body["service"], body)


def changes(
    desired: dict[str, Any], live: dict[str, Any], last: Any = None, release: Any = RELEASE
):
    return compare_endpoint(
        desired_endpoint(desired), live_endpoint(live), last_applied=last, release=release
    ).changes


def paths(found: tuple[FieldChange, ...]) -> list[str]:
    return [change.path for change in found]


# --- normalizers -------------------------------------------------------------------------------


def test_desired_fills_every_server_default_for_text_embedding() -> None:
    spec = normalize_desired(embedding(), task_type="TEXT_EMBEDDING", release=RELEASE)
    assert spec == {
        "task_type": "text_embedding",
        "service": "openai",
        "service_settings": {
            "model_id": "text-embedding-3-small",
            "similarity": "dot_product",
            "dimensions": 1536,
            "rate_limit": {"requests_per_minute": 3000},
        },
        "chunking_settings": SENTENCE,
    }


def test_completion_gets_500_requests_per_minute_and_no_chunking() -> None:
    body = {"service": "openai", "service_settings": {"model_id": "gpt-4o"}}
    spec = normalize_desired(body, task_type="completion", release=RELEASE)
    assert spec["service_settings"] == {
        "model_id": "gpt-4o",
        "rate_limit": {"requests_per_minute": 500},
    }
    assert "chunking_settings" not in spec


def test_unknown_model_leaves_dimensions_unset() -> None:
    spec = normalize_desired(
        embedding(model_id="acme"), task_type="text_embedding", release=RELEASE
    )
    assert "dimensions" not in spec["service_settings"]


def test_live_strips_what_is_not_comparable() -> None:
    live = live_embedding(dimensions_set_by_user=False) | {"task_settings": {}, "metadata": {}}
    spec = normalize_live(live, task_type="text_embedding")
    assert set(spec) == {"task_type", "service", "service_settings", "chunking_settings"}
    assert "dimensions_set_by_user" not in spec["service_settings"]


def test_api_key_never_survives_normalization() -> None:
    body = embedding(api_key="sk-should-vanish")
    assert (
        "api_key"
        not in normalize_desired(body, task_type="text_embedding", release=RELEASE)[
            "service_settings"
        ]
    )
    assert "api_key" not in normalize_live(body, task_type="text_embedding")["service_settings"]


def test_similarity_is_lower_cased() -> None:
    spec = normalize_desired(
        embedding(similarity="COSINE"), task_type="text_embedding", release=RELEASE
    )
    assert spec["service_settings"]["similarity"] == "cosine"


def test_explicit_default_url_equals_no_url() -> None:
    explicit = embedding(url="https://api.openai.com/v1/embeddings")
    assert normalize_desired(
        explicit, task_type="text_embedding", release=RELEASE
    ) == normalize_desired(embedding(), task_type="text_embedding", release=RELEASE)
    other = normalize_desired(
        embedding(url="http://proxy/v1"), task_type="text_embedding", release=RELEASE
    )
    assert other["service_settings"]["url"] == "http://proxy/v1"


def test_empty_task_settings_are_dropped() -> None:
    spec = normalize_desired(
        embedding() | {"task_settings": {}}, task_type="text_embedding", release=RELEASE
    )
    assert "task_settings" not in spec


def test_legacy_task_settings_model_moves_to_service_settings() -> None:
    body = {
        "service": "openai",
        "service_settings": {},
        "task_settings": {"model": "text-embedding-ada-002"},
    }
    spec = normalize_live(body, task_type="text_embedding")
    assert spec["service_settings"] == {"model_id": "text-embedding-ada-002"}
    assert "task_settings" not in spec


def test_empty_chunking_means_the_default() -> None:
    spec = normalize_desired(
        embedding() | {"chunking_settings": {}}, task_type="text_embedding", release=RELEASE
    )
    assert spec["chunking_settings"] == SENTENCE


def test_sentence_chunking_gets_its_default_overlap() -> None:
    body = embedding() | {"chunking_settings": {"strategy": "sentence", "max_chunk_size": 100}}
    spec = normalize_desired(body, task_type="text_embedding", release=RELEASE)
    assert spec["chunking_settings"] == {
        "strategy": "sentence",
        "max_chunk_size": 100,
        "sentence_overlap": 1,
    }


def test_none_chunking_drops_extra_keys() -> None:
    body = embedding() | {"chunking_settings": {"strategy": "none", "max_chunk_size": 9}}
    assert normalize_desired(body, task_type="text_embedding", release=(9, 1))[
        "chunking_settings"
    ] == {"strategy": "none"}


def test_recursive_separator_group_is_expanded() -> None:
    chunking = {"strategy": "recursive", "max_chunk_size": 200, "separator_group": " Markdown"}
    spec = normalize_desired(
        embedding() | {"chunking_settings": chunking}, task_type="text_embedding", release=(9, 1)
    )
    assert spec["chunking_settings"] == {
        "strategy": "recursive",
        "max_chunk_size": 200,
        "separators": list(SEPARATOR_GROUPS["markdown"]),
    }


def test_recursive_without_separators_uses_plaintext() -> None:
    chunking = {"strategy": "recursive", "max_chunk_size": 200}
    spec = normalize_desired(
        embedding() | {"chunking_settings": chunking}, task_type="text_embedding", release=(9, 1)
    )
    assert spec["chunking_settings"]["separators"] == list(SEPARATOR_GROUPS["plaintext"])


def test_recursive_unknown_group_stays_visible() -> None:
    chunking = {"strategy": "recursive", "max_chunk_size": 200, "separator_group": "html"}
    spec = normalize_desired(
        embedding() | {"chunking_settings": chunking}, task_type="text_embedding", release=(9, 1)
    )
    assert spec["chunking_settings"]["separator_group"] == "html"


def test_no_chunking_or_rate_limit_on_servers_without_them() -> None:
    spec = normalize_desired(embedding(), task_type="text_embedding", release=(8, 14))
    assert "chunking_settings" not in spec
    assert "rate_limit" not in spec["service_settings"]


def test_normalize_does_not_mutate_its_input() -> None:
    body = embedding(similarity="COSINE") | {
        "chunking_settings": {"strategy": "recursive", "max_chunk_size": 50}
    }
    before = copy.deepcopy(body)
    normalize_desired(body, task_type="text_embedding", release=(9, 1))
    assert body == before


# --- three-way compare -------------------------------------------------------------------------


def test_server_filled_values_are_no_change() -> None:
    assert changes(embedding(), live_embedding()) == ()


def test_dimensions_unset_for_an_unknown_model_are_not_diffed() -> None:
    live = live_embedding(model_id="acme", dimensions=768)
    assert changes(embedding(model_id="acme"), live) == ()


def test_server_chosen_dimensions_are_remembered_and_drift_shows() -> None:
    desired, live = embedding(model_id="acme"), live_embedding(model_id="acme", dimensions=768)
    last = last_applied_spec(desired_endpoint(desired), live_endpoint(live))
    assert last[SERVER_CHOSEN_KEY] == ["service_settings.dimensions"]
    assert changes(desired, live, last) == ()
    found = changes(desired, live_embedding(model_id="acme", dimensions=512), last)
    assert found == (
        FieldChange(
            "service_settings.dimensions", before=512, after=768, op=FieldOp.CHANGED, drift=True
        ),
    )


def test_removing_dimensions_of_a_known_model_is_a_change_to_its_default() -> None:
    before = embedding(dimensions=256)
    live = live_embedding(dimensions=256)
    last = last_applied_spec(desired_endpoint(before), live_endpoint(live))
    (change,) = changes(embedding(), live, last)
    assert (change.path, change.before, change.after, change.op) == (
        "service_settings.dimensions",
        256,
        1536,
        FieldOp.CHANGED,
    )


def test_removing_dimensions_of_an_unknown_model_is_known_after_apply() -> None:
    before = embedding(model_id="acme", dimensions=256)
    live = live_embedding(model_id="acme", dimensions=256)
    last = last_applied_spec(desired_endpoint(before), live_endpoint(live))
    assert SERVER_CHOSEN_KEY not in last
    (change,) = changes(embedding(model_id="acme"), live, last)
    assert change == FieldChange(
        "service_settings.dimensions", before=256, after=None, op=FieldOp.REMOVED, computed=True
    )


def test_removing_rate_limit_is_a_change_back_to_the_default() -> None:
    live = live_embedding(rate_limit={"requests_per_minute": 10})
    (change,) = changes(embedding(), live)
    assert (change.path, change.before, change.after) == (
        "service_settings.rate_limit.requests_per_minute",
        10,
        3000,
    )


def test_removing_similarity_is_a_change_back_to_dot_product() -> None:
    (change,) = changes(embedding(), live_embedding(similarity="cosine"))
    assert (change.before, change.after) == ("cosine", "dot_product")


def test_removing_url_is_a_removal() -> None:
    (change,) = changes(embedding(), live_embedding(url="http://proxy/v1"))
    assert (change.path, change.op, change.before) == (
        "service_settings.url",
        FieldOp.REMOVED,
        "http://proxy/v1",
    )


def test_task_settings_added_as_a_whole_object() -> None:
    (change,) = changes(embedding() | {"task_settings": {"user": "a"}}, live_embedding())
    assert (change.path, change.op, change.after) == ("task_settings", FieldOp.ADDED, {"user": "a"})


def test_separators_list_is_compared_whole() -> None:
    chunking = {"strategy": "recursive", "max_chunk_size": 100, "separators": ["\n"]}
    live = live_embedding() | {"chunking_settings": chunking}
    desired = embedding() | {"chunking_settings": chunking | {"separators": ["\n", ". "]}}
    (change,) = changes(desired, live, release=(9, 1))
    assert (change.path, change.before, change.after) == (
        "chunking_settings.separators",
        ["\n"],
        ["\n", ". "],
    )


def test_pre_8_16_endpoint_keeps_its_legacy_chunking_after_an_upgrade() -> None:
    old_live = {k: v for k, v in live_embedding().items() if k != "chunking_settings"}
    last = last_applied_spec(desired_endpoint(embedding()), live_endpoint(old_live))
    upgraded = live_embedding() | {
        "chunking_settings": {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
    }
    assert changes(embedding(), upgraded, last) == ()


def test_adopting_an_endpoint_with_legacy_chunking_is_no_change() -> None:
    legacy = live_embedding() | {
        "chunking_settings": {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
    }
    assert changes(embedding(), legacy) == ()


def test_removing_chunking_that_was_set_is_a_change_back_to_sentence() -> None:
    word = {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
    live = live_embedding() | {"chunking_settings": word}
    last = last_applied_spec(
        desired_endpoint(embedding() | {"chunking_settings": word}), live_endpoint(live)
    )
    assert paths(changes(embedding(), live, last)) == [
        "chunking_settings.overlap",
        "chunking_settings.sentence_overlap",
        "chunking_settings.strategy",
    ]


def test_out_of_band_change_is_marked_drift() -> None:
    desired = embedding() | {"task_settings": {"user": "a"}}
    applied = live_embedding() | {"task_settings": {"user": "a"}}
    last = last_applied_spec(desired_endpoint(desired), live_endpoint(applied))
    (change,) = changes(desired, applied | {"task_settings": {"user": "b"}}, last)
    assert change.drift and (change.before, change.after) == ("b", "a")


def test_manifest_change_is_not_drift() -> None:
    applied = live_embedding() | {"task_settings": {"user": "a"}}
    last = last_applied_spec(
        desired_endpoint(embedding() | {"task_settings": {"user": "a"}}), live_endpoint(applied)
    )
    (change,) = changes(embedding() | {"task_settings": {"user": "c"}}, applied, last)
    assert not change.drift


def test_task_type_change_shows() -> None:
    spec = normalize_desired(
        {"service": "openai", "service_settings": {"model_id": "gpt-4o"}},
        task_type="completion",
        release=RELEASE,
    )
    other = spec | {"task_type": "chat_completion"}
    assert paths(compare(spec, other, None).changes) == ["task_type"]


def test_field_changes_ops() -> None:
    found = field_changes({"a": 1, "b": {"c": 2}}, {"b": {"c": 3}, "d": 4})
    assert [(c.path, c.op) for c in found] == [
        ("a", FieldOp.REMOVED),
        ("b.c", FieldOp.CHANGED),
        ("d", FieldOp.ADDED),
    ]


def test_int_and_float_of_the_same_value_are_equal() -> None:
    assert field_changes({"a": 250, "b": 1}, {"a": 250.0, "b": 2})[0].path == "b"


def test_create_fields_mark_server_choices_as_computed() -> None:
    spec = normalize_desired(
        embedding(model_id="acme"), task_type="text_embedding", release=RELEASE
    )
    found = {c.path: c for c in create_fields(spec)}
    assert found["service_settings.dimensions"].computed
    assert found["service_settings.similarity"].after == "dot_product"
    assert all(c.op is FieldOp.ADDED for c in found.values())


# --- bodies ------------------------------------------------------------------------------------


def test_request_body_is_the_manifest_without_key_or_path_parameters() -> None:
    body = embedding(api_key="sk-x", similarity="COSINE") | {
        "task_type": "text_embedding",
        "inference_id": "emb",
    }
    assert request_body(desired_endpoint(body)) == embedding(similarity="COSINE")


def update_change(fields: tuple[FieldChange, ...], spec: dict[str, Any]) -> PlannedChange:
    return PlannedChange("emb", "text_embedding", Action.UPDATE, "r", fields=fields, spec=spec)


def test_update_body_for_task_settings_needs_no_key() -> None:
    spec = normalize_desired(
        embedding() | {"task_settings": {"user": "a", "headers": {"X": "1", "Y": "2"}}},
        task_type="text_embedding",
        release=(9, 2),
    )
    fields = (
        FieldChange("task_settings.user", "b", "a"),
        FieldChange("task_settings.headers.Y", None, "2", op=FieldOp.ADDED),
    )
    request = update_body(update_change(fields, spec))
    assert request.body == {"task_settings": {"user": "a", "headers": {"X": "1", "Y": "2"}}}
    assert not request.include_secrets
    assert request.secrets_to_send("openai", ["service_settings.api_key"]) == ()


def test_update_body_for_a_key_rotation_is_a_marker() -> None:
    request = update_body(
        update_change((FieldChange("service_settings.api_key", sensitive=True),), {})
    )
    assert request.body == {} and request.include_secrets
    assert request.secrets_to_send("openai", ["service_settings.api_key"]) == (
        "service_settings.api_key",
    )


def test_update_body_with_service_settings_always_carries_the_key() -> None:
    spec = normalize_desired(
        embedding(rate_limit={"requests_per_minute": 9}), task_type="text_embedding", release=(9, 5)
    )
    fields = (FieldChange("service_settings.rate_limit.requests_per_minute", 3000, 9),)
    request = update_body(update_change(fields, spec))
    assert request.body == {"service_settings": {"rate_limit": {"requests_per_minute": 9}}}
    assert request.include_secrets
    declared = ["service_settings.access_key", "service_settings.secret_key"]
    assert request.secrets_to_send("amazonbedrock", declared) == tuple(declared)


def test_update_body_sends_chunking_whole() -> None:
    word = {"strategy": "word", "max_chunk_size": 100, "overlap": 10}
    spec = normalize_desired(
        embedding() | {"chunking_settings": word}, task_type="text_embedding", release=(9, 5)
    )
    fields = (FieldChange("chunking_settings.strategy", "sentence", "word"),)
    assert update_body(update_change(fields, spec)).body == {"chunking_settings": word}


def test_last_applied_spec_records_no_server_choice_when_the_user_set_it() -> None:
    desired, live = embedding(dimensions=1536), live_embedding()
    spec = last_applied_spec(desired_endpoint(desired), live_endpoint(live))
    assert SERVER_CHOSEN_KEY not in spec
    assert spec == normalize_live(live, task_type="text_embedding")


def test_spec_leaves_server_choices_out_and_checks_a_read_back() -> None:
    desired, live = embedding(model_id="acme"), live_embedding(model_id="acme", dimensions=768)
    comparison = compare_endpoint(
        desired_endpoint(desired), live_endpoint(live), last_applied=None, release=RELEASE
    )
    assert "dimensions" not in comparison.spec["service_settings"]
    assert comparison.target["service_settings"]["dimensions"] == 768
    read_back = normalize_live(
        live_embedding(model_id="acme", dimensions=1024), task_type="text_embedding"
    )
    assert compare(comparison.spec, read_back, None).changes == ()
