"""Optional authentication: `ApiKey` and `Basic` credentials, and the 401 Elasticsearch sends
(`security_exception`, one `WWW-Authenticate` header per scheme)."""

from __future__ import annotations

import base64

import pytest

from tests.sandbox._es import client_for

pytestmark = pytest.mark.anyio
API_KEY = "key-id:key-secret"
ENCODED = base64.b64encode(API_KEY.encode()).decode()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


async def test_auth_disabled_by_default() -> None:
    async with client_for() as (_app, client):
        assert (await client.get("/")).status_code == 200


async def test_missing_credentials_is_401_with_challenges() -> None:
    async with client_for(api_keys=[API_KEY]) as (_app, client):
        response = await client.get("/_inference?pretty")
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == [
        'Basic realm="security", charset="UTF-8"',
        'Bearer realm="security"',
        "ApiKey",
    ]
    error = response.json()["error"]
    assert error["type"] == "security_exception"
    assert (
        error["reason"]
        == "missing authentication credentials for REST request [/_inference?pretty]"
    )
    assert error["root_cause"][0]["header"]["WWW-Authenticate"][2] == "ApiKey"
    assert response.headers["x-elastic-product"] == "Elasticsearch"


@pytest.mark.parametrize("credential", [API_KEY, ENCODED])
async def test_api_key_accepted_in_either_configured_form(credential: str) -> None:
    async with client_for(api_keys=[credential]) as (_app, client):
        ok = await client.get("/", headers={"authorization": f"ApiKey {ENCODED}"})
        bad = await client.get("/", headers={"authorization": "ApiKey bm9wZTpub3Bl"})
    assert ok.status_code == 200
    assert bad.status_code == 401
    assert bad.json()["error"]["reason"].startswith(
        "unable to authenticate with provided credentials"
    )


async def test_basic_auth() -> None:
    async with client_for(basic_auth=["elastic:changeme"]) as (_app, client):
        ok = await client.get("/", headers=_basic("elastic", "changeme"))
        wrong = await client.get("/_inference", headers=_basic("elastic", "nope"))
    assert ok.status_code == 200
    assert wrong.status_code == 401
    assert (
        wrong.json()["error"]["reason"]
        == "unable to authenticate user [elastic] for REST request [/_inference]"
    )


async def test_unknown_routes_need_authentication_too() -> None:
    async with client_for(basic_auth=["elastic:changeme"]) as (_app, client):
        assert (await client.get("/_nope/a/b")).status_code == 401


async def test_sandbox_control_routes_are_not_behind_es_auth() -> None:
    async with client_for(basic_auth=["elastic:changeme"]) as (_app, client):
        assert (await client.get("/_sandbox/faults")).status_code == 200
