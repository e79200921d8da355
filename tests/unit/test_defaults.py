"""The server-default tables and their lookups, checked against the figures read from the
Elasticsearch source."""

from __future__ import annotations

import re

import pytest

from reconciler import defaults
from reconciler.defaults import (
    MERGE,
    REPLACE,
    capabilities,
    default_chunking,
    features_used,
    in_place,
    model_dimensions,
    parse_release,
    replace_paths,
    separators_for,
    supports,
    unsupported,
    updatable,
    update_note,
)
from reconciler.model import FieldChange, FieldOp, KeyRotation


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("8.18.2", (8, 18, 2)),
        ("9.1.0-SNAPSHOT", (9, 1, 0)),
        ("10.0", (10, 0, 0)),
        (" 8.17.0", (8, 17, 0)),
        ("9.5.0-serverless", (9, 5, 0)),
    ],
)
def test_parse_release(text: str, release: tuple[int, ...]) -> None:
    assert parse_release(text) == release


@pytest.mark.parametrize("text", ["", "nine", "9", "v9.1.0"])
def test_parse_release_rejects_non_versions(text: str) -> None:
    with pytest.raises(ValueError, match="not an Elasticsearch version"):
        parse_release(text)


def rate_limits(service: str) -> dict[str, int]:
    """`requests_per_minute` the server fills in, per task type (`defaults.known_defaults`)."""
    rpm = ("service_settings", "rate_limit", "requests_per_minute")
    return {
        task: value
        for task in ("text_embedding", "completion", "chat_completion")
        for path, value in defaults.known_defaults(service, task, defaults.NEWEST)
        if path == rpm
    }


def test_rate_limit_defaults_per_task_type() -> None:
    assert rate_limits("openai") == {
        "text_embedding": 3000,
        "completion": 500,
        "chat_completion": 500,
    }


def test_model_dimensions_known_and_unknown() -> None:
    assert model_dimensions("text-embedding-3-small") == 1536
    assert model_dimensions("text-embedding-3-large") == 3072
    assert model_dimensions("text-embedding-ada-002") == 1536
    assert model_dimensions("acme-embed") is None
    assert model_dimensions(None) is None


