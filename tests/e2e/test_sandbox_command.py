"""`reconcile sandbox` as the README starts it: answers `curl …/_inference`, stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_reconcile_sandbox_answers_the_inference_api_and_stops_cleanly_on_ctrl_c() -> None:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Sandbox listening on http://127.0.0.1:"), line
        url = line.removeprefix("Sandbox listening on ").strip()
        ready_after = time.monotonic() - started
        response = httpx.get(f"{url}/_inference", timeout=10)
        assert response.status_code == 200
        assert response.headers["X-elastic-product"] == "Elasticsearch"
        ids = [e["inference_id"] for e in response.json()["endpoints"]]
        assert ids and all(i.startswith(".") for i in ids)  # only the preconfigured ones
        assert httpx.get(url, timeout=10).json()["tagline"] == "You Know, for Search"
        print(f"sandbox ready after {ready_after:.2f} s (including interpreter start)")
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
    assert code in (0, 130)
