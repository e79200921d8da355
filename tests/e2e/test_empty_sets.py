"""A manifest set with no document never prunes, and no input hangs.

`validate`, `plan --prune` and `apply --prune --yes` against paths that yield no manifest
document (an empty folder, only hidden files, only other extensions, only comments, only a
FIFO) exit 1 naming the paths and every file skipped, and send nothing: the endpoints applied
before are all still there. `--allow-empty` lets an intended empty set through (and prunes).
One sandbox process serves the module; each test first applies the full set again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import KEY, Cli, completion, embeddings, make_cli, write_manifest
from tests.fixtures.sandbox import start_sandbox_process

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ENDPOINTS = {"emb", "comp", "kept"}
PROTECTED = "reconcile:\n  protect: true\n"


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[str]:
    with start_sandbox_process() as process:
        yield process.url


@pytest.fixture
def cli(shared_sandbox: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return make_cli(shared_sandbox, capsys, tmp_path, OPENAI_API_KEY=KEY)


@pytest.fixture
def applied(cli: Cli, tmp_path: Path) -> Path:
    """Three endpoints applied with state (one `protect: true`), as the full set declares."""
    full = tmp_path / "full"
    write_manifest(full, "emb", embeddings("emb", dimensions=64))
    write_manifest(full, "comp", completion("comp", user="alice"))
    write_manifest(full, "kept", completion("kept") + PROTECTED)
    code, out, err = cli("apply", str(full), "--prune", "--yes")
    assert code == 0, out + err
    assert live(cli) == ENDPOINTS
    return full


def live(cli: Cli) -> set[str]:
    with cli.es() as es:
        endpoints = es.get("/_inference/_all").json()["endpoints"]
    return {e["inference_id"] for e in endpoints if not e["inference_id"].startswith(".")}


# --- the sets: each writes its files and returns what the output must name -----------------


def _empty(folder: Path) -> list[str]:
    return []


def _hidden_only(folder: Path) -> list[str]:
    (folder / ".emb.yaml").write_text(embeddings("emb", dimensions=64))
    (folder / ".drafts").mkdir()
    (folder / ".drafts" / "comp.yaml").write_text(completion("comp", user="alice"))
    return [
        f"{folder / '.drafts'} (hidden folder, not searched)",
        f"{folder / '.emb.yaml'} (hidden)",
    ]


def _json_only(folder: Path) -> list[str]:
    body = {"inference_id": "emb", "task_type": "text_embedding", "service": "openai"}
    (folder / "emb.json").write_text(json.dumps(body))
    (folder / "README.md").write_text("# endpoints\n")
    return [f"{folder / 'README.md'} (not a .yaml/.yml file)", f"{folder / 'emb.json'} (not a"]


def _comments_only(folder: Path) -> list[str]:
    (folder / "all.yaml").write_text("# every endpoint was moved elsewhere\n")
    return [f"{folder / 'all.yaml'}:1:1: error: file holds no manifest"]


def _fifo_only(folder: Path) -> list[str]:
    os.mkfifo(folder / "pipe.yaml")
    return [f"{folder / 'pipe.yaml'} (not a regular file (FIFO))"]


SETS: dict[str, Callable[[Path], list[str]]] = {
    "empty": _empty,
    "hidden-only": _hidden_only,
    "json-only": _json_only,
    "comments-only": _comments_only,
    "fifo-only": _fifo_only,
}
COMMANDS = {
    "validate": ("validate",),
    "plan --prune": ("plan", "--prune"),
    "apply --prune --yes": ("apply", "--prune", "--yes"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", SETS)
def test_a_set_with_no_document_exits_1_names_what_it_skipped_and_deletes_nothing(
    cli: Cli, applied: Path, tmp_path: Path, kind: str, command: str
) -> None:
    folder = tmp_path / kind
    folder.mkdir()
    names = SETS[kind](folder)
    code, out, err = cli(COMMANDS[command][0], str(folder), *COMMANDS[command][1:])
    text = out + err
    assert code == 1, text
    for name in names:
        assert name in text, text
    if kind != "comments-only":  # that file is a located problem of its own
        assert f"no manifest document in {folder} (" in text, text
        assert "[manifest.empty-set]" in text and "--allow-empty" in text
    assert "Plan:" not in text  # nothing was read from the server, nothing planned
    assert live(cli) == ENDPOINTS


def test_allow_empty_lets_an_intended_empty_set_through_and_then_prunes(
    cli: Cli, applied: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "README.md").write_text("no endpoints on purpose\n")
    code, out, _ = cli("validate", str(folder), "--allow-empty")
    assert code == 0, out
    assert f"skipped: {folder / 'README.md'} (not a .yaml/.yml file)" in out
    for output_format in ("text", "markdown"):
        code, out, err = cli("plan", str(folder), "--prune", "--allow-empty", "-f", output_format)
        assert code == 0, out + err
        assert "Plan: 0 to create, 0 to update in place, 0 to replace, 2 to delete" in out
        assert "1 blocked" in out
        assert f"skipped: {folder / 'README.md'}" in err
    code, out, err = cli("apply", str(folder), "--prune", "--yes", "--allow-empty")
    assert code == 1, out + err  # the protected endpoint's delete is refused (blocked)
    assert "protect: true forbids delete" in out
    assert live(cli) == {"kept"}


def test_without_prune_allow_empty_changes_nothing(cli: Cli, applied: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, out, err = cli("apply", str(folder), "--yes", "--allow-empty")
    assert code == 0, out + err
    assert live(cli) == ENDPOINTS


def test_mixed_case_extensions_are_read(cli: Cli, applied: Path, tmp_path: Path) -> None:
    """`*.YAML` used to be skipped silently, and `apply --prune` deleted what they declared."""
    folder = tmp_path / "upper"
    folder.mkdir()
    for name, suffix in (("emb", ".YAML"), ("comp", ".Yml"), ("kept", ".yAmL")):
        os.rename(applied / f"{name}.yaml", folder / f"{name}{suffix}")
    code, out, err = cli("validate", str(folder))
    assert code == 0 and "OK: 3 manifests in 3 files valid" in out, out
    plan = cli.plan_json(str(folder), "--prune")
    assert all(c["action"] == "no-op" for c in plan["changes"]), plan
    code, out, err = cli("apply", str(folder), "--prune", "--yes")
    assert code == 0, out + err
    assert live(cli) == ENDPOINTS


def test_skipped_files_beside_valid_manifests_are_notes_not_errors(cli: Cli, applied: Path) -> None:
    (applied / ".old.yaml").write_text("inference_id: [broken\n")
    (applied / "notes.txt").write_text("not a manifest\n")
    os.mkfifo(applied / "pipe.yml")
    for output_format in ("text", "github"):
        code, out, _ = cli("validate", "-f", output_format, str(applied))
        assert code == 0, out
        assert out.splitlines()[-1] == "OK: 3 manifests in 3 files valid, 3 skipped"
    assert f"skipped: {applied / '.old.yaml'} (hidden)" in cli("validate", str(applied))[1]
    code, out, _ = cli("validate", "-f", "json", str(applied))
    report = json.loads(out)
    assert (code, report["valid"], report["diagnostics"]) == (0, True, [])
    assert report["skipped"] == [
        {"file": str(applied / ".old.yaml"), "reason": "hidden"},
        {"file": str(applied / "notes.txt"), "reason": "not a .yaml/.yml file"},
        {"file": str(applied / "pipe.yml"), "reason": "not a regular file (FIFO)"},
    ]
    code, out, err = cli("plan", str(applied), "--prune")
    assert code == 0, out + err
    assert f"skipped: {applied / 'pipe.yml'} (not a regular file (FIFO))" in err
    assert "0 to delete" in out


# --- a FIFO never hangs the CLI (a real process, bounded: a regression fails, not hangs) ---


def _reconcile(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env: dict[str, Any] = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


@pytest.mark.timeout(20)
def test_validate_does_not_hang_on_a_fifo_in_the_folder(tmp_path: Path) -> None:
    write_manifest(tmp_path / "m", "emb", embeddings())
    os.mkfifo(tmp_path / "m" / "pipe.yaml")
    done = _reconcile("validate", "m", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped: m/pipe.yaml (not a regular file (FIFO))" in done.stdout
    assert done.stdout.splitlines()[-1] == "OK: 1 manifest in 1 file valid, 1 skipped"


@pytest.mark.timeout(20)
def test_validate_and_plan_do_not_hang_on_a_fifo_given_directly(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    for args in (("validate", "pipe.yaml"), ("plan", "pipe.yaml", "--sandbox", "--prune")):
        done = _reconcile(*args, cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr
        text = done.stdout + done.stderr
        assert "skipped: pipe.yaml (not a regular file (FIFO))" in text
        assert "no manifest document in pipe.yaml (1 file skipped)" in text
