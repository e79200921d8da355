"""Smoke tests against the in-process sandbox: real inferences, checked per task type."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.model import DesiredEndpoint
from reconciler.smoke import DEFAULT_INPUT, SKIPPED, SmokeResult, smoke_test
from tests.contract.apply_harness import KEY_VAR, Harness, harness, manifest

pytestmark = pytest.mark.anyio

KEY = "sk-smoke-0123456789abcdef"


def _ticks(step: float = 0.005) -> itertools.count[float]:
    return itertools.count(0.0, step)


async def _applied(h: Harness, *docs: dict[str, object], key: str = KEY) -> list[DesiredEndpoint]:
    h.env[KEY_VAR] = key
    h.write(*docs)
    outcome = await h.apply()
    assert outcome.ok, outcome
    return list((await h.plan()).desired)


async def _smoke(
    h: Harness,
    desired: list[DesiredEndpoint],
    *,
    concurrency: int = 4,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, SmokeResult]:
    live = await h.live()
    pairs = [(d, live.get(d.inference_id)) for d in desired]
    results = await smoke_test(h.client, pairs, concurrency=concurrency, clock=clock)
    return {r.inference_id: r for r in results}


async def test_every_task_type_passes_with_its_own_check(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        desired = await _applied(
            h,
            manifest("emb", settings={"dimensions": 64}),
            manifest("emb-default"),
            manifest("done", "completion"),
            manifest("chat", "chat_completion"),
        )
        ticks = _ticks()

        results = await _smoke(h, desired, concurrency=1, clock=lambda: next(ticks))

        assert all(r.ok for r in results.values()), results
        assert results["emb"].detail == "1 vector of 64 dimensions"
        assert results["emb-default"].detail == "1 vector of 1536 dimensions"
        assert results["done"].detail.startswith("a completion of ")
        assert results["chat"].detail.startswith("streamed ")
        assert {r.latency_ms for r in results.values()} == {5.0}


async def test_the_manifest_input_is_sent_else_the_default(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        own = manifest("own", reconcile={"smoke": {"input": "hello from the manifest"}})
        desired = await _applied(h, own, manifest("plain"))
        h.app.upstream_log.clear()

        await _smoke(h, desired)

        inputs = [str(entry.input) for entry in h.app.upstream_log.entries()]
        assert any("hello from the manifest" in text for text in inputs)
        assert any(DEFAULT_INPUT in text for text in inputs)


async def test_a_disabled_smoke_test_is_listed_as_skipped(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        desired = await _applied(h, manifest("quiet", reconcile={"smoke": {"enabled": False}}))
        h.app.upstream_log.clear()

        results = await _smoke(h, desired)

        quiet = results["quiet"]
        assert quiet.ok and quiet.detail == SKIPPED and quiet.latency_ms == 0.0
        assert len(h.app.upstream_log) == 0


async def test_a_revoked_key_fails_naming_the_endpoint_without_the_key(
    tmp_path: Path, canary_key: str
) -> None:
    async with harness(tmp_path) as h:
        desired = await _applied(
            h, manifest("emb"), manifest("chat", "chat_completion"), key=canary_key
        )
        h.app.keys.revoke(canary_key)

        results = await _smoke(h, desired)

        for name in ("emb", "chat"):
            result = results[name]
            assert not result.ok
            assert result.detail.startswith(f"{name}: inference failed: ")
        assert canary_key not in repr(results)


async def test_a_missing_endpoint_fails(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        desired = await _applied(h, manifest("emb"))
        await h.client.delete_endpoint("text_embedding", "emb")

        results = await _smoke(h, desired)

        assert not results["emb"].ok
        assert "404" in results["emb"].detail


async def test_vectors_of_other_dimensions_than_declared_fail(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        [desired] = await _applied(h, manifest("emb", settings={"dimensions": 64}))
        settings = {**desired.body["service_settings"], "dimensions": 32}
        drifted = dataclasses.replace(desired, body={**desired.body, "service_settings": settings})

        results = await _smoke(h, [drifted])

        assert not results["emb"].ok
        assert results["emb"].detail == "expected vectors of 32 dimensions, got 64"


async def test_concurrency_bounds_the_inferences_in_flight(tmp_path: Path) -> None:
    async with harness(tmp_path, latency_ms=5) as h:
        desired = await _applied(h, *(manifest(f"c{i}", "completion") for i in range(6)))
        h.recorder.peak = 0

        results = await _smoke(h, desired, concurrency=2)

        assert len(results) == 6 and all(r.ok for r in results.values())
        assert h.recorder.peak == 2
