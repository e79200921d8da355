"""The recording and the replay comparison, with the sandbox on both sides.

One recording is made per module: the contract suite run in a subprocess against a sandbox at
9.1.7 with `--record` (which also proves the options work from a command line). It is then
replayed against sandboxes in this process: the same release (no difference), 8.16 (differences,
located), and an altered copy of itself (exactly the alteration is reported).
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.sandbox import start_sandbox_thread
from tests.live import test_contract
from tests.live.recording import UPSTREAM, Exchange, Scrubber, placeholder, read_recording
from tests.live.replay import IGNORED, Difference, Report, compare_exchange, main, replay

REPO = Path(__file__).resolve().parents[2]
RELEASE = "9.1.7"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "contract-9.1.7.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILE_LIVE_", "ES_"))}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests/live/test_contract.py",
        "--sandbox-es-version",
        RELEASE,
        "--record",
        str(path),
    ]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def sandbox_917() -> Iterator[str]:
    with start_sandbox_thread(es_version=RELEASE) as sandbox:
        yield sandbox.url


def by_request(differences: list[Difference]) -> dict[tuple[str, str], Difference]:
    return {(d.request, d.path): d for d in differences}


# -- the recording --------------------------------------------------------------------------


def test_the_recording_names_its_run_and_holds_every_exchange(recording: Path) -> None:
    meta, exchanges = read_recording(recording)
    assert meta["format"] == "reconciler-contract-recording/1"
    assert (meta["es_version"], meta["target"]) == (RELEASE, "sandbox")
    assert meta["id_prefix"].startswith("contract-")
    assert [e.number for e in exchanges] == list(range(1, len(exchanges) + 1))
    assert exchanges[0].label == "GET /" and exchanges[0].test == "<session>"
    tests = {e.test.partition("::")[2] for e in exchanges[1:]}
    contract_tests = {n for n, _ in inspect.getmembers(test_contract) if n.startswith("test_")}
    assert tests <= contract_tests and "test_perform_text_embedding" in tests
    methods = {e.method for e in exchanges}
    assert methods == {"GET", "PUT", "POST", "DELETE"}


def test_the_recording_holds_no_secret_only_placeholders(recording: Path) -> None:
    text = recording.read_text()
    assert not re.search(r"(?<![A-Za-z0-9])sk-", text), "a key-shaped value was written"
    assert "http://127.0.0.1" not in text, "the upstream's address is a placeholder"
    for name in ("openai_api_key", "openai_api_key_2", "bad_api_key"):
        assert placeholder(name) in text
    assert UPSTREAM + "/v1/embeddings" in text
    for line in text.splitlines():
        json.loads(line)


def test_every_contract_test_names_its_upstream_source() -> None:
    for name, function in inspect.getmembers(test_contract, inspect.isfunction):
        if not name.startswith("test_"):
            continue
        marks = [m for m in getattr(function, "pytestmark", []) if m.name == "source"]
        assert marks and marks[0].args, f"{name} names no upstream source"


# -- replay -----------------------------------------------------------------------------------


def test_the_same_release_replays_without_a_difference(recording: Path, sandbox_917: str) -> None:
    report = replay(recording, sandbox_917, env={})
    assert report.target_version == RELEASE
    assert report.exchanges == len(read_recording(recording)[1])
    assert report.same, "\n".join(report.lines())


def test_another_release_is_reported_exchange_by_exchange(recording: Path) -> None:
    with start_sandbox_thread(es_version="8.16.0") as sandbox:
        report = replay(recording, sandbox.url, env={})
    assert not report.same
    found = by_request(report.differences)
    version = next(d for d in report.differences if d.path == "$.version.number")
    assert (version.exchange, version.expected, version.got) == (1, RELEASE, "8.16.0")
    updates = [d for d in report.differences if d.request.endswith("/_update")]
    assert updates and all(d.test.startswith("test_contract.py::") for d in updates)
    status = next(d for d in updates if d.path == "status")
    assert (status.expected, status.got) == (200, 400)
    assert "no handler found" in json.dumps(found[(status.request, "$")].got)
    lines = list(report.lines())
    assert any(line.startswith(f"exchange {status.exchange} [") for line in lines)
    assert lines[-1].endswith(f"of {report.exchanges} exchanges")


def test_an_altered_recording_is_reported_where_it_was_altered(
    recording: Path, sandbox_917: str, tmp_path: Path
) -> None:
    meta, exchanges = read_recording(recording)
    altered = copy.deepcopy(exchanges)
    target = next(e for e in altered if e.method == "PUT" and e.path.endswith("-emb-defaults"))
    target.response["service_settings"]["dimensions"] = 768
    deleted = next(e for e in altered if e.method == "DELETE" and e.status == 200)
    deleted.status = 404
    path = tmp_path / "altered.jsonl"
    path.write_text(
        json.dumps({"meta": meta}) + "\n" + "".join(json.dumps(e.to_json()) + "\n" for e in altered)
    )
    report = replay(path, sandbox_917, env={})
    located = {(d.exchange, d.path): (d.expected, d.got) for d in report.differences}
    assert located.pop((target.number, "$.service_settings.dimensions")) == (768, 1536)
    assert located.pop((deleted.number, "status")) == (404, 200)
    assert set(located) == {(deleted.number, "$")}


def test_the_command_line_prints_the_diff_and_exits_1(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    code = main([str(recording), "--sandbox", "9.4.0", "--markdown", str(summary)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith(f"replayed {len(read_recording(recording)[1])} exchanges recorded")
    assert '$.version.number: expected "9.1.7", got "9.4.0"' in out
    assert "| exchange | request | path | expected | got |" in summary.read_text()


def test_the_command_line_exits_0_on_the_recorded_release(
    recording: Path, sandbox_917: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(recording), "--target", sandbox_917]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no differences"
    assert main([str(recording), "--sandbox"]) == 0  # at the recording's release


def test_the_command_line_exits_2_on_an_unreadable_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert main([str(bad), "--target", "http://127.0.0.1:9"]) == 2
    assert "line 1: not JSON" in capsys.readouterr().err


# -- the comparison and its ignore list -----------------------------------------------------


def exchange(label: str, status: int, body: Any) -> Exchange:
    method, _, path = label.partition(" ")
    return Exchange(1, "t", method, path, {}, None, status, body)


ROOT: dict[str, Any] = {
    "name": "node-1",
    "cluster_name": "docker-cluster",
    "cluster_uuid": "abc",
    "version": {
        "number": "9.1.7",
        "build_flavor": "default",
        "build_type": "docker",
        "build_hash": "f00",
        "build_date": "2026-01-01T00:00:00Z",
        "lucene_version": "10.2.2",
    },
    "tagline": "You Know, for Search",
}


def test_the_ignore_list_covers_node_cluster_and_build_identity() -> None:
    other = copy.deepcopy(ROOT)
    other.update(name="sandbox-node-0", cluster_name="sandbox", cluster_uuid="xyz")
    other["version"].update(build_type="tar", build_hash="0" * 40, build_date="2025-01-01")
    assert compare_exchange(exchange("GET /", 200, ROOT), 200, other) == []
    del other["version"]["build_date"]
    assert compare_exchange(exchange("GET /", 200, ROOT), 200, other) == []
    other["version"]["lucene_version"] = "10.3.0"
    (difference,) = compare_exchange(exchange("GET /", 200, ROOT), 200, other)
    assert (difference.path, difference.expected, difference.got) == (
        "$.version.lucene_version",
        "10.2.2",
        "10.3.0",
    )


def test_vectors_are_compared_by_length_only() -> None:
    recorded = exchange(
        "POST /_inference/text_embedding/x", 200, {"text_embedding": [{"embedding": [0.1, 0.2]}]}
    )
    assert compare_exchange(recorded, 200, {"text_embedding": [{"embedding": [0.3, 0.4]}]}) == []
    (difference,) = compare_exchange(recorded, 200, {"text_embedding": [{"embedding": [0.3]}]})
    assert difference.path == "$.text_embedding[0].embedding (length)"


def test_listings_are_compared_on_the_recorded_runs_entries_only() -> None:
    mine = {"inference_id": "contract-abc-emb", "task_type": "text_embedding"}
    recorded = exchange("GET /_inference/_all", 200, {"endpoints": [mine]})
    shipped = {"inference_id": ".elser-2-elasticsearch", "task_type": "sparse_embedding"}
    same = compare_exchange(
        recorded, 200, {"endpoints": [shipped, mine]}, id_prefix="contract-abc-"
    )
    assert same == []
    changed = {**mine, "task_type": "completion"}
    (difference,) = compare_exchange(
        recorded, 200, {"endpoints": [changed]}, id_prefix="contract-abc-"
    )
    assert difference.path == "$.endpoints[0].task_type"
    missing = compare_exchange(recorded, 200, {"endpoints": [shipped]}, id_prefix="contract-abc-")
    assert [(d.path, d.expected, d.got) for d in missing] == [
        ("$.endpoints (inference_ids)", ["contract-abc-emb"], [])
    ]


def test_uuids_and_timestamps_are_ignored_at_any_depth_and_nothing_else_is() -> None:
    body = {
        "error": {
            "root_cause": [{"type": "x", "index_uuid": "a"}],
            "type": "x",
            "index_uuid": "a",
            "reason": "r",
        },
        "status": 404,
        "took": 3,
    }
    other = json.loads(json.dumps(body).replace('"a"', '"b"').replace("3", "9"))
    assert compare_exchange(exchange("GET /x", 404, body), 404, other) == []
    other["error"]["reason"] = "s"
    assert [d.path for d in compare_exchange(exchange("GET /x", 404, body), 404, other)] == [
        "$.error.reason"
    ]
    explicit = {rule.path for rule in IGNORED}
    assert {"$.cluster_uuid", "$.version.build_hash", "$..index_uuid", "$..timestamp"} <= explicit
    assert all(rule.why for rule in IGNORED)


def test_a_bool_is_not_a_number_and_keys_present_on_one_side_are_reported() -> None:
    recorded = exchange("DELETE /_inference/x", 200, {"acknowledged": True, "pipelines": []})
    got = {"acknowledged": 1, "indexes": []}
    assert {
        (d.path, str(d.expected), str(d.got)) for d in compare_exchange(recorded, 200, got)
    } == {
        ("$.acknowledged", "True", "1"),
        ("$.pipelines", "[]", "(absent)"),
        ("$.indexes", "(absent)", "[]"),
    }


def test_the_scrubber_replaces_every_secret_and_restores_them_for_a_replay() -> None:
    scrubber = Scrubber(
        {"openai_api_key": "sk-live-0123456789", "es_password": "hunter2hunter2"},
        "http://10.0.0.5:4321",
    )
    body = {
        "service_settings": {"api_key": "sk-live-0123456789", "url": "http://10.0.0.5:4321/v1"},
        "password": "short",
        "note": "Incorrect API key provided: sk-l********6789 (login hunter2hunter2)",
        "task-settings": "task-type stays",
    }
    scrubbed = scrubber.value(body)
    assert scrubbed == {
        "service_settings": {"api_key": "<redacted:openai_api_key>", "url": "{{upstream}}/v1"},
        "password": "<redacted:secret>",
        "note": "Incorrect API key provided: <redacted:key> (login <redacted:es_password>)",
        "task-settings": "task-type stays",
    }
    assert scrubber.leaks(json.dumps(body)) == ["es_password", "openai_api_key"]
    restored = Scrubber({"openai_api_key": "sk-other-987654321"}, "http://127.0.0.1:9").restore(
        scrubbed["service_settings"]
    )
    assert restored == {"api_key": "sk-other-987654321", "url": "http://127.0.0.1:9/v1"}


def test_a_report_renders_as_markdown() -> None:
    difference = Difference(3, "t", "GET /x", "$.a", "x|y", 2)
    text = Report(
        {"target": "elasticsearch", "es_version": "9.1.7"}, "9.1.7", 5, [difference]
    ).markdown()
    assert text.startswith("### Replay of elasticsearch 9.1.7 against 9.1.7")
    assert '| 3 | GET /x | $.a | "x\\|y" | 2 |' in text
