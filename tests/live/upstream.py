"""The OpenAI-compatible upstream the contract suite points its endpoints at: the sandbox's
upstream app (`reconciler/sandbox/upstream.py`), served on its own by uvicorn in a thread.

It accepts only the keys it is given (`KeyRing`), answers `/v1/embeddings` with deterministic
vectors and `/v1/chat/completions` with canned text, and logs what each request carried (never
the key, only its fingerprint). No OpenAI account is involved.

`host` is the address by which the Elasticsearch under test reaches this process: 127.0.0.1 for
a local cluster or the sandbox, `host.docker.internal` (or the docker bridge address) for a
container. The server binds to `bind`, by default 127.0.0.1 for a loopback `host` and all
interfaces (0.0.0.0) otherwise, so a container can connect.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from reconciler.sandbox.server import bind as bind_socket
from reconciler.sandbox.upstream import KeyRing, UpstreamLog, create_upstream_app

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Upstream:
    url: str
    """The base URL as the target reaches it, e.g. `http://127.0.0.1:41234`."""
    app: Starlette
    keys: KeyRing
    log: UpstreamLog

    @property
    def embeddings_url(self) -> str:
        return f"{self.url}/v1/embeddings"

    @property
    def chat_url(self) -> str:
        return f"{self.url}/v1/chat/completions"


def default_bind(host: str) -> str:
    return "127.0.0.1" if host in LOOPBACK else "0.0.0.0"


@contextlib.contextmanager
def start_upstream(
    keys: Iterable[str], *, host: str = "127.0.0.1", bind: str | None = None
) -> Iterator[Upstream]:
    ring = KeyRing(set(keys))
    log = UpstreamLog()
    app = create_upstream_app(ring, log=log)
    sock = bind_socket(bind or default_bind(host), 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            raise RuntimeError("the contract suite's upstream did not start")
        shown = f"[{host}]" if ":" in host else host
        yield Upstream(f"http://{shown}:{port}", app, ring, log)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
