"""Helpers for the Elasticsearch-emulation tests: request bodies, error unpacking, clients."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from reconciler.sandbox import SandboxApp
from reconciler.sandbox.faults import FaultRule
from tests.fixtures.sandbox import make_sandbox_app

KEY = "sk-sandbox-test-0123456789abcdef"
EMB_MODEL = "text-embedding-3-small"
CHAT_MODEL = "gpt-4o-mini"
BOM = "\ufeff"


def emb_body(**service_settings: Any) -> dict[str, Any]:
    settings = {"api_key": KEY, "model_id": EMB_MODEL, **service_settings}
    return {"service": "openai", "service_settings": settings}


def chat_body(**service_settings: Any) -> dict[str, Any]:
    settings = {"api_key": KEY, "model_id": CHAT_MODEL, **service_settings}
    return {"service": "openai", "service_settings": settings}


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, error.type, error.reason), checking the envelope on the way."""
    body = response.json()
    assert body["status"] == response.status_code
    error = body["error"]
    assert error["root_cause"], body
    return response.status_code, error["type"], error["reason"]


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a BOM-framed Elasticsearch SSE body."""
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        assert block.startswith(BOM), repr(block)
        lines = dict(line.split(": ", 1) for line in block[1:].split("\n"))
        events.append((lines["event"], lines["data"]))
    return events


def fault(app: SandboxApp, **rule: Any) -> str:
    return app.faults.add(FaultRule(**rule))


@contextlib.asynccontextmanager
async def client_for(**options: Any) -> AsyncIterator[tuple[SandboxApp, httpx.AsyncClient]]:
    """An in-process sandbox with `SandboxConfig` overrides, and a client over it."""
    app = make_sandbox_app(**options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield app, client
    await app.aclose()


async def put(
    client: httpx.AsyncClient, inference_id: str, body: dict[str, Any], task_type: str | None = None
) -> httpx.Response:
    path = f"/_inference/{task_type}/{inference_id}" if task_type else f"/_inference/{inference_id}"
    return await client.put(path, json=body)


async def put_emb(
    client: httpx.AsyncClient, inference_id: str = "emb", **settings: Any
) -> dict[str, Any]:
    response = await put(client, inference_id, emb_body(**settings), "text_embedding")
    assert response.status_code == 200, response.text
    return response.json()


async def put_chat(
    client: httpx.AsyncClient, inference_id: str, task_type: str = "completion", **settings: Any
) -> dict[str, Any]:
    response = await put(client, inference_id, chat_body(**settings), task_type)
    assert response.status_code == 200, response.text
    return response.json()
