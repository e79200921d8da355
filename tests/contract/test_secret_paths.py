"""An endpoint with two secret paths, planned and applied against the in-process sandbox.

The sandbox is an `openai` server: it knows one secret, `service_settings.api_key`. A transport
in front of it keeps every inference request body exactly as the client sent it, then hands the
sandbox the body without the second secret (`service_settings.second_key`), as a server of a
two-secret service would take it. A second secret equal to `REFUSED` is refused with an error
quoting it, as a careless server might. The canary values must reach the server at their paths
and nowhere else: not the plan (text, JSON, markdown), the saved plan, the state document, the
outcomes or the apply report.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.executor import ApplyOutcome, ApplySettings, execute
from reconciler.executor.steps import StepContext, restore
from reconciler.model import API_KEY, Action, DesiredEndpoint, FieldChange, Reason
from reconciler.pipeline import (
    ApplyReport,
    PlanResult,
    Ports,
    load_manifests,
    plan_endpoints,
    resolve_keys,
)
from reconciler.planner import PlanOptions
from reconciler.render import apply_report, plan_markdown, plan_text
from reconciler.render.plan_json import as_json, plan_to_dict
from reconciler.retry import RetryPolicy
from reconciler.saved_plan import SavedPlan, dump, live_digest, manifests_digest
from reconciler.secrets import Secret, fingerprint
from reconciler.state import FileStateStore
from reconciler.target import Target
from tests.contract.apply_harness import KEY_VAR, NOW, manifest
from tests.fixtures.sandbox import make_sandbox_app

pytestmark = pytest.mark.anyio

SECOND = ("service_settings", "second_key")
SECOND_PATH = "service_settings.second_key"
KEY = "sk-first-0123456789abcdef0123"
CANARY = "sk-second-CANARY-0a1b2c3d4e5f6a7b"
ROTATED = "sk-second-ROTATED-8c9d0e1f2a3b4c5d"
REFUSED = "sk-second-REFUSED-6e7f8091a2b3c4d5"


class SecondSecret(httpx.AsyncBaseTransport):
    """Keeps each inference request body as sent; the sandbox gets it without `second_key`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "PUT" or not request.url.path.startswith("/_inference/"):
            return await self.inner.handle_async_request(request)
        self.sent.append((request.method, request.url.path, json.loads(request.content or b"{}")))
        body = json.loads(request.content or b"{}")
        settings = body.get("service_settings")
        second = settings.pop("second_key", None) if isinstance(settings, dict) else None
        if second == REFUSED:
            reason = f"The provided second_key [{second}] is not valid"
            error = {"error": {"type": "status_exception", "reason": reason}, "status": 400}
            return httpx.Response(400, json=error, request=request)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "content-length"]
        forwarded = httpx.Request(
            request.method, request.url, headers=headers, content=json.dumps(body).encode()
        )
        return await self.inner.handle_async_request(forwarded)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """The bodies sent to `path` (a prefix), in order."""
        return [body for _, sent, body in self.sent if sent.startswith(path)]


@dataclasses.dataclass
class Setup:
    client: EsClient
    store: FileStateStore
    transport: SecondSecret
    folder: Path
    state_file: Path

    async def plan(self, second: str, **options: Any) -> PlanResult:
        manifests = load_manifests([str(self.folder)])
        assert manifests.valid, manifests.diagnostics
        ports = Ports(self.client, self.store, {KEY_VAR: KEY}, lambda: NOW)
        desired = [with_second(d, second) for d in resolve_keys(manifests, ports.env)]
        return await plan_endpoints(desired, ports, PlanOptions(**options))

    async def execute(self, result: PlanResult) -> ApplyOutcome:
        return await execute(
            result.plan,
            desired={d.inference_id: d for d in result.desired},
            client=self.client,
            store=self.store,
            salt=await self.store.salt(),
            settings=ApplySettings(),
            now=lambda: NOW,
        )


def with_second(item: DesiredEndpoint, value: str) -> DesiredEndpoint:
    return dataclasses.replace(item, secrets={**item.secrets, SECOND: Secret(value)})


@asynccontextmanager
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    app = make_sandbox_app()
    transport = SecondSecret(httpx.ASGITransport(app=app))
    retry = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002, max_retry_after=0.0)
    client = EsClient(Target("http://sandbox"), transport=transport, retry=retry)
    folder = tmp_path / "manifests"
    folder.mkdir()
    path = folder / "comp.yaml"
    path.write_text(json.dumps(manifest("comp", "completion", task={"user": "u"})))
    state_file = tmp_path / "state.json"
    try:
        yield Setup(client, FileStateStore(state_file), transport, folder, state_file)
    finally:
        await client.aclose()
        await app.aclose()


