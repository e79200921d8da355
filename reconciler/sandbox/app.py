"""Composition of the sandbox: the Elasticsearch emulation, the OpenAI-compatible upstream
(mounted at `/_sandbox/openai`), the control routes (`/_sandbox/...`) and fault injection
around all of them, plus the outbound HTTP client the emulation calls the upstream with."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from .admin import admin_routes
from .admin_es import cluster_admin_routes
from .es.app import EsApp
from .es.auth import AuthConfig
from .es.openai_client import RetrySettings, UpstreamCaller
from .es.state import EsState
from .es.store import Store
from .es.versions import DEFAULT_ES_VERSION, EsVersion, capabilities
from .faults import FaultInjector, FaultMiddleware
from .upstream import KeyRing, UpstreamLog, create_upstream_app

OPENAI_HOST = "api.openai.com"
SELF_HOST = "sandbox"
"""Requests the emulation sends to `http://sandbox/...` reach this same app in process."""


@dataclass
class SandboxConfig:
    es_version: str = DEFAULT_ES_VERSION
    data_dir: Path | None = None
    openai_keys: set[str] | None = None  # None: any key starting with "sk-"
    basic_auth: list[str] = field(default_factory=list)  # "user:password"
    api_keys: list[str] = field(default_factory=list)  # "id:key" or base64("id:key")
    latency_ms: float = 0.0
    retry: RetrySettings = field(default_factory=RetrySettings)
    network_transport: Callable[[], httpx.AsyncBaseTransport] | None = None
    clock: Callable[[], float] = time.monotonic
    # Authorized for the Elastic Inference Service (Elastic Cloud, Cloud Connected Mode). True
    # in process (tests see every service); the command line's default is False (`--eis`).
    eis: bool = True


class _RoutingTransport(httpx.AsyncBaseTransport):
    """api.openai.com → the upstream in process; `sandbox` → this app; anything else → network."""

    def __init__(self, local: dict[str, ASGIApp], network: httpx.AsyncBaseTransport) -> None:
        self.local = {host: httpx.ASGITransport(app=app) for host, app in local.items()}
        self.network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.local.get(request.url.host, self.network)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


class SandboxApp:
    """The ASGI app of one sandbox, with handles tests use to steer and inspect it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.caps = capabilities(EsVersion.parse(config.es_version))
        self.keys = KeyRing(config.openai_keys)
        self.faults = FaultInjector()
        self.faults.latency_s = config.latency_ms / 1000
        self.upstream_log = UpstreamLog()
        self.upstream = create_upstream_app(self.keys, log=self.upstream_log)
        self.store = Store(config.data_dir, config.clock)
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        caller = UpstreamCaller(self._client, config.retry)
        self.es_state = EsState(self.caps, self.store, caller, _auth(config), clock=config.clock)
        self.es_state.set_eis(config.eis)
        self.es = EsApp(self.es_state)
        service_keys = self.es_state.service_keys
        routes: list[Any] = [
            *admin_routes(self.keys, self.faults, self.upstream_log, service_keys),
            *cluster_admin_routes(self.es_state),
        ]
        routes.append(Mount("/_sandbox/openai", self.upstream))
        self.control = Starlette(routes=routes)
        self.app = FaultMiddleware(self._dispatch, self.faults)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.app(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self.control if scope["path"].startswith("/_sandbox/") else self.es
        await target(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _client(self) -> httpx.AsyncClient:
        """One outbound client per event loop (connection pools cannot cross loops)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            network = self.config.network_transport or httpx.AsyncHTTPTransport
            local: dict[str, ASGIApp] = {
                OPENAI_HOST: FaultMiddleware(self.upstream, self.faults),
                SELF_HOST: self,
            }
            transport = _RoutingTransport(local, network())
            client = httpx.AsyncClient(transport=transport, timeout=None)
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the outbound client of the running loop (others close with their loop)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def _auth(config: SandboxConfig) -> AuthConfig:
    auth = AuthConfig()
    for user in config.basic_auth:
        auth.add_user(user)
    for key in config.api_keys:
        auth.add_api_key(key)
    return auth


def create_app(config: SandboxConfig | None = None, **options: Any) -> SandboxApp:
    """A sandbox app; `options` override fields of `config` (e.g. `es_version="8.16.0"`)."""
    base = config or SandboxConfig()
    if options:
        base = SandboxConfig(**{**base.__dict__, **options})
    return SandboxApp(base)
