"""`reconcile validate` on every inference service, end to end.

Acceptance: upstream's own request examples (copies in tests/data/spec_examples, from
elastic/elasticsearch-specification at the commit in each file's header) each validate, once
their literal secrets are `${VAR}` references, or fail for a documented reason with the rule
named (`EXPECTED`). Unchanged, they fail only for their literal secrets, and no literal is
printed. A canary secret in every secret path of every service never appears in validate's
output, in any format. The example manifests of the fully supported services validate, and
`plan`/`apply` refuse them, located, before sending anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import run
from reconciler.services import registry
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SPEC_EXAMPLES = REPO / "tests" / "data" / "spec_examples"
SERVICE_EXAMPLES = REPO / "examples" / "services"
FORMATS = ("text", "json", "github")

EXPECTED: dict[str, tuple[set[tuple[str, str]], str]] = {
    "llama/PutLlamaRequestExample3.yaml": (
        {("schema.task-type", "$.task_type")},
        "upstream's example asks for task type `chat-completion` (a hyphen): no service offers it",
    ),
    "openai/PutOpenAiRequestExample3.yaml": (
        {
            ("schema.required", "$.service_settings"),
            ("schema.unknown-key", "$.service_settings.client_id"),
            ("schema.unknown-key", "$.service_settings.client_secret"),
            ("schema.unknown-key", "$.service_settings.scopes"),
            ("schema.unknown-key", "$.service_settings.token_url"),
        },
        "OAuth 2.0 for openai (spec main) is not accepted yet: the openai schema is the "
        "hand-kept table, as strict as before (api_key required)",
    ),
    "voyageai/PutVoyageAIRequestExample1.yaml": (
        {("schema.required", "$.service_settings")},
        "overlay: voyageai needs an api_key the spec leaves out "
        "(VoyageAIService.parseRequestConfig)",
    ),
    "voyageai/PutVoyageAIRequestExample2.yaml": (
        {("schema.required", "$.service_settings")},
        "overlay: voyageai needs an api_key the spec leaves out "
        "(VoyageAIService.parseRequestConfig)",
    ),
}
"""Upstream examples that do not validate once their secrets are references: the issues
expected (rule, JSON path) and why."""


def example_names() -> list[str]:
    return sorted(p.relative_to(SPEC_EXAMPLES).as_posix() for p in SPEC_EXAMPLES.glob("*/*.yaml"))


def manifest_of(name: str) -> dict[str, Any]:
    """The manifest document an upstream example amounts to (path parameters + body); the
    example's number is appended to its inference_id, which several examples share."""
    example = yaml.safe_load((SPEC_EXAMPLES / name).read_text(encoding="utf-8"))
    match = re.fullmatch(r"PUT _inference/([^/\s]+)/(\S+)", example["method_request"].strip())
    assert match, example["method_request"]
    body = json.loads(example["value"])
    number = re.sub(r"\D", "", Path(name).stem)
    unique = f"{match.group(2)}-{body['service']}-{number}"
    return {"inference_id": unique, "task_type": match.group(1), **body}


def variable(service: str, name: str) -> str:
    return "${" + re.sub(r"[^A-Z0-9_]", "_", f"{service}_{name}".upper()) + "}"


