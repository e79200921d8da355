"""A tiny fake Elasticsearch for CLI tests of services the sandbox does not emulate yet:
canned JSON per `METHOD /path`, served to the real `EsClient` through `httpx.MockTransport`
(the CLI's `connect.open_ports` builds its client through `reconciler.connect.EsClient`,
which `install` swaps for one bound to the fake). Requests are recorded; an unknown route
answers 404 like Elasticsearch."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reconciler import connect
from reconciler.cli import run
from reconciler.client import EsClient

VERSION = {"version": {"number": "9.1.7", "build_flavor": "default"}, "tagline": "You Know"}


@dataclass
class FakeEs:
    routes: dict[str, Any] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.routes.setdefault("GET /", VERSION)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.path}"
        self.seen.append(key)
        answer = self.routes.get(key)
        if answer is None:
            reason = f"no handler found for uri [{request.url.path}]"
            return httpx.Response(404, json={"error": {"type": "not_found", "reason": reason}})
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        transport = httpx.MockTransport(self)

        def client(target: Any, **_: Any) -> EsClient:
            return EsClient(target, transport=transport)

        monkeypatch.setattr(connect, "EsClient", client)


def endpoints(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"endpoints": list(entries)}


def cli_runner(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> Callable[..., tuple[int, str, str]]:
    """`reconcile ARGS…` in process with exactly `env` as the environment."""

    def invoke(*args: str) -> tuple[int, str, str]:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            code = run(list(args))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def dumps(body: Any) -> str:
    return json.dumps(body)
