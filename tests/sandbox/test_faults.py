"""Fault injection: rules, atomic counts, and what a client sees in process and over a socket."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from reconciler.sandbox.admin import admin_routes
from reconciler.sandbox.faults import (
    FaultInjector,
    FaultMiddleware,
    FaultRule,
    FaultRuleError,
)
from reconciler.sandbox.upstream import KeyRing, create_upstream_app

pytestmark = pytest.mark.anyio
KEY = "sk-faults-0123456789abcdef0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
EMBED = {"model": "text-embedding-3-small", "input": "x", "dimensions": 4}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _es_like(_request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


@pytest.fixture
def injector() -> FaultInjector:
    return FaultInjector()


@pytest.fixture
def app(injector: FaultInjector) -> FaultMiddleware:
    """A sandbox-shaped app: an ES route, the admin routes, the upstream mounted."""
    keys = KeyRing()
    upstream = create_upstream_app(keys)
    routes = [
        Route("/_inference/{rest:path}", _es_like, methods=["GET", "PUT", "POST"]),
        *admin_routes(keys, injector, upstream.state.log),
        Mount("/_sandbox/openai", upstream),
    ]
    return FaultMiddleware(Starlette(routes=routes), injector)


@pytest.fixture
async def http(app: FaultMiddleware) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


# --- rules and the injector ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "explode"},
        {"status": 42},
        {"count": 0},
        {"delay_s": -1},
        {"retry_after": "soon"},
        {"path": ""},
        {"colour": "red"},
    ],
)
def test_bad_rules_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(FaultRuleError):
        FaultRule.from_dict(data)


def test_first_matching_rule_wins_and_counts_run_out(injector: FaultInjector) -> None:
    injector.add(FaultRule(method="PUT", path="/_inference/*", status=500, count=1))
    injector.add(FaultRule(path="/_inference/*", status=429))
    assert injector.match("GET", "/_search") is None
    first = injector.match("put", "/_inference/text_embedding/a")
    assert first is not None and first.status == 500
    second = injector.match("PUT", "/_inference/text_embedding/a")
    assert second is not None and second.status == 429
    [left] = injector.list()
    assert (left.status, left.count, left.matched) == (429, None, 1)


def test_counts_are_consumed_atomically_across_threads(injector: FaultInjector) -> None:
    injector.add(FaultRule(path="/x", count=7))
    start = threading.Barrier(40)
    hits: list[bool] = []

    def worker() -> None:
        start.wait()
        for _ in range(5):
            hits.append(injector.match("GET", "/x") is not None)

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hits.count(True) == 7 and len(hits) == 200
    assert injector.list() == []


async def test_counts_hold_under_concurrent_requests(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.add(FaultRule(path="/_inference/*", status=503, count=5))
    responses = await asyncio.gather(*(http.get(f"/_inference/e{i}") for i in range(30)))
    assert sorted(r.status_code for r in responses) == [200] * 25 + [503] * 5


# --- status faults -------------------------------------------------------------------------------


async def test_429_with_retry_after_then_success(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.add(FaultRule(method="PUT", path="/_inference/*", status=429, retry_after=2, count=2))
    answers = [await http.put("/_inference/text_embedding/e") for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 200]
    refused = answers[0]
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["x-elastic-product"] == "Elasticsearch"
    assert refused.json() == {
        "error": {
            "root_cause": [{"type": "status_exception", "reason": "injected fault"}],
            "type": "status_exception",
            "reason": "injected fault",
        },
        "status": 429,
    }


async def test_5xx_under_v1_uses_openai_error_shape(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.add(FaultRule(path="/v1/embeddings", status=500, count=1))
    response = await http.post("/_sandbox/openai/v1/embeddings", json=EMBED, headers=AUTH)
    assert response.status_code == 500
    assert "x-elastic-product" not in response.headers
    assert response.json()["error"]["type"] == "server_error"
    again = await http.post("/_sandbox/openai/v1/embeddings", json=EMBED, headers=AUTH)
    assert again.status_code == 200


async def test_custom_body_and_headers(http: httpx.AsyncClient, injector: FaultInjector) -> None:
    headers = {"x-ratelimit-limit-tokens": "1000"}
    injector.add(FaultRule(path="/v1/*", status=429, body={"custom": 1}, headers=headers))
    response = await http.post("/_sandbox/openai/v1/embeddings", json=EMBED, headers=AUTH)
    assert response.json() == {"custom": 1}
    assert response.headers["x-ratelimit-limit-tokens"] == "1000"


async def test_openai_client_honours_retry_after(injector: FaultInjector) -> None:
    """The official client retries a 429 after ``Retry-After`` and then succeeds."""
    upstream = FaultMiddleware(create_upstream_app(KeyRing()), injector)
    injector.add(FaultRule(path="/v1/embeddings", status=429, retry_after=0.01, count=2))
    transport = httpx.ASGITransport(app=upstream)
    async with httpx.AsyncClient(transport=transport) as http:
        client = openai.AsyncOpenAI(
            api_key=KEY,
            base_url="http://up/v1",
            http_client=http,  # type: ignore[arg-type]  # openai 3.x types name httpx2
        )
        result = await client.embeddings.create(model="text-embedding-3-small", input="x")
    assert len(result.data[0].embedding) == 1536
    assert [e.status for e in upstream.state.log.entries()] == [200]  # faults never reach it


async def test_admin_paths_are_never_faulted(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.add(FaultRule(path="*", kind="drop"))
    injector.latency_s = 5.0
    started = time.monotonic()
    response = await http.get("/_sandbox/faults")
    assert response.status_code == 200 and time.monotonic() - started < 1


async def test_nested_middleware_consumes_one_count(injector: FaultInjector) -> None:
    """The upstream wrapped on its own and mounted in a wrapped app is faulted once."""
    upstream = FaultMiddleware(create_upstream_app(KeyRing()), injector)
    outer = FaultMiddleware(Starlette(routes=[Mount("/_sandbox/openai", upstream)]), injector)
    injector.add(FaultRule(path="/v1/*", status=503, count=2))
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        url = "/_sandbox/openai/v1/embeddings"
        codes = [(await http.post(url, json=EMBED, headers=AUTH)).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


# --- delays ----------------------------------------------------------------------------------


async def test_delay_then_pass_through(http: httpx.AsyncClient, injector: FaultInjector) -> None:
    injector.add(FaultRule(path="/_inference/*", kind="delay", delay_s=0.2, count=1))
    started = time.monotonic()
    response = await http.get("/_inference/a")
    assert response.status_code == 200 and time.monotonic() - started >= 0.2
    started = time.monotonic()
    await http.get("/_inference/a")
    assert time.monotonic() - started < 0.2


async def test_latency_applies_to_every_request(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.latency_s = 0.05
    started = time.monotonic()
    for _ in range(3):
        await http.get("/_inference/a")
    assert time.monotonic() - started >= 0.15


# --- dropped connections -----------------------------------------------------------------------


async def test_drop_in_process_is_a_transport_error(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.add(FaultRule(path="/_inference/*", kind="drop", count=1))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await http.get("/_inference/a")
    assert (await http.get("/_inference/a")).status_code == 200


@contextlib.contextmanager
def _serve(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free port in a background thread."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def test_drop_over_a_real_socket(app: FaultMiddleware, injector: FaultInjector) -> None:
    injector.add(FaultRule(method="POST", path="/v1/embeddings", kind="drop", count=1))
    with _serve(app) as base_url, httpx.Client(base_url=base_url) as http:
        url = "/_sandbox/openai/v1/embeddings"
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            http.post(url, json=EMBED, headers=AUTH)
        # The server is unharmed: the next request, on a new connection, succeeds.
        assert http.post(url, json=EMBED, headers=AUTH).status_code == 200


def test_drop_behind_wrapping_middleware_still_closes_the_socket(injector: FaultInjector) -> None:
    """Even inside Starlette's middleware stack the drop reaches the socket (no 500)."""
    from starlette.middleware import Middleware

    inner = Starlette(
        routes=[Route("/_inference/{rest:path}", _es_like)],
        middleware=[Middleware(FaultMiddleware, injector=injector)],
    )
    injector.add(FaultRule(path="/_inference/*", kind="drop", count=1))
    with _serve(inner) as base_url, httpx.Client(base_url=base_url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/_inference/a")
        assert http.get("/_inference/a").status_code == 200
