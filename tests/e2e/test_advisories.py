"""`reconcile plan` gives advisories and never fails on them: the `_services` cross-check and
EIS model end of life, through the real CLI against a fake Elasticsearch (`fake_es`), with the
clock fixed at the edge (`connect.utc_now`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import connect
from tests.e2e.fake_es import FakeEs, cli_runner, endpoints

pytestmark = pytest.mark.e2e

KEY = "sk-advisory-canary-0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MANIFEST = """\
inference_id: emb
task_type: text_embedding
service: openai
service_settings:
  api_key: ${OPENAI_API_KEY}
  model_id: text-embedding-3-small
"""
EIS_CHAT = {
    "inference_id": ".rainbow-sprinkles-elastic",
    "task_type": "chat_completion",
    "service": "elastic",
    "service_settings": {"model_id": "rainbow-sprinkles"},
    "metadata": {
        "heuristics": {
            "status": "ga",
            "release_date": "2024-01-01",
            "end_of_life_date": "2026-04-15",
        }
    },
}
SERVICES = [
    {"service": "elastic", "name": "Elastic", "task_types": ["chat_completion"]},
    {
        "service": "elasticsearch",
        "configurations": {"model_id": {"supported_task_types": ["sparse_embedding"]}},
    },
]
NOT_OFFERED = (
    "warning: emb: the cluster does not offer service 'openai' (GET _inference/_services lists "
    "elastic, elasticsearch); creating it will likely fail"
)
END_OF_LIFE = (
    "warning: .rainbow-sprinkles-elastic: EIS model 'rainbow-sprinkles' reaches its end of life "
    "on 2026-04-15 (in 45 days); move the endpoint to a newer model"
)


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "emb.yaml").write_text(MANIFEST)
    monkeypatch.setattr(connect, "utc_now", lambda: NOW)
    fake = FakeEs({"GET /_inference/_all": endpoints(EIS_CHAT)})
    fake.install(monkeypatch)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ES_URL": "http://127.0.0.1:9200",
        "OPENAI_API_KEY": KEY,
    }
    state = f"file:{tmp_path / 'state.json'}"

    def plan(*args: str) -> tuple[int, str, str]:
        invoke = cli_runner(capsys, env)
        return invoke("plan", str(tmp_path / "m"), "--state", state, *args)

    return fake, env, plan


def test_plan_warns_about_an_unoffered_service_and_an_ending_model(world: Any) -> None:
    fake, _, plan = world
    fake.routes["GET /_inference/_services"] = SERVICES
    code, out, err = plan()
    assert code == 0
    assert err.splitlines() == [NOT_OFFERED, END_OF_LIFE]
    assert "+ create emb" in out or "emb" in out
    assert fake.seen.count("GET /_inference/_services") == 1
    assert KEY not in out + err


def test_json_on_stdout_stays_json_and_warnings_go_to_stderr(world: Any) -> None:
    fake, _, plan = world
    fake.routes["GET /_inference/_services"] = SERVICES
    code, out, err = plan("--format", "json", "--detailed-exitcode")
    assert code == 2  # the create, not the warnings
    model = json.loads(out)
    assert model["summary"]["create"] == 1
    assert NOT_OFFERED in err
    messages = [item["message"] for item in model["advisories"]]
    assert NOT_OFFERED.removeprefix("warning: ") in messages


def test_in_github_actions_they_are_annotations_on_the_manifest(world: Any, tmp_path: Path) -> None:
    fake, env, plan = world
    fake.routes["GET /_inference/_services"] = SERVICES
    env["GITHUB_ACTIONS"] = "true"
    code, _, err = plan()
    assert code == 0
    manifest = tmp_path / "m" / "emb.yaml"
    first, second = err.splitlines()
    assert first.startswith(f"::warning file={manifest},line=1,col=15,title=reconcile%3A ")
    assert first.endswith(
        "does not offer service 'openai' (GET _inference/_services lists "
        "elastic, elasticsearch); creating it will likely fail"
    )
    assert second.startswith("::warning title=reconcile%3A model-end-of-life::")


@pytest.mark.parametrize(
    "answer",
    [
        None,  # no route: 404
        httpx.Response(400, json={"error": {"type": "illegal_argument_exception"}}),
        httpx.Response(403, json={"error": {"type": "security_exception"}}),
        httpx.Response(500, text="boom"),
        httpx.Response(200, text="<html>not json</html>"),
        {"unexpected": {"format": True}},
        [{"name": "no service key"}],
    ],
)
def test_without_a_readable_services_answer_there_is_no_cross_check_and_no_failure(
    world: Any, answer: Any
) -> None:
    fake, _, plan = world
    if answer is not None:
        fake.routes["GET /_inference/_services"] = answer
    code, _, err = plan()
    assert code == 0
    assert err.splitlines() == [END_OF_LIFE]