def literals(doc: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """(path, value) of every literal at a secret path the document's service declares."""
    found = []
    descriptor = registry.get(doc.get("service"))
    for secret in descriptor.secrets if descriptor else ():
        node: Any = doc
        for part in secret.parts:
            node = node.get(part) if isinstance(node, dict) else None
        if secret.kind == "map" and isinstance(node, dict):
            found += [((*secret.parts, k), v) for k, v in node.items() if isinstance(v, str)]
        elif isinstance(node, str):
            found.append((secret.parts, node))
    return found


def with_references(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for path, _ in literals(doc):
        node = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = variable(doc["service"], path[-1])
    return doc


def write(folder: Path, docs: dict[str, dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        target = folder / name.replace("/", "__")
        target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def validate(
    folder: Path, capsys: pytest.CaptureFixture[str], fmt: str = "json"
) -> tuple[int, str]:
    code = run(["validate", "--format", fmt, str(folder)])
    out = capsys.readouterr()
    return code, out.out + out.err


def by_file(report: dict[str, Any], folder: Path) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for d in report["diagnostics"]:
        if d["severity"] != "error":
            continue  # elser's deprecation warning: tests/unit/test_services.py
        name = Path(d["file"]).relative_to(folder).as_posix().replace("__", "/")
        found.setdefault(name, set()).add((d["rule"], d["path"]))
    return found


def test_there_are_98_upstream_examples_with_their_source() -> None:
    names = example_names()
    assert len(names) == 98
    for name in names:
        head = (SPEC_EXAMPLES / name).read_text(encoding="utf-8").splitlines()[:4]
        assert head[0].startswith("# Copied from elastic/elasticsearch-specification@")
        assert "Apache License, Version 2.0" in head[2]


def test_upstream_examples_validate_or_fail_for_a_documented_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = {name: with_references(manifest_of(name)) for name in example_names()}
    write(tmp_path, docs)
    code, out = validate(tmp_path, capsys)
    report = json.loads(out)
    found = by_file(report, tmp_path)
    assert {name: issues for name, issues in found.items()} == {
        name: issues for name, (issues, _) in EXPECTED.items()
    }, "an upstream example fails for an undocumented reason (or a documented one was fixed)"
    assert all(reason for _, reason in EXPECTED.values())
    assert code == 1 and report["documents"] == 98


def test_upstream_examples_as_published_fail_only_for_their_literal_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = {name: manifest_of(name) for name in example_names()}
    write(tmp_path, docs)
    code, out = validate(tmp_path, capsys)
    found = by_file(json.loads(out), tmp_path)
    for name, doc in docs.items():
        expected = set(EXPECTED.get(name, (set(), ""))[0])
        secret_rules = {
            (
                "secret.literal-api-key"
                if path[-2:] == ("service_settings", "api_key") and len(path) == 2
                else "secret.literal",
                "$." + ".".join(path),
            )
            for path, value in literals(doc)
            if value
        }
        got = found.get(name, set())
        assert got - expected == secret_rules - expected, name
    values = {v for doc in docs.values() for _, v in literals(doc) if len(v) >= 8}
    assert values, "upstream's examples hold literal secrets"
    for fmt in FORMATS:
        code, out = validate(tmp_path, capsys, fmt)
        assert code == 1
        leaked = [v for v in values if v in out]
        assert not leaked, leaked


def canary_docs() -> dict[str, dict[str, Any]]:
    """One document per (service, secret path), valid but for a canary literal there."""
    bases: dict[str, dict[str, Any]] = {}
    for path in sorted(SERVICE_EXAMPLES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        bases.setdefault(doc["service"], doc)
    for name in example_names():
        doc = with_references(manifest_of(name))
        if name not in EXPECTED:
            bases.setdefault(doc["service"], doc)
    voyage = with_references(manifest_of("voyageai/PutVoyageAIRequestExample1.yaml"))
    voyage["service_settings"]["api_key"] = "${VOYAGEAI_API_KEY}"
    bases["voyageai"] = voyage
    bases["deepseek"] = {
        "inference_id": "deepseek-chat",
        "task_type": "completion",
        "service": "deepseek",
        "service_settings": {"api_key": "${DEEPSEEK_API_KEY}", "model_id": "deepseek-chat"},
    }
    docs = {}
    for service in registry.NAMES:
        for secret in registry.SERVICES[service].secrets:
            doc = json.loads(json.dumps(bases[service]))
            node = doc
            for part in secret.parts[:-1]:
                node = node.setdefault(part, {})
            node[secret.parts[-1]] = {"token": CANARY_KEY} if secret.kind == "map" else CANARY_KEY
            docs[f"{service}/{secret.path}.yaml"] = doc
    return docs


def test_a_canary_in_every_secret_path_never_appears_in_any_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = canary_docs()
    expected = {(s, p.path) for s in registry.NAMES for p in registry.SERVICES[s].secrets}
    assert len(docs) == len(expected)
    write(tmp_path, docs)
    code, out = validate(tmp_path, capsys)
    found = by_file(json.loads(out), tmp_path)
    assert set(found) == set(docs), "every canary document is refused"
    for name, issues in found.items():
        assert any(rule.startswith("secret.literal") for rule, _ in issues), (name, issues)
    for fmt in FORMATS:
        code, out = validate(tmp_path, capsys, fmt)
        assert code == 1
        assert CANARY_KEY not in out and CANARY_KEY[:12] not in out


def test_the_example_manifests_of_every_fully_supported_service_validate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = validate(SERVICE_EXAMPLES, capsys, "text")
    assert code == 0, out
    assert out.startswith("OK: 7 manifests in 7 files valid")
    code, out = validate(REPO / "examples", capsys, "text")
    assert code == 0, out


def test_elser_validates_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "elser.yaml").write_text(
        "inference_id: my-elser\ntask_type: sparse_embedding\nservice: elser\n"
        "service_settings:\n  num_threads: 1\n  num_allocations: 1\n"
    )
    code, out = validate(tmp_path, capsys, "text")
    assert code == 0, out
    assert "elser.yaml:3:10: warning: $.service:" in out and "`elasticsearch`" in out
    assert out.splitlines()[-1] == "OK: 1 manifest in 1 file valid, 1 warning"
    code, out = validate(tmp_path, capsys, "json")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out = validate(tmp_path, capsys, "github")
    assert code == 0 and out.startswith("::warning file=")


@pytest.mark.parametrize("command", [["plan"], ["apply", "--yes"]])
def test_plan_and_apply_refuse_an_unmanaged_service_located(
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ES_URL", "http://127.0.0.1:9")  # never contacted
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")
    monkeypatch.setenv("MISTRAL_API_KEY", "unused")
    generic = tmp_path / "mistral.yaml"
    generic.write_text(
        "inference_id: my-mistral\ntask_type: text_embedding\nservice: mistral\n"
        "service_settings:\n  api_key: ${MISTRAL_API_KEY}\n  model: mistral-embed\n"
    )
    code = run([*command, str(generic), str(REPO / "examples")])
    err = capsys.readouterr().err
    assert code == 1
    assert "services validated but not yet managed by plan/apply" in err
    assert f"{generic}:3:10: service `mistral`" in err
    assert "could not reach" not in err and "internal error" not in err
