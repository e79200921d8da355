"""The executor against the in-process sandbox: every action, failures, faults, secrets.

Plans come from the real planner (`pipeline.compute_plan`); assertions are on what the
server and the state store end up holding, not only on the outcomes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from reconciler.executor import ApplyOutcome, ApplySettings, remove_stray_probes
from reconciler.executor.steps import PROBE_PREFIX
from reconciler.model import Action, Pending, Plan, Reason, StateRecord
from reconciler.pipeline import ApplyRequest, PlanResult, apply_changes, load_manifests
from reconciler.planner import PlanOptions
from reconciler.sandbox.faults import FaultRule
from reconciler.secrets import Secret, fingerprint
from reconciler.state import STATE_INDEX
from tests.contract.apply_harness import KEY_VAR, NOW, Harness, actions, by_id, harness, manifest

pytestmark = pytest.mark.anyio

OLD_KEY = "sk-old-0123456789abcdef0123"
NEW_KEY = "sk-new-fedcba9876543210fedc"


async def _created(h: Harness, *docs: dict[str, object], key: str = OLD_KEY) -> ApplyOutcome:
    h.env[KEY_VAR] = key
    h.write(*docs)
    outcome = await h.apply()
    assert outcome.ok, outcome
    return outcome


def _no_probes(live: Mapping[str, object]) -> bool:
    return not any(name.startswith(PROBE_PREFIX) for name in live)


# --- create ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["file", "index"])
async def test_create_reads_back_verifies_and_records_state(tmp_path: Path, backend: str) -> None:
    async with harness(tmp_path, backend=backend) as h:
        h.env[KEY_VAR] = OLD_KEY
        h.write(manifest("emb", settings={"dimensions": 64}), manifest("chat", "chat_completion"))

        outcome = await h.execute(await h.plan(), commit="abc123")

        assert outcome.ok
        assert {(o.inference_id, o.status, o.message) for o in outcome.outcomes} == {
            ("chat", "ok", "created"),
            ("emb", "ok", "created"),
        }
        live = await h.live()
        assert live["emb"].body["service_settings"]["dimensions"] == 64
        records = await h.store.read_all()
        salt = await h.store.salt()
        record = records["emb"]
        assert record.owner == "reconciler" and record.commit == "abc123"
        assert record.applied_at == NOW.isoformat()
        assert record.key_fingerprint == fingerprint(Secret(OLD_KEY), salt)
        assert record.last_applied["service_settings"]["dimensions"] == 64
        assert not (await h.plan()).plan.has_changes  # converged


async def test_create_fails_loudly_when_the_server_does_not_take_a_field(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.env[KEY_VAR] = OLD_KEY
        h.write(manifest("emb", task={"user": "alice"}))
        result = await h.plan()
        change = result.plan.changes[0]
        lying = dataclasses.replace(
            change, spec={**(change.spec or {}), "task_settings": {"user": "bob"}}
        )
        plan = dataclasses.replace(result.plan, changes=(lying,))

        outcome = await h.execute(result, plan)

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert failed.message == (
            'the server did not take: task_settings.user (task_settings.user: sent "bob", read'
            ' back "alice"); recorded in state, the next plan names it'
        )
        assert "emb" in await h.store.read_all()  # ours, even if incomplete: never orphaned


async def test_a_failed_create_does_not_stop_the_others(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.env.update({KEY_VAR: OLD_KEY, "BAD_KEY": NEW_KEY})
        h.app.keys.revoke(NEW_KEY)
        bad = manifest("bad")
        bad["service_settings"]["api_key"] = "${BAD_KEY}"
        h.write(manifest("good"), bad, manifest("also-good", "completion"))

        outcome = await h.apply()

        status = {o.inference_id: o.status for o in outcome.outcomes}
        assert status == {"also-good": "ok", "bad": "failed", "good": "ok"}
        assert not outcome.ok
        assert "validation call to service" in by_id(outcome)["bad"].message
        assert set(await h.live()) == {"also-good", "good"}
        assert set(await h.store.read_all()) == {"also-good", "good"}


# --- update ---------------------------------------------------------------------------------


async def test_update_of_task_settings_user(tmp_path: Path) -> None:
    async with harness(tmp_path, es_version="9.4.0") as h:
        await _created(h, manifest("emb", task={"user": "alice"}))
        h.write(manifest("emb", task={"user": "bob"}))
        result = await h.plan()
        assert actions(result) == {"emb": Action.UPDATE}

        outcome = await h.execute(result)

        assert (
            outcome.ok and by_id(outcome)["emb"].message == "updated in place: task_settings.user"
        )
        assert (await h.live())["emb"].body["task_settings"] == {"user": "bob"}
        assert ("PUT", "/_inference/text_embedding/emb/_update") in h.recorder.calls
        record = (await h.store.read_all())["emb"]
        assert record.last_applied["task_settings"] == {"user": "bob"}
        assert not (await h.plan()).plan.has_changes


async def test_update_that_the_server_silently_ignores_fails_loudly(tmp_path: Path) -> None:
    """8.17–9.4 ignore service-settings keys in `_update` (`ServiceSettings.updateServiceSettings`
    returns `this` before elastic/elasticsearch#147465): the read-back shows."""
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb"))
        h.write(manifest("emb", settings={"rate_limit": {"requests_per_minute": 42}}))
        result = await h.plan()
        change = result.plan.changes[0]
        assert change.action is Action.REPLACE  # the planner knows better
        forced = dataclasses.replace(change, action=Action.UPDATE, body=None)

        outcome = await h.execute(result, dataclasses.replace(result.plan, changes=(forced,)))

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert "did not take: service_settings.rate_limit.requests_per_minute" in failed.message


async def test_update_exhausting_5xx_retries_fails_then_converges(tmp_path: Path) -> None:
    async with harness(tmp_path, es_version="9.4.0") as h:
        await _created(h, manifest("emb", task={"user": "alice"}))
        h.write(manifest("emb", task={"user": "bob"}))
        rule = h.app.faults.add(FaultRule(method="PUT", path="/_inference/*/_update", status=503))

        outcome = await h.apply()

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed" and "gave up after 5 attempts" in failed.message
        h.app.faults.remove(rule)
        await h.converge()
        assert (await h.live())["emb"].body["task_settings"] == {"user": "bob"}


# --- key rotation ---------------------------------------------------------------------------


async def test_key_rotation_by_update_where_the_server_has_the_update_api(tmp_path: Path) -> None:
    # 9.4: the update keeps chunking (elastic/elasticsearch#139574 fixed) and tries the key
    async with harness(tmp_path, es_version="9.4.0") as h:
        await _created(h, manifest("emb"), manifest("chat", "chat_completion"))
        h.env[KEY_VAR] = NEW_KEY
        result = await h.plan()
        assert {c.code for c in result.plan.changes} == {Reason.ROTATE_UPDATE}
        h.app.keys.revoke(OLD_KEY)

        outcome = await h.execute(result)

        assert outcome.ok, outcome
        assert {o.message for o in outcome.outcomes} == {"updated in place: api_key (sensitive)"}
        assert all(r.ok for r in await h.smoke()), await h.smoke()
        salt = await h.store.salt()
        for record in (await h.store.read_all()).values():
            assert record.key_fingerprint == fingerprint(Secret(NEW_KEY), salt)
        assert not (await h.plan()).plan.has_changes


async def test_key_rotation_by_recreate_where_the_server_has_no_update_api(tmp_path: Path) -> None:
    async with harness(tmp_path, es_version="8.16.0") as h:
        await _created(h, manifest("emb"), manifest("done", "completion"))
        h.env[KEY_VAR] = NEW_KEY
        result = await h.plan()
        assert {c.code for c in result.plan.changes} == {Reason.ROTATE_RECREATE}
        h.app.keys.revoke(OLD_KEY)

        outcome = await h.execute(result)

        assert outcome.ok, outcome
        assert all(o.action is Action.REPLACE for o in outcome.outcomes)
        assert all(r.ok for r in await h.smoke())
        assert _no_probes(await h.live())
        assert not (await h.plan()).plan.has_changes


# --- replace --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"settings": {"model_id": "text-embedding-3-large"}},
        {"reconcile": {"key_rotation": "recreate"}},
    ],
    ids=["model-and-key", "key-recreate"],
)
async def test_replace_with_a_bad_new_key_leaves_the_old_endpoint_serving(
    tmp_path: Path, change: dict[str, object]
) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb"))
        before = (await h.store.read_all())["emb"]
        h.env[KEY_VAR] = NEW_KEY
        h.app.keys.revoke(NEW_KEY)
        h.write(manifest("emb", **change))  # type: ignore[arg-type]
        result = await h.plan()
        assert actions(result) == {"emb": Action.REPLACE}

        outcome = await h.execute(result)

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        refused = "configuration was refused on a probe endpoint; emb was left as it was"
        assert refused in failed.message
        live = await h.live()
        assert live["emb"].body["service_settings"]["model_id"] == "text-embedding-3-small"
        assert _no_probes(live)
        assert (await h.store.read_all())["emb"] == before
        h.env[KEY_VAR] = OLD_KEY  # the old endpoint still answers with its own key
        assert [r.ok for r in await h.smoke()] == [True]


