"""`--data-dir`: endpoints (with their keys), indices, documents and pipelines survive a
restart; writes are atomic (temp file, fsync, rename), so a kill never leaves a torn file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.es import persist as es_persist
from tests.fixtures.sandbox import start_sandbox_process
from tests.sandbox._es import KEY, client_for, put_emb

pytestmark = pytest.mark.anyio


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    async with client_for(data_dir=tmp_path) as (_app, client):
        await put_emb(client, "e")
        await client.put("/state/_doc/lock?refresh=true", json={"owner": "a"})
        await client.put(
            "/_ingest/pipeline/p", json={"processors": [{"inference": {"model_id": "e"}}]}
        )
        cluster_uuid = (await client.get("/")).json()["cluster_uuid"]
    async with client_for(data_dir=tmp_path) as (app, client):
        assert (await client.get("/_inference/e")).status_code == 200
        doc = (await client.get("/state/_doc/lock")).json()
        assert (doc["_source"], doc["_seq_no"], doc["_version"]) == ({"owner": "a"}, 0, 1)
        assert (await client.get("/state/_search")).json()["hits"]["total"]["value"] == 1
        assert (
            await client.delete("/_inference/e")
        ).status_code == 409  # the pipeline still uses it
        assert (await client.get("/")).json()["cluster_uuid"] == cluster_uuid
        # The server keeps the key: inference still authenticates upstream after the restart.
        assert app.store.endpoints["e"]["secrets"] == {"api_key": KEY}
        assert (await client.post("/_inference/e", json={"input": "x"})).status_code == 200


async def test_deleted_index_stays_deleted(tmp_path: Path) -> None:
    async with client_for(data_dir=tmp_path) as (_app, client):
        await client.put("/gone")
        await client.delete("/gone")
    async with client_for(data_dir=tmp_path) as (_app, client):
        assert (await client.head("/gone")).status_code == 404


def test_write_json_is_atomic_when_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "endpoints.json"
    es_persist.write_json(target, {"v": 1})

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        es_persist.write_json(target, {"v": 2})
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["endpoints.json"]


def test_leftover_temporaries_are_ignored_and_cleaned(tmp_path: Path) -> None:
    es_persist.write_json(tmp_path / "endpoints.json", {})
    torn = tmp_path / ".endpoints.json.abc.tmp"
    torn.write_text('{"half": ')
    from reconciler.sandbox.es.store import Store

    store = Store(tmp_path)
    assert store.endpoints == {} and not torn.exists()


def test_killed_process_keeps_acknowledged_writes(tmp_path: Path) -> None:
    with start_sandbox_process(data_dir=tmp_path) as first:
        body = {"service": "openai", "service_settings": {"api_key": KEY, "model_id": "gpt-4o"}}
        assert httpx.put(f"{first.url}/_inference/completion/c", json=body).status_code == 200
        assert httpx.put(f"{first.url}/s/_doc/1", json={"a": 1}).status_code == 201
        first.proc.kill()  # no graceful shutdown
        first.proc.wait()
    with start_sandbox_process(data_dir=tmp_path) as second:
        assert httpx.get(f"{second.url}/_inference/c").status_code == 200
        assert httpx.get(f"{second.url}/s/_doc/1").json()["found"] is True
    for path in tmp_path.rglob("*.json"):
        json.loads(path.read_text())  # every file parses
