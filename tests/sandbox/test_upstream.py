"""The sandbox upstream at the HTTP level: shapes, determinism, keys, errors, the request log."""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from reconciler.sandbox.upstream import KeyRing, UpstreamLog, UpstreamRequest, create_upstream_app
from reconciler.sandbox.upstream.embeddings import embed
from reconciler.sandbox.upstream.errors import mask_key

pytestmark = pytest.mark.anyio
KEY = "sk-test-abcdefghijklmnopqrstuvwxyz012345"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing()


@pytest.fixture
def upstream(keys: KeyRing) -> Starlette:
    return create_upstream_app(keys)


@pytest.fixture
async def http(upstream: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=upstream)
    async with httpx.AsyncClient(transport=transport, base_url="http://up") as client:
        yield client


async def _embed(http: httpx.AsyncClient, body: dict[str, Any], **kw: Any) -> httpx.Response:
    return await http.post("/v1/embeddings", json=body, headers=kw.pop("headers", AUTH), **kw)


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


# --- embeddings ---------------------------------------------------------------------------


async def test_embedding_response_shape(http: httpx.AsyncClient) -> None:
    response = await _embed(http, {"model": "text-embedding-3-small", "input": "how big"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    assert [set(d) for d in body["data"]] == [{"object", "index", "embedding"}]
    assert len(body["data"][0]["embedding"]) == 1536
    assert set(body["usage"]) == {"prompt_tokens", "total_tokens"}


async def test_embeddings_are_deterministic_and_differ_by_text_and_model() -> None:
    a = embed("text-embedding-3-small", "how big", 64)
    assert a == embed("text-embedding-3-small", "how big", 64)
    assert a != embed("text-embedding-3-small", "how small", 64)
    assert a != embed("text-embedding-3-large", "how big", 64)
    assert math.isclose(math.fsum(v * v for v in a), 1.0, rel_tol=1e-6)


def test_shortened_vector_is_the_renormalised_prefix() -> None:
    full = embed("text-embedding-3-large", "x", 3072)
    short = embed("text-embedding-3-large", "x", 256)
    norm = math.sqrt(math.fsum(v * v for v in full[:256]))
    assert all(
        math.isclose(s, f / norm, rel_tol=1e-5, abs_tol=1e-7)
        for s, f in zip(short, full[:256], strict=True)
    )


async def test_base64_encoding_carries_the_float_vector(http: httpx.AsyncClient) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a"], "dimensions": 16}
    floats = (await _embed(http, body)).json()["data"][0]["embedding"]
    encoded = (await _embed(http, {**body, "encoding_format": "base64"})).json()
    raw = base64.b64decode(encoded["data"][0]["embedding"])
    assert list(struct.unpack("<16f", raw)) == floats


async def test_ada_answers_with_its_snapshot_name(http: httpx.AsyncClient) -> None:
    response = await _embed(http, {"model": "text-embedding-ada-002", "input": ["a"]})
    assert response.json()["model"] == "text-embedding-ada-002-v2"
    assert len(response.json()["data"][0]["embedding"]) == 1536


async def test_token_array_inputs_are_accepted(http: httpx.AsyncClient) -> None:
    response = await _embed(http, {"model": "text-embedding-3-small", "input": [[1, 2], [3]]})
    assert [d["index"] for d in response.json()["data"]] == [0, 1]


SMALL = {"model": "text-embedding-3-small", "input": "x"}


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"input": "x"}, 400, None, None),
        ({"model": "text-embedding-3-small"}, 400, "input", "missing_required_parameter"),
        ({**SMALL, "input": ""}, 400, None, None),
        ({**SMALL, "input": []}, 400, None, None),
        ({**SMALL, "dimensions": "8"}, 400, "dimensions", "invalid_type"),
        ({**SMALL, "dimensions": 0}, 400, "dimensions", "integer_below_min_value"),
        ({**SMALL, "dimensions": 1537}, 400, "dimensions", "integer_above_max_value"),
        ({**SMALL, "model": "text-embedding-ada-002", "dimensions": 8}, 400, None, None),
        ({**SMALL, "encoding_format": "int8"}, 400, "encoding_format", "invalid_value"),
        ({**SMALL, "model": "gpt-4o"}, 400, None, None),
        ({**SMALL, "model": "no-such-model"}, 404, None, "model_not_found"),
    ],
)
async def test_embedding_errors(
    http: httpx.AsyncClient, body: dict[str, Any], status: int, param: str | None, code: str | None
) -> None:
    response = await _embed(http, body)
    assert response.status_code == status
    error = _error(response)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


