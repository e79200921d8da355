"""Open the ports a server command needs: the HTTP client, the state store, env and clock.

`--sandbox` builds an ephemeral in-process sandbox (reached through `httpx.ASGITransport`,
no socket); otherwise the target comes from flags and environment (`target.py`). Credentials
bound for a plain-http target that is not loopback are warned about on stderr, once, before
anything is sent.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from reconciler.client import EsClient
from reconciler.pipeline import Ports
from reconciler.state import open_state_store
from reconciler.target import Target, plain_http_warning, resolve_target

SANDBOX_URL = "http://sandbox.local"


@dataclass(frozen=True, slots=True)
class Connection:
    """Where to connect, as the flags say."""

    target: str | None = None
    sandbox: bool = False
    ca_cert: str | None = None
    insecure: bool = False
    state: str | None = None
    lock_timeout: float = 0.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def warn_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@asynccontextmanager
async def open_ports(
    connection: Connection,
    env: Mapping[str, str],
    *,
    warn: Callable[[str], None] = warn_on_stderr,
) -> AsyncIterator[Ports]:
    """Client, state store, environment and clock for one command; closed on exit.

    Opened once per command (`watch` included), so a warning about the target is given once
    per run, before the first request.
    """
    target, transport = _target(connection, env)
    warning = plain_http_warning(target)
    if warning is not None:
        warn(warning)
    async with EsClient(target, transport=transport) as client:
        store = open_state_store(connection.state, client)
        yield Ports(client=client, store=store, env=env, now=utc_now)


def _target(
    connection: Connection, env: Mapping[str, str]
) -> tuple[Target, httpx.AsyncBaseTransport | None]:
    if connection.sandbox:
        from reconciler.sandbox.app import create_app

        return Target(SANDBOX_URL), httpx.ASGITransport(app=create_app())
    resolved = resolve_target(
        env, target=connection.target, ca_cert=connection.ca_cert, insecure=connection.insecure
    )
    return resolved, None
