"""Smoke: the in-process app, a real process and a thread server all answer `GET /`."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.sandbox import start_sandbox_process, start_sandbox_thread

pytestmark = pytest.mark.anyio


async def test_in_process_root(sandbox_client: httpx.AsyncClient) -> None:
    response = await sandbox_client.get("/")
    assert response.json()["tagline"] == "You Know, for Search"


def test_process_answers_inference_list() -> None:
    with start_sandbox_process() as process:
        response = httpx.get(f"{process.url}/_inference")
    assert response.status_code == 200
    assert process.proc.returncode == 0


def test_thread_server_answers() -> None:
    with start_sandbox_thread(es_version="8.17.0") as server:
        response = httpx.get(server.url)
    assert response.json()["version"]["number"] == "8.17.0"
