"""The contract workflow (`examples/ci/.github/workflows/contract.yml`): its wiring, and its two
commands run for real against a sandbox in place of the Elasticsearch container.

GitHub cannot run here: the workflow is parsed, its matrix, container, suite, upload and replay
steps are checked against each other and against the suite's own options, then the suite step
and the replay step run in bash as written, with the runner-specific addresses
(`http://localhost:9200`, `host.docker.internal`) pointing at a sandbox that demands the
workflow's password, and `${{ ... }}` expressions substituted as a runner would.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.sandbox import start_sandbox_process
from tests.live.options import OPTIONS
from tests.live.recording import read_recording
from tests.live.replay import parser as replay_parser

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "ci" / ".github" / "workflows" / "contract.yml"
RELEASES = {(8, 17), (8, 19), (9, 1), (9, 2), (9, 4)}
IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:${{ matrix.elasticsearch }}"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def load() -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def job() -> dict[str, Any]:
    (only,) = load()["jobs"].values()
    return only


def step(name_start: str) -> dict[str, Any]:
    (found,) = [s for s in job()["steps"] if s.get("name", "").startswith(name_start)]
    return found


def words(command: str) -> list[str]:
    return shlex.split(command.replace("\\\n", " "))


def test_the_matrix_is_one_concrete_patch_per_release() -> None:
    strategy = job()["strategy"]
    assert strategy["fail-fast"] is False
    versions = strategy["matrix"]["elasticsearch"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in versions), versions
    releases = [tuple(int(p) for p in v.split(".")[:2]) for v in versions]
    assert set(releases) == RELEASES and len(releases) == len(RELEASES)


def test_the_container_is_the_official_image_single_node_with_a_known_password() -> None:
    data, run = job(), step("Start Elasticsearch")["run"]
    args = words(run)
    assert args[:3] == ["docker", "run", "--detach"] and args[-1] == IMAGE
    settings = {args[i + 1] for i, a in enumerate(args) if a == "--env"}
    assert {
        "discovery.type=single-node",
        "xpack.security.enabled=true",
        "xpack.security.http.ssl.enabled=false",
        "xpack.license.self_generated.type=trial",
        "xpack.ml.enabled=true",
        "ELASTIC_PASSWORD",
    } <= settings
    assert "--add-host" in args and "host.docker.internal:host-gateway" in args
    assert "9200:9200" in args
    env = data["env"]
    assert env["ELASTIC_PASSWORD"] == env["ES_PASSWORD"] and env["ES_USERNAME"] == "elastic"
    assert "secrets." not in WORKFLOW.read_text(), "the workflow needs no secret"


def test_the_suite_step_records_with_options_the_suite_defines() -> None:
    args = words(step("Contract suite")["run"])
    assert args[:4] == ["python", "-m", "pytest", "tests/live/test_contract.py"]
    flags = [a for a in args if a.startswith("--")]
    known = {flag for flag, _, _ in OPTIONS} | {"--junitxml"}
    assert set(flags) <= known, set(flags) - known
    value = {a: args[i + 1] for i, a in enumerate(args) if a.startswith("--")}
    assert value["--es-url"] == "http://localhost:9200"
    assert value["--upstream-host"] == "host.docker.internal"
    assert value["--record"] == "$RECORDING"
    assert job()["env"]["RECORDING"] == "contract-${{ matrix.elasticsearch }}.jsonl"


def test_the_recording_is_uploaded_then_replayed_against_the_sandbox() -> None:
    names = [s.get("name", s.get("uses")) for s in job()["steps"]]
    upload, replay_step = step("Upload the recording"), step("Replay against the sandbox")
    assert (
        names.index("Contract suite")
        < names.index(upload["name"])
        < names.index(replay_step["name"])
    )
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"] == "always()"
    assert "${{ env.RECORDING }}" in upload["with"]["path"]
    assert upload["with"]["name"] == "contract-${{ matrix.elasticsearch }}"
    args = words(replay_step["run"])
    assert args[:3] == ["python", "-m", "tests.live.replay"]
    parsed = replay_parser().parse_args(args[3:])
    assert (parsed.recording, parsed.sandbox) == (Path("$RECORDING"), "${{ matrix.elasticsearch }}")
    assert str(parsed.markdown) == "$GITHUB_STEP_SUMMARY"
    assert replay_step["continue-on-error"] is True
    assert "hashFiles(env.RECORDING)" in replay_step["if"]


def test_it_runs_on_changes_to_the_sandbox_or_the_suite_and_on_a_schedule() -> None:
    on = load()["on"]
    assert {"schedule", "workflow_dispatch", "pull_request"} <= set(on)
    assert {"reconciler/sandbox/**", "tests/live/**"} <= set(on["pull_request"]["paths"])
    assert load()["permissions"] == {"contents": "read"}


def expand(text: str, expressions: dict[str, str]) -> str:
    return EXPRESSION.sub(lambda m: expressions[m.group(1)], text)


def bash(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As a GitHub runner runs a step (`bash -eo pipefail`), from the checkout."""
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command]
    return subprocess.run(
        shell, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_suite_and_replay_steps_run_as_written(tmp_path: Path) -> None:
    """The 9.1 job's two commands, with the container swapped for a sandbox at that release
    that accepts only the workflow's password, and the job's files kept in a temporary
    directory."""
    data = job()
    (version,) = [v for v in data["strategy"]["matrix"]["elasticsearch"] if v.startswith("9.1.")]
    expressions = {"matrix.elasticsearch": version}
    variables = {k: expand(str(v), expressions) for k, v in data["env"].items()}
    recording = tmp_path / variables["RECORDING"]
    summary, junit = tmp_path / "summary.md", tmp_path / "contract-junit.xml"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ES_", "RECONCILE_"))},
        **variables,
        "RECORDING": str(recording),
        "GITHUB_STEP_SUMMARY": str(summary),
        "PYTEST_ADDOPTS": "-p no:cacheprovider",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    password = variables["ES_PASSWORD"]
    with start_sandbox_process(es_version=version, basic_auth=[f"elastic:{password}"]) as es:
        swaps = {
            "http://localhost:9200": es.url,
            "host.docker.internal": "127.0.0.1",
            "contract-junit.xml": str(junit),
        }
        suite = expand(step("Contract suite")["run"], expressions)
        for runner_value, here in swaps.items():
            suite = suite.replace(runner_value, here)
        done = bash(suite, env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    meta, exchanges = read_recording(recording)
    assert (meta["es_version"], meta["auth"], meta["target"]) == (version, "basic", "sandbox")
    assert password not in recording.read_text()
    assert 'name="chunking_after_update" value="reset"' in junit.read_text()
    replayed = bash(expand(step("Replay against the sandbox")["run"], expressions), env)
    assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr[-2000:]
    assert replayed.stdout.splitlines()[-1] == "no differences"
    assert f"No differences in {len(exchanges)} exchanges." in summary.read_text()
