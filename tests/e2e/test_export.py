"""`reconcile export` end to end: a sandbox seeded through the raw API, exported, then planned.

The acceptance: export then plan shows only `adopt` lines, and after apply, no changes.
`run_export` is called directly (the CLI command is a thin wrapper, tested once wired).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.connect import Connection
from reconciler.export import ExportCommand, run_export
from tests.e2e.conftest import KEY, Cli

pytestmark = pytest.mark.e2e

SEED: dict[tuple[str, str], dict[str, Any]] = {
    ("text_embedding", "emb-defaults"): {"model_id": "text-embedding-3-small"},
    ("text_embedding", "emb-chunked"): {
        "service_settings": {
            "model_id": "text-embedding-3-small",
            "dimensions": 256,
            "similarity": "cosine",
        },
        "chunking_settings": {"strategy": "word", "max_chunk_size": 120, "overlap": 40},
    },
    ("text_embedding", "emb-markdown"): {
        "service_settings": {"model_id": "text-embedding-3-large", "dimensions": 3072},
        "chunking_settings": {
            "strategy": "recursive",
            "max_chunk_size": 200,
            "separator_group": "markdown",
        },
    },
    ("text_embedding", "emb-sentence"): {
        "service_settings": {"model_id": "text-embedding-3-small", "dimensions": 512},
        "chunking_settings": {"strategy": "sentence", "max_chunk_size": 100},
    },
    ("completion", "comp-user"): {
        "service_settings": {"model_id": "gpt-4o-mini", "rate_limit": {"requests_per_minute": 50}},
        "task_settings": {"user": "search-team"},
    },
    ("chat_completion", "chat"): {
        "service_settings": {
            "model_id": "gpt-4o-mini",
            "url": "https://api.openai.com/v1/chat/completions",
        }
    },
}


def seed(cli: Cli) -> None:
    """Create every SEED endpoint with a raw PUT, as someone without reconciler would."""
    with cli.es() as es:
        for (task_type, inference_id), spec in SEED.items():
            body: dict[str, Any] = (
                dict(spec) if "service_settings" in spec else {"service_settings": spec}
            )
            body["service_settings"] = {**body["service_settings"], "api_key": KEY}
            body["service"] = "openai"
            response = es.put(f"/_inference/{task_type}/{inference_id}", json=body)
            assert response.status_code == 200, response.text


def export(cli: Cli, **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    command = ExportCommand(connection=Connection(), **options)
    with redirect_stdout(out), redirect_stderr(err):
        code = run_export(command, cli.env)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def seeded(cli: Cli) -> Iterator[Cli]:
    seed(cli)
    yield cli


def test_export_then_plan_shows_only_adopt_lines(seeded: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "adopted"
    code, _, err = export(seeded, out=str(folder))
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{i}.yaml" for _, i in SEED)
    assert seeded("validate", str(folder))[0] == 0
    plan = seeded.plan_json(str(folder))
    assert {c["inference_id"]: c["action"] for c in plan["changes"]} == {
        inference_id: "adopt" for _, inference_id in SEED
    }
    code, out, _ = seeded("plan", str(folder))
    actions = [line.split()[1] for line in out.splitlines() if line.startswith("  = ")]
    assert actions == ["adopt"] * len(SEED) and "to create" in out and "6 to adopt" in out
    assert seeded("apply", str(folder))[0] == 0
    assert seeded("plan", str(folder), "--detailed-exitcode")[0] == 0


def test_server_defaults_are_left_out_and_what_the_user_set_is_kept(
    seeded: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "adopted"
    export(seeded, out=str(folder))

    def load(name: str) -> Any:
        return yaml.safe_load((folder / f"{name}.yaml").read_text())

    assert load("emb-defaults")["service_settings"] == {
        "api_key": "${OPENAI_API_KEY}",
        "model_id": "text-embedding-3-small",
    }
    assert "chunking_settings" not in load("emb-defaults")
    chunked = load("emb-chunked")
    assert chunked["service_settings"]["dimensions"] == 256
    assert chunked["service_settings"]["similarity"] == "cosine"
    assert chunked["chunking_settings"] == {
        "strategy": "word",
        "max_chunk_size": 120,
        "overlap": 40,
    }
    assert "dimensions" not in load("emb-markdown")["service_settings"]  # the model's default
    assert load("emb-markdown")["chunking_settings"]["separator_group"] == "markdown"
    assert load("emb-sentence")["chunking_settings"] == {
        "strategy": "sentence",
        "max_chunk_size": 100,
    }
    completion = load("comp-user")
    assert completion["task_settings"] == {"user": "search-team"}
    assert completion["service_settings"]["rate_limit"] == {"requests_per_minute": 50}
    assert load("chat")["service_settings"] == {
        "api_key": "${OPENAI_API_KEY}",
        "model_id": "gpt-4o-mini",
    }
    text = (folder / "chat.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")


def test_without_out_a_multi_document_stream_goes_to_stdout(seeded: Cli, tmp_path: Path) -> None:
    code, out, err = export(seeded, key_var="TEAM_OPENAI_KEY")
    assert code == 0
    documents = list(yaml.safe_load_all(out))
    assert [d["inference_id"] for d in documents] == sorted(i for _, i in SEED)
    assert {d["service_settings"]["api_key"] for d in documents} == {"${TEAM_OPENAI_KEY}"}
    assert "skipped 3 preconfigured endpoint(s)" in err and "--include-preconfigured" in err
    stream = tmp_path / "all.yaml"
    stream.write_text(out)
    seeded.env["TEAM_OPENAI_KEY"] = KEY
    plan = seeded.plan_json(str(stream))
    assert {c["action"] for c in plan["changes"]} == {"adopt"}


def test_preconfigured_endpoints_are_written_commented_out_and_hidden(
    seeded: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "adopted"
    code, _, err = export(seeded, out=str(folder), include_preconfigured=True)
    assert code == 0, err
    hidden = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert hidden == [
        ".elser-2-elasticsearch.yaml",
        ".multilingual-e5-small-elasticsearch.yaml",
        ".rerank-v1-elasticsearch.yaml",
    ]
    text = (folder / ".elser-2-elasticsearch.yaml").read_text()
    assert all(line.startswith("#") for line in text.splitlines())
    assert "reconciler never manages it" in text
    assert seeded("validate", str(folder))[0] == 0  # walking a folder skips hidden files
    _, out, _ = export(seeded, include_preconfigured=True)
    assert "# inference_id: .rerank-v1-elasticsearch" in out
    assert len(list(yaml.safe_load_all(out))) == len(SEED)


def test_exporting_again_leaves_unchanged_files_alone(seeded: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "adopted"
    export(seeded, out=str(folder))
    _, _, err = export(seeded, out=str(folder))
    assert err.count("unchanged ") == len(SEED)


def test_the_key_is_never_exported(seeded: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "adopted"
    outputs = [*export(seeded, out=str(folder))[1:], *export(seeded)[1:]]
    files = [p.read_text() for p in folder.iterdir()]
    assert all(KEY not in text for text in [*outputs, *files])


def test_an_empty_server_exports_nothing_and_says_so(cli: Cli) -> None:
    code, out, err = export(cli)
    assert code == 0
    assert list(yaml.safe_load_all(out)) == []
    assert "no endpoints to export on the server" in err


def test_a_bad_key_variable_name_is_refused(cli: Cli) -> None:
    from reconciler.errors import UsageError

    with pytest.raises(UsageError, match="--key-var"):
        export(cli, key_var="NOT-A-NAME")


def test_the_cli_command_when_wired(seeded: Cli, tmp_path: Path) -> None:
    import typer

    from reconciler.cli import app

    if "export" not in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        pytest.skip("`reconcile export` is not wired into the CLI yet")
    folder = tmp_path / "adopted"
    code, _, err = seeded("export", "--out", str(folder))
    assert code == 0, err
    assert {c["action"] for c in seeded.plan_json(str(folder))["changes"]} == {"adopt"}
