"""Fixtures of the contract suite (its options: `options.py`).

    python -m pytest tests/live --es-url https://host:9200 [--es-ca-cert ca.pem]
        [--upstream-host host.docker.internal] [--record run.jsonl]

Without `--es-url` the suite starts a sandbox process (`--sandbox-es-version`, default the
sandbox's release) and its own OpenAI-compatible upstream either way.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fixtures.sandbox import start_sandbox_process
from tests.live.harness import Endpoints, Keys, Live, id_prefix
from tests.live.options import option, pytest_addoption, pytest_configure
from tests.live.recording import FORMAT, UPSTREAM, LiveClient, Recorder, Scrubber
from tests.live.target import connection
from tests.live.upstream import start_upstream

__all__ = ["pytest_addoption", "pytest_configure"]  # this conftest registers the options


@pytest.fixture(scope="session")
def live_session(request: pytest.FixtureRequest) -> Iterator[Live]:
    config = request.config
    keys = Keys.new()
    host = option(config, "--upstream-host") or "127.0.0.1"
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(
            start_upstream(
                [keys.good, keys.other], host=host, bind=option(config, "--upstream-bind")
            )
        )
        url = option(config, "--es-url")
        if url:
            target = connection(url, option(config, "--es-ca-cert"))
        else:
            version = option(config, "--sandbox-es-version")
            options = {"es_version": version} if version else {}
            target = connection(stack.enter_context(start_sandbox_process(**options)).url, env={})
        recorder = Recorder(Scrubber({**keys.secrets(), **target.secrets}, upstream.url))
        client = LiveClient(target.url, recorder, headers=target.headers, verify=target.verify)
        stack.callback(client.close)
        root = client.get("/")
        assert root.status == 200 and isinstance(root.body, dict), f"GET /: {root.text[:500]}"
        live = Live(client, upstream, keys, root.body, secrets.token_hex(3))
        recorder.meta.update(
            format=FORMAT,
            es_version=live.label,
            build_flavor=root.body.get("version", {}).get("build_flavor"),
            target="sandbox" if live.is_sandbox else "elasticsearch",
            auth=target.auth_kind,
            id_prefix=id_prefix(live.run_id),
            upstream=UPSTREAM,
            secrets=sorted(recorder.scrubber.secrets),
            recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        record = option(config, "--record")
        if record:
            stack.callback(recorder.write, Path(record))
        yield live


@pytest.fixture
def live(live_session: Live, request: pytest.FixtureRequest) -> Iterator[Live]:
    """The session's target; the exchanges of the test are recorded under its name."""
    recorder = live_session.client.recorder
    recorder.test = request.node.nodeid.rpartition("/")[2]
    yield live_session
    recorder.test = "<session>"


@pytest.fixture
def endpoints(live: Live) -> Iterator[Endpoints]:
    made = Endpoints(live)
    yield made
    made.cleanup()
