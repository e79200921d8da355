"""`reconcile apply` end to end against a sandbox process: every kind of change, what the
server ends up holding, keys rotated on both server generations, guards, locks, faults.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KEY, Cli, completion, embeddings, write_manifest
from tests.fixtures.sandbox import start_sandbox_process

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NEW_KEY = KEY + "-new"


def live(cli: Cli) -> dict[str, dict[str, Any]]:
    with cli.es() as es:
        endpoints = es.get("/_inference/_all").json()["endpoints"]
    return {e["inference_id"]: e for e in endpoints if not e["inference_id"].startswith(".")}


def copy_examples(tmp_path: Path) -> Path:
    folder = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("ci", "services"))
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_create_update_replace_and_prune_leave_the_server_as_declared(
    cli: Cli, tmp_path: Path
) -> None:
    folder = copy_examples(tmp_path)
    assert cli("apply", str(folder))[0] == 0
    assert set(live(cli)) == {
        "openai-chat",
        "openai-completion",
        "openai-embeddings",
        "openai-embeddings-chunked",
    }
    edit(folder / "openai-chat.yaml", "user: search-platform", "user: platform-team")
    edit(folder / "openai-embeddings.yaml", "dimensions: 128", "dimensions: 64")
    (folder / "openai-completion.yaml").unlink()
    code, out, err = cli("apply", str(folder), "--prune", "--yes")
    assert code == 0, out + err
    server = live(cli)
    assert "openai-completion" not in server
    assert server["openai-chat"]["task_settings"] == {"user": "platform-team"}
    assert server["openai-embeddings"]["service_settings"]["dimensions"] == 64
    assert "Smoke tests: 2 of 2 passed." in out  # the changed ones
    assert cli("plan", str(folder), "--prune", "--detailed-exitcode")[0] == 0


@pytest.mark.parametrize(("version", "action"), [("9.1.0", "update"), ("8.16.0", "replace")])
def test_key_rotation_ends_with_a_working_endpoint_on_both_server_generations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str, action: str
) -> None:
    with start_sandbox_process(es_version=version, openai_keys=[KEY, NEW_KEY]) as sandbox:
        cli = Cli(sandbox.url, {"ES_URL": sandbox.url, "OPENAI_API_KEY": KEY}, capsys, [])
        folder = tmp_path / "m"
        write_manifest(folder, "comp", completion())
        assert cli("apply", str(folder))[0] == 0
        cli.env["OPENAI_API_KEY"] = NEW_KEY
        with cli.es() as es:
            es.post("/_sandbox/openai/keys/_revoke", json={"key": KEY})
        code, out, err = cli("apply", str(folder), "--yes")
        assert code == 0, out + err
        assert f"✓ {action} comp" in out
        assert "✓ smoke comp" in out
        assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0


def test_a_bad_new_key_leaves_the_old_endpoint_serving(cli: Cli, tmp_path: Path) -> None:
    with cli.es() as es:
        es.put("/_sandbox/openai/keys", json={"valid": [KEY]})
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings(dimensions=32))
    assert cli("apply", str(folder))[0] == 0
    cli.env["OPENAI_API_KEY"] = "sk-revoked-or-mistyped-key"
    code, out, _ = cli("apply", str(folder), "--key-rotation", "recreate", "--yes")
    assert code == 1
    assert "✗ replace emb" in out
    assert "emb" in live(cli)
    cli.env["OPENAI_API_KEY"] = KEY
    code, out, _ = cli("smoke", str(folder))
    assert code == 0 and "✓ smoke emb" in out


def test_protect_blocks_replace_and_prune(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    protected = embeddings(dimensions=32) + "reconcile:\n  protect: true\n"
    write_manifest(folder, "emb", protected)
    assert cli("apply", str(folder))[0] == 0
    write_manifest(folder, "emb", protected.replace("dimensions: 32", "dimensions: 16"))
    code, out, _ = cli("apply", str(folder), "--yes")
    assert code == 1 and "! blocked emb" in out and "protect" in out
    assert live(cli)["emb"]["service_settings"]["dimensions"] == 32


def test_in_use_replace_is_refused_naming_the_index_then_forced(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings(dimensions=32))
    assert cli("apply", str(folder))[0] == 0
    mapping = {
        "mappings": {"properties": {"body": {"type": "semantic_text", "inference_id": "emb"}}}
    }
    with cli.es() as es:
        assert es.put("/docs", json=mapping).status_code == 200
    write_manifest(folder, "emb", embeddings(dimensions=32, model_id="text-embedding-3-large"))
    code, out, _ = cli("apply", str(folder), "--yes")
    assert code == 1 and "docs" in out
    assert live(cli)["emb"]["service_settings"]["model_id"] == "text-embedding-3-small"
    code, out, err = cli("apply", str(folder), "--yes", "--allow-disruptive")
    assert code == 0, out + err
    assert live(cli)["emb"]["service_settings"]["model_id"] == "text-embedding-3-large"


def test_adopt_writes_state_and_nothing_else(cli: Cli, tmp_path: Path) -> None:
    body = {"service": "openai", "service_settings": {"api_key": KEY, "model_id": "gpt-4o-mini"}}
    with cli.es() as es:
        es.put("/_inference/completion/comp", json=body).raise_for_status()
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion())
    code, out, _ = cli("apply", str(folder))
    assert code == 0 and "✓ adopt comp" in out
    with cli.es() as es:
        es.post("/reconciler-state/_refresh")
        query = {"query": {"term": {"inference_id": "comp"}}}
        hits = es.post("/reconciler-state/_search", json=query).json()
    assert hits["hits"]["total"]["value"] >= 1


def test_two_concurrent_applies_are_serialized_with_a_clear_message(
    cli: Cli, tmp_path: Path
) -> None:
    folder = copy_examples(tmp_path)
    with cli.es() as es:  # slow the first apply down so the second one meets its lock
        es.put("/_sandbox/latency", json={"ms": 150})
    env = {**cli.env, "PATH": cli.env.get("PATH", "")}
    command = [sys.executable, "-m", "reconciler", "apply", str(folder)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    assert "lock" in second.stderr and "apply" in second.stderr


def test_faults_then_rerun_converges_without_losing_an_endpoint(cli: Cli, tmp_path: Path) -> None:
    folder = copy_examples(tmp_path)
    assert cli("apply", str(folder))[0] == 0
    edit(folder / "openai-embeddings.yaml", "dimensions: 128", "dimensions: 96")
    edit(folder / "openai-chat.yaml", "user: search-platform", "user: storm")
    rules = [
        {"path": "/_inference/*", "kind": "status", "status": 429, "retry_after": 0.05, "count": 6},
        {"path": "/_inference/*", "kind": "status", "status": 503, "count": 3},
        {"path": "/_inference/*", "kind": "drop", "count": 2},
    ]
    with cli.es() as es:
        for rule in rules:
            es.post("/_sandbox/faults", json=rule).raise_for_status()
    cli("apply", str(folder), "--yes")
    with cli.es() as es:
        es.delete("/_sandbox/faults")
    code, out, err = cli("apply", str(folder), "--yes")
    assert code == 0, out + err
    server = live(cli)
    assert len(server) == 4
    assert server["openai-embeddings"]["service_settings"]["dimensions"] == 96
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0


def test_an_apply_killed_midway_is_finished_by_the_next_one(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    for i in range(12):
        write_manifest(folder, f"c{i}", completion(f"c{i}"))
    with cli.es() as es:
        es.put("/_sandbox/latency", json={"ms": 100})
    command = [sys.executable, "-m", "reconciler", "apply", str(folder), "--concurrency", "2"]
    victim = subprocess.Popen(command, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(live(cli)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    victim.kill()
    victim.wait()
    with cli.es() as es:
        es.put("/_sandbox/latency", json={"ms": 0})
    # no unlock: the killed run's lock names a process of this machine that is gone
    code, out, err = cli("apply", str(folder), "--lock-timeout", "0")
    assert code == 0, out + err
    assert len(live(cli)) == 12
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0


def test_the_key_never_appears_in_output_errors_or_state(cli: Cli, tmp_path: Path) -> None:
    cli.env["RECONCILE_LOG"] = "debug"  # every log line too
    folder = copy_examples(tmp_path)
    saved = tmp_path / "plan.json"
    cli("plan", str(folder), "--out", str(saved))
    cli("apply", str(folder), "--plan", str(saved), "--format", "json")
    with cli.es() as es:
        es.put("/_sandbox/openai/keys", json={"valid": ["sk-something-else"]})
    edit(folder / "openai-embeddings.yaml", "dimensions: 128", "dimensions: 100")
    cli("apply", str(folder), "--yes", "--format", "markdown")  # fails upstream: bad key
    cli("smoke", str(folder), "--format", "json")
    debug = subprocess.run(  # a separate process, so its debug log lines reach stderr
        [sys.executable, "-m", "reconciler", "apply", str(folder), "--yes"],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "DEBUG reconciler.client" in debug.stderr
    cli.transcript += [debug.stdout, debug.stderr]
    with cli.es() as es:
        es.post("/reconciler-state/_refresh")
        state = es.get("/reconciler-state/_search", params={"size": 100}).text
        log = httpx.get(f"{cli.url}/_sandbox/openai/requests").text
    assert any("✗" in text or '"ok": false' in text for text in cli.transcript)
    for text in [*cli.transcript, saved.read_text(), state, log]:
        assert KEY not in text


def test_protect_outlives_its_manifest_prune_refuses(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "keep", completion("keep") + "reconcile:\n  protect: true\n")
    write_manifest(folder, "other", completion("other"))
    assert cli("apply", str(folder))[0] == 0
    (folder / "keep.yaml").unlink()
    code, out, _ = cli("apply", str(folder), "--prune", "--yes")
    assert code == 1 and "! blocked keep" in out
    assert "keep" in live(cli)
