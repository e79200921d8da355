"""One YAML for the CLI and the editor: the CLI reads manifests as YAML 1.2 (core schema), as
yaml-language-server and check-jsonschema do, so its verdict on a manifest is the verdict of a
JSON Schema validator (`jsonschema`) on the shipped schema (`schemas/manifest.schema.json`),
the document read by an independent YAML 1.2 parser (ruamel.yaml, which check-jsonschema uses).

Where the two may differ is listed here and in the README:
* CLI-only rules (JSON Schema cannot say them): `rule.overlap-max`; integers are strict
  (`128.0` and `1e2` are numbers, not integers, to the CLI; JSON Schema calls them integers);
* ruamel.yaml reads `1_024` and `0b101` as integers, which the YAML 1.2 core schema (and
  yaml-language-server) reads as strings; the CLI follows the core schema.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.cli import run

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())

BASE = """\
inference_id: emb
task_type: text_embedding
service: openai
service_settings:
  api_key: ${OPENAI_API_KEY}
  model_id: MODEL
  dimensions: DIMENSIONS
task_settings:
  user: USER
chunking_settings:
  strategy: word
  max_chunk_size: SIZE
  overlap: 40
reconcile:
  protect: PROTECT
"""
DEFAULTS = {
    "MODEL": "text-embedding-3-small",
    "DIMENSIONS": "128",
    "USER": "search",
    "SIZE": "120",
    "PROTECT": "false",
}

CASES = {
    # YAML 1.1 booleans are strings in YAML 1.2
    "protect-yes": {"PROTECT": "yes"},
    "protect-on": {"PROTECT": "on"},
    "protect-true": {"PROTECT": "true"},
    "protect-True": {"PROTECT": "True"},
    "model-no": {"MODEL": "no"},
    "model-off": {"MODEL": "off"},
    "user-y": {"USER": "y"},
    "user-on": {"USER": "on"},
    # numbers
    "dimensions-octal": {"DIMENSIONS": "0o17"},
    "dimensions-hex": {"DIMENSIONS": "0x40"},
    "dimensions-leading-zero": {"DIMENSIONS": "0128"},
    "dimensions-inf": {"DIMENSIONS": ".inf"},
    "dimensions-nan": {"DIMENSIONS": ".nan"},
    "dimensions-negative": {"DIMENSIONS": "-5"},
    "dimensions-null": {"DIMENSIONS": "~"},
    "dimensions-quoted": {"DIMENSIONS": "'128'"},
    "size-hex": {"SIZE": "0x50"},
    "model-date": {"MODEL": "2026-12-04"},
    "model-sexagesimal": {"MODEL": "1:30"},
    # where the CLI and the JSON Schema validator differ, documented
    "dimensions-float": {"DIMENSIONS": "128.0"},
    "size-exponent": {"SIZE": "1e2"},
    "size-overlap-too-big": {"SIZE": "60"},
    # where ruamel.yaml differs from the YAML 1.2 core schema, documented
    "dimensions-underscore": {"DIMENSIONS": "1_024"},
    "dimensions-binary": {"DIMENSIONS": "0b1000"},
}
CLI_ONLY = {"dimensions-float": False, "size-exponent": False, "size-overlap-too-big": False}
"""The CLI's verdict where a rule only the CLI enforces decides (documented in the README)."""
PARSER_DIFFERS = {"dimensions-underscore": False, "dimensions-binary": False}
"""The CLI's verdict (a string where an integer is expected) where ruamel.yaml reads an int."""


def manifest(case: str) -> str:
    text = BASE
    for name, value in {**DEFAULTS, **CASES[case]}.items():
        text = text.replace(name, value)
    return text


def schema_verdict(text: str) -> bool:
    data = YAML(typ="safe", pure=True).load(io.StringIO(text))
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return not list(validator.iter_errors(json.loads(json.dumps(data, default=str))))


def cli_verdict(path: Path, capsys: pytest.CaptureFixture[str]) -> bool:
    code = run(["validate", str(path)])
    capsys.readouterr()
    assert code in (0, 1)
    return code == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cli_and_a_json_schema_validator_agree(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(manifest(case))
    cli = cli_verdict(path, capsys)
    if case in CLI_ONLY:
        assert schema_verdict(manifest(case)) is True
        assert cli is CLI_ONLY[case]
    elif case in PARSER_DIFFERS:
        assert schema_verdict(manifest(case)) is True
        assert cli is PARSER_DIFFERS[case]
    else:
        assert cli is schema_verdict(manifest(case))


def test_the_corpus_has_both_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = set()
    for case in CASES:
        path = tmp_path / f"{case}.yaml"
        path.write_text(manifest(case))
        verdicts.add(cli_verdict(path, capsys))
    assert verdicts == {True, False}


def test_yaml_1_1_booleans_are_strings_to_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(manifest("protect-yes"))
    assert run(["validate", "--format", "json", str(path)]) == 1
    (problem,) = json.loads(capsys.readouterr().out)["diagnostics"]
    assert problem["path"] == "$.reconcile.protect"
    assert "boolean" in problem["message"] or "true or false" in problem["message"]
