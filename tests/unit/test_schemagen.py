"""The committed schemas are the generator's output, and they cover every documented fact.

Derivation proof: every field the seed documents (`tests/data/seeds`, copies of the
Elasticsearch openai service page,
https://www.elastic.co/guide/en/elasticsearch/reference/current/infer-service-openai.html)
describe is in the schemas with its type, requiredness, default and range;
every documented restriction is enforced; every documented example validates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.model import TASK_TYPES
from reconciler.schema import gen as schemagen
from reconciler.schema import validate_document
from reconciler.secrets import REFERENCE
from reconciler.services.openai_fields import (
    DOC_ID_MAX_BYTES,
    DOC_ID_PREFIX,
    FIELDS,
    INFERENCE_ID_MAX_LENGTH,
    JAVA_MAX,
    NO_DEFAULT,
    STRATEGIES,
    Field,
)
from tests.unit import seeddocs
from tests.unit.seeddocs import DocField

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
DOC_TYPES = {"string": "string", "integer": "integer", "object": "object"}


def task_schema(task_type: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / schemagen.task_file(task_type)).read_text(encoding="utf-8"))


def lookup(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = schema
    for name in path:
        node = node.get("properties", {}).get(name)
        if node is None:
            return None
    return dict(node)


def parent_required(schema: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    parent = schema if len(path) == 1 else lookup(schema, path[:-1])
    assert parent is not None
    return list(parent.get("required", []))


def branch(strategy: str) -> dict[str, Any]:
    chunking = lookup(task_schema("text_embedding"), ("chunking_settings",))
    assert chunking is not None
    for rule in chunking["allOf"]:
        if rule.get("then", {}).get("x-strategy") == strategy:
            return dict(rule["then"])
    raise AssertionError(f"no branch for strategy {strategy}")


def table_row(path: tuple[str, ...]) -> Field:
    return next(f for f in FIELDS if f.path == ".".join(path))


def doc_fields() -> list[tuple[str, DocField]]:
    return [(p.name, f) for p in seeddocs.seed_files() for f in seeddocs.parse(p)]


def field_id(item: tuple[str, DocField]) -> str:
    return f"{item[0][:3]}:{'.'.join(item[1].path)}:{','.join(sorted(item[1].task_types))}"


DOC_FIELDS = doc_fields()


# --- the generator --------------------------------------------------------------------------


def test_committed_schemas_equal_generator_output() -> None:
    assert schemagen.main(["--check", "--out", str(SCHEMAS)]) == 0
    for name, text in schemagen.generate().items():
        assert (SCHEMAS / name).read_text(encoding="utf-8") == text, name


def test_check_reports_stale_and_write_fixes(tmp_path: Path) -> None:
    assert schemagen.main(["--check", "--out", str(tmp_path)]) == 1
    assert schemagen.main(["--out", str(tmp_path)]) == 0
    assert schemagen.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "manifest.schema.json").write_text("{}\n")
    assert schemagen.main(["--check", "--out", str(tmp_path)]) == 1


def test_generation_is_deterministic() -> None:
    assert schemagen.generate() == schemagen.generate()


def test_package_symlink_points_at_the_schemas() -> None:
    link = REPO / "reconciler" / "schemas"
    assert link.resolve() == SCHEMAS.resolve()
    assert schemagen.default_out().resolve() == SCHEMAS.resolve()


@pytest.mark.parametrize("name", sorted(schemagen.generate()))
def test_schemas_are_valid_draft_2020_12_with_ids(name: str) -> None:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith(schemagen.ID_PREFIX)


def test_ids_are_distinct() -> None:
    ids = [json.loads(text)["$id"] for text in schemagen.generate().values()]
    assert len(set(ids)) == len(ids)


def test_envelope_dispatches_to_every_task_type() -> None:
    # on `service` first, then on `task_type` (the other services: tests/unit/test_services.py)
    envelope = json.loads((SCHEMAS / schemagen.MANIFEST_FILE).read_text(encoding="utf-8"))
    (openai,) = [
        rule["then"]["allOf"]
        for rule in envelope["allOf"]
        if rule["if"]["properties"]["service"]["const"] == "openai"
    ]
    assert openai[0] == {"properties": {"task_type": {"enum": list(TASK_TYPES)}}}
    targets = {
        rule["if"]["properties"]["task_type"]["const"]: rule["then"]["$ref"] for rule in openai[1:]
    }
    assert targets == {t: f"#/$defs/openai.{t}" for t in TASK_TYPES}
    for task_type in TASK_TYPES:
        embedded = envelope["$defs"][f"openai.{task_type}"]
        expected = {k: v for k, v in task_schema(task_type).items() if k not in ("$schema", "$id")}
        assert embedded == expected


def test_api_key_pattern_is_the_secrets_reference() -> None:
    for task_type in TASK_TYPES:
        node = lookup(task_schema(task_type), ("service_settings", "api_key"))
        assert node is not None
        assert node["pattern"] == REFERENCE.pattern
        assert node["writeOnly"] is True


def test_every_closed_object_rejects_unknown_keys() -> None:
    def walk(node: dict[str, Any], where: str) -> None:
        if node.get("type") == "object":
            assert "additionalProperties" in node, where
        for name, sub in node.get("properties", {}).items():
            if isinstance(sub, dict):
                walk(sub, f"{where}.{name}")

    for task_type in TASK_TYPES:
        walk(task_schema(task_type), task_type)


def nodes(node: Any, where: str = "$") -> list[tuple[str, dict[str, Any]]]:
    """Every subschema with where it is, through properties, items, additionalProperties,
    propertyNames and the chunking branches."""
    found = [(where, node)] if isinstance(node, dict) else []
    if not isinstance(node, dict):
        return found
    for name, sub in node.get("properties", {}).items():
        found += nodes(sub, f"{where}.{name}")
    for key in ("items", "additionalProperties", "propertyNames"):
        found += nodes(node.get(key), f"{where}<{key}>")
    for index, rule in enumerate(node.get("allOf", [])):
        found += nodes(rule.get("then"), f"{where}<allOf {index}>")
    return found


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_every_integer_is_bounded_by_its_java_type(task_type: str) -> None:
    integers = [(w, n) for w, n in nodes(task_schema(task_type)) if n.get("type") == "integer"]
    assert integers
    for where, node in integers:
        assert node["x-java-type"] in JAVA_MAX, where
        assert node["maximum"] <= JAVA_MAX[node["x-java-type"]], where


def test_java_types_are_the_upstream_ones() -> None:
    java = {f.path: f.java for f in FIELDS if f.type == "integer"}
    assert java == {
        "service_settings.dimensions": "int",
        "service_settings.max_input_tokens": "int",
        "service_settings.rate_limit.requests_per_minute": "long",
        "chunking_settings.max_chunk_size": "int",
        "chunking_settings.overlap": "int",
        "chunking_settings.sentence_overlap": "int",
    }
    assert JAVA_MAX == {"int": 2**31 - 1, "long": 2**63 - 1}


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_every_free_string_has_a_maximum_length(task_type: str) -> None:
    strings = [(w, n) for w, n in nodes(task_schema(task_type)) if n.get("type") == "string"]
    assert len(strings) >= 8
    for where, node in strings:
        assert "maxLength" in node or "enum" in node, where


def test_the_inference_id_limit_is_the_document_id_limit() -> None:
    assert DOC_ID_PREFIX == "model_" and DOC_ID_MAX_BYTES == 512
    assert INFERENCE_ID_MAX_LENGTH == 506
    for task_type in TASK_TYPES:
        node = lookup(task_schema(task_type), ("inference_id",))
        assert node is not None and node["maxLength"] == INFERENCE_ID_MAX_LENGTH
        assert "DocWriteRequest.java" in node["x-source"] and "Model.java" in node["x-source"]
        assert "No length limit" not in node["description"]


@pytest.mark.parametrize("row", [f for f in FIELDS if f.java], ids=lambda f: f.path)
def test_bounded_integers_cite_the_upstream_class(row: Field) -> None:
    assert "elastic/elasticsearch x-pack/plugin/inference/" in row.source
    assert "ServiceUtils.java" in row.source or "ChunkingSettings.java" in row.source


# --- the table ------------------------------------------------------------------------------

DOCUMENTED = {".".join(f.path) for _, f in DOC_FIELDS}


@pytest.mark.parametrize("row", FIELDS, ids=lambda f: f.path)
def test_every_row_cites_a_source(row: Field) -> None:
    assert row.source.strip()
    node = lookup(task_schema(row.task_types[0]), tuple(row.path.split(".")))
    assert node is not None and node["x-source"] == row.source


@pytest.mark.parametrize("row", FIELDS, ids=lambda f: f.path)
def test_fields_beyond_the_seeds_carry_x_since(row: Field) -> None:
    reconciler_only = row.path.split(".")[0] == "reconcile"
    if row.path in DOCUMENTED or reconciler_only:
        return
    assert row.since, f"{row.path} is not in the seed documents, so it needs x-since"
    node = lookup(task_schema(row.task_types[0]), tuple(row.path.split(".")))
    assert node is not None and node["x-since"] == row.since


@pytest.mark.parametrize(
    ("path", "since"),
    [
        ("service_settings.similarity", "8.12"),
        ("service_settings.max_input_tokens", "8.12"),
        ("task_settings.headers", "9.2"),
        ("chunking_settings.separators", "9.1"),
        ("chunking_settings.separator_group", "9.1"),
    ],
)
def test_known_versions(path: str, since: str) -> None:
    assert table_row(tuple(path.split("."))).since == since


@pytest.mark.parametrize(("strategy", "since"), [("none", "9.1"), ("recursive", "9.1")])
def test_newer_strategies_carry_x_since(strategy: str, since: str) -> None:
    assert branch(strategy)["x-since"] == since


def test_task_restrictions_cite_the_upstream_class() -> None:
    # chunking_settings: OpenAiService reads it for text_embedding only; dimensions and
    # similarity: only OpenAiEmbeddingsServiceSettings reads them
    for row in FIELDS:
        if row.task_types != TASK_TYPES and row.parent in ("", "service_settings"):
            assert "elastic/elasticsearch" in row.source, row.path
            assert (
                "OpenAiService.java" in row.source
                or "OpenAiEmbeddingsServiceSettings.java" in row.source
            ), row.path


def test_no_citation_points_outside_the_repository() -> None:
    # x-source ships in the wheel: it names public pages and upstream source files only
    outside = re.compile(r"§\s*\d|seeds/|\breference/[\w-]+\.md|DESIGN\.md|\.\./shared")
    for name, text in schemagen.generate().items():
        assert not outside.search(text), name


# --- derivation from the seed documents -----------------------------------------------------


def present_in(f: DocField) -> list[str]:
    wanted = f.task_types or set(TASK_TYPES)
    return [t for t in TASK_TYPES if t in wanted and lookup(task_schema(t), f.path) is not None]


@pytest.mark.parametrize("item", DOC_FIELDS, ids=field_id)
def test_documented_field_is_in_the_schema(item: tuple[str, DocField]) -> None:
    _, f = item
    tasks = present_in(f)
    assert tasks, f"{'.'.join(f.path)} is documented but in no schema"
    for task_type in set(f.task_types or TASK_TYPES) - set(tasks):
        row = table_row(f.path)
        assert task_type not in row.task_types and "elastic/elasticsearch" in row.source


@pytest.mark.parametrize("item", DOC_FIELDS, ids=field_id)
def test_documented_type(item: tuple[str, DocField]) -> None:
    _, f = item
    for task_type in present_in(f):
        node = lookup(task_schema(task_type), f.path)
        assert node is not None
        if "const" in node:
            assert isinstance(node["const"], str) and f.type == "string"
        else:
            assert node["type"] == DOC_TYPES[f.type], (task_type, f.path)


@pytest.mark.parametrize("item", DOC_FIELDS, ids=field_id)
def test_documented_requiredness(item: tuple[str, DocField]) -> None:
    _, f = item
    for task_type in present_in(f):
        required = parent_required(task_schema(task_type), f.path)
        assert (f.path[-1] in required) == f.required, (task_type, f.path)


@pytest.mark.parametrize("item", DOC_FIELDS, ids=field_id)
def test_documented_defaults(item: tuple[str, DocField]) -> None:
    _, f = item
    facts = seeddocs.facts(f)
    nodes = {t: lookup(task_schema(t), f.path) or {} for t in present_in(f)}
    if facts.default is not None:
        assert facts.default in [n.get("default") for n in nodes.values()], f.path
    if facts.task_defaults and f.type != "object":
        for task_type, value in facts.task_defaults.items():
            assert nodes[task_type]["default"] == value, (task_type, f.path)


@pytest.mark.parametrize("item", DOC_FIELDS, ids=field_id)
def test_documented_ranges_and_restrictions(item: tuple[str, DocField]) -> None:
    _, f = item
    facts = seeddocs.facts(f)
    name = f.path[-1]
    for strategy, minimum in facts.strategy_minimums.items():
        limits = branch(strategy)["properties"][name]
        assert limits["minimum"] == minimum
        if facts.maximum is not None:
            assert limits["maximum"] == facts.maximum
    if facts.only_for_strategy:
        documented = ("sentence", "word")
        for strategy in documented:
            assert (name in branch(strategy)["properties"]) == (strategy == facts.only_for_strategy)
    if facts.either and f.type == "integer":
        owner = facts.only_for_strategy
        assert owner is not None
        assert sorted(branch(owner)["properties"][name]["enum"]) == sorted(
            int(v) for v in facts.either
        )
    if facts.either and f.type == "string":
        node = lookup(task_schema("text_embedding"), f.path)
        assert node is not None and set(facts.either) <= set(node["enum"])


@pytest.mark.parametrize("item", DOC_FIELDS, ids=field_id)
def test_documented_constants_and_lists(item: tuple[str, DocField]) -> None:
    _, f = item
    facts = seeddocs.facts(f)
    if facts.const:
        for task_type in TASK_TYPES:
            node = lookup(task_schema(task_type), f.path)
            assert node is not None and node["const"] == facts.const
    if facts.listed and f.path == ("task_type",):
        assert set(facts.listed) <= set(TASK_TYPES)
        for task_type in facts.listed:
            node = lookup(task_schema(task_type), f.path)
            assert node is not None and node["const"] == task_type


def test_half_of_max_chunk_size_is_enforced() -> None:
    documented = [f for _, f in DOC_FIELDS if seeddocs.facts(f).at_most_half_of]
    assert [f.path for f in documented] == [("chunking_settings", "overlap")]
    for size in (10, 11, 100, 101, 300):
        chunking = {"strategy": "word", "max_chunk_size": size}
        ok = embedding_doc(chunking_settings={**chunking, "overlap": size // 2})
        bad = embedding_doc(chunking_settings={**chunking, "overlap": size // 2 + 1})
        assert validate_document(ok) == []
        assert [i.rule for i in validate_document(bad)] == ["rule.overlap-max"]


def test_server_requires_what_the_seed_calls_optional() -> None:
    # Documented deviation: the seed lists max_chunk_size/overlap as optional with defaults,
    # but Elasticsearch requires them once a strategy is chosen (each strategy's fromMap).
    assert branch("sentence")["required"] == ["max_chunk_size"]
    assert branch("word")["required"] == ["max_chunk_size", "overlap"]
    assert branch("recursive")["required"] == ["max_chunk_size"]
    assert "required" not in branch("none")
    for s in STRATEGIES:
        if s.keys:
            assert "ChunkingSettings.java (fromMap)" in s.source


def test_every_seed_field_was_parsed() -> None:
    # Guards the parser itself: a seed reformat that loses fields must fail loudly.
    paths = {".".join(f.path) for _, f in DOC_FIELDS}
    assert paths >= {
        "inference_id",
        "task_type",
        "service",
        "service_settings",
        "service_settings.api_key",
        "service_settings.model_id",
        "service_settings.dimensions",
        "service_settings.organization_id",
        "service_settings.url",
        "service_settings.rate_limit",
        "service_settings.rate_limit.requests_per_minute",
        "task_settings",
        "task_settings.user",
        "chunking_settings",
        "chunking_settings.max_chunk_size",
        "chunking_settings.overlap",
        "chunking_settings.sentence_overlap",
        "chunking_settings.strategy",
    }
    assert len(seeddocs.seed_files()) == 2


# --- the documented examples ----------------------------------------------------------------


def embedding_doc(**extra: Any) -> dict[str, Any]:
    return {
        "inference_id": "openai-embeddings",
        "task_type": "text_embedding",
        "service": "openai",
        "service_settings": {"api_key": "${OPENAI_API_KEY}", "model_id": "text-embedding-3-small"},
        **extra,
    }


EXAMPLES = [(p.name, e) for p in seeddocs.seed_files() for e in seeddocs.examples(p)]


def as_manifest(example: seeddocs.Example, api_key: str) -> dict[str, Any]:
    body = json.loads(json.dumps(example.body))
    body["service_settings"]["api_key"] = api_key
    return {"inference_id": example.inference_id, "task_type": example.task_type, **body}


def test_examples_were_found() -> None:
    assert len(EXAMPLES) >= 7
    assert {e.form for _, e in EXAMPLES} == {"console", "python", "javascript"}


@pytest.mark.parametrize(("seed", "example"), EXAMPLES, ids=lambda v: getattr(v, "form", v))
def test_documented_example_validates(seed: str, example: seeddocs.Example) -> None:
    assert validate_document(as_manifest(example, "${OPENAI_API_KEY}")) == []


@pytest.mark.parametrize(("seed", "example"), EXAMPLES, ids=lambda v: getattr(v, "form", v))
def test_documented_example_with_its_literal_key_is_rejected(
    seed: str, example: seeddocs.Example
) -> None:
    issues = validate_document(as_manifest(example, example.body["service_settings"]["api_key"]))  # type: ignore[index]
    assert [(i.path, i.rule) for i in issues] == [
        (("service_settings", "api_key"), "secret.literal-api-key")
    ]


def test_examples_agree_across_forms() -> None:
    by_id: dict[str, list[dict[str, object]]] = {}
    for _, e in EXAMPLES:
        by_id.setdefault(e.inference_id, []).append(e.body)
    for bodies in by_id.values():
        assert all(b == bodies[0] for b in bodies)


def test_no_default_sentinel_never_reaches_a_schema() -> None:
    assert repr(NO_DEFAULT) not in "".join(schemagen.generate().values())
