"""The registry's per-service facts: what GET fills in, normalizes, never diffs or hides, and what
`_update` may change, for every full-tier service; the task-type table; and openai's facts being
exactly what `reconciler.defaults` answered before they moved into the registry."""

from __future__ import annotations

from reconciler import defaults

# What reconciler.defaults answered for openai before its facts moved into the registry
# (captured from defaults.py at commit e5548c2): the refactor must not change one of them.
OPENAI_BEFORE = {
    "rate_limit_rpm": {"text_embedding": 3000, "completion": 500, "chat_completion": 500},
    "similarity": "dot_product",
    "model_dimensions": {
        "text-embedding-3-small": 1536,
        "text-embedding-3-large": 3072,
        "text-embedding-ada-002": 1536,
    },
    "default_urls": {
        "text_embedding": "https://api.openai.com/v1/embeddings",
        "completion": "https://api.openai.com/v1/chat/completions",
        "chat_completion": "https://api.openai.com/v1/chat/completions",
    },
    "server_chosen": {"text_embedding": (("service_settings", "dimensions"),)},
    "updatable": [
        ((8, 17), {("task_settings",): "merge"}),
        (
            (9, 5),
            {
                ("task_settings",): "merge",
                ("service_settings", "rate_limit"): "merge",
                ("service_settings", "organization_id"): "merge",
                ("service_settings", "max_input_tokens"): "merge",
                ("chunking_settings",): "replace",
            },
        ),
    ],
    "update_notes": [
        ((0, 0), "the server has no update API before 8.17"),
        ((8, 17), "8.17–9.4 update API changes only api_key and task_settings"),
        (
            (9, 5),
            "the 9.5+ update API changes only api_key, task_settings, rate_limit, "
            "organization_id, max_input_tokens and chunking_settings",
        ),
    ],
    "default_chunking": {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1},
    "legacy_chunking": {"strategy": "word", "max_chunk_size": 250, "overlap": 100},
    "features_9_5": {
        "chat_completion",
        "chunking.recursive",
        "put_timeout",
        "mapping_compatibility_check",
        "chunking.none",
        "update_keeps_chunking",
        "update_validates",
        "update_api",
        "rate_limit",
        "update_timeout",
        "task_settings.headers",
        "chunking_settings",
    },
}


def _defaults_now() -> dict[str, object]:
    return {
        "rate_limit_rpm": dict(defaults.RATE_LIMIT_RPM),
        "similarity": defaults.DEFAULT_SIMILARITY,
        "model_dimensions": dict(defaults.MODEL_DIMENSIONS),
        "default_urls": dict(defaults.DEFAULT_URLS),
        "server_chosen": dict(defaults.SERVER_CHOSEN),
        "updatable": [(since, dict(table)) for since, table in defaults.UPDATABLE],
        "update_notes": list(defaults.UPDATE_NOTES),
        "default_chunking": dict(defaults.DEFAULT_CHUNKING),
        "legacy_chunking": dict(defaults.LEGACY_CHUNKING),
        "features_9_5": set(defaults.capabilities("9.5.0").features),
    }


def test_defaults_still_answer_what_they_answered_for_openai() -> None:
    assert _defaults_now() == OPENAI_BEFORE


def test_defaults_lookups_unchanged_for_openai() -> None:
    assert defaults.updatable((8, 16)) == {}
    assert dict(defaults.updatable((9, 4, 3))) == OPENAI_BEFORE["updatable"][0][1]  # type: ignore[index]
    assert dict(defaults.updatable((9, 5, 0))) == OPENAI_BEFORE["updatable"][1][1]  # type: ignore[index]
    assert defaults.update_note((8, 16)) == "the server has no update API before 8.17"
    assert defaults.model_dimensions("text-embedding-3-large") == 3072
    assert defaults.model_dimensions("acme") is None
    assert defaults.SERVICE == "openai"
