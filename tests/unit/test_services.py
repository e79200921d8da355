"""Every inference service: the registry, the overlay, the generated schemas and validation.

The registry is checked against the spec fact table (task types and their first branch), the
overlay against the table (every corrected path exists), the schemas against the registry
(one per service and task type, dispatched by the envelope, secrets declared, every field
citing its source, objects closed, integers bounded), and validation against the schemas (the
fast path and the envelope agree with jsonschema on every example and invalid case).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import schema
from reconciler.checks import check_document
from reconciler.errors import UsageError
from reconciler.manifest import desired_endpoint, parse
from reconciler.model import TASK_TYPES, Severity
from reconciler.schema import gen as schemagen
from reconciler.schema import manifest_schema, schema_for, service_schema, validate_document
from reconciler.secrets import REFERENCE
from reconciler.services import build, overlay, registry
from reconciler.services.openai_fields import JAVA_MAX
from reconciler.services.registry import Source, Tier
from reconciler.sources import SourceFile
from tests.conftest import CANARY_KEY

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
SERVICE_EXAMPLES = REPO / "examples" / "services"
SPEC_EXAMPLES = REPO / "tests" / "data" / "spec_examples"
FULL = {
    "openai",
    "elasticsearch",
    "elser",
    "elastic",
    "azureopenai",
    "cohere",
    "amazonbedrock",
    "googlevertexai",
}
PAIRS = schemagen.pairs()
FACTS = build.facts()


def load(service: str, task_type: str) -> dict[str, Any]:
    name = f"{registry.schema_name(service, task_type)}.schema.json"
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


# --- the registry ---------------------------------------------------------------------------


def test_every_spec_service_and_elastic_is_registered() -> None:
    assert set(registry.NAMES) == set(FACTS["services"]) | {"elastic"}
    assert len(registry.NAMES) == 27


def test_tiers() -> None:
    assert {s.name for s in registry.by_tier(Tier.FULL)} == FULL
    assert {s.name for s in registry.by_tier(Tier.GENERIC)} == set(registry.NAMES) - FULL
    for service in registry.by_tier(Tier.GENERIC):
        assert service.updates == registry.REPLACE
    assert set(registry.MANAGED) == FULL


@pytest.mark.parametrize("service", [s for s in registry.NAMES if s not in ("openai", "elastic")])
def test_task_types_and_first_branch_are_the_spec_s(service: str) -> None:
    assert dict(registry.SERVICES[service].task_types) == build.spec_task_types(service)


@pytest.mark.parametrize("service", [s for s in registry.NAMES if s not in ("openai", "elastic")])
def test_first_release_is_the_spec_s_availability(service: str) -> None:
    stack_since = FACTS["services"][service]["stack_since"]
    assert registry.SERVICES[service].since == stack_since.rsplit(".", 1)[0]


def test_openai_keeps_its_task_types_and_releases() -> None:
    # the spec also lists `embedding` for openai (main); the openai schema stays the table's
    openai = registry.SERVICES["openai"]
    assert tuple(openai.task_types) == TASK_TYPES
    assert dict(openai.task_types) == {
        "text_embedding": "8.12",
        "completion": "8.14",
        "chat_completion": "8.18",
    }
    assert openai.source is Source.TABLE
    assert "embedding" in build.spec_task_types("openai")


def test_elser_is_a_deprecated_alias_of_elasticsearch() -> None:
    elser = registry.SERVICES["elser"]
    assert elser.replaced_by == "elasticsearch"
    assert elser.deprecation and "elasticsearch" in elser.deprecation


SECRETS = {
    "amazonbedrock": {"service_settings.access_key", "service_settings.secret_key"},
    "amazon_sagemaker": {"service_settings.access_key", "service_settings.secret_key"},
    "googlevertexai": {"service_settings.service_account_json"},
    "azureopenai": {
        "service_settings.api_key",
        "service_settings.entra_id",
        "service_settings.client_secret",
    },
    "custom": {"service_settings.secret_parameters"},
    "openai": {"service_settings.api_key"},
    "elasticsearch": set(),
    "elser": set(),
    "elastic": set(),
}


@pytest.mark.parametrize("service", registry.NAMES)
def test_secret_paths(service: str) -> None:
    declared = {p.path for p in registry.SERVICES[service].secrets}
    assert declared == SECRETS.get(service, {"service_settings.api_key"})
    kinds = {p.path: p.kind for p in registry.SERVICES[service].secrets}
    assert all(k == ("map" if service == "custom" else "string") for k in kinds.values())


# --- the overlay ----------------------------------------------------------------------------


def spec_paths(service: str) -> set[str]:
    if service == "elastic":  # written by hand from its docs (no request type in the spec)
        return {f"service_settings.{name}" for name in overlay.ELASTIC.service_settings}
    entry = FACTS["services"][service]
    found = set()
    for part in ("service_settings", "task_settings"):
        for name, row in (entry[part] or {"fields": {}})["fields"].items():
            found.add(f"{part}.{name}")
            kind = row["type"]
            if isinstance(kind, dict) and kind.get("kind") == "object":
                for sub in FACTS["classes"][kind["class"]]["fields"]:
                    found.add(f"{part}.{name}.{sub}")
    return found


@pytest.mark.parametrize("patch", overlay.PATCHES, ids=lambda p: f"{p.service}:{p.path}")
def test_every_patch_names_a_real_field_and_cites_evidence(patch: overlay.Patch) -> None:
    assert patch.why and patch.evidence
    assert patch.service in registry.NAMES
    if not patch.add:
        assert patch.path in spec_paths(patch.service), "the spec has no such field"
    else:
        assert patch.path not in spec_paths(patch.service), "the spec has it now: drop `add`"


@pytest.mark.parametrize("row", overlay.SECRETS, ids=lambda r: f"{r.service}:{r.path}")
def test_every_secret_row_cites_evidence(row: overlay.Secret) -> None:
    assert row.evidence and row.service in registry.NAMES


@pytest.mark.parametrize("rule", overlay.RULES, ids=lambda r: f"{r.service}:{r.kind}:{r.paths[0]}")
def test_every_rule_names_paths_of_its_schemas(rule: overlay.Rule) -> None:
    assert rule.evidence and rule.message
    service = registry.SERVICES[rule.service]
    tasks = rule.task_types or service.ordered_task_types
    for task_type in tasks:
        node = load(rule.service, task_type)
        for path in (*rule.paths, *rule.unless):
            assert lookup(node, path) is not None, (task_type, path)
        assert any(r["paths"] == list(rule.paths) for r in node["x-rules"])
    if rule.when:  # may be a field of some task types only (absent: the value None)
        assert any(lookup(load(rule.service, t), rule.when[0]) for t in tasks)


def test_the_spec_errors_are_corrected() -> None:
    def field(service: str, task: str, path: str) -> dict[str, Any]:
        node = lookup(load(service, task), path)
        assert node is not None, path
        return node

    assert field("voyageai", "text_embedding", "service_settings.api_key")["x-secret"]
    assert "api_key" in load("voyageai", "rerank")["properties"]["service_settings"]["required"]
    assert field("azureaistudio", "completion", "task_settings.do_sample")["type"] == "boolean"
    assert "required" not in load("cohere", "text_embedding")["properties"]["task_settings"]
    assert (
        "provider"
        in load("amazonbedrock", "completion")["properties"]["service_settings"]["required"]
    )
    assert field("custom", "text_embedding", "service_settings.request")["type"] == "string"
    assert field("voyageai", "text_embedding", "service_settings.embedding_type")["enum"] == [
        "float",
        "int8",
        "bit",
    ]
    es = load("elasticsearch", "sparse_embedding")["properties"]["service_settings"]
    assert "required" not in es  # model_id and num_threads: x-rules, unless deployment_id


# --- the schemas ----------------------------------------------------------------------------


def lookup(node: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    for name in dotted.split("."):
        node = node.get("properties", {}).get(name)
        if node is None:
            return None
    return node


def nodes(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(node, dict):
        return
    yield where, node
    for name, sub in node.get("properties", {}).items():
        yield from nodes(sub, f"{where}.{name}")
    for key in ("items", "additionalProperties", "propertyNames"):
        yield from nodes(node.get(key), f"{where}<{key}>")
    for index, rule in enumerate(node.get("allOf", [])):
        yield from nodes(rule.get("then"), f"{where}<allOf {index}>")


def test_one_schema_per_service_and_task_type() -> None:
    expected = {f"{registry.schema_name(s, t)}.schema.json" for s, t in PAIRS}
    committed = {p.name for p in SCHEMAS.glob("*.schema.json")} - {"manifest.schema.json"}
    assert committed == expected
    assert len(PAIRS) == sum(len(s.task_types) for s in registry.SERVICES.values()) == 82


def test_the_envelope_dispatches_on_service_then_task_type() -> None:
    envelope = manifest_schema()
    assert envelope["properties"]["service"]["enum"] == list(registry.NAMES)
    by_service = {
        r["if"]["properties"]["service"]["const"]: r["then"]["allOf"] for r in envelope["allOf"]
    }
    assert list(by_service) == list(registry.NAMES)
    for name, rules in by_service.items():
        tasks = registry.SERVICES[name].ordered_task_types
        assert rules[0] == {"properties": {"task_type": {"enum": list(tasks)}}}
        assert [r["then"]["$ref"] for r in rules[1:]] == [f"#/$defs/{name}.{t}" for t in tasks]
    for service, task_type in PAIRS:
        embedded = envelope["$defs"][f"{service}.{task_type}"]
        expected = {
            k: v for k, v in load(service, task_type).items() if k not in ("$schema", "$id")
        }
        assert embedded == expected


@pytest.mark.parametrize(("service", "task_type"), PAIRS)
def test_schema_for_every_pair(service: str, task_type: str) -> None:
    found = schema_for(service, task_type)
    assert found["properties"]["task_type"]["const"] == task_type
    assert found["properties"]["service"]["const"] == service


def test_service_schema_is_the_envelope_of_one_service() -> None:
    one = service_schema("cohere")
    assert set(one["$defs"]) == {"cohere.text_embedding", "cohere.rerank", "cohere.completion"}
    assert one["properties"]["service"] == {"const": "cohere"}
    with pytest.raises(ValueError, match="did you mean `cohere`"):
        service_schema("cohre")
    with pytest.raises(ValueError, match="for service 'cohere'; supported: text_embedding"):
        schema_for("cohere", "sparse_embedding")


SPEC_PAIRS = [(s, t) for s, t in PAIRS if s != "openai"]
OUTSIDE = re.compile(r"§\s*\d|seeds/|\breference/[\w-]+\.md|DESIGN\.md|\.\./shared|/work/")


@pytest.mark.parametrize(("service", "task_type"), SPEC_PAIRS)
def test_every_field_cites_its_source(service: str, task_type: str) -> None:
    root = load(service, task_type)
    commit = build.commit()
    for part in ("service_settings", "task_settings"):
        container = root["properties"].get(part)
        for name, node in (container or {}).get("properties", {}).items():
            source = node["x-source"]
            assert source, (part, name)
            if registry.SERVICES[service].source is Source.SPEC:
                assert f"@{commit} " in source or "overlay" in source, source
    assert not OUTSIDE.search(json.dumps(root)), "a citation points outside the repository"


@pytest.mark.parametrize(("service", "task_type"), SPEC_PAIRS)
def test_objects_closed_integers_bounded_strings_limited(service: str, task_type: str) -> None:
    for where, node in nodes(load(service, task_type)):
        if node.get("type") == "object" and "propertyNames" not in node:
            assert node.get("additionalProperties") is False, where
        if node.get("type") == "integer" and "enum" not in node:
            assert node["maximum"] <= JAVA_MAX[node["x-java-type"]], where
        if node.get("type") == "string":
            assert "maxLength" in node or "enum" in node, where


@pytest.mark.parametrize(("service", "task_type"), PAIRS)
def test_every_secret_is_a_write_only_reference(service: str, task_type: str) -> None:
    root = load(service, task_type)
    for secret in registry.SERVICES[service].secrets:
        node = lookup(root, secret.path)
        if node is None:
            continue  # not a field of this task type
        reference = node["additionalProperties"] if secret.kind == "map" else node
        assert reference["pattern"] == REFERENCE.pattern
        assert reference["writeOnly"] is True
        if service != "openai":
            assert node["x-secret"] is True
            assert root["x-secrets"]


def test_chunking_only_where_the_spec_says() -> None:
    for service, task_type in SPEC_PAIRS:
        has = "chunking_settings" in load(service, task_type)["properties"]
        assert has == (task_type in build.chunking_task_types(registry.SERVICES[service]))
    assert build.chunking_task_types(registry.SERVICES["cohere"]) == ("text_embedding",)
    assert build.chunking_task_types(registry.SERVICES["elser"]) == ("sparse_embedding",)
    assert set(build.chunking_task_types(registry.SERVICES["elasticsearch"])) == {
        "sparse_embedding",
        "text_embedding",
    }


def test_openai_schemas_are_the_table_s_byte_for_byte() -> None:
    for task_type in TASK_TYPES:
        text = (SCHEMAS / f"openai.{task_type}.schema.json").read_text(encoding="utf-8")
        assert text == schemagen.render(schemagen.build_task_schema(task_type))


# --- validation -----------------------------------------------------------------------------


def service_examples() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(SERVICE_EXAMPLES.glob("*.yaml"))]


@pytest.mark.parametrize("doc", service_examples(), ids=lambda d: d["inference_id"])
def test_service_examples_are_valid(doc: dict[str, Any]) -> None:
    assert validate_document(doc) == []


def test_a_service_example_for_every_fully_supported_service() -> None:
    services = {d["service"] for d in service_examples()} | {"openai"}  # openai: examples/
    assert services == FULL - {"elser"}  # elser: deprecated, so no example
    tasks = {(d["service"], d["task_type"]) for d in service_examples()}
    assert ("elasticsearch", "sparse_embedding") in tasks
    assert ("cohere", "rerank") in tasks and ("elasticsearch", "rerank") in tasks
    assert any(s == "amazonbedrock" for s, _ in tasks)


def issues(doc: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    return [(i.path, i.rule) for i in validate_document(doc)]


def cohere(**settings: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "inference_id": "c",
        "task_type": "text_embedding",
        "service": "cohere",
        "service_settings": {"api_key": "${COHERE_API_KEY}", "model_id": "embed-v4.0"},
    }
    doc["service_settings"].update(settings)
    return doc


def test_unknown_service_lists_every_service_and_suggests() -> None:
    (issue,) = validate_document({**cohere(), "service": "coher"})
    assert issue.path == ("service",) and issue.rule == "schema.service"
    assert "supported: " + ", ".join(registry.NAMES) in issue.message
    assert issue.message.endswith("(did you mean `cohere`?)")


def test_a_task_type_the_service_does_not_offer_lists_what_exists() -> None:
    (issue,) = validate_document({**cohere(), "task_type": "sparse_embedding"})
    assert issue.rule == "schema.task-type"
    assert "supported: text_embedding, rerank, completion" in issue.message
    assert "`elasticsearch`" in issue.message  # who does offer it


def test_keys_of_another_task_type_are_named() -> None:
    doc = {**cohere(), "task_type": "rerank", "task_settings": {"truncate": "END"}}
    (issue,) = validate_document(doc)
    assert issue.rule == "schema.task-type-key" and "`text_embedding`" in issue.message


def test_cross_field_rules() -> None:
    azure = {
        "inference_id": "a",
        "task_type": "text_embedding",
        "service": "azureopenai",
        "service_settings": {
            "resource_name": "r",
            "deployment_id": "d",
            "api_version": "2024-10-21",
        },
    }
    assert issues(azure) == [(("service_settings",), "rule.one-of")]
    both = copy.deepcopy(azure)
    both["service_settings"].update(api_key="${A}", entra_id="${B}")
    assert issues(both) == [(("service_settings", "entra_id"), "rule.exclusive")]
    oauth = copy.deepcopy(azure)
    oauth["service_settings"].update(client_secret="${S}", client_id="id")
    (issue,) = validate_document(oauth)
    assert issue.rule == "rule.together" and "`scopes`, `tenant_id`" in issue.message
    es = {
        "inference_id": "e",
        "task_type": "text_embedding",
        "service": "elasticsearch",
        "service_settings": {"deployment_id": "my-deployment"},
    }
    assert issues(es) == []  # deployment_id alone: upstream's Example6
    es["service_settings"]["adaptive_allocations"] = {
        "enabled": True,
        "min_number_of_allocations": 4,
        "max_number_of_allocations": 2,
    }
    assert issues(es) == [
        (("service_settings", "adaptive_allocations", "max_number_of_allocations"), "rule.order")
    ]


def test_enum_by_task_type() -> None:
    bedrock = {
        "inference_id": "b",
        "task_type": "text_embedding",
        "service": "amazonbedrock",
        "service_settings": {
            "access_key": "${A}",
            "secret_key": "${S}",
            "region": "us-east-1",
            "model": "m",
            "provider": "anthropic",
        },
    }
    assert issues(bedrock) == [(("service_settings", "provider"), "schema.enum")]
    assert issues({**bedrock, "task_type": "completion"}) == []


def secret_docs() -> Iterator[tuple[str, str, dict[str, Any], tuple[str, ...]]]:
    """For every secret path of every service: a valid document of it (from the examples or
    upstream's), and the path."""
    bases: dict[str, dict[str, Any]] = {}
    for doc in service_examples():
        bases.setdefault(doc["service"], doc)
    for path in sorted(SPEC_EXAMPLES.glob("*/*.yaml")):
        example = yaml.safe_load(path.read_text())
        match = re.match(r"PUT _inference/([a-z_]+)/(\S+)", example["method_request"])
        body = json.loads(example["value"])
        if match and body["service"] not in bases:
            bases[body["service"]] = {"inference_id": "s", "task_type": match.group(1), **body}
    bases["deepseek"] = {  # upstream has no deepseek example
        "inference_id": "s",
        "task_type": "completion",
        "service": "deepseek",
        "service_settings": {"api_key": "${DEEPSEEK_API_KEY}", "model_id": "deepseek-chat"},
    }
    for service in registry.NAMES:
        for secret in registry.SERVICES[service].secrets:
            yield service, secret.path, bases.get(service, {}), secret.parts


SECRET_CASES = [c for c in secret_docs() if c[2]]


def with_secret(doc: dict[str, Any], parts: tuple[str, ...], value: Any, kind: str) -> Any:
    doc = copy.deepcopy(doc)
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"api_key": value} if kind == "map" else value
    return doc


