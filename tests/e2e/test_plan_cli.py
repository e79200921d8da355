"""`reconcile plan` end to end: every plan class through the CLI against a sandbox process.

Each test sets the server up the way a user would (apply, or the raw Elasticsearch API for
out-of-band changes) and asserts on the plan the CLI prints.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    KEY,
    Cli,
    completion,
    embeddings,
    only_change,
    write_manifest,
)

pytestmark = pytest.mark.e2e

EXAMPLES = ""
"""A folder holding the openai examples (the top of `examples/`; plan and apply manage openai
only so far, and `examples/services/` holds the other services' manifests)."""


@pytest.fixture(autouse=True)
def openai_examples(tmp_path_factory: pytest.TempPathFactory) -> None:
    global EXAMPLES
    folder = tmp_path_factory.mktemp("examples")
    for path in (Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    EXAMPLES = str(folder)


def test_create_then_apply_then_plan_shows_no_changes(cli: Cli) -> None:
    code, out, _ = cli("plan", EXAMPLES, "--detailed-exitcode")
    assert code == 2
    assert out.count("+ create ") == 4
    assert "Plan: 4 to create" in out
    code, _, err = cli("apply", EXAMPLES)
    assert code == 0, err
    code, out, _ = cli("plan", EXAMPLES, "--detailed-exitcode")
    assert code == 0
    assert "No changes" in out and "4 unchanged" in out


def test_update_in_place_shows_before_and_after(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion(user="alice"))
    assert cli("apply", str(folder))[0] == 0
    write_manifest(folder, "comp", completion(user="bob"))
    code, out, _ = cli("plan", str(folder), "--detailed-exitcode")
    assert code == 2
    assert "~ update comp (completion)" in out
    assert '~ task_settings.user: "alice" → "bob"' in out
    change = only_change(cli.plan_json(str(folder)), "comp")
    assert change["action"] == "update" and change["reason_code"] == "update-in-place"


def test_replace_names_the_field_and_the_reason(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings(dimensions=64))
    assert cli("apply", str(folder))[0] == 0
    write_manifest(folder, "emb", embeddings(dimensions=64, model_id="text-embedding-3-large"))
    code, out, _ = cli("plan", str(folder))
    assert code == 0
    assert "± replace emb (text_embedding)" in out
    assert "# forces replacement" in out
    change = only_change(cli.plan_json(str(folder)), "emb")
    assert change["action"] == "replace"
    assert change["replace_paths"] == ["service_settings.model_id"]
    assert "model_id" in change["reason"]


def test_key_rotation_is_planned_in_place_where_the_update_api_exists(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion())
    assert cli("apply", str(folder))[0] == 0
    cli.env["OPENAI_API_KEY"] = KEY + "-rotated"
    code, out, _ = cli("plan", str(folder), "--detailed-exitcode")
    assert code == 2
    assert "service_settings.api_key: (sensitive) changed" in out
    change = only_change(cli.plan_json(str(folder)), "comp")
    assert (change["action"], change["reason_code"]) == ("update", "rotate-key-in-place")
    recreate = only_change(cli.plan_json(str(folder), "--key-rotation", "recreate"), "comp")
    assert (recreate["action"], recreate["reason_code"]) == ("replace", "rotate-key-recreate")


def test_prune_deletes_only_owned_endpoints_and_only_when_asked(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "a", completion("keep"))
    write_manifest(folder, "b", completion("gone"))
    assert cli("apply", str(folder))[0] == 0
    (folder / "b.yaml").unlink()
    without = only_change(cli.plan_json(str(folder)), "gone")
    assert (without["action"], without["reason_code"]) == ("no-op", "orphan")
    with_prune = cli.plan_json(str(folder), "--prune")
    assert only_change(with_prune, "gone")["action"] == "delete"
    ids = {c["inference_id"] for c in with_prune["changes"] if c["action"] == "delete"}
    assert ids == {"gone"}  # preconfigured `.…` endpoints are never in a plan


def test_adopt_an_endpoint_created_outside_reconciler(cli: Cli, tmp_path: Path) -> None:
    body = {"service": "openai", "service_settings": {"api_key": KEY, "model_id": "gpt-4o-mini"}}
    with cli.es() as es:
        assert es.put("/_inference/completion/comp", json=body).status_code == 200
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion())
    change = only_change(cli.plan_json(str(folder)), "comp")
    assert (change["action"], change["adopt"]) == ("adopt", True)
    assert cli("apply", str(folder))[0] == 0
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0


def test_out_of_band_change_is_reported_as_drift(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "comp", completion(user="alice"))
    assert cli("apply", str(folder))[0] == 0
    update = {"task_settings": {"user": "mallory"}}
    with cli.es() as es:
        assert es.put("/_inference/completion/comp/_update", json=update).status_code == 200
    change = only_change(cli.plan_json(str(folder)), "comp")
    assert change["drift"] is True and change["action"] == "update"
    (field,) = change["fields"]
    assert (field["path"], field["before"], field["after"]) == (
        "task_settings.user",
        "mallory",
        "alice",
    )
    assert "changed outside reconciler" in cli("plan", str(folder))[1]


def test_replace_of_an_endpoint_in_use_lists_its_users_and_is_blocked(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings(dimensions=64))
    assert cli("apply", str(folder))[0] == 0
    mapping = {
        "mappings": {"properties": {"body": {"type": "semantic_text", "inference_id": "emb"}}}
    }
    with cli.es() as es:
        assert es.put("/docs", json=mapping).status_code == 200
    write_manifest(folder, "emb", embeddings(dimensions=64, model_id="text-embedding-3-large"))
    change = only_change(cli.plan_json(str(folder)), "emb")
    assert (change["action"], change["reason_code"]) == ("blocked", "in-use")
    assert change["in_use"]["indexes"] == ["docs"]
    allowed = only_change(cli.plan_json(str(folder), "--allow-disruptive"), "emb")
    assert allowed["action"] == "replace" and allowed["breaking"] is True
    assert "used by indexes: docs" in cli("plan", str(folder), "--allow-disruptive")[1]
    # another size cannot be forced: 9.1 would refuse the re-create after the delete
    write_manifest(folder, "emb", embeddings(dimensions=32))
    refused = only_change(cli.plan_json(str(folder), "--allow-disruptive"), "emb")
    assert (refused["action"], refused["reason_code"]) == ("blocked", "incompatible-mappings")


def test_markdown_and_saved_plan(cli: Cli, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    code, out, _ = cli("plan", EXAMPLES, "--format", "markdown", "--out", str(saved))
    assert code == 0
    assert out.startswith("### reconcile plan: changes")
    assert "| `+` | create | `openai-embeddings` |" in out
    document = json.loads(saved.read_text())
    assert document["kind"] == "reconcile-saved-plan" and len(document["changes"]) == 4
    assert cli("apply", EXAMPLES, "--plan", str(saved))[0] == 0
    code, _, err = cli("apply", EXAMPLES, "--plan", str(saved))
    assert code == 1 and "stale" in err


def test_missing_key_variable_is_named_with_its_location(cli: Cli) -> None:
    del cli.env["OPENAI_API_KEY"]
    code, _, err = cli("plan", EXAMPLES)
    assert code == 1
    assert "openai-embeddings.yaml:7:12: environment variable OPENAI_API_KEY is not set" in err


def test_no_target_says_how_to_set_one(cli: Cli) -> None:
    del cli.env["ES_URL"]
    code, _, err = cli("plan", EXAMPLES)
    assert code == 1 and "--target" in err and "ES_URL" in err and "--sandbox" in err


def test_invalid_manifests_never_reach_the_server(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "bad", embeddings(dimensions=0))
    code, _, err = cli("apply", str(folder))
    assert code == 1 and "$.service_settings.dimensions" in err
    with cli.es() as es:
        ids = [e["inference_id"] for e in es.get("/_inference/_all").json()["endpoints"]]
    assert all(i.startswith(".") for i in ids)


def test_the_key_never_appears_in_any_output_saved_plan_or_state(cli: Cli, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    for fmt in ("text", "json", "markdown"):
        cli("plan", EXAMPLES, "--format", fmt)
    cli("plan", EXAMPLES, "--out", str(saved))
    cli("apply", EXAMPLES, "--format", "json")
    cli.env["OPENAI_API_KEY"] = KEY + "-rotated"
    cli("plan", EXAMPLES)
    cli("apply", EXAMPLES, "--key-rotation", "recreate", "--yes")
    with cli.es() as es:
        es.post("/reconciler-state/_refresh")
        state = es.get("/reconciler-state/_search", params={"size": 100}).text
    assert "key_fingerprint" in state
    for text in [*cli.transcript, saved.read_text(), state]:
        assert KEY not in text
