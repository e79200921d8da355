"""The sandbox as a real server: the listening line, port 0, clean stops on SIGINT/SIGTERM,
one server per data directory, command-line options."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import DEFAULT_ES_VERSION
from reconciler.sandbox.__main__ import parser
from tests.fixtures.sandbox import SandboxProcess, sandbox_args, start_sandbox_process


def test_listening_line_and_quick_start() -> None:
    started = time.monotonic()
    with start_sandbox_process() as process:
        elapsed = time.monotonic() - started
        assert process.url.startswith("http://127.0.0.1:")
        assert not process.url.endswith(":0")
        assert httpx.get(process.url).json()["version"]["number"] == DEFAULT_ES_VERSION
    # The issue asks for under a second; a loose bound keeps loaded CI machines green.
    assert elapsed < 5.0


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_stops_cleanly_on_signals(sig: int, code: int) -> None:
    with start_sandbox_process() as process:
        assert process.stop(sig) == code
        assert process.proc.stderr is not None
        assert "Traceback" not in process.proc.stderr.read()


def test_stdout_has_only_the_listening_line(sandbox_server: SandboxProcess) -> None:
    httpx.get(f"{sandbox_server.url}/_inference")
    sandbox_server.stop()
    assert sandbox_server.proc.stdout is not None
    assert sandbox_server.proc.stdout.read() == ""


def test_one_server_per_data_dir(tmp_path: Path) -> None:
    with start_sandbox_process(data_dir=tmp_path):
        second = subprocess.run(
            sandbox_args(data_dir=tmp_path), capture_output=True, text=True, timeout=30
        )
    assert second.returncode != 0
    assert "is used by another sandbox" in second.stderr


def test_options_reach_the_server() -> None:
    options = {
        "es_version": "8.16.0",
        "openai_keys": ["sk-only"],
        "basic_auth": ["elastic:pw"],
        "latency_ms": 1,
    }
    with start_sandbox_process(**options) as process:
        assert httpx.get(process.url).status_code == 401
        info = httpx.get(process.url, auth=("elastic", "pw")).json()
        assert info["version"]["number"] == "8.16.0"
        keys = httpx.get(f"{process.url}/_sandbox/openai/keys").json()
        assert keys["mode"] == "listed"
        assert httpx.get(f"{process.url}/_sandbox/latency").json() == {"ms": 1.0}


def test_bad_version_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["--es-version", "7.17.0"])
    result = subprocess.run(
        [sys.executable, "-m", "reconciler.sandbox", "--es-version", "x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "not a version" in result.stderr
