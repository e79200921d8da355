"""The example GitHub workflows and the pre-commit hook, run for real against a sandbox process.

Each workflow file is parsed; every `run:` step that calls `reconcile` runs in bash exactly as
written (GitHub's `bash -eo pipefail`), with the workflow, job and step `env:`, the
`${{ … }}` expressions a runner would substitute (secrets point at a sandbox process that
demands an API key), and `$GITHUB_STEP_SUMMARY` / `$GITHUB_OUTPUT` as temporary files. Steps
without `reconcile` (checkout, install, `gh pr comment`) are left to GitHub.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.conftest import KEY, completion, write_manifest
from tests.fixtures.sandbox import start_sandbox_process

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "ci" / ".github" / "workflows"
HOOKS = REPO / ".pre-commit-hooks.yaml"
ES_KEY_ID = "ci:not-a-real-secret"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def load(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


@dataclass
class Runner:
    """Runs a workflow's reconcile steps the way a GitHub runner would."""

    url: str
    workdir: Path
    expressions: dict[str, str]

    def run(self, workflow: str) -> list[tuple[str, subprocess.CompletedProcess[str]]]:
        """Every reconcile step of every job, in order; stops at the first failing step."""
        data, done = load(workflow), []
        for job in data["jobs"].values():
            for step in job["steps"]:
                if "reconcile " not in step.get("run", ""):
                    continue
                result = self.step(step, {**data.get("env", {}), **job.get("env", {})})
                done.append((step["name"], result))
                if result.returncode != 0:
                    return done
        return done

    def step(self, step: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        variables = {k: self.expand(str(v)) for k, v in {**env, **step.get("env", {})}.items()}
        shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
        return subprocess.run(
            shell,
            cwd=self.workdir,
            env={**self.base_env(), **variables},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def expand(self, value: str) -> str:
        return EXPRESSION.sub(lambda m: self.expressions[m.group(1)], value)

    def base_env(self) -> dict[str, str]:
        return {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.workdir),
            "PYTHONPATH": str(REPO),
            "GITHUB_STEP_SUMMARY": str(self.workdir / "summary.md"),
            "GITHUB_OUTPUT": str(self.workdir / "output.txt"),
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        }

    def summary(self) -> str:
        path = self.workdir / "summary.md"
        return path.read_text() if path.exists() else ""

    def outputs(self) -> str:
        path = self.workdir / "output.txt"
        return path.read_text() if path.exists() else ""

    def reset(self) -> None:
        for name in ("summary.md", "output.txt"):
            (self.workdir / name).unlink(missing_ok=True)

    def es(self) -> httpx.Client:
        headers = {"Authorization": f"ApiKey {self.expressions['secrets.ES_API_KEY']}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def endpoints(self) -> dict[str, Any]:
        with self.es() as es:
            found = es.get("/_inference/_all").json()["endpoints"]
        return {e["inference_id"]: e for e in found if not e["inference_id"].startswith(".")}


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    """A checkout with the example manifests in `manifests/`, and a sandbox that wants a key."""
    shutil.copytree(
        REPO / "examples", tmp_path / "manifests", ignore=shutil.ignore_patterns("ci", "services")
    )
    with start_sandbox_process(api_keys=[ES_KEY_ID]) as sandbox:
        expressions = {
            "secrets.ES_URL": sandbox.url,
            "secrets.ES_API_KEY": base64.b64encode(ES_KEY_ID.encode()).decode(),
            "secrets.OPENAI_API_KEY": KEY,
            "github.repository": "acme/endpoints",
            "github.token": "unused",
            "github.event.pull_request.number": "7",
        }
        yield Runner(sandbox.url, tmp_path, expressions)


def apply_step(workflow: dict[str, Any]) -> dict[str, Any]:
    (step,) = [
        s for s in workflow["jobs"]["apply"]["steps"] if "reconcile apply" in s.get("run", "")
    ]
    return step


def codes(done: list[tuple[str, subprocess.CompletedProcess[str]]]) -> dict[str, int]:
    return {name: result.returncode for name, result in done}


def test_the_workflows_are_wired_as_documented() -> None:
    pull, apply = load("pull-request.yml"), load("apply.yml")
    assert "pull_request" in pull["on"] and pull["permissions"]["pull-requests"] == "write"
    assert apply["on"]["push"]["branches"] == ["main"]
    assert apply["concurrency"] == {"group": "reconcile-apply", "cancel-in-progress": False}
    (apply_step,) = [
        s for s in apply["jobs"]["apply"]["steps"] if "reconcile apply" in s.get("run", "")
    ]
    assert "--lock-timeout" in apply_step["run"]
    for workflow in (pull, apply, load("drift.yml")):
        text = yaml.safe_dump(workflow)
        for secret in ("OPENAI_API_KEY", "ES_URL", "ES_API_KEY"):
            assert f"${{{{ secrets.{secret} }}}}" in text
        assert workflow["env"]["RECONCILE_OWNER"] == "${{ github.repository }}"


def test_pull_request_validates_plans_and_writes_the_summary(runner: Runner) -> None:
    done = runner.run("pull-request.yml")
    assert codes(done) == {"Validate the manifests": 0, "Plan against the cluster": 0}
    summary = runner.summary()
    assert summary.startswith("### reconcile plan: changes")
    assert "| `+` | create | `openai-embeddings` |" in summary
    assert "changes=true" in runner.outputs()
    assert (runner.workdir / "plan.md").read_text() == summary  # the PR comment's body
    assert runner.endpoints() == {}  # a plan writes nothing
    assert all(KEY not in r.stdout + r.stderr for _, r in done) and KEY not in summary


def test_an_invalid_manifest_is_annotated_and_stops_the_job(runner: Runner) -> None:
    write_manifest(runner.workdir / "manifests", "bad", "inference_id: Bad Id\n")
    done = runner.run("pull-request.yml")
    assert codes(done) == {"Validate the manifests": 1}
    annotations = done[0][1].stdout
    assert re.search(r"^::error file=manifests/bad\.yaml,line=1,col=\d+,title=", annotations, re.M)


def test_apply_on_main_then_the_pull_request_plan_is_empty(runner: Runner) -> None:
    done = runner.run("apply.yml")
    assert codes(done) == {"Validate the manifests": 0, "Apply": 0}, done[-1][1].stderr
    assert runner.summary().startswith("### reconcile apply succeeded")
    assert "| `openai-chat` | create | ok |" in runner.summary()
    assert (
        "| `openai-embeddings` | text_embedding | ✓ 1 vector of 128 dimensions" in runner.summary()
    )
    junit = ET.parse(runner.workdir / "reconcile-junit.xml").getroot()
    smoke = junit.find("testsuite[@name='reconcile smoke']")
    assert smoke is not None and smoke.get("tests") == "4" and smoke.get("failures") == "0"
    assert set(runner.endpoints()) == {
        "openai-chat",
        "openai-completion",
        "openai-embeddings",
        "openai-embeddings-chunked",
    }
    runner.reset()
    assert codes(runner.run("pull-request.yml"))["Plan against the cluster"] == 0
    assert runner.summary().startswith("### reconcile plan: no changes")
    assert "changes=false" in runner.outputs()


def test_apply_waits_for_the_lock_and_names_the_holder(runner: Runner) -> None:
    with runner.es() as es:  # a lock held by someone else, expiring in a minute
        lock = {
            "kind": "lock",
            "id": "feedface",
            "holder": "alice@laptop pid 42",
            "command": "watch",
            "acquired_at": "2030-01-01T00:00:00Z",
            "expires_at": "2999-01-01T00:00:00Z",
        }
        assert es.put("/reconciler-state/_doc/_lock?refresh=true", json=lock).status_code < 300
    apply = load("apply.yml")
    step = apply_step(apply)
    quick = {**step, "run": step["run"].replace("--lock-timeout 300", "--lock-timeout 1")}
    result = runner.step(quick, apply["env"])
    assert result.returncode == 1
    assert "alice@laptop pid 42 running `watch`" in result.stderr
    assert runner.endpoints() == {}


def test_drift_fails_the_scheduled_check_and_says_what(runner: Runner) -> None:
    assert codes(runner.run("apply.yml"))["Apply"] == 0
    runner.reset()
    assert codes(runner.run("drift.yml")) == {"Compare the cluster with main": 0}
    with runner.es() as es:
        update = {"task_settings": {"user": "mallory"}}
        response = es.put("/_inference/chat_completion/openai-chat/_update", json=update)
        assert response.status_code == 200
    runner.reset()
    done = runner.run("drift.yml")
    assert codes(done) == {"Compare the cluster with main": 1}
    assert "::error title=reconcile drift::" in done[0][1].stdout
    assert "⚠ drift" in runner.summary()


# --- pre-commit ---------------------------------------------------------------------------


def test_the_pre_commit_hook_runs_validate_on_the_files_it_is_given(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert (hook["id"], hook["entry"], hook["language"]) == (
        "reconcile-validate",
        "reconcile validate",
        "python",
    )
    pyproject = (REPO / "pyproject.toml").read_text()  # the entry is the console script
    assert 'reconcile = "reconciler.cli:main"' in pyproject
    # a user's repository: manifests/ beside other YAML (compose, workflows, Helm values)
    user_repo = tmp_path / "repo"
    for example in (REPO / "examples").glob("*.y*ml"):
        target = user_repo / "manifests" / example.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example.read_text())
    for other in ("docker-compose.yml", ".github/workflows/ci.yml", "charts/values.yaml"):
        (user_repo / other).parent.mkdir(parents=True, exist_ok=True)
        (user_repo / other).write_text("services: {}\n")
    selected = pre_commit_selects(hook, user_repo)
    assert selected == sorted(f"manifests/{p.name}" for p in (REPO / "examples").glob("*.y*ml"))
    assert run_entry(hook["entry"], selected, cwd=user_repo).returncode == 0
    write_manifest(user_repo / "manifests", "bad", completion().replace("gpt-4o-mini", "''"))
    assert pre_commit_selects(hook, user_repo) == sorted([*selected, "manifests/bad.yaml"])
    result = run_entry(hook["entry"], [*selected, "manifests/bad.yaml"], cwd=user_repo)
    assert result.returncode == 1 and "bad.yaml:" in result.stdout


def pre_commit_selects(hook: dict[str, Any], root: Path) -> list[str]:
    """The files pre-commit hands the hook: `types: [yaml]` (by extension), then `files`."""
    assert hook["types"] == ["yaml"]
    files = re.compile(hook["files"])
    names = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return sorted(n for n in names if n.endswith((".yaml", ".yml")) and files.search(n))


def run_entry(entry: str, files: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """What pre-commit runs: the entry, then the matching file names."""
    command, *args = entry.split()
    executable = shutil.which(command) or str(Path(sys.executable).parent / command)
    return subprocess.run(
        [executable, *args, *files], capture_output=True, text=True, timeout=60, cwd=cwd
    )
