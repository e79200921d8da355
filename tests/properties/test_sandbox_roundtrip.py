"""Generated manifests through the in-process sandbox: PUT, GET, then reconciler sees no change.

Also pins `server_echo` to the sandbox (the fake of record): both must answer the same GET
entry for every accepted manifest. Models the fake upstream does not know are refused on PUT,
as OpenAI refuses them, so those cases are skipped here (`test_diff_properties` covers them).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
from hypothesis import HealthCheck, assume, given, settings

from reconciler.diff import compare_endpoint, last_applied_spec
from reconciler.model import DesiredEndpoint, LiveEndpoint, Location, Options
from reconciler.secrets import SecretRef
from tests.fixtures.sandbox import make_sandbox_app
from tests.properties.manifests import Case, cases
from tests.properties.server_echo import DEFAULT_URLS, simulate_server_echo

UNKNOWN_MODELS = {"acme-embed", "acme-chat"}


async def put_then_get(case: Case, body: dict[str, Any]) -> tuple[int, Any]:
    app = make_sandbox_app(es_version="{}.{}.0".format(*case.release))
    sent = copy.deepcopy(body)
    sent["service_settings"]["api_key"] = "sk-roundtrip"
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            put = await client.put(f"/_inference/{case.task_type}/ep", json=sent)
            if put.status_code != 200:
                return put.status_code, put.text
            return 200, (await client.get("/_inference/ep")).json()["endpoints"][0]
    finally:
        await app.aclose()


def reachable(case: Case) -> dict[str, Any]:
    """The body with any custom URL dropped: the sandbox only routes the OpenAI host."""
    body = copy.deepcopy(case.body)
    settings_ = body["service_settings"]
    if settings_.get("url") not in (None, DEFAULT_URLS[case.task_type.lower()]):
        del settings_["url"]
    return body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_apply_then_plan_against_the_sandbox_is_a_no_op(case: Case) -> None:
    assume(case.body["service_settings"]["model_id"] not in UNKNOWN_MODELS)
    body = reachable(case)
    status, entry = asyncio.run(put_then_get(case, body))
    assert status == 200, entry
    desired = DesiredEndpoint("ep", case.task_type, body, SecretRef("K"), Options(), Location("x"))
    live = LiveEndpoint("ep", entry["task_type"], entry["service"], entry)
    last = last_applied_spec(desired, live)
    assert compare_endpoint(desired, live, last_applied=None, release=case.release).changes == ()
    assert compare_endpoint(desired, live, last_applied=last, release=case.release).changes == ()
    assert simulate_server_echo("ep", case.task_type, body, release=case.release) == entry
