"""The registry's per-service facts: what GET fills in, normalizes, never diffs or hides, and what
`_update` may change, for every full-tier service; the task-type table; and openai's facts being
exactly what `reconciler.defaults` answered before they moved into the registry."""

from __future__ import annotations

import re

import pytest

from reconciler import defaults, smoke
from reconciler.services import build, facts, registry
from reconciler.services.facts import ServiceFacts
from reconciler.services.registry import Tier
from reconciler.services.task_types import TASK_TYPES, Output, smoke_check

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


OPENAI_TASKS = ("text_embedding", "completion", "chat_completion")
RPM = ("service_settings", "rate_limit", "requests_per_minute")


def _defaults_now() -> dict[str, object]:
    """What `reconciler.defaults` answers for openai now, through its per-service lookups."""
    openai = registry.SERVICES["openai"].facts
    sizes = next(item.by_model for item in openai.filled if item.path == facts.DIMENSIONS)
    urls = openai.normalizer("drop_default_url")
    steps = [step.since for step in openai.updates]
    return {
        "rate_limit_rpm": {
            task: value
            for task in OPENAI_TASKS
            for path, value in defaults.known_defaults("openai", task, defaults.NEWEST)
            if path == RPM
        },
        "similarity": defaults.DEFAULT_SIMILARITY,
        "model_dimensions": {model: defaults.model_dimensions(model) for model in sizes},
        "default_urls": dict(urls.table) if urls is not None else {},
        "server_chosen": {
            task: chosen
            for task in OPENAI_TASKS
            if (chosen := defaults.server_chosen("openai", task))
        },
        "updatable": [(since, dict(defaults.updatable(since))) for since in steps],
        "update_notes": [(since, defaults.update_note(since)) for since in [(0, 0), *steps]],
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


# --- the registry's facts -----------------------------------------------------------------------

FULL_TIER = [s.name for s in registry.by_tier(Tier.FULL)]
GENERIC_TIER = [s.name for s in registry.by_tier(Tier.GENERIC)]

UPSTREAM = re.compile(
    r"elastic/elasticsearch|elastic/docs-content|https://|\.java\b|\.ts\b|#\d+|"
    r"ChunkingSettingsBuilder|updateServiceSettings"
)
"""What a cite looks like: an upstream repository, pull request or issue, a source file or
class, or a documentation page."""
OUTSIDE = re.compile(r"/work/|shared/|(?<![/\w])reference/|§|elasticsearch-services\.md|\.\./")
"""What a cite must never be: a path or section of a document outside the repository."""


def _evidence(facts: ServiceFacts) -> list[str]:
    return [
        *(item.evidence for item in facts.filled),
        *(item.evidence for item in facts.normalizers),
        *(item.evidence for item in facts.dynamic),
        *(item.evidence for item in facts.hidden),
        *(step.evidence for step in facts.updates),
    ]


def _openai_from_registry() -> dict[str, object]:
    openai = registry.SERVICES["openai"].facts
    urls = openai.normalizer("drop_default_url")
    assert urls is not None
    return {
        "rate_limit_rpm": dict(openai.rate_limit()),
        "similarity": openai.filled_value(facts.SIMILARITY, "text_embedding"),
        "model_dimensions": next(
            dict(f.by_model) for f in openai.filled if f.path == facts.DIMENSIONS
        ),
        "default_urls": dict(urls.table),
        "server_chosen": dict(openai.server_chosen()),
        "updatable": [
            (step.since, {p.parts: p.mode for p in step.paths}) for step in openai.updates
        ],
        "update_notes": [((0, 0), "the server has no update API before 8.17")]
        + [(step.since, step.note) for step in openai.updates],
        "default_chunking": openai.filled_value(facts.CHUNKING, "text_embedding"),
        "legacy_chunking": dict(facts.LEGACY_CHUNKING),
    }


def test_openai_registry_facts_equal_what_defaults_answered_before() -> None:
    before = {k: v for k, v in OPENAI_BEFORE.items() if k != "features_9_5"}
    assert _openai_from_registry() == before


def test_defaults_reads_openai_from_the_registry() -> None:
    openai = registry.SERVICES["openai"].facts
    assert openai.rate_limit() == OPENAI_BEFORE["rate_limit_rpm"]
    assert openai.server_chosen() == OPENAI_BEFORE["server_chosen"]
    assert defaults.DEFAULT_CHUNKING is facts.DEFAULT_CHUNKING
    for release in [(8, 16), (8, 17), (9, 4, 9), (9, 5), (10, 0)]:
        in_registry = {tuple(path.split(".")): m for path, m in openai.updatable(release).items()}
        assert dict(defaults.updatable(release)) == in_registry


@pytest.mark.parametrize("name", FULL_TIER)
def test_full_tier_descriptor_has_each_kind_of_fact_or_says_why(name: str) -> None:
    found = registry.SERVICES[name].facts
    assert set(found.none) <= set(facts.KINDS)
    for kind in facts.KINDS:
        has = bool(getattr(found, kind))
        reason = found.none.get(kind, "")
        assert has != bool(reason.strip()), (name, kind, "facts xor a reason for none")


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_fact_cites_evidence_inside_or_upstream(name: str) -> None:
    found = registry.SERVICES[name].facts
    for evidence in _evidence(found):
        assert evidence.strip(), name
        assert UPSTREAM.search(evidence), (name, evidence)
        assert not OUTSIDE.search(evidence), (name, evidence)
    for text in (*found.none.values(), *found.gaps, *(s.assumed for s in found.updates)):
        assert not OUTSIDE.search(text), (name, text)


def test_task_type_table_cites_upstream() -> None:
    for task_type in TASK_TYPES.values():
        assert UPSTREAM.search(task_type.evidence), task_type.name
        assert not OUTSIDE.search(task_type.evidence), task_type.name


@pytest.mark.parametrize("name", registry.NAMES)
def test_facts_name_only_the_services_task_types_and_known_modes(name: str) -> None:
    service = registry.SERVICES[name]
    found = service.facts
    offered = set(service.task_types)
    for scoped in (*found.filled, *found.normalizers):
        assert set(scoped.task_types) <= offered, (name, scoped)
    for item in found.filled:
        assert item.task_types, (name, item.path)
    since = [step.since for step in found.updates]
    assert since == sorted(since) and len(set(since)) == len(since)
    for step in found.updates:
        assert step.note and step.since >= (8, 17)
        for path in step.paths:
            assert path.mode in (facts.MERGE, facts.REPLACE)
            assert set(path.task_types) <= offered
            assert not any(path.path.endswith(s.path) for s in service.secrets)


def _spec_rate_limits(service: registry.Service) -> dict[str, int]:
    return {
        task_type: int(row["requests_per_minute"])
        for row in build.facts()["rate_limit_defaults"]["rows"]
        if row["service"] == service.name
        for task_type in row.get("task_types", service.ordered_task_types)
        if task_type in service.task_types
    }


@pytest.mark.parametrize("name", GENERIC_TIER)
def test_generic_service_rate_limit_default_matches_the_spec(name: str) -> None:
    service = registry.SERVICES[name]
    assert dict(service.facts.rate_limit()) == _spec_rate_limits(service)


@pytest.mark.parametrize("name", GENERIC_TIER)
def test_generic_service_is_replaced_on_any_non_secret_change(name: str) -> None:
    found = registry.SERVICES[name].facts
    assert found.updates == ()
    assert found.updatable((10, 0)) == {}
    assert found.none["updates"] == registry.REPLACE


@pytest.mark.parametrize("name", FULL_TIER)
def test_full_tier_rate_limits_agree_with_the_spec_where_it_gives_one(name: str) -> None:
    service = registry.SERVICES[name]
    ours = service.facts.rate_limit()
    for task_type, rpm in _spec_rate_limits(service).items():
        assert ours[task_type] == rpm, (name, task_type)


def test_rate_limit_rows_of_the_spec_all_name_a_registered_service() -> None:
    rows = build.facts()["rate_limit_defaults"]["rows"]
    assert {row["service"] for row in rows} <= set(registry.NAMES)


def test_the_facts_the_diff_must_know_per_service() -> None:
    cohere = registry.SERVICES["cohere"].facts
    alias = cohere.normalizer("alias")
    assert alias is not None and dict(alias.table) == {"int8": "byte", "binary": "bit"}
    assert cohere.normalizer("move_legacy_model_id") is not None
    assert {h.path for h in cohere.hidden} == {
        "service_settings.url",
        "service_settings.api_version",
    }
    bedrock = registry.SERVICES["amazonbedrock"].facts.normalizer("upper_enum")
    assert bedrock is not None and bedrock.path == "service_settings.provider"
    for name in ("elasticsearch", "elser"):
        dynamic = registry.SERVICES[name].facts.dynamic
        assert [d.path for d in dynamic] == ["service_settings.num_allocations"]
        assert "adaptive_allocations" in dynamic[0].when and "deployment_id" in dynamic[0].when
    assert [d.path for d in registry.SERVICES["elastic"].facts.dynamic] == ["metadata"]
    vertex = registry.SERVICES["googlevertexai"].facts
    assert vertex.filled_value(facts.SIMILARITY, "text_embedding") == "dot_product"
    assert "service_settings.max_batch_size" in vertex.updatable((9, 5), "text_embedding")
    assert "service_settings.max_batch_size" not in vertex.updatable((9, 5), "completion")
    es = registry.SERVICES["elasticsearch"].facts
    assert set(es.updatable((9, 1))) == {"task_settings", "service_settings.num_allocations"}
    assert es.updatable((9, 5))["service_settings.adaptive_allocations"] == facts.REPLACE
    assert es.updatable((8, 16)) == {}
    assert es.rate_limit() == {}


def test_task_type_table_covers_every_task_type_of_every_service() -> None:
    offered = {t for s in registry.SERVICES.values() for t in s.task_types}
    assert offered <= set(TASK_TYPES)
    assert tuple(TASK_TYPES) == registry.TASK_ORDER


SMOKE_CHECKS_TO_WRITE = {"check_sparse", "check_rerank"}
"""Named by the task-type table, not yet written: only openai's task types are smoke-tested."""


def test_task_type_smoke_checks_exist_or_are_listed_as_to_write() -> None:
    for task_type in TASK_TYPES.values():
        assert callable(getattr(smoke, task_type.smoke, None)) or (
            task_type.smoke in SMOKE_CHECKS_TO_WRITE
        ), task_type.name
    assert smoke_check("text_embedding") == "check_embedding"
    assert smoke_check("chat_completion") == "check_chat"
    assert smoke_check("nonsense") is None


def test_task_type_shapes_and_chunking() -> None:
    assert TASK_TYPES["text_embedding"].output is Output.DENSE_VECTOR
    assert TASK_TYPES["sparse_embedding"].output is Output.SPARSE_WEIGHTS
    assert TASK_TYPES["rerank"].output is Output.RANKED_LIST
    assert TASK_TYPES["completion"].output is Output.TEXT
    assert TASK_TYPES["chat_completion"].output is Output.STREAMED_CHAT
    chunked = {name for name, t in TASK_TYPES.items() if t.chunking}
    assert chunked == {"text_embedding", "sparse_embedding", "embedding"}
    for service in registry.SERVICES.values():
        assert set(build.chunking_task_types(service)) <= chunked, service.name
