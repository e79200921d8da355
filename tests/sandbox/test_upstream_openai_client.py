"""The official ``openai`` package drives the sandbox upstream in process (no sockets)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from starlette.applications import Starlette

from reconciler.sandbox.upstream import KeyRing, create_upstream_app, key_fingerprint
from reconciler.sandbox.upstream.embeddings import embed

pytestmark = pytest.mark.anyio
GOOD_KEY = "sk-good-0123456789abcdef0123456789abcdef"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def upstream() -> Starlette:
    return create_upstream_app(KeyRing({GOOD_KEY}))


@pytest.fixture
async def http(upstream: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=upstream)
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


def _client(
    http: httpx.AsyncClient, key: str = GOOD_KEY, organization: str | None = None
) -> openai.AsyncOpenAI:
    # openai 3.x is built on httpx2 and also accepts an httpx client (hence the ignore).
    return openai.AsyncOpenAI(
        api_key=key,
        organization=organization,
        base_url="http://upstream/v1",
        http_client=http,  # type: ignore[arg-type]
        max_retries=0,
    )


async def test_embeddings_with_dimensions(http: httpx.AsyncClient, upstream: Starlette) -> None:
    result = await _client(http).embeddings.create(
        model="text-embedding-3-small", input=["how big", "how small"], dimensions=128
    )
    assert [d.index for d in result.data] == [0, 1]
    vector = result.data[0].embedding
    assert len(vector) == 128
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-5)
    # The client asks for base64 by default; the decoded floats are the float32 vector.
    assert vector == embed("text-embedding-3-small", "how big", 128)
    assert result.usage.prompt_tokens > 0
    seen = upstream.state.log.entries()[-1]
    assert (seen.path, seen.dimensions, seen.input) == (
        "/v1/embeddings",
        128,
        ["how big", "how small"],
    )


async def test_embeddings_default_size_and_float_format(http: httpx.AsyncClient) -> None:
    client = _client(http)
    small = await client.embeddings.create(
        model="text-embedding-3-small", input="x", encoding_format="float"
    )
    large = await client.embeddings.create(model="text-embedding-3-large", input="x")
    assert len(small.data[0].embedding) == 1536
    assert len(large.data[0].embedding) == 3072


async def test_chat_completion(http: httpx.AsyncClient) -> None:
    client = _client(http)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "how big"},
    ]
    first = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    again = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert first.object == "chat.completion"
    assert first.choices[0].finish_reason == "stop"
    assert first.choices[0].message.role == "assistant"
    content = first.choices[0].message.content
    assert content and "how big" in content
    assert again.choices[0].message.content == content
    assert first.usage is not None and first.usage.total_tokens > 0


async def test_chat_streaming_with_usage(http: httpx.AsyncClient) -> None:
    client = _client(http)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "how big"}]
    plain = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


async def test_bad_key_is_an_authentication_error(
    http: httpx.AsyncClient, upstream: Starlette, canary_key: str
) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        await _client(http, key=canary_key).embeddings.create(
            model="text-embedding-3-small", input="x"
        )
    error = caught.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert canary_key not in error.response.text
    assert "Incorrect API key provided: sk-canar" in error.message
    seen = upstream.state.log.entries()[-1]
    assert (seen.status, seen.key_fingerprint) == (401, key_fingerprint(canary_key))
    assert seen.input == "x"  # what was sent is recorded even when the key is refused


async def test_organization_header_is_recorded(
    http: httpx.AsyncClient, upstream: Starlette
) -> None:
    client = _client(http, organization="org-sandbox")
    await client.embeddings.create(model="text-embedding-3-small", input="x", user="u-1")
    seen = upstream.state.log.entries()[-1]
    assert (seen.organization, seen.user) == ("org-sandbox", "u-1")
    assert "authorization" not in seen.headers


async def test_unknown_model_is_not_found(http: httpx.AsyncClient) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await _client(http).embeddings.create(model="text-embedding-4", input="x")
    assert caught.value.code == "model_not_found"


async def test_ada_refuses_dimensions(http: httpx.AsyncClient) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await _client(http).embeddings.create(
            model="text-embedding-ada-002", input="x", dimensions=256
        )
    assert caught.value.message.endswith("This model does not support specifying dimensions.")


async def test_models_listing(http: httpx.AsyncClient) -> None:
    client = _client(http)
    ids = [m.id async for m in client.models.list()]
    assert {"text-embedding-3-small", "gpt-4o-mini"} <= set(ids)
    model = await client.models.retrieve("text-embedding-3-large")
    assert model.id == "text-embedding-3-large"