async def test_replace_of_an_immutable_field(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb", settings={"dimensions": 64}))
        h.write(manifest("emb", settings={"dimensions": 32}))
        result = await h.plan()
        assert actions(result) == {"emb": Action.REPLACE}

        outcome = await h.execute(result)

        assert outcome.ok, outcome
        assert (await h.live())["emb"].body["service_settings"]["dimensions"] == 32
        assert (await h.store.read_all())["emb"].last_applied["service_settings"][
            "dimensions"
        ] == 32
        assert _no_probes(await h.live())
        assert not (await h.plan()).plan.has_changes


async def test_replace_in_use_is_forced_only_when_disruption_is_allowed(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb", settings={"dimensions": 64}))
        mapping = {
            "mappings": {"properties": {"text": {"type": "semantic_text", "inference_id": "emb"}}}
        }
        assert (await h.raw("PUT", "/docs", mapping)).status_code == 200
        # another model of the same size: semantic_text can take it (9.1+ refuses other sizes)
        large = {"dimensions": 64, "model_id": "text-embedding-3-large"}
        h.write(manifest("emb", settings=large))
        assert actions(await h.plan()) == {"emb": Action.BLOCKED}

        result = await h.plan(allow_disruptive=True)
        outcome = await h.execute(result, allow_disruptive=True)

        assert outcome.ok, outcome
        assert ("DELETE", "/_inference/text_embedding/emb") in h.recorder.calls
        settings = (await h.live())["emb"].body["service_settings"]
        assert (settings["model_id"], settings["dimensions"]) == ("text-embedding-3-large", 64)


async def test_replace_that_changes_the_task_type_deletes_under_the_old_one(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("flex"))
        h.write(manifest("flex", "completion"))
        result = await h.plan()  # the dry run asks under the live task type
        assert actions(result) == {"flex": Action.REPLACE}

        outcome = await h.execute(result)

        assert outcome.ok, outcome
        assert ("DELETE", "/_inference/text_embedding/flex") in h.recorder.calls
        assert (await h.live())["flex"].task_type == "completion"
        assert not (await h.plan()).plan.has_changes


async def test_stray_probes_of_a_killed_apply_are_removed(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb"))
        body = {"service": "openai", "service_settings": {"model_id": "gpt-4o-mini"}}
        await h.client.put_endpoint("completion", PROBE_PREFIX + "0badc0de", body, Secret(OLD_KEY))

        removed = await remove_stray_probes(h.client, (await h.live()).values())

        assert removed == [PROBE_PREFIX + "0badc0de"]
        assert set(await h.live()) == {"emb"}


# --- delete ---------------------------------------------------------------------------------


async def test_delete_in_use_is_refused_then_forced(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb"))
        mapping = {
            "mappings": {"properties": {"text": {"type": "semantic_text", "inference_id": "emb"}}}
        }
        assert (await h.raw("PUT", "/docs", mapping)).status_code == 200
        h.write()

        refused = await h.apply({"prune": True})

        assert by_id(refused)["emb"].status == "blocked" and not refused.ok
        assert "in use by indexes [docs]" in by_id(refused)["emb"].message
        assert "emb" in await h.live()

        forced = await h.apply({"prune": True, "allow_disruptive": True}, allow_disruptive=True)

        assert forced.ok and by_id(forced)["emb"].message == "deleted"
        assert "emb" not in await h.live()
        assert "emb" not in await h.store.read_all()


async def test_delete_that_became_in_use_after_planning_fails_naming_its_users(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb"))
        h.write()
        result = await h.plan(prune=True)
        assert actions(result) == {"emb": Action.DELETE}
        pipeline = {"processors": [{"inference": {"model_id": "emb", "input_output": []}}]}
        assert (await h.raw("PUT", "/_ingest/pipeline/embed", pipeline)).status_code == 200

        outcome = await h.execute(result)

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert failed.message.startswith("in use, not deleted:") and "[embed]" in failed.message
        assert "emb" in await h.live() and "emb" in await h.store.read_all()


async def test_delete_of_an_endpoint_already_gone_forgets_its_record(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb"))
        await h.client.delete_endpoint("text_embedding", "emb")
        h.write()
        result = await h.plan(prune=True)
        assert [c.code for c in result.plan.changes] == [Reason.FORGET]

        outcome = await h.execute(result)

        assert by_id(outcome)["emb"].message == "already gone from the server; state record removed"
        assert await h.store.read_all() == {}


# --- adopt, blocked, no-op --------------------------------------------------------------------


async def test_adopt_writes_state_only(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.env[KEY_VAR] = OLD_KEY
        await h.client.put_endpoint(
            "text_embedding",
            "emb",
            {"service": "openai", "service_settings": {"model_id": "text-embedding-3-small"}},
            Secret(OLD_KEY),
        )
        h.write(manifest("emb"))
        result = await h.plan()
        assert actions(result) == {"emb": Action.ADOPT}
        upstream_calls, writes = len(h.app.upstream_log), len(h.recorder.writes())

        outcome = await h.execute(result)

        assert (
            outcome.ok and by_id(outcome)["emb"].message == "adopted into state (no server write)"
        )
        assert len(h.recorder.writes()) == writes and len(h.app.upstream_log) == upstream_calls
        record = (await h.store.read_all())["emb"]
        assert record.key_fingerprint == fingerprint(Secret(OLD_KEY), await h.store.salt())
        assert not (await h.plan()).plan.has_changes


async def test_blocked_fails_the_apply_and_no_op_is_skipped_quietly(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("same"), manifest("emb", settings={"dimensions": 64}))
        h.write(
            manifest("same"),
            manifest("emb", settings={"dimensions": 32}, reconcile={"protect": True}),
        )
        h.progress.clear()

        outcome = await h.apply()

        assert {(o.inference_id, o.status) for o in outcome.outcomes} == {
            ("emb", "blocked"),
            ("same", "skipped"),
        }
        assert not outcome.ok
        assert [o.inference_id for o in h.progress] == ["emb"]
        assert "protect: true" in by_id(outcome)["emb"].message


# --- ordering and concurrency -------------------------------------------------------------


async def test_phases_run_in_order_creates_then_replaces_then_deletes(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("gone"), manifest("swap", settings={"dimensions": 64}))
        h.write(
            manifest("swap", settings={"dimensions": 32}), manifest("zz-new"), manifest("aa-new")
        )
        result = await h.plan(prune=True)
        h.progress.clear()

        outcome = await h.execute(result, concurrency=8)

        assert outcome.ok, outcome
        order = [(o.action, o.inference_id) for o in h.progress]
        assert [a for a, _ in order] == [
            Action.CREATE,
            Action.CREATE,
            Action.REPLACE,
            Action.DELETE,
        ]
        assert [o.inference_id for o in outcome.outcomes] == ["aa-new", "zz-new", "swap", "gone"]


async def test_concurrency_bounds_the_requests_in_flight(tmp_path: Path) -> None:
    async with harness(tmp_path, latency_ms=5) as h:
        h.env[KEY_VAR] = OLD_KEY
        h.write(*(manifest(f"e{i}", "completion") for i in range(8)))
        result = await h.plan()
        h.recorder.peak = 0

        outcome = await h.execute(result, concurrency=2)

        assert outcome.ok and len(outcome.outcomes) == 8
        assert h.recorder.peak == 2


# --- faults ---------------------------------------------------------------------------------


async def test_a_429_storm_still_converges(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.env[KEY_VAR] = OLD_KEY
        h.write(*(manifest(f"e{i}", "completion") for i in range(6)), manifest("emb"))
        result = await h.plan()
        h.app.faults.add(FaultRule(path="/_inference/*", status=429, retry_after=1, count=25))

        first = await h.execute(result)
        await h.converge()

        assert len(first.outcomes) == 7 and not first.ok  # some gave up: the rerun finishes
        assert set(await h.live()) == {*(f"e{i}" for i in range(6)), "emb"}
        assert all(r.ok for r in await h.smoke())
        assert h.sleeps  # the client backed off (Retry-After honoured, capped in tests)


async def test_5xx_on_creates_and_deletes_still_converges(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("old1"), manifest("old2"))
        h.write(*(manifest(f"e{i}") for i in range(4)))
        result = await h.plan(prune=True)
        h.app.faults.add(FaultRule(method="PUT", path="/_inference/*", status=502, count=9))
        h.app.faults.add(FaultRule(method="DELETE", path="/_inference/*", status=500, count=7))

        first = await h.execute(result)
        await h.converge(prune=True)

        assert len(first.outcomes) == 6 and not first.ok

        assert set(await h.live()) == {f"e{i}" for i in range(4)}
        assert set(await h.store.read_all()) == {f"e{i}" for i in range(4)}


# --- secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["file", "index"])
async def test_a_canary_key_never_appears_in_outcomes_or_state(
    tmp_path: Path, backend: str, canary_key: str
) -> None:
    echo = {
        "error": {"type": "status_exception", "reason": f"refused key {canary_key}"},
        "status": 400,
    }
    async with harness(tmp_path, backend=backend) as h:
        h.env[KEY_VAR] = canary_key
        h.write(manifest("emb", settings={"dimensions": 64}), manifest("chat", "chat_completion"))
        h.app.faults.add(
            FaultRule(method="PUT", path="/_inference/*/emb", status=400, body=echo, count=1)
        )

        first = await h.apply()
        assert by_id(first)["emb"].status == "failed"
        await h.converge()
        h.write(manifest("emb", settings={"dimensions": 32}), manifest("chat", "chat_completion"))
        h.app.faults.add(
            FaultRule(
                method="PUT", path="/_inference/*/reconcile-probe-*", status=400, body=echo, count=1
            )
        )
        replaced = await h.apply()
        assert by_id(replaced)["emb"].status == "failed"
        await h.converge()

        seen = repr([first, replaced, h.progress]) + await _state_text(h, tmp_path)
        assert canary_key not in seen
        assert "(sensitive)" in by_id(first)["emb"].message


async def _state_text(h: Harness, tmp_path: Path) -> str:
    path = tmp_path / "state.json"
    if path.exists():
        return path.read_text(encoding="utf-8")
    docs, _ = await h.client.search(STATE_INDEX, None, 100)
    return json.dumps([d.source for d in docs])


# --- a replace whose create fails after the delete ------------------------------------------


MISSING = "the endpoint is missing — run apply again once the cause is fixed"


async def _used_by_a_document(h: Harness, index: str, inference_id: str) -> None:
    """A semantic_text field using the endpoint, and a document in it: the mapping now
    records the endpoint's model_settings (ES `ShardBulkInferenceActionFilter`)."""
    field = {"type": "semantic_text", "inference_id": inference_id}
    mapping = {"mappings": {"properties": {"text": field}}}
    assert (await h.raw("PUT", f"/{index}", mapping)).status_code == 200
    assert (await h.raw("POST", f"/{index}/_doc", {"text": "hello"})).status_code == 201


async def _forced_replace(h: Harness) -> tuple[PlanResult, Plan]:
    """The plan of an incompatible re-create, forced past the planner's block: what a plan
    made before the mapping was used (or by an older reconciler) would carry."""
    result = await h.plan(allow_disruptive=True)
    assert [c.code for c in result.plan.changes] == [Reason.INCOMPATIBLE_MAPPINGS]
    forced = dataclasses.replace(result.plan.changes[0], action=Action.REPLACE)
    return result, dataclasses.replace(result.plan, changes=(forced,))


async def test_replace_refused_after_the_delete_restores_the_previous_endpoint(
    tmp_path: Path,
) -> None:
    """9.1+ refuses to re-create an id whose semantic_text mappings recorded other dimensions
    (`TransportPutInferenceModelAction.findIndicesWithIncompatibleMappings`); the probe, under
    another id, cannot see that. The executor puts the old configuration back."""
    async with harness(tmp_path, es_version="9.1.7") as h:
        await _created(h, manifest("emb", settings={"dimensions": 64}))
        before = (await h.store.read_all())["emb"]
        await _used_by_a_document(h, "docs", "emb")
        h.write(manifest("emb", settings={"dimensions": 32}))
        result, plan = await _forced_replace(h)

        outcome = await asyncio.wait_for(h.execute(result, plan, allow_disruptive=True), 10)

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert failed.message.startswith("could not create the new configuration (")
        assert "incompatible settings for indices: [docs]" in failed.message
        assert failed.message.endswith("; the previous configuration was restored")
        assert ("DELETE", "/_inference/text_embedding/emb") in h.recorder.calls
        live = await h.live()
        assert live["emb"].body["service_settings"]["dimensions"] == 64
        assert _no_probes(live)
        answer = await h.client.infer("text_embedding", "emb", "still there?")
        assert len(answer.embeddings[0]) == 64
        assert (await h.store.read_all())["emb"] == before  # the old record, untouched
        h.write(manifest("emb", settings={"dimensions": 64}))
        assert not (await h.plan()).plan.has_changes


async def test_replace_refused_after_the_delete_with_a_new_key_leaves_the_endpoint_missing(
    tmp_path: Path,
) -> None:
    """The old key is not known after a rotation: nothing can be put back. State follows the
    server, so the next apply creates the endpoint as declared, not as outside drift."""
    async with harness(tmp_path, es_version="9.1.7") as h:
        await _created(h, manifest("emb", settings={"dimensions": 64}))
        await _used_by_a_document(h, "docs", "emb")
        h.env[KEY_VAR] = NEW_KEY
        h.write(manifest("emb", settings={"dimensions": 32}))
        result, plan = await _forced_replace(h)

        outcome = await asyncio.wait_for(h.execute(result, plan, allow_disruptive=True), 10)

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert "incompatible settings for indices: [docs]" in failed.message
        assert failed.message.endswith(
            "; the previous configuration cannot be restored (the api_key changed and the old"
            f" one is not known); {MISSING}"
        )
        assert "emb" not in await h.live()
        assert "emb" not in await h.store.read_all()
        # the cause fixed: the size the mapping recorded, and the similarity named, as 9.1+
        # needs in any create under a mapping (it never answers one without; the conformance test
        # `test_put_mappings_check_without_dimensions_and_similarity_the_put_is_never_answered`)
        fixed = {"dimensions": 64, "similarity": "dot_product"}
        h.write(manifest("emb", settings=fixed))
        again = await h.plan()
        assert [c.code for c in again.plan.changes] == [Reason.CREATE]
        assert (await h.execute(again)).ok
        assert (await h.live())["emb"].body["service_settings"]["dimensions"] == 64


async def test_replace_whose_restore_fails_too_reports_the_endpoint_missing(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb", settings={"dimensions": 64}))
        h.write(manifest("emb", settings={"dimensions": 32}))
        result = await h.plan()
        assert actions(result) == {"emb": Action.REPLACE}
        refusal = {"error": {"type": "status_exception", "reason": "no room"}, "status": 400}
        h.app.faults.add(
            FaultRule(method="PUT", path="/_inference/*/emb", status=400, body=refusal, count=2)
        )

        outcome = await h.execute(result)

        message = by_id(outcome)["emb"].message
        assert message.startswith("could not create the new configuration (")
        assert "; restoring the previous one failed too: " in message
        assert message.count("no room") == 2
        assert message.endswith(f"; {MISSING}")
        assert "emb" not in await h.live() and "emb" not in await h.store.read_all()
        await h.converge()
        assert (await h.live())["emb"].body["service_settings"]["dimensions"] == 32


async def test_replace_under_a_semantic_text_mapping_names_what_9_1_needs(tmp_path: Path) -> None:
    """9.1+ builds `MinimalServiceSettings` from the re-create request once a mapping uses the
    id, and never answers one without `dimensions` and `similarity` (the manifest sets only
    the first): the executor names what the server filled in on the probe."""
    async with harness(tmp_path, es_version="9.1.7") as h:
        await _created(h, manifest("emb", settings={"dimensions": 64}))
        await _used_by_a_document(h, "docs", "emb")
        large = {"dimensions": 64, "model_id": "text-embedding-3-large"}
        h.write(manifest("emb", settings=large))
        result = await h.plan(allow_disruptive=True)
        assert actions(result) == {"emb": Action.REPLACE}

        outcome = await asyncio.wait_for(h.execute(result, allow_disruptive=True), 10)

        assert outcome.ok, outcome
        settings = (await h.live())["emb"].body["service_settings"]
        assert (settings["model_id"], settings["dimensions"]) == ("text-embedding-3-large", 64)
        assert not (await h.plan()).plan.has_changes


async def test_model_change_whose_size_the_server_chooses_is_refused_then_restored(
    tmp_path: Path,
) -> None:
    """Another model leaves the size to the server: the planner blocks it under a mapping on
    9.1+. Forced, the probe tells the new size (3072), the re-create names it, 9.1+ refuses it
    under a mapping that recorded 1536, and the old endpoint comes back with the size the
    server had chosen for it (named in the restore, as 9.1+ needs)."""
    async with harness(tmp_path, es_version="9.1.7") as h:
        await _created(h, manifest("emb"))
        await _used_by_a_document(h, "docs", "emb")
        h.write(manifest("emb", settings={"model_id": "text-embedding-3-large"}))
        result, plan = await _forced_replace(h)

        outcome = await asyncio.wait_for(h.execute(result, plan, allow_disruptive=True), 10)

        failed = by_id(outcome)["emb"]
        assert "incompatible settings for indices: [docs]" in failed.message
        assert failed.message.endswith("; the previous configuration was restored")
        settings = (await h.live())["emb"].body["service_settings"]
        assert (settings["model_id"], settings["dimensions"]) == ("text-embedding-3-small", 1536)
        answer = await h.client.infer("text_embedding", "emb", "still there?")
        assert len(answer.embeddings[0]) == 1536


async def test_endpoint_deleted_out_of_band_under_a_used_mapping_is_created_again(
    tmp_path: Path,
) -> None:
    """9.1+ never answers a PUT that leaves `dimensions` or `similarity` out while a
    semantic_text mapping with recorded settings uses the id (ES
    `TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId`). A drift heal
    (recreate-missing) names the server's own choices for text-embedding-3 models."""
    async with harness(tmp_path, es_version="9.1.7") as h:
        await _created(h, manifest("emb"))  # no dimensions, no similarity: server-chosen
        await _used_by_a_document(h, "docs", "emb")
        deleted = await h.raw("DELETE", "/_inference/text_embedding/emb?force=true")
        assert deleted.status_code == 200
        result = await h.plan()
        assert [c.code for c in result.plan.changes] == [Reason.RECREATE_MISSING]

        outcome = await asyncio.wait_for(h.execute(result), 10)

        assert outcome.ok, outcome
        settings = (await h.live())["emb"].body["service_settings"]
        assert (settings["dimensions"], settings["similarity"]) == (1536, "dot_product")
        assert not (await h.plan()).plan.has_changes


# --- an apply stopped midway ----------------------------------------------------------------


class Stopped(BaseException):
    """What a `kill -9` leaves of a run: nothing after it happens (no step catches it)."""


class StopAfter(httpx.AsyncBaseTransport):
    """Passes requests on until the first one matching `method` and `path` (a prefix when it
    ends with `*`) has reached the server; then the run is dead: nothing else gets out, not
    even what a `finally` would still send."""

    def __init__(self, inner: httpx.AsyncBaseTransport, method: str, path: str) -> None:
        self.inner, self.method, self.path = inner, method, path
        self.fired = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.fired:
            raise Stopped
        response = await self.inner.handle_async_request(request)
        target = request.url.path
        hit = target.startswith(self.path[:-1]) if self.path.endswith("*") else target == self.path
        if hit and request.method == self.method:
            self.fired = True
            raise Stopped
        return response


async def _stopped_after(h: Harness, method: str, path: str) -> None:
    """Plan and execute, the run stopped right after `method path` reached the server."""
    result = await h.plan()
    inner = h.recorder.inner
    h.recorder.inner = StopAfter(inner, method, path)
    try:
        with pytest.raises((Stopped, BaseExceptionGroup)):
            await h.execute(result)
    finally:
        h.recorder.inner = inner


EMB = "/_inference/text_embedding/emb"


async def _narrowed(h: Harness) -> StateRecord:
    """emb created with 128 dimensions, then declared with 64 (a replace); its record before."""
    await _created(h, manifest("emb", settings={"dimensions": 128}))
    before = (await h.store.read_all())["emb"]
    h.write(manifest("emb", settings={"dimensions": 64}))
    return before


@pytest.mark.parametrize("backend", ["file", "index"])
async def test_a_replace_stopped_after_its_delete_is_named_then_completed_first(
    tmp_path: Path, backend: str
) -> None:
    async with harness(tmp_path, backend=backend) as h:
        chat = manifest("chat", "completion")
        await _created(h, manifest("emb", settings={"dimensions": 128}), chat)
        h.write(manifest("emb", settings={"dimensions": 64}), chat)

        await _stopped_after(h, "DELETE", EMB)

        assert "emb" not in await h.live()
        pending = (await h.store.read_all())["emb"].pending
        assert pending is not None and pending.action == "replace"
        assert pending.previous is not None
        assert pending.previous["service_settings"]["dimensions"] == 128
        assert OLD_KEY not in await _state_text(h, tmp_path)
        h.write(
            manifest("emb", settings={"dimensions": 64}),
            manifest("chat", "completion", task={"user": "b"}),
            manifest("aa-new"),
        )
        result = await h.plan()
        assert [(c.inference_id, c.action, c.code) for c in result.plan.changes] == [
            ("emb", Action.CREATE, Reason.INTERRUPTED_REPLACE),
            ("aa-new", Action.CREATE, Reason.CREATE),
            ("chat", Action.UPDATE, Reason.UPDATE),
        ]
        assert result.plan.changes[0].reason == (
            "interrupted replace of emb (apply was stopped between delete and create);"
            " will be recreated"
        )
        h.recorder.calls.clear()

        outcome = await h.execute(result)

        assert outcome.ok, outcome
        assert by_id(outcome)["emb"].message == (
            "created: the replace an earlier apply was stopped in is complete"
        )
        writes = h.recorder.writes()
        assert writes[0] == ("PUT", EMB)  # before anything else is touched
        assert (await h.live())["emb"].body["service_settings"]["dimensions"] == 64
        assert (await h.store.read_all())["emb"].pending is None
        assert not (await h.plan()).plan.has_changes


async def test_a_replace_stopped_after_its_create_is_recorded_without_a_server_write(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await _narrowed(h)

        await _stopped_after(h, "PUT", EMB)

        assert (await h.live())["emb"].body["service_settings"]["dimensions"] == 64
        assert (await h.store.read_all())["emb"].pending is not None
        result = await h.plan()
        assert [(c.action, c.code) for c in result.plan.changes] == [
            (Action.ADOPT, Reason.INTERRUPTED_REPLACE)
        ]
        writes = len(h.recorder.writes())

        outcome = await h.execute(result)

        assert outcome.ok and len(h.recorder.writes()) == writes
        record = (await h.store.read_all())["emb"]
        assert record.pending is None
        assert record.last_applied["service_settings"]["dimensions"] == 64
        assert not (await h.plan()).plan.has_changes


async def test_a_probe_left_by_a_stopped_apply_is_listed_by_plan_and_removed_by_apply(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await _narrowed(h)

        await _stopped_after(h, "PUT", f"/_inference/text_embedding/{PROBE_PREFIX}*")

        probes = [name for name in await h.live() if name.startswith(PROBE_PREFIX)]
        assert len(probes) == 1
        assert (await h.store.read_all())["emb"].pending is None  # stopped before the delete
        planned = await h.plan()
        assert planned.plan.stray_probes == tuple(probes)
        assert [c.action for c in planned.plan.changes] == [Action.REPLACE]
        assert set(await h.live()) == {"emb", *probes}  # plan only lists them

        report = await apply_changes(
            load_manifests([str(h.folder)]),
            h.ports(),
            ApplyRequest(options=PlanOptions(), settings=ApplySettings(), smoke="none"),
        )

        assert report.ok and report.plan.stray_probes == tuple(probes)
        assert set(await h.live()) == {"emb"}
        after = await h.plan()
        assert not after.plan.has_changes and after.plan.stray_probes == ()


async def test_an_interrupted_replace_refused_by_the_server_puts_the_old_endpoint_back(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        before = await _narrowed(h)
        await _stopped_after(h, "DELETE", EMB)
        refusal = {"error": {"type": "status_exception", "reason": "no room"}, "status": 400}
        h.app.faults.add(FaultRule(method="PUT", path=EMB, status=400, body=refusal, count=1))

        outcome = await h.execute(await h.plan())

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed" and "no room" in failed.message
        assert failed.message.endswith("; the previous configuration was restored")
        assert (await h.live())["emb"].body["service_settings"]["dimensions"] == 128
        assert (await h.store.read_all())["emb"] == before  # unmarked, as it was
        assert actions(await h.plan()) == {"emb": Action.REPLACE}


async def test_an_interrupted_replace_that_rotates_the_key_keeps_its_marker_when_refused(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await _narrowed(h)
        h.env[KEY_VAR] = NEW_KEY
        await _stopped_after(h, "DELETE", EMB)
        assert (await h.store.read_all())["emb"].pending == Pending("replace", NOW.isoformat())
        h.app.faults.add(FaultRule(method="PUT", path=EMB, status=400, count=1))

        outcome = await h.execute(await h.plan())

        message = by_id(outcome)["emb"].message
        assert "the previous configuration cannot be restored" in message
        assert message.endswith(MISSING)
        assert (await h.store.read_all())["emb"].pending is not None  # still named
        assert [c.code for c in (await h.plan()).plan.changes] == [Reason.INTERRUPTED_REPLACE]
        assert (await h.execute(await h.plan())).ok
        assert not (await h.plan()).plan.has_changes


async def test_a_replace_whose_delete_is_refused_clears_its_marker(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        before = await _narrowed(h)
        result = await h.plan()
        pipeline = {"processors": [{"inference": {"model_id": "emb", "input_output": []}}]}
        assert (await h.raw("PUT", "/_ingest/pipeline/embed", pipeline)).status_code == 200

        outcome = await h.execute(result)

        assert by_id(outcome)["emb"].message.startswith("in use, not deleted:")
        assert (await h.store.read_all())["emb"] == before


async def test_a_protect_change_alone_is_written_to_state_only(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _created(h, manifest("emb", reconcile={"protect": True}))
        assert (await h.store.read_all())["emb"].protect
        h.write(manifest("emb"))
        result = await h.plan()
        assert [(c.action, c.code) for c in result.plan.changes] == [
            (Action.ADOPT, Reason.STATE_ONLY)
        ]
        writes = len(h.recorder.writes())

        outcome = await h.execute(result)

        assert by_id(outcome)["emb"].message == "recorded in state (no server write)"
        assert len(h.recorder.writes()) == writes
        assert not (await h.store.read_all())["emb"].protect
        assert not (await h.plan()).plan.has_changes
