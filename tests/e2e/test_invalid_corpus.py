"""The invalid-manifest corpus: each case is one rule or bad-input class.

Each folder under tests/cases/invalid/ holds the input and `expected.json` (line, JSON path and
a fragment of the message). `reconcile validate` must exit 1 and name file, line and path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import run
from tests.cases.make_corpus import LITERAL_CASES

CORPUS = Path(__file__).parent.parent / "cases" / "invalid"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def test_the_corpus_has_at_least_thirty_distinct_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_invalid_manifest_is_rejected_with_a_located_message(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = CORPUS / case
    expected = json.loads((folder / "expected.json").read_text())
    code = run(["validate", "--format", "json", str(folder)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["valid"] is False
    file = str(folder / expected.get("file", "manifest.yaml"))
    matching = [
        d
        for d in report["diagnostics"]
        if d["file"] == file and d["line"] == expected["line"] and d["path"] == expected["path"]
    ]
    assert matching, f"no diagnostic at {file}:{expected['line']} {expected['path']}: {report}"
    assert any(expected["contains"] in d["message"] for d in matching), matching


@pytest.mark.parametrize("case", CASES)
def test_text_output_names_file_line_and_path(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = CORPUS / case
    expected = json.loads((folder / "expected.json").read_text())
    assert run(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    file = str(folder / expected.get("file", "manifest.yaml"))
    assert f"{file}:{expected['line']}:" in out
    if expected["path"] != "$":
        assert expected["path"] in out
    assert "FAILED" in out.splitlines()[-1]


FULL_SERVICES = (
    "openai",
    "elasticsearch",
    "elser",
    "elastic",
    "azureopenai",
    "cohere",
    "amazonbedrock",
    "googlevertexai",
)


@pytest.mark.parametrize("case", sorted(LITERAL_CASES))
def test_a_literal_secret_is_reported_without_being_echoed(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = CORPUS / case
    assert LITERAL_CASES[case] in (folder / "manifest.yaml").read_text()
    for output_format in ("text", "json", "github"):
        assert run(["validate", "--format", output_format, str(folder)]) == 1
        out = capsys.readouterr()
        assert LITERAL_CASES[case] not in out.out + out.err


@pytest.mark.parametrize("service", FULL_SERVICES)
def test_every_fully_supported_service_has_three_cases(service: str) -> None:
    # a missing required field, a wrong type, and a literal secret (or, for the services
    # without a secret, a rule of their own); openai's are 01-02 and 05
    names = [c for c in CASES if f"-{service}-" in f"-{c.split('-', 1)[1]}"]
    if service == "openai":
        names = ["01-literal-api-key", "02-missing-api-key", "05-dimensions-not-integer"]
    elif service == "elasticsearch":
        names = [c for c in names if "-elasticsearch-" in f"-{c.split('-', 1)[1]}"]
    assert len(names) >= 3, names


def test_github_format_emits_one_annotation_per_problem(capsys: pytest.CaptureFixture[str]) -> None:
    folder = CORPUS / "17-word-overlap-over-half"
    assert run(["validate", "--format", "github", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(annotations) == 1
    assert f"file={folder / 'manifest.yaml'},line=10,col=" in annotations[0]
    assert "$.chunking_settings.overlap" in annotations[0]


def test_every_problem_in_a_set_is_reported_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    folders = [str(CORPUS / name) for name in ("04-dimensions-zero", "32-duplicate-yaml-key")]
    assert run(["validate", "--format", "json", *folders]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {d["path"] for d in report["diagnostics"]} >= {
        "$.service_settings.dimensions",
        "$.service_settings.model_id",
    }


@pytest.mark.parametrize(
    "case",
    [
        "54-integer-too-long-to-read",
        "56-inference-id-1mib",
        "59-user-1mib",
        "60-header-value-too-long",
    ],
)
def test_huge_values_are_located_without_being_echoed(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = CORPUS / case
    assert (folder / "manifest.yaml").stat().st_size > 4096
    assert run(["validate", str(folder)]) == 1
    out = capsys.readouterr()
    assert out.err == ""
    assert len(out.out) < 1000, out.out[:2000]


def test_every_bounded_field_has_a_one_past_the_limit_case() -> None:
    paths = {json.loads((CORPUS / c / "expected.json").read_text())["path"] for c in CASES}
    assert paths >= {
        "$.inference_id",
        "$.service_settings.dimensions",
        "$.service_settings.max_input_tokens",
        "$.service_settings.rate_limit.requests_per_minute",
        "$.service_settings.model_id",
        "$.service_settings.url",
        "$.task_settings.user",
        "$.task_settings.headers.X-Team",
        "$.chunking_settings.max_chunk_size",
        "$.chunking_settings.overlap",
        "$.chunking_settings.sentence_overlap",
        "$.reconcile.smoke.input",
    }
