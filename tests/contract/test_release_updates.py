"""The executor on each release's `_update`, against the in-process sandbox at that release.

The sandbox reproduces upstream per patch release: before 9.2.6 / 9.3.1 (and on 9.3.0)
`_update` drops `chunking_settings` (elastic/elasticsearch#139574), and before 9.4.0 it stores a
new key without trying it (elastic/elasticsearch#122356, fixed by #140003). Assertions are on
what the server and the state store end up holding, and on the requests made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.executor import ApplyOutcome
from reconciler.model import Action, Reason
from tests.contract.apply_harness import KEY_VAR, Harness, actions, by_id, harness, manifest
from tests.contract.test_executor import NEW_KEY, OLD_KEY, _created, _no_probes

pytestmark = pytest.mark.anyio

WORD = {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
CHUNKING = {"strategy": "sentence", "max_chunk_size": 120, "sentence_overlap": 0}
FORCED = {"key_rotation": "update"}


def _probes(h: Harness) -> list[tuple[str, str]]:
    return [c for c in h.recorder.writes() if "reconcile-probe-" in c[1]]


def _updates(h: Harness) -> list[tuple[str, str]]:
    return [c for c in h.recorder.writes() if c[1].endswith("/_update")]


async def _chunking(h: Harness, inference_id: str = "emb") -> Any:
    return (await h.live())[inference_id].body.get("chunking_settings")


async def _rotated(h: Harness, doc: dict[str, Any], code: Reason) -> ApplyOutcome:
    """`doc` created with the old key, then planned with the new one (one change, `code`) and
    executed, the recorder cleared first so that it holds only what the execute sent."""
    await _created(h, doc)
    h.env[KEY_VAR] = NEW_KEY
    result = await h.plan()
    assert [c.code for c in result.plan.changes] == [code]
    h.recorder.calls.clear()
    return await h.execute(result)


# --- where the update resets chunking -----------------------------------------------------------


@pytest.mark.parametrize("version", ["8.17.0", "9.1.7", "9.2.5", "9.3.0"])
async def test_a_key_rotation_replaces_and_keeps_the_chunking_as_declared(
    tmp_path: Path, version: str
) -> None:
    async with harness(tmp_path, es_version=version) as h:
        outcome = await _rotated(
            h, manifest("emb", chunking=CHUNKING), Reason.CHUNKING_RESET_REPLACE
        )

        assert outcome.ok, outcome
        assert await _chunking(h) == CHUNKING
        assert _updates(h) == []
        h.app.keys.revoke(OLD_KEY)  # the endpoint answers with the new key
        assert [r.ok for r in await h.smoke()] == [True]
        assert (await h.plan()).plan.in_sync


@pytest.mark.parametrize("backend", ["file", "index"])
async def test_a_forced_update_reports_the_reset_and_the_next_plan_is_in_sync(
    tmp_path: Path, backend: str
) -> None:
    async with harness(tmp_path, backend=backend, es_version="9.1.7") as h:
        outcome = await _rotated(
            h, manifest("emb", chunking=CHUNKING, reconcile=FORCED), Reason.CHUNKING_RESET_UPDATE
        )

        done = by_id(outcome)["emb"]
        assert done.status == "ok", done
        assert done.message == (
            "updated in place: api_key (sensitive); warning: Elasticsearch 9.1.7 reset"
            " chunking_settings from sentence/120/0 to word/250/100"
            " (elastic/elasticsearch#139574); recorded in state: the next plan shows the"
            " difference without acting on it (a replace, with disruptive changes allowed, or an"
            " upgrade to 9.5 puts it back)"
        )
        assert await _chunking(h) == WORD
        writes = h.recorder.writes()
        assert [w[0] for w in _probes(h)] == ["PUT", "DELETE"]  # proven first
        assert writes.index(_probes(h)[0]) < writes.index(_updates(h)[0])
        record = (await h.store.read_all())["emb"]
        assert record.chunking_reset is not None
        assert (dict(record.chunking_reset.expected), dict(record.chunking_reset.found)) == (
            CHUNKING,
            WORD,
        )
        again = await h.plan()
        (change,) = again.plan.changes
        assert (change.action, change.code) == (Action.NOOP, Reason.CHUNKING_RESET_NOTED)
        assert again.plan.in_sync
        restored = await h.plan(allow_disruptive=True)
        assert actions(restored) == {"emb": Action.REPLACE}
        assert (await h.execute(restored, allow_disruptive=True)).ok
        assert await _chunking(h) == CHUNKING
        assert (await h.store.read_all())["emb"].chunking_reset is None
        assert (await h.plan()).plan.in_sync


async def test_a_later_state_write_keeps_the_recorded_reset(tmp_path: Path) -> None:
    async with harness(tmp_path, es_version="9.1.7") as h:
        await _created(h, manifest("emb", reconcile=FORCED))
        h.env[KEY_VAR] = NEW_KEY
        assert (await h.apply()).ok
        h.write(manifest("emb", reconcile={**FORCED, "protect": True}))
        result = await h.plan()
        assert [c.code for c in result.plan.changes] == [Reason.STATE_ONLY]
        assert (await h.execute(result)).ok
        assert (await h.store.read_all())["emb"].chunking_reset is not None
        assert (await h.plan()).plan.in_sync


# --- where the update does not try the key -------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "doc"),
    [
        ("9.1.7", manifest("comp", "completion")),
        ("9.3.1", manifest("emb")),
        ("8.17.0", manifest("emb", reconcile=FORCED)),
    ],
)
async def test_a_bad_new_key_is_refused_on_a_probe_and_the_old_one_keeps_serving(
    tmp_path: Path, version: str, doc: dict[str, Any]
) -> None:
    async with harness(tmp_path, es_version=version) as h:
        await _created(h, doc)
        before = await h.store.read_all()
        h.env[KEY_VAR] = NEW_KEY
        h.app.keys.revoke(NEW_KEY)
        result = await h.plan()
        assert actions(result) == {doc["inference_id"]: Action.UPDATE}
        h.recorder.calls.clear()

        outcome = await h.execute(result)

        failed = by_id(outcome)[doc["inference_id"]]
        assert failed.status == "failed"
        assert failed.message.startswith(
            f"the new configuration was refused on a probe endpoint; {doc['inference_id']} was"
            " left serving with its old key: "
        )
        assert NEW_KEY not in failed.message
        assert _updates(h) == []  # the bad key never reached the endpoint
        assert _no_probes(await h.live())
        assert await h.store.read_all() == before
        h.env[KEY_VAR] = OLD_KEY
        assert [r.ok for r in await h.smoke()] == [True]


@pytest.mark.parametrize("version", ["9.2.6", "9.3.1"])
async def test_a_good_new_key_is_proven_then_updated_in_place(tmp_path: Path, version: str) -> None:
    async with harness(tmp_path, es_version=version) as h:
        outcome = await _rotated(h, manifest("emb", chunking=CHUNKING), Reason.ROTATE_UPDATE)

        assert outcome.ok, outcome
        assert [w[0] for w in _probes(h)] == ["PUT", "DELETE"]
        assert len(_updates(h)) == 1
        assert await _chunking(h) == CHUNKING
        h.app.keys.revoke(OLD_KEY)
        assert [r.ok for r in await h.smoke()] == [True]
        assert (await h.plan()).plan.in_sync


@pytest.mark.parametrize("version", ["9.4.0", "9.5.0"])
async def test_where_the_update_tries_the_key_no_probe_is_made(
    tmp_path: Path, version: str
) -> None:
    async with harness(tmp_path, es_version=version) as h:
        await _created(h, manifest("emb", chunking=CHUNKING))
        h.env[KEY_VAR] = NEW_KEY
        h.app.keys.revoke(NEW_KEY)
        h.recorder.calls.clear()

        outcome = await h.apply()

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert failed.message.startswith("the update was refused; emb was left serving with its")
        assert _probes(h) == []
        h.env[KEY_VAR] = OLD_KEY
        assert [r.ok for r in await h.smoke()] == [True]


# --- a change the server does not take -----------------------------------------------------------


class IgnoresUpdates(httpx.AsyncBaseTransport):
    """Answers every `_update` with the endpoint unchanged, as a server whose update API
    ignores the fields sent (elastic/elasticsearch `ServiceSettings.updateServiceSettings`
    returning `this`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method != "PUT" or not path.endswith("/_update"):
            return await self.inner.handle_async_request(request)
        get = httpx.Request("GET", request.url.copy_with(path=path.removesuffix("/_update")))
        response = await self.inner.handle_async_request(get)
        await response.aread()
        (endpoint,) = json.loads(response.content)["endpoints"]
        headers = {"X-elastic-product": "Elasticsearch", "content-type": "application/json"}
        return httpx.Response(200, json=endpoint, headers=headers)


@pytest.mark.parametrize("backend", ["file", "index"])
async def test_a_change_not_taken_is_counted_and_named_by_the_next_plan(
    tmp_path: Path, backend: str
) -> None:
    async with harness(tmp_path, backend=backend, es_version="9.5.0") as h:
        await _created(h, manifest("comp", "completion"))
        h.recorder.inner = IgnoresUpdates(h.recorder.inner)
        h.write(
            manifest("comp", "completion", settings={"rate_limit": {"requests_per_minute": 42}})
        )
        cause = "service_settings.rate_limit.requests_per_minute: sent 42, read back 500"

        first = by_id(await h.apply())["comp"]

        assert first.status == "failed"
        assert first.message == (
            f"the server did not take: service_settings.rate_limit.requests_per_minute ({cause});"
            " recorded in state, the next plan names it"
        )
        marker = (await h.store.read_all())["comp"].not_taken
        assert marker is not None and (marker.count, marker.cause) == (1, cause)
        result = await h.plan()
        (change,) = result.plan.changes
        assert (change.action, change.code) == (Action.UPDATE, Reason.NOT_TAKEN)
        assert change.reason.endswith(f"this change was not taken by the server once: {cause}")

        await h.execute(result)

        again = (await h.plan()).plan.changes[0]
        assert f"not taken by the server 2 times: {cause}" in again.reason
        h.recorder.inner = h.recorder.inner.inner  # type: ignore[attr-defined]
        assert (await h.apply()).ok
        assert (await h.store.read_all())["comp"].not_taken is None
        assert (await h.plan()).plan.in_sync


async def test_an_unexpected_reset_fails_loudly_and_is_recorded(tmp_path: Path) -> None:
    """A release the table says keeps chunking, resetting it anyway: reported as a failure, and
    recorded, so the next plan is in sync rather than a blocked replace every time."""
    async with harness(tmp_path, es_version="9.3.1") as h:
        await _created(h, manifest("emb", chunking=CHUNKING))
        h.env[KEY_VAR] = NEW_KEY
        result = await h.plan()
        assert actions(result) == {"emb": Action.UPDATE}
        await h.raw("DELETE", "/_inference/text_embedding/emb")
        body = {**manifest("emb"), "chunking_settings": WORD}
        body["service_settings"] = {**body["service_settings"], "api_key": OLD_KEY}
        body.pop("inference_id")
        await h.raw("PUT", "/_inference/text_embedding/emb", body)

        outcome = await h.execute(result)

        failed = by_id(outcome)["emb"]
        assert failed.status == "failed"
        assert "unexpected: this release was thought to keep it" in failed.message
        assert (await h.store.read_all())["emb"].chunking_reset is not None
        assert (await h.plan()).plan.in_sync