CANARY_VALUES = [
    CANARY_KEY,
    [CANARY_KEY],
    {"value": CANARY_KEY},
    CANARY_KEY + "\n",
    "${" + CANARY_KEY + "}",
]


@pytest.mark.parametrize(("service", "path", "doc", "parts"), SECRET_CASES, ids=lambda x: str(x))
def test_a_canary_in_a_secret_path_is_never_echoed(
    service: str, path: str, doc: dict[str, Any], parts: tuple[str, ...]
) -> None:
    kind = next(s.kind for s in registry.SERVICES[service].secrets if s.path == path)
    for value in CANARY_VALUES:
        found = validate_document(with_secret(doc, parts, value, kind))
        assert found, (path, value)
        for issue in found:
            text = issue.message + repr(issue) + json.dumps(issue.path)
            assert CANARY_KEY not in text and CANARY_KEY[:12] not in text
    literal = validate_document(with_secret(doc, parts, CANARY_KEY, kind))
    at = (*parts, "api_key") if kind == "map" else parts
    assert any(i.path == at and i.rule.startswith("secret.literal") for i in literal), literal
    assert not [i for i in literal if i.rule.startswith("schema.")], literal


def test_every_secret_path_of_every_service_is_covered() -> None:
    covered = {(s, p) for s, p, _, _ in SECRET_CASES}
    every = {(s, p.path) for s in registry.NAMES for p in registry.SERVICES[s].secrets}
    assert covered == every