def test_default_chunking_current_and_legacy_are_fresh_copies() -> None:
    current = default_chunking(legacy=False)
    assert current == {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
    assert default_chunking(legacy=True) == {
        "strategy": "word",
        "max_chunk_size": 250,
        "overlap": 100,
    }
    current["strategy"] = "word"
    assert default_chunking(legacy=False)["strategy"] == "sentence"


def test_plaintext_separators_are_regexes_with_literal_backslashes() -> None:
    plaintext = separators_for("plaintext")
    assert plaintext == ["(?<!\\n)\\n\\n(?!\\n)", "(?<!\\n)\\n(?!\\n)"]
    assert re.split(plaintext[0], "a\n\nb") == ["a", "b"]


def test_markdown_separators_follow_separator_group_java() -> None:
    markdown = separators_for("markdown")
    assert markdown is not None and len(markdown) == 8
    assert markdown[:6] == ["\n" + "#" * level + " " for level in range(1, 7)]
    assert markdown[6] == "\n^(?!\\s*$).*\\n-{1,}\\n"  # setext heading, level 2
    assert markdown[7] == "\n^(?!\\s*$).*\\n={1,}\\n"  # setext heading, level 1


def test_separator_group_names_are_trimmed_and_case_insensitive() -> None:
    assert separators_for(" Markdown ") == separators_for("markdown")
    assert separators_for("PLAINTEXT") == separators_for("plaintext")
    assert separators_for("html") is None
    assert separators_for(3) is None


@pytest.mark.parametrize(
    ("feature", "yes", "no"),
    [
        ("rate_limit", "8.15.0", "8.14.3"),
        ("chunking_settings", "8.16.0", "8.15.5"),
        ("update_api", "8.17.0", "8.16.6"),
        ("chat_completion", "8.18.0", "8.17.9"),
        ("chunking.recursive", "9.1.0", "9.0.3"),
        ("task_settings.headers", "9.2.0", "9.1.4"),
        ("update_timeout", "9.5.0", "9.4.1"),
    ],
)
def test_features_start_at_their_release(feature: str, yes: str, no: str) -> None:
    assert supports(feature, parse_release(yes))
    assert not supports(feature, parse_release(no))


def test_put_timeout_exists_in_8_19_and_from_9_1_but_not_in_9_0() -> None:
    assert [supports("put_timeout", r) for r in [(8, 18), (8, 19), (9, 0), (9, 1), (9, 5)]] == [
        False,
        True,
        False,
        True,
        True,
    ]


def test_capabilities_from_a_version_string() -> None:
    caps = capabilities("8.17.1")
    assert caps.version == "8.17.1" and caps.release == (8, 17, 1)
    assert caps.update_api
    assert "chat_completion" not in caps.features
    assert not capabilities("8.16.0").update_api


def test_nothing_is_updatable_before_8_17() -> None:
    assert dict(updatable((8, 16))) == {}


@pytest.mark.parametrize("release", [(8, 17), (8, 19), (9, 0), (9, 4)])
def test_only_task_settings_are_updatable_from_8_17_to_9_4(release: tuple[int, int]) -> None:
    assert dict(updatable(release)) == {("task_settings",): MERGE}


def test_9_5_updates_rate_limit_organization_max_tokens_and_chunking() -> None:
    table = updatable((9, 5))
    assert table[("service_settings", "rate_limit")] == MERGE
    assert table[("service_settings", "organization_id")] == MERGE
    assert table[("service_settings", "max_input_tokens")] == MERGE
    assert table[("chunking_settings",)] == REPLACE
    assert ("service_settings", "model_id") not in table


def test_update_notes_per_era() -> None:
    assert update_note((8, 16)) == "the server has no update API before 8.17"
    assert "only api_key and task_settings" in update_note((9, 1))
    assert "rate_limit" in update_note((9, 5))


def test_features_used_by_a_body() -> None:
    body = {
        "service_settings": {"model_id": "m", "rate_limit": {"requests_per_minute": 5}},
        "task_settings": {"headers": {"X": "1"}},
        "chunking_settings": {"strategy": "recursive", "max_chunk_size": 100},
    }
    assert features_used(body, "text_embedding") == (
        "rate_limit",
        "chunking_settings",
        "chunking.recursive",
        "task_settings.headers",
    )
    assert features_used({"service_settings": {}}, "CHAT_COMPLETION") == ("chat_completion",)


def test_unsupported_names_the_first_release() -> None:
    body = {"service_settings": {"model_id": "gpt-4o"}}
    assert unsupported(body, "chat_completion", (8, 17)) == (
        "chat_completion needs Elasticsearch 8.18 or later",
    )
    assert unsupported(body, "chat_completion", (8, 18)) == ()
    none = {"service_settings": {}, "chunking_settings": {"strategy": "none"}}
    assert unsupported(none, "text_embedding", (9, 0)) == (
        "chunking.none needs Elasticsearch 9.1 or later",
    )


def test_in_place_follows_the_update_table_and_the_rotation_policy() -> None:
    key = FieldChange("service_settings.api_key", sensitive=True)
    assert in_place(key, capabilities("8.17.0"))
    assert not in_place(key, capabilities("8.16.0"))
    assert not in_place(key, capabilities("9.5.0"), KeyRotation.RECREATE)
    user = FieldChange("task_settings.user", "a", "b")
    assert in_place(user, capabilities("8.18.0"))
    removed = FieldChange("task_settings.user", "a", None, op=FieldOp.REMOVED)
    assert not in_place(removed, capabilities("9.5.0"))  # merged: a key cannot be removed
    overlap = FieldChange("chunking_settings.sentence_overlap", 1, None, op=FieldOp.REMOVED)
    assert in_place(overlap, capabilities("9.5.0")) and not in_place(overlap, capabilities("9.4.0"))
    model = FieldChange("service_settings.model_id", "a", "b")
    assert replace_paths([user, model, key], capabilities("9.5.0")) == (
        "service_settings.model_id",
    )