async def test_body_that_is_not_json(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/embeddings", content=b"{nope", headers=AUTH)
    assert response.status_code == 400
    assert _error(response)["message"].startswith("We could not parse the JSON body")


# --- keys -----------------------------------------------------------------------------------


def test_mask_key_keeps_eight_and_four() -> None:
    key = "sk-" + "A" * 44 + "xQBt"  # 51 characters, the legacy key length
    assert mask_key(key) == "sk-AAAAA" + "*" * 39 + "xQBt"
    assert mask_key("sk-abc") == "s****c"
    assert mask_key("abc") == "***"


async def test_missing_key(http: httpx.AsyncClient) -> None:
    response = await _embed(http, {"model": "text-embedding-3-small", "input": "x"}, headers={})
    assert response.status_code == 401
    error = _error(response)
    assert error["message"].startswith("You didn't provide an API key.")
    assert error["code"] is None


async def test_invalid_key_body_never_holds_the_key(
    http: httpx.AsyncClient, keys: KeyRing, canary_key: str
) -> None:
    keys.set_valid({KEY})
    headers = {"Authorization": f"Bearer {canary_key}"}
    response = await _embed(
        http, {"model": "text-embedding-3-small", "input": "x"}, headers=headers
    )
    assert response.status_code == 401
    assert canary_key not in response.text
    assert _error(response) == {
        "message": f"Incorrect API key provided: {mask_key(canary_key)}. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }


def test_keyring_modes() -> None:
    ring = KeyRing()
    assert ring.is_valid("sk-anything") and not ring.is_valid("pk-anything")
    ring.revoke("sk-old")
    assert not ring.is_valid("sk-old") and ring.is_valid("sk-new")
    ring.allow("sk-old")
    assert ring.is_valid("sk-old")
    ring.set_valid({"sk-a"})
    assert ring.is_valid("sk-a") and not ring.is_valid("sk-b")
    ring.allow("sk-b")
    ring.revoke("sk-a")
    assert ring.is_valid("sk-b") and not ring.is_valid("sk-a")
    ring.set_valid(None)
    assert ring.is_valid("sk-a")  # a new configuration forgets revocations
    assert "sk-a" not in json.dumps(KeyRing({"sk-a"}).describe())


async def test_rotation_through_the_keyring(http: httpx.AsyncClient, keys: KeyRing) -> None:
    body = {"model": "text-embedding-3-small", "input": "x"}
    keys.revoke(KEY)
    assert (await _embed(http, body)).status_code == 401
    keys.allow(KEY)
    assert (await _embed(http, body)).status_code == 200


# --- chat -------------------------------------------------------------------------------------


async def _chat(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "how big"}], **body}
    return await http.post("/v1/chat/completions", json=body, headers=AUTH)


async def test_chat_n_choices_and_length_limit(http: httpx.AsyncClient) -> None:
    body = (await _chat(http, n=3, max_completion_tokens=2)).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {c["finish_reason"] for c in body["choices"]} == {"length"}
    assert len(body["choices"][0]["message"]["content"].split()) == 2
    assert body["usage"]["completion_tokens"] == 6


async def test_chat_reply_follows_the_last_user_message(http: httpx.AsyncClient) -> None:
    parts = [{"type": "text", "text": "second"}]
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": parts},
    ]
    content = (await _chat(http, messages=messages)).json()["choices"][0]["message"]["content"]
    assert content.endswith("to: second")


