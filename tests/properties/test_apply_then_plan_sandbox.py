"""Property (issue #4 acceptance): for any valid manifest, apply then plan reports no changes —
against the sandbox, not a model of it. Hypothesis draws manifests of every task type and
server generation; each is applied through the pipeline to a fresh in-process sandbox of that
version, then planned again.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, assume, given, settings

from reconciler.client import EsClient
from reconciler.executor import ApplySettings
from reconciler.model import Action
from reconciler.pipeline import ApplyRequest, Ports, apply_changes, compute_plan, load_manifests
from reconciler.planner import PlanOptions
from reconciler.state import FileStateStore
from reconciler.target import Target
from tests.fixtures.sandbox import make_sandbox_app
from tests.properties.manifests import Case, cases

KEY = "sk-property-0123456789abcdef"
SANDBOX_MODELS = {
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
    "gpt-4o",
    "gpt-4o-mini",
}


def sandbox_accepts(case: Case) -> bool:
    """Real OpenAI model names only, and the default url (an explicit one is called as given,
    and an in-process sandbox has no address)."""
    settings = case.body["service_settings"]
    return settings["model_id"] in SANDBOX_MODELS and "url" not in settings


def manifest(case: Case) -> str:
    body: dict[str, Any] = json.loads(json.dumps(case.body))
    body["service_settings"]["api_key"] = "${OPENAI_API_KEY}"
    document = {"inference_id": "prop", "task_type": case.task_type.lower(), **body}
    return json.dumps(document)  # JSON is YAML


async def apply_then_plan(case: Case, folder: Path) -> list[Any]:
    manifests = load_manifests([str(folder)])
    assume(manifests.valid)
    version = ".".join(map(str, case.release)) + ".0"
    app = make_sandbox_app(es_version=version)
    transport = httpx.ASGITransport(app=app)
    async with EsClient(Target("http://sandbox"), transport=transport) as client:
        store = FileStateStore(str(folder / "state.json"))
        ports = Ports(client, store, {"OPENAI_API_KEY": KEY}, lambda: datetime.now(UTC))
        request = ApplyRequest(options=PlanOptions(), settings=ApplySettings(), smoke="none")
        report = await apply_changes(manifests, ports, request)
        assert report.ok, report.outcome
        again = await compute_plan(manifests, ports, PlanOptions())
    return [c for c in again.plan.changes if c.action is not Action.NOOP]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases().filter(sandbox_accepts))
def test_apply_then_plan_reports_no_changes(case: Case, tmp_path_factory: Any) -> None:
    folder = tmp_path_factory.mktemp("m")
    (folder / "prop.yaml").write_text(manifest(case))
    leftover = asyncio.run(apply_then_plan(case, folder))
    assert leftover == [], (case, leftover)
