"""One fact, two homes, cross-checked: the reconciler's per-release update tables
(`UPDATE_FACTS` in `reconciler/defaults.py`, each service's update steps in
`reconciler/services/registry.py`) and the sandbox's update emulation (`reconciler/sandbox/`) are
written independently, each from the upstream sources. This drives every updatable field on
every emulated release — one release on each side of every boundary the sources name — through
apply → plan against the sandbox: each apply must succeed, leave the endpoint exactly as the
manifest declares (chunking included), and the next plan must be a no-op. If the two models
disagree (the planner updates in place what the server resets or ignores, or replaces what it
could update), a plan after apply shows it and this test fails.

Boundaries (upstream evidence):
* 8.17.0: `_update` exists (spec `@availability stack since=8.17.0`); a no-op update rewrites;
* 8.17–9.1, 9.2.0–9.2.5, 9.3.0: `_update` resets chunking to word/250/100
  (elastic/elasticsearch#139574; fixed by #141687 in 9.2.6 and #141682 in 9.3.1);
* before 9.4.0: `_update` makes no validation call (#140003);
* 9.2.0: `headers` task setting; the 300 cap on `max_chunk_size` is gone (#133718);
* 9.5.0: rate_limit, organization_id, max_input_tokens updatable (#147465); chunking replaced
  whole (#149723).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.executor import ApplySettings
from reconciler.model import Action
from reconciler.pipeline import ApplyRequest, Ports, apply_changes, compute_plan, load_manifests
from reconciler.planner import PlanOptions
from reconciler.state import FileStateStore
from reconciler.target import Target
from tests.fixtures.sandbox import make_sandbox_app

RELEASES = (
    "8.16.6",
    "8.17.0",
    "8.17.2",
    "8.19.7",
    "9.0.0",
    "9.1.7",
    "9.2.0",
    "9.2.5",
    "9.2.6",
    "9.3.0",
    "9.3.1",
    "9.4.0",
    "9.5.0",
)
KEYS = ("sk-cross-check-key-one-0123456789", "sk-cross-check-key-two-9876543210")
EMBEDDING: dict[str, Any] = {
    "inference_id": "emb",
    "task_type": "text_embedding",
    "service": "openai",
    "service_settings": {
        "api_key": "${OPENAI_API_KEY}",
        "model_id": "text-embedding-3-small",
        "dimensions": 128,
    },
    "task_settings": {"user": "before"},
    "chunking_settings": {"strategy": "word", "max_chunk_size": 120, "overlap": 40},
}
COMPLETION: dict[str, Any] = {
    "inference_id": "comp",
    "task_type": "completion",
    "service": "openai",
    "service_settings": {"api_key": "${OPENAI_API_KEY}", "model_id": "gpt-4o-mini"},
    "task_settings": {"user": "before"},
}


@dataclass(frozen=True)
class Change:
    name: str
    base: dict[str, Any]
    path: tuple[str, ...]  # () = the api_key rotation
    value: Any = None
    since: tuple[int, int] = (8, 15)


CHANGES = (
    Change("embedding user", EMBEDDING, ("task_settings", "user"), "after"),
    Change("completion user", COMPLETION, ("task_settings", "user"), "after"),
    Change("embedding key", EMBEDDING, ()),
    Change("completion key", COMPLETION, ()),
    Change("headers", COMPLETION, ("task_settings", "headers"), {"X-Team": "search"}, (9, 2)),
    Change(
        "rate limit", EMBEDDING, ("service_settings", "rate_limit"), {"requests_per_minute": 99}
    ),
    Change("organization", COMPLETION, ("service_settings", "organization_id"), "org-after"),
    Change("max input tokens", EMBEDDING, ("service_settings", "max_input_tokens"), 512),
    Change(
        "chunking",
        EMBEDDING,
        ("chunking_settings",),
        {"strategy": "sentence", "max_chunk_size": 200, "sentence_overlap": 1},
    ),
)


def changed(change: Change) -> dict[str, Any]:
    document = json.loads(json.dumps(change.base))
    if change.path:
        parent = document
        for key in change.path[:-1]:
            parent = parent.setdefault(key, {})
        parent[change.path[-1]] = change.value
    return document


def release(version: str) -> tuple[int, int]:
    major, minor, _ = (int(part) for part in version.split("."))
    return major, minor


async def apply_and_plan(
    ports: Ports, folder: Path, document: dict[str, Any]
) -> tuple[Any, list[Any]]:
    (folder / "m.yaml").write_text(json.dumps(document))
    manifests = load_manifests([str(folder)])
    assert manifests.valid, manifests.diagnostics
    request = ApplyRequest(options=PlanOptions(), settings=ApplySettings(), smoke="all")
    report = await apply_changes(manifests, ports, request)
    again = await compute_plan(manifests, ports, PlanOptions())
    return report, [c for c in again.plan.changes if c.action is not Action.NOOP]


async def cross_check(version: str, change: Change, folder: Path) -> None:
    app = make_sandbox_app(es_version=version)
    transport = httpx.ASGITransport(app=app)
    async with EsClient(Target("http://sandbox"), transport=transport) as client:
        store = FileStateStore(str(folder / "state.json"))
        env = {"OPENAI_API_KEY": KEYS[0]}
        ports = Ports(client, store, env, lambda: datetime.now(UTC))
        report, left = await apply_and_plan(ports, folder, change.base)
        assert report.ok and left == [], (version, "create", report.outcome, left)
        if not change.path:
            env["OPENAI_API_KEY"] = KEYS[1]
        report, left = await apply_and_plan(ports, folder, changed(change))
        assert report.ok, (version, change.name, report.outcome, report.smoke)
        assert left == [], (version, change.name, left)
        live = await client.get_endpoint(change.base["task_type"], change.base["inference_id"])
    declared = changed(change).get("chunking_settings")
    if declared is not None:
        assert live.body.get("chunking_settings") == declared, (version, change.name, live.body)
    await app.aclose()


CASES = [
    pytest.param(version, change, id=f"{version}-{change.name}")
    for version in RELEASES
    for change in CHANGES
    if release(version) >= change.since
]


@pytest.mark.parametrize(("version", "change"), CASES)
def test_every_updatable_field_on_every_release_applies_then_plans_clean(
    version: str, change: Change, tmp_path: Path
) -> None:
    asyncio.run(cross_check(version, change, tmp_path))
