"""Canaries through the CLI: server errors quoting parts and encodings of every secret.

A sandbox process with authentication is made to answer with error bodies that quote the last
10 characters of the OpenAI key, the decoded `id:key` of the Elasticsearch API key, its base64
and pieces of its key, the password and the `Basic` header value. `smoke`, `apply` and `plan`
run against it with `RECONCILE_LOG=debug`; no 8-character fragment of any canary may appear in
what they print or log.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CANARY_KEY, FRAGMENT, windows
from tests.e2e.conftest import Cli, completion, embeddings, make_cli, write_manifest
from tests.fixtures.sandbox import start_sandbox_process

ES_ID = "CnryId0123456789abXY"
ES_KEY = "CnryKey-9f8e7d6c5b4a3zQ"
ES_PAIR = f"{ES_ID}:{ES_KEY}"
ES_ENCODED = base64.b64encode(ES_PAIR.encode()).decode()
USER, PASSWORD = "elastic", "canary-pw-5e4d3c2b1a09"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

MODES: dict[str, dict[str, str]] = {
    "api-key-base64": {"ES_API_KEY": ES_ENCODED},
    "api-key-raw-pair": {"ES_API_KEY": ES_PAIR},
    "basic": {"ES_USERNAME": USER, "ES_PASSWORD": PASSWORD},
}


CANARY_FRAGMENTS = (
    windows(CANARY_KEY)
    | windows(ES_KEY)
    | windows(ES_ENCODED.rstrip("="))
    | windows(ES_PAIR, start=len(ES_ID) - FRAGMENT + 2)  # every window reaching into the key
    | windows(PASSWORD)
    | windows(BASIC.rstrip("="))
)
"""Every 8-character piece of a secret (the API key's id alone is not one: see secrets.py)."""


def leak_body(mode: str) -> dict[str, Any]:
    """An Elasticsearch error quoting the credentials of `mode` and the OpenAI key."""
    if mode == "basic":
        quoted = f"user [{USER}] password {PASSWORD[2:14]}…, header Basic {BASIC}"
        cause = f"password ends {PASSWORD[-9:]}; header part {BASIC[6:20]}"
    else:
        quoted = f"api key [{ES_PAIR}] header ApiKey {ES_ENCODED}"
        cause = f"key ends {ES_KEY[-10:]}; encoded part {ES_ENCODED[9:25]}"
    reason = f"upstream refused key …{CANARY_KEY[-10:]} ({CANARY_KEY[3:15]}); {quoted}"
    error = {
        "type": "status_exception",
        "reason": reason,
        "caused_by": {"type": "status_exception", "reason": cause},
    }
    return {"error": error, "status": 500}


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def secured_cli(
    mode: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, clean_env: None
) -> Iterator[Cli]:
    """The CLI against a sandbox that demands the credentials of `mode`."""
    with start_sandbox_process(api_keys=[ES_PAIR], basic_auth=[f"{USER}:{PASSWORD}"]) as server:
        env = {"OPENAI_API_KEY": CANARY_KEY, "RECONCILE_LOG": "debug", **MODES[mode]}
        yield make_cli(server.url, capsys, tmp_path, **env)


def inject(cli: Cli, mode: str, method: str, path: str) -> None:
    """Every matching request fails with a 500 quoting secrets (retried at once)."""
    rule = {
        "method": method,
        "path": path,
        "status": 500,
        "retry_after": 0,
        "body": json.dumps(leak_body(mode)),
    }
    with cli.es() as es:
        es.post("/_sandbox/faults", json=rule).raise_for_status()


def clear_faults(cli: Cli) -> None:
    with cli.es() as es:
        es.delete("/_sandbox/faults").raise_for_status()


def leaks(text: str) -> list[str]:
    return sorted(fragment for fragment in CANARY_FRAGMENTS if fragment in text)


def test_no_fragment_of_a_secret_survives_smoke_apply_or_plan(
    secured_cli: Cli, mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cli = secured_cli
    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "manifests"
    write_manifest(folder, "emb", embeddings("emb"))
    code, out, err = cli("apply", str(folder), "--yes")
    assert code == 0, out + err  # the credentials authenticate: faults are what fails next

    inject(cli, mode, "POST", "/_inference/*")
    code, out, err = cli("smoke", str(folder))
    assert code == 1 and "(sensitive)" in out + err, out + err
    clear_faults(cli)

    write_manifest(folder, "comp", completion("comp"))
    inject(cli, mode, "PUT", "/_inference/*")
    code, out, err = cli("apply", str(folder), "--yes", "--format", "json")
    assert code == 1 and "(sensitive)" in out + err, out + err
    clear_faults(cli)

    inject(cli, mode, "GET", "/_inference/_all")
    code, out, err = cli("plan", str(folder))
    assert code != 0 and "(sensitive)" in err, out + err

    printed = "\n".join(cli.transcript)
    assert leaks(printed) == []
    assert leaks(caplog.text) == []
    assert "plain http" not in printed  # a loopback target: no warning
    assert "retry" in caplog.text  # the debug log did see the (scrubbed) errors