# --- elser's warning and the plan/apply guard -------------------------------------------------


def document(text: str) -> Any:
    parsed = parse(SourceFile("m.yaml", text))
    assert not parsed.diagnostics
    return parsed.documents[0]


ELSER = """\
inference_id: my-elser
task_type: sparse_embedding
service: elser
service_settings:
  num_threads: 1
  num_allocations: 1
"""


def test_elser_validates_with_a_warning_naming_elasticsearch() -> None:
    (warning,) = check_document(document(ELSER))
    assert warning.severity is Severity.WARNING
    assert warning.rule == "manifest.deprecated-service"
    assert (warning.line, warning.column, warning.path) == (3, 10, "$.service")
    assert "`elasticsearch`" in warning.message


MISTRAL = """\
inference_id: my-mistral
task_type: text_embedding
service: mistral
service_settings:
  api_key: ${MISTRAL_API_KEY}
  model: mistral-embed
"""


def test_a_generic_tier_service_is_a_located_usage_error_for_plan() -> None:
    with pytest.raises(
        UsageError,
        match=r"^m\.yaml:3:10: service `mistral` is validated but not yet managed by plan/apply",
    ):
        desired_endpoint(document(MISTRAL))


def test_every_full_tier_service_is_managed() -> None:
    assert {s.name for s in registry.by_tier(registry.Tier.FULL)} == set(registry.MANAGED)
    assert desired_endpoint(document(ELSER)).task_type == "sparse_embedding"


