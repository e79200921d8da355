"""The example GitLab CI template, run for real against a sandbox process.

Every job's `script` runs in bash as a GitLab runner would (each line fails the job on error),
with the template's `variables`, GitLab's predefined ones, and the CI/CD variables pointing
at a sandbox that demands an API key; the merge-request note goes to a loopback stand-in for
the GitLab API. The install in `before_script` is left to GitLab (the package under test is
already importable)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml

from tests.e2e.conftest import KEY
from tests.fixtures.sandbox import start_sandbox_process

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"
ES_KEY_ID = "gitlab:not-a-real-secret"
VARIABLE = re.compile(r"\$(\w+)")


class Notes(BaseHTTPRequestHandler):
    """Records merge-request notes posted to the stand-in GitLab API."""

    received: ClassVar[list[tuple[str, dict[str, str], dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Notes.received.append((self.path, dict(self.headers), body))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": 1}')

    def log_message(self, *args: object) -> None:
        return None


class GitLab:
    def __init__(self, sandbox_url: str, workdir: Path, api_url: str) -> None:
        self.template: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
        self.workdir = workdir
        self.predefined = {
            "CI_PROJECT_PATH": "acme/endpoints",
            "CI_PROJECT_ID": "42",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_API_V4_URL": api_url,
            "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        }
        self.secrets = {
            "ES_URL": sandbox_url,
            "ES_API_KEY": base64.b64encode(ES_KEY_ID.encode()).decode(),
            "OPENAI_API_KEY": KEY,
        }

    def job(self, name: str, **extra: str) -> subprocess.CompletedProcess[str]:
        variables = {k: VARIABLE.sub(self._lookup, str(v)) for k, v in self.variables().items()}
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.workdir),
            "PYTHONPATH": str(REPO),
            **self.predefined,
            **self.secrets,
            **variables,
            **extra,
        }
        script = "\n".join(self.template[name]["script"])
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def variables(self) -> dict[str, Any]:
        return dict(self.template["variables"])

    def _lookup(self, match: re.Match[str]) -> str:
        return self.predefined.get(match.group(1), match.group(0))

    def endpoints(self) -> set[str]:
        headers = {"Authorization": f"ApiKey {self.secrets['ES_API_KEY']}"}
        with httpx.Client(base_url=self.secrets["ES_URL"], headers=headers) as es:
            found = es.get("/_inference/_all").json()["endpoints"]
        return {e["inference_id"] for e in found if not e["inference_id"].startswith(".")}


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[GitLab]:
    shutil.copytree(
        REPO / "examples", tmp_path / "manifests", ignore=shutil.ignore_patterns("ci", "services")
    )
    server = HTTPServer(("127.0.0.1", 0), Notes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Notes.received.clear()
    try:
        with start_sandbox_process(api_keys=[ES_KEY_ID]) as sandbox:
            yield GitLab(sandbox.url, tmp_path, f"http://127.0.0.1:{server.server_port}/api/v4")
    finally:
        server.shutdown()


def test_the_template_is_wired_as_documented() -> None:
    template = yaml.safe_load(TEMPLATE.read_text())
    assert template["stages"] == ["validate", "plan", "apply"]
    assert template["apply"]["resource_group"] == "reconcile-apply"
    assert template["apply"]["artifacts"]["reports"]["junit"] == "reconcile-junit.xml"
    assert template["apply"]["artifacts"]["when"] == "always"
    assert "merge_request_event" in str(template["plan"]["rules"])
    assert "CI_DEFAULT_BRANCH" in str(template["apply"]["rules"])
    assert "--prune" in template["plan"]["script"][0]
    assert "--prune" in template["apply"]["script"][0]


def test_merge_request_then_default_branch(gitlab: GitLab) -> None:
    assert gitlab.job("validate").returncode == 0
    planned = gitlab.job("plan", GITLAB_TOKEN="glpat-not-a-real-token")
    assert planned.returncode == 0, planned.stderr
    plan = (gitlab.workdir / "plan.md").read_text()
    assert plan.startswith("### reconcile plan: changes")
    ((path, headers, note),) = Notes.received
    assert path == "/api/v4/projects/42/merge_requests/7/notes"
    assert headers["PRIVATE-TOKEN"] == "glpat-not-a-real-token"
    assert note["body"] == plan

    applied = gitlab.job("apply")
    assert applied.returncode == 0, applied.stderr
    assert gitlab.endpoints() == {
        "openai-chat",
        "openai-completion",
        "openai-embeddings",
        "openai-embeddings-chunked",
    }
    report = ET.parse(gitlab.workdir / "reconcile-junit.xml").getroot()
    smoke = report.find("testsuite[@name='reconcile smoke']")
    assert smoke is not None and smoke.get("tests") == "4" and smoke.get("failures") == "0"
    assert KEY not in (gitlab.workdir / "reconcile-junit.xml").read_text()

    again = gitlab.job("plan")  # no GITLAB_TOKEN: no note, still a plan
    assert again.returncode == 0
    assert (gitlab.workdir / "plan.md").read_text().startswith("### reconcile plan: no changes")
    assert len(Notes.received) == 1


def test_an_invalid_manifest_fails_the_validate_job(gitlab: GitLab) -> None:
    bad = gitlab.workdir / "manifests" / "bad.yaml"
    bad.write_text("inference_id: bad\ntask_type: completion\nservice: openai\n")
    result = gitlab.job("validate")
    assert result.returncode == 1
    assert "bad.yaml:1:1: error:" in result.stdout


def test_a_failing_plan_fails_the_job(gitlab: GitLab) -> None:
    result = gitlab.job("plan", ES_API_KEY=base64.b64encode(b"wrong:key").decode())
    assert result.returncode == 1
    assert Notes.received == []