async def test_chat_stream_framing(http: httpx.AsyncClient) -> None:
    response = await _chat(http, stream=True, n=1)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert all("usage" not in c for c in chunks)  # only with stream_options.include_usage


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"messages": None}, 400, "messages", "missing_required_parameter"),
        ({"messages": []}, 400, "messages", "empty_array"),
        ({"messages": [{"content": "x"}]}, 400, "messages[0].role", "missing_required_parameter"),
        ({"messages": [{"role": "bot", "content": "x"}]}, 400, "messages[0].role", "invalid_value"),
        ({"n": 0}, 400, "n", "integer_below_min_value"),
        ({"temperature": 3}, 400, "temperature", "decimal_above_max_value"),
        ({"stream_options": {"include_usage": True}}, 400, "stream_options", None),
        ({"model": "text-embedding-3-small"}, 404, "model", None),
        ({"model": "gpt-9"}, 404, None, "model_not_found"),
    ],
)  # fmt: skip
async def test_chat_errors(
    http: httpx.AsyncClient, body: dict[str, Any], status: int, param: str | None, code: str | None
) -> None:
    response = await _chat(http, **body)
    assert response.status_code == status
    error = _error(response)
    assert (error["param"], error["code"]) == (param, code)


# --- routing and the log ------------------------------------------------------------------------


async def test_unknown_route_and_wrong_method(http: httpx.AsyncClient) -> None:
    missing = await http.post("/v1/nothing", headers=AUTH)
    wrong = await http.get("/v1/embeddings", headers=AUTH)
    assert missing.status_code == 404
    assert _error(missing)["message"] == "Invalid URL (POST /v1/nothing)"
    assert wrong.status_code == 404  # the API has no 405: a wrong method is an invalid URL
    assert _error(wrong)["message"] == "Invalid URL (GET /v1/embeddings)"


async def test_works_mounted_under_a_prefix(upstream: Starlette) -> None:
    outer = Starlette(routes=[Mount("/_sandbox/openai", upstream)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://es") as http:
        body = {"model": "text-embedding-3-small", "input": "x", "dimensions": 4}
        response = await http.post("/_sandbox/openai/v1/embeddings", json=body, headers=AUTH)
        missing = await http.get("/_sandbox/openai/v1/nothing", headers=AUTH)
    assert len(response.json()["data"][0]["embedding"]) == 4
    assert _error(missing)["message"] == "Invalid URL (GET /v1/nothing)"
    assert [e.path for e in upstream.state.log.entries()] == ["/v1/embeddings", "/v1/nothing"]


async def test_log_records_requests_without_the_key(
    http: httpx.AsyncClient, upstream: Starlette
) -> None:
    headers = {**AUTH, "OpenAI-Organization": "org-1", "X-Custom": "yes"}
    body = {"model": "text-embedding-3-small", "input": ["a"], "dimensions": 8, "user": "u"}
    await _embed(http, body, headers=headers)
    entry = upstream.state.log.entries()[-1]
    assert (entry.method, entry.path, entry.status, entry.model) == (
        "POST",
        "/v1/embeddings",
        200,
        "text-embedding-3-small",
    )
    assert (entry.input, entry.dimensions, entry.user, entry.organization) == (
        ["a"],
        8,
        "u",
        "org-1",
    )
    assert entry.headers["x-custom"] == "yes" and "authorization" not in entry.headers
    assert len(entry.key_fingerprint or "") == 8
    assert KEY not in json.dumps(upstream.state.log.to_list())


def test_log_is_bounded() -> None:
    log = UpstreamLog(maxlen=3)
    for i in range(5):
        log.append(UpstreamRequest(method="POST", path=f"/{i}"))
    assert [e.path for e in log.entries()] == ["/2", "/3", "/4"]
    log.clear()
    assert len(log) == 0
