"""The ``/_sandbox`` control routes steer faults, latency, upstream keys and the upstream log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from reconciler.sandbox.admin import admin_routes
from reconciler.sandbox.faults import FaultInjector, FaultMiddleware
from reconciler.sandbox.upstream import KeyRing, create_upstream_app, key_fingerprint

pytestmark = pytest.mark.anyio
OLD = "sk-old-0123456789abcdef0123456789abcdef01"
NEW = "sk-new-0123456789abcdef0123456789abcdef01"
EMBEDDINGS = "/_sandbox/openai/v1/embeddings"
EMBED = {"model": "text-embedding-3-small", "input": "x", "dimensions": 4}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing()


@pytest.fixture
def injector() -> FaultInjector:
    return FaultInjector()


@pytest.fixture
async def http(keys: KeyRing, injector: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    upstream = create_upstream_app(keys)
    routes = [
        *admin_routes(keys, injector, upstream.state.log),
        Mount("/_sandbox/openai", upstream),
    ]
    transport = httpx.ASGITransport(app=FaultMiddleware(Starlette(routes=routes), injector))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def _embed(http: httpx.AsyncClient, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return (await http.post(EMBEDDINGS, json=EMBED, headers=headers)).status_code


async def test_fault_lifecycle(http: httpx.AsyncClient) -> None:
    rule = {"method": "POST", "path": "/v1/embeddings", "status": 503, "count": 1}
    created = await http.post("/_sandbox/faults", json=rule)
    assert created.status_code == 200
    rule_id = created.json()["id"]
    [listed] = (await http.get("/_sandbox/faults")).json()["faults"]
    assert (listed["id"], listed["status"], listed["count"]) == (rule_id, 503, 1)
    assert await _embed(http, OLD) == 503
    assert await _embed(http, OLD) == 200
    assert (await http.get("/_sandbox/faults")).json()["faults"] == []


async def test_delete_one_and_clear(http: httpx.AsyncClient) -> None:
    first = (await http.post("/_sandbox/faults", json={"path": "/a"})).json()["id"]
    await http.post("/_sandbox/faults", json={"path": "/b"})
    assert (await http.delete(f"/_sandbox/faults/{first}")).json() == {"acknowledged": True}
    assert (await http.delete(f"/_sandbox/faults/{first}")).status_code == 404
    assert [f["path"] for f in (await http.get("/_sandbox/faults")).json()["faults"]] == ["/b"]
    assert (await http.delete("/_sandbox/faults")).status_code == 200
    assert (await http.get("/_sandbox/faults")).json()["faults"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_sandbox/faults", {"kind": "explode"}),
        ("POST", "/_sandbox/faults", [1]),
        ("PUT", "/_sandbox/latency", {"ms": -1}),
        ("PUT", "/_sandbox/openai/keys", {}),
        ("PUT", "/_sandbox/openai/keys", {"valid": "sk-a"}),
        ("POST", "/_sandbox/openai/keys/_revoke", {"key": ""}),
    ],
)
async def test_bad_admin_bodies_get_an_es_error(
    http: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await http.request(method, path, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "illegal_argument_exception" and error["root_cause"]


async def test_latency_setting(http: httpx.AsyncClient, injector: FaultInjector) -> None:
    assert (await http.put("/_sandbox/latency", json={"ms": 20})).json() == {"ms": 20}
    assert injector.latency_s == pytest.approx(0.02)
    assert (await http.get("/_sandbox/latency")).json() == {"ms": pytest.approx(20)}
    assert (await http.get("/_sandbox/faults")).json()["latency_ms"] == pytest.approx(20)


async def test_key_rotation(http: httpx.AsyncClient) -> None:
    assert await _embed(http, OLD) == 200  # default: any sk- key
    described = (await http.put("/_sandbox/openai/keys", json={"valid": [NEW]})).json()
    assert described["mode"] == "listed"
    assert described["valid_fingerprints"] == [key_fingerprint(NEW)]
    assert NEW not in json.dumps(described)
    assert (await _embed(http, OLD), await _embed(http, NEW)) == (401, 200)
    await http.post("/_sandbox/openai/keys/_allow", json={"key": OLD})
    assert await _embed(http, OLD) == 200
    await http.post("/_sandbox/openai/keys/_revoke", json={"key": OLD})
    assert await _embed(http, OLD) == 401
    await http.put("/_sandbox/openai/keys", json={"valid": None})
    assert await _embed(http, OLD) == 200
    assert (await http.get("/_sandbox/openai/keys")).json()["mode"] == "any_sk"


async def test_request_log_holds_no_keys(http: httpx.AsyncClient, canary_key: str) -> None:
    await http.post(
        EMBEDDINGS,
        json={**EMBED, "user": "u"},
        headers={"Authorization": f"Bearer {canary_key}", "OpenAI-Organization": "org-9"},
    )
    response = await http.get("/_sandbox/openai/requests")
    assert canary_key not in response.text
    [entry] = response.json()["requests"]
    assert (entry["path"], entry["dimensions"], entry["organization"]) == (
        "/v1/embeddings",
        4,
        "org-9",
    )
    assert entry["key_fingerprint"] == key_fingerprint(canary_key)
    assert (await http.delete("/_sandbox/openai/requests")).status_code == 200
    assert (await http.get("/_sandbox/openai/requests")).json() == {"requests": []}


def test_log_routes_only_with_a_log() -> None:
    paths = {r.path for r in admin_routes(KeyRing(), FaultInjector())}
    assert "/_sandbox/openai/requests" not in paths
    assert {"/_sandbox/faults", "/_sandbox/latency", "/_sandbox/openai/keys"} <= paths