# --- the fast path and the envelope agree with jsonschema ----------------------------------


def corpus() -> list[dict[str, Any]]:
    docs = list(service_examples())
    for folder in sorted((REPO / "tests" / "cases" / "invalid").iterdir()):
        manifest = folder / "manifest.yaml"
        if folder.name[:2].isdigit() and int(folder.name[:2]) >= 63 and manifest.is_file():
            docs.append(yaml.safe_load(manifest.read_text()))
    return docs


def envelope_valid(doc: Any) -> bool:
    from jsonschema import validators

    per_task = schema._validator("completion")
    cls = validators.extend(type(per_task))
    return bool(cls(manifest_schema(), format_checker=per_task.format_checker).is_valid(doc))


@pytest.mark.parametrize("doc", corpus(), ids=lambda d: f"{d['service']}:{d['task_type']}")
def test_fast_path_and_envelope_agree_with_jsonschema(doc: dict[str, Any]) -> None:
    service, task_type = doc["service"], doc["task_type"]
    full = not list(schema._validator(task_type, service).iter_errors(doc))
    assert schema._is_valid(task_type, service)(doc) == full
    assert envelope_valid(doc) == full


def test_eis_rate_limit_only_where_eis_rate_limits() -> None:
    # ElasticInferenceServiceSparseEmbeddingsServiceSettings: RateLimitSettings.DISABLED_INSTANCE,
    # and newer code refuses the field; completion and chat keep a 240 default
    text = (
        "inference_id: eis\ntask_type: {task}\nservice: elastic\nservice_settings:\n"
        "  model_id: m\n  rate_limit:\n    requests_per_minute: 10\n"
    )
    (problem,) = check_document(document(text.format(task="sparse_embedding")))
    assert problem.path == "$.service_settings.rate_limit"
    assert check_document(document(text.format(task="chat_completion"))) == []