def texts_of(result: PlanResult, outcome: ApplyOutcome | None = None) -> list[str]:
    """Everything a user or a CI job gets to read of a plan and its apply."""
    model = plan_to_dict(result.plan)
    saved = SavedPlan(
        result.plan,
        "nonce",
        manifests_digest(result.desired, "nonce"),
        live_digest(result.live, result.state.records),
    )
    found = [
        plan_text.render(model, show_unchanged=True),
        plan_markdown.render(model),
        as_json(result.plan),
        json.dumps(dump(saved)),
        repr(result.plan),
    ]
    if outcome is not None:
        report = apply_report.report_to_dict(ApplyReport(result.plan, outcome, ()))
        found += [
            apply_report.as_text(report),
            apply_report.as_json(report),
            apply_report.as_markdown(report),
            repr(outcome),
        ]
    return found


def assert_nowhere(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert secret[8:24] not in text  # not even a fragment


async def test_every_secret_path_is_sent_recorded_rotated_and_never_shown(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        # create: both secrets in the PUT, at their paths; both fingerprinted in state
        created = await s.plan(CANARY)
        assert [c.action for c in created.plan.changes] == [Action.CREATE]
        outcome = await s.execute(created)
        assert outcome.ok, outcome
        (put,) = s.transport.bodies("/_inference/completion/comp")
        assert put["service_settings"]["api_key"] == KEY
        assert put["service_settings"]["second_key"] == CANARY
        salt = await s.store.salt()
        record = (await s.store.read_all())["comp"]
        assert record.secret_fingerprints == {
            "service_settings.api_key": fingerprint(Secret(KEY), salt),
            SECOND_PATH: fingerprint(Secret(CANARY), salt),
        }
        state_text = s.state_file.read_text()
        assert_nowhere([*texts_of(created, outcome), state_text], CANARY, KEY)

        # the same secrets: nothing to do
        assert not (await s.plan(CANARY)).plan.has_changes

        # only the second secret rotates: one sensitive change, that path; the probe and the
        # update carry every secret (the server rebuilds secret settings whole)
        rotated = await s.plan(ROTATED)
        (change,) = rotated.plan.changes
        assert (change.action, change.code) == (Action.UPDATE, Reason.ROTATE_UPDATE)
        assert change.fields == (FieldChange(SECOND_PATH, sensitive=True),)
        shown = plan_text.render(plan_to_dict(rotated.plan))
        assert "~ service_settings.second_key: (sensitive) changed" in shown
        assert "service_settings.api_key" not in shown
        before = len(s.transport.sent)
        outcome = await s.execute(rotated)
        assert outcome.ok, outcome
        assert outcome.outcomes[0].message == "updated in place: second_key (sensitive)"
        sent = s.transport.sent[before:]
        probe = [body for _, path, body in sent if "/reconcile-probe-" in path]
        update = [body for _, path, body in sent if path.endswith("/comp/_update")]
        assert probe and update
        secrets = {"api_key": KEY, "second_key": ROTATED}
        assert probe[0]["service_settings"] == {"model_id": "gpt-4o-mini", **secrets}
        assert update == [{"service_settings": secrets}]
        record = (await s.store.read_all())["comp"]
        assert record.secret_fingerprints[SECOND_PATH] == fingerprint(Secret(ROTATED), salt)
        assert record.secret_fingerprints["service_settings.api_key"] == fingerprint(
            Secret(KEY), salt
        )
        assert not (await s.plan(ROTATED)).plan.has_changes
        state_text = s.state_file.read_text()
        assert_nowhere([*texts_of(rotated, outcome), state_text], CANARY, ROTATED, KEY)


async def test_a_server_error_quoting_the_second_secret_is_redacted(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        assert (await s.execute(await s.plan(CANARY))).ok
        refused = await s.plan(REFUSED)
        outcome = await s.execute(refused)
        (failed,) = outcome.outcomes
        assert failed.status == "failed"
        assert "refused on a probe endpoint" in failed.message
        assert "(sensitive)" in failed.message
        salt = await s.store.salt()
        record = (await s.store.read_all())["comp"]  # the endpoint kept its secrets
        assert record.secret_fingerprints[SECOND_PATH] == fingerprint(Secret(CANARY), salt)
        texts = [*texts_of(refused, outcome), s.state_file.read_text()]
        assert_nowhere(texts, REFUSED, CANARY, KEY)


async def test_a_replace_restore_puts_every_secret_back(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        assert (await s.execute(await s.plan(CANARY))).ok
        live = await s.client.get_endpoint("completion", "comp")
        assert "second_key" not in json.dumps(live.body)  # GET never shows a secret
        store = s.store
        ctx = StepContext(s.client, store, await store.salt(), ApplySettings(), lambda: NOW)
        desired = (await s.plan(CANARY)).desired[0]
        await s.client.delete_endpoint(live.task_type, live.inference_id)
        before = len(s.transport.sent)
        await restore(ctx, live, desired)
        (_, path, body), *_ = s.transport.sent[before:]
        assert path == "/_inference/completion/comp"
        assert body["service_settings"]["api_key"] == KEY
        assert body["service_settings"]["second_key"] == CANARY
        assert desired.secrets[API_KEY] == Secret(KEY)
