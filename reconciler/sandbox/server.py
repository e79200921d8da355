"""Run the sandbox as a real HTTP server (uvicorn): bind, announce the URL on stdout once the
server accepts connections, and stop cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

import uvicorn

from .app import SandboxApp, SandboxConfig, create_app

LISTENING = "Sandbox listening on {url}"
EXIT_INTERRUPTED = 130


class _Server(uvicorn.Server):
    """uvicorn, announcing the bound URL and exiting with a code instead of re-raising
    the signal that stopped it."""

    def __init__(self, config: uvicorn.Config, url: str, out: IO[str]) -> None:
        super().__init__(config)
        self.url = url
        self.out = out
        self.exit_signal: int | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(LISTENING.format(url=self.url), file=self.out, flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.exit_signal = sig
        self.should_exit = True


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol is TCP;
    # with 0, every response waited ~40 ms for the client's delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def data_dir_lock(data_dir: Path | None) -> Iterator[None]:
    """One server per data directory: a second one would interleave writes."""
    if data_dir is None:
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(
                f"sandbox: data directory {data_dir} is used by another sandbox"
            ) from None
        yield
    finally:
        os.close(fd)


def serve(
    host: str = "127.0.0.1",
    port: int = 9200,
    config: SandboxConfig | None = None,
    *,
    log_level: str = "warning",
    out: IO[str] | None = None,
    **options: Any,
) -> int:
    """Serve until SIGINT (exit code 130) or SIGTERM (0). `options` override `config`
    fields (`data_dir`, `es_version`, `openai_keys`, `basic_auth`, `api_keys`, ...)."""
    app: SandboxApp = create_app(config, **options)
    sock = bind(host, port)
    uv_config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    server = _Server(uv_config, url_of(sock), out or sys.stdout)
    with data_dir_lock(app.config.data_dir), sock:
        server.run(sockets=[sock])
    return EXIT_INTERRUPTED if server.exit_signal == signal.SIGINT else 0
