"""EsClient against `httpx.MockTransport`: URLs, error mapping, retries, redaction, counting."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.client import ConflictError, EsClient, ServerInfo
from reconciler.defaults import capabilities
from reconciler.errors import (
    ApiError,
    NotFoundError,
    PermanentApiError,
    TemporaryApiError,
)
from reconciler.model import InUse
from reconciler.retry import RetryPolicy
from reconciler.secrets import REDACTED, Secret
from reconciler.target import Target

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], httpx.Response]
POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0, max_retry_after=60.0)
EMBEDDING = {
    "inference_id": "emb",
    "task_type": "text_embedding",
    "service": "openai",
    "service_settings": {"model_id": "text-embedding-3-small", "dimensions": 3},
    "chunking_settings": {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1},
}


class Server:
    """A scripted server: answers from a queue per (method, path), records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[httpx.Response | Exception]] = {}
        self.sleeps: list[float] = []

    def on(self, method: str, path: str, *answers: httpx.Response | Exception) -> None:
        self.routes.setdefault((method, path), []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path), [])
        answer = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else None)
        if answer is None:
            return es_error(400, "illegal_argument_exception", "no route in test")
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, target: Target | None = None, **options: Any) -> EsClient:
        target = target or Target("http://es.test", api_key=Secret("aWQ6a2V5"))
        return EsClient(
            target,
            transport=httpx.MockTransport(self),
            sleep=self.sleep,
            rand=lambda: 0.5,
            retry=options.pop("retry", POLICY),
            **options,
        )


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def es_error(status: int, error_type: str, reason: str, **extra: Any) -> httpx.Response:
    error = {"root_cause": [{"type": error_type, "reason": reason}], "type": error_type}
    return ok({"error": {**error, "reason": reason, **extra}, "status": status}, status)


def version(number: str) -> httpx.Response:
    return ok({"name": "n", "version": {"number": number, "build_flavor": "default"}})


@pytest.fixture
def server() -> Server:
    return Server()


# -- requests as the server sees them ----------------------------------------------------


async def test_api_key_header(server: Server) -> None:
    server.on("GET", "/", version("8.18.0"))
    async with server.client() as es:
        await es.info()
    assert server.requests[0].headers["Authorization"] == "ApiKey aWQ6a2V5"


async def test_basic_auth_header(server: Server) -> None:
    server.on("GET", "/", version("8.18.0"))
    target = Target("http://es.test", username="elastic", password=Secret("pw"))
    async with server.client(target) as es:
        await es.info()
    expected = "Basic " + base64.b64encode(b"elastic:pw").decode()
    assert server.requests[0].headers["Authorization"] == expected


async def test_no_auth_header_without_credentials(server: Server) -> None:
    server.on("GET", "/", version("8.18.0"))
    async with server.client(Target("http://es.test")) as es:
        await es.info()
    assert "Authorization" not in server.requests[0].headers


async def test_url_prefix_is_kept(server: Server) -> None:
    server.on("GET", "/proxy/_inference/_all", ok({"endpoints": []}))
    async with server.client(Target("http://es.test/proxy")) as es:
        assert await es.list_endpoints() == []


# -- server info ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "update", "timeout", "chat", "headers", "chunking"),
    [
        ("8.15.1", False, False, False, False, False),
        ("8.17.0", True, False, False, False, False),
        ("8.18.2", True, False, True, False, False),
        ("8.19.0", True, True, True, False, False),
        ("9.0.3", True, False, True, False, False),
        ("9.1.0-SNAPSHOT", True, True, True, False, True),
        ("9.2.0", True, True, True, True, True),
    ],
)
async def test_capabilities_by_version(
    server: Server,
    number: str,
    update: bool,
    timeout: bool,
    chat: bool,
    headers: bool,
    chunking: bool,
) -> None:
    server.on("GET", "/", version(number))
    async with server.client() as es:
        info = await es.info()
        await es.info()  # cached
    assert len(server.requests) == 1
    assert info.has_update_api is update
    assert info.has_put_timeout is timeout
    assert info.has_chat_completion is chat
    assert info.has_headers is headers
    assert info.has_none_recursive_chunking is chunking


def test_serverless_has_everything() -> None:
    info = ServerInfo.parse({"version": {"number": "8.11.0", "build_flavor": "serverless"}})
    assert info.has_update_api and info.has_put_timeout and info.has_headers
    # the planner reads the same label: serverless is planned as the newest release, not 8.11
    assert capabilities(info.label).update_api


def test_planner_and_client_read_one_version_table() -> None:
    for number in ("8.15.0", "8.17.0", "8.19.2", "9.0.0", "9.1.0", "9.2.1"):
        info = ServerInfo.parse({"version": {"number": number}})
        caps = capabilities(info.label)
        assert info.has_update_api is caps.update_api
        assert info.has_put_timeout is ("put_timeout" in caps.features)


async def test_info_from_something_not_elasticsearch(server: Server) -> None:
    server.on("GET", "/", ok({"hello": "kibana"}))
    async with server.client() as es:
        with pytest.raises(PermanentApiError, match="did not answer like Elasticsearch"):
            await es.info()


# -- endpoints -----------------------------------------------------------------------------


async def test_list_endpoints_in_one_request(server: Server) -> None:
    preconfigured = {
        "inference_id": ".elser-2-elasticsearch",
        "task_type": "sparse_embedding",
        "service": "elasticsearch",
        "service_settings": {},
    }
    server.on("GET", "/_inference/_all", ok({"endpoints": [preconfigured, EMBEDDING]}))
    async with server.client() as es:
        endpoints = await es.list_endpoints()
        assert es.request_count == 1
    assert [e.inference_id for e in endpoints] == [".elser-2-elasticsearch", "emb"]
    assert endpoints[0].preconfigured
    emb = endpoints[1]
    assert (emb.task_type, emb.service) == ("text_embedding", "openai")
    assert set(emb.body) == {"service", "service_settings", "chunking_settings"}


async def test_list_endpoints_before_8_15_used_models_and_model_id(server: Server) -> None:
    old = {
        "model_id": "old",
        "task_type": "completion",
        "service": "openai",
        "service_settings": {"model_id": "gpt-4"},
        "task_settings": {},
    }
    server.on("GET", "/_inference/_all", ok({"models": [old]}))
    async with server.client() as es:
        [endpoint] = await es.list_endpoints()
    assert endpoint.inference_id == "old"
    assert endpoint.body["service_settings"] == {"model_id": "gpt-4"}


@pytest.mark.parametrize("count", [1, 1000])
async def test_request_count_does_not_grow_with_endpoints(server: Server, count: int) -> None:
    many = [{**EMBEDDING, "inference_id": f"e{i}"} for i in range(count)]
    server.on("GET", "/_inference/_all", ok({"endpoints": many}))
    async with server.client() as es:
        assert len(await es.list_endpoints()) == count
        assert es.request_count == 1


async def test_get_endpoint(server: Server) -> None:
    server.on("GET", "/_inference/text_embedding/emb", ok({"endpoints": [EMBEDDING]}))
    async with server.client() as es:
        endpoint = await es.get_endpoint("text_embedding", "emb")
    assert endpoint.body["service_settings"]["dimensions"] == 3


async def test_get_missing_endpoint(server: Server) -> None:
    reason = "Inference endpoint not found [nope]"
    server.on(
        "GET", "/_inference/completion/nope", es_error(404, "resource_not_found_exception", reason)
    )
    async with server.client() as es:
        with pytest.raises(NotFoundError) as caught:
            await es.get_endpoint("completion", "nope")
    assert caught.value.status == 404
    assert caught.value.error_type == "resource_not_found_exception"
    assert reason in str(caught.value)
    assert len(server.requests) == 1  # a 404 is not retried


@pytest.mark.parametrize(
    ("number", "sent"), [("8.18.0", False), ("8.19.1", True), ("9.0.0", False), ("9.1.0", True)]
)
async def test_put_sends_key_and_timeout_only_where_supported(
    server: Server, canary_key: str, number: str, sent: bool
) -> None:
    server.on("GET", "/", version(number))
    server.on("PUT", "/_inference/text_embedding/emb", ok(EMBEDDING))
    body = {"service": "openai", "service_settings": {"model_id": "text-embedding-3-small"}}
    async with server.client() as es:
        live = await es.put_endpoint("text_embedding", "emb", body, Secret(canary_key), "60s")
    put = server.requests[-1]
    assert json.loads(put.content)["service_settings"] == {
        "model_id": "text-embedding-3-small",
        "api_key": canary_key,
    }
    assert ("timeout" in put.url.params) is sent
    assert "api_key" not in body["service_settings"]  # the caller's body is untouched
    assert live.inference_id == "emb"


async def test_put_without_timeout_does_not_ask_for_version(server: Server) -> None:
    server.on("PUT", "/_inference/completion/c", ok({**EMBEDDING, "task_type": "completion"}))
    async with server.client() as es:
        await es.put_endpoint("completion", "c", {"service": "openai"}, Secret("sk-x"))
    assert [r.method for r in server.requests] == ["PUT"]


async def test_put_is_never_retried_by_itself(server: Server) -> None:
    server.on("PUT", "/_inference/completion/c", es_error(503, "unavailable", "busy"))
    async with server.client() as es:
        with pytest.raises(TemporaryApiError):
            await es.put_endpoint("completion", "c", {"service": "openai"}, Secret("sk-x"))
    assert len(server.requests) == 1


async def test_put_safely_reads_back_after_a_failed_put(server: Server) -> None:
    server.on("PUT", "/_inference/text_embedding/emb", es_error(500, "x", "timed out"))
    server.on("GET", "/_inference/emb", ok({"endpoints": [EMBEDDING]}))
    async with server.client() as es:
        live = await es.put_endpoint_safely("text_embedding", "emb", {}, Secret("sk-x"))
    assert live.inference_id == "emb"
    assert [r.method for r in server.requests] == ["PUT", "GET"]
    assert server.sleeps == []


async def test_put_safely_retries_when_nothing_was_stored(server: Server) -> None:
    server.on("PUT", "/_inference/text_embedding/emb", httpx.ConnectError("refused"), ok(EMBEDDING))
    server.on("GET", "/_inference/emb", es_error(404, "resource_not_found_exception", "nope"))
    async with server.client() as es:
        live = await es.put_endpoint_safely("text_embedding", "emb", {}, Secret("sk-x"))
    assert live.inference_id == "emb"
    assert [r.method for r in server.requests] == ["PUT", "GET", "PUT"]
    assert server.sleeps == [0.5]


async def test_put_safely_does_not_retry_a_create_the_server_never_answered(
    server: Server,
) -> None:
    # 9.1+ never answers some creates (ES `checkForExistingUsesOfInferenceId`): the same PUT
    # would hang again
    server.on("PUT", "/_inference/text_embedding/emb", httpx.ReadTimeout("read timed out"))
    server.on("GET", "/_inference/emb", es_error(404, "resource_not_found_exception", "nope"))
    async with server.client() as es:
        with pytest.raises(PermanentApiError, match="did not answer") as caught:
            await es.put_endpoint_safely("text_embedding", "emb", {}, Secret("sk-x"))
    assert "name both in the manifest" in str(caught.value)
    assert [r.method for r in server.requests] == ["PUT", "GET"]


async def test_put_safely_takes_already_exists_on_a_retry_as_success(server: Server) -> None:
    exists = es_error(400, "resource_already_exists_exception", "Inference endpoint [emb] exists")
    server.on("PUT", "/_inference/text_embedding/emb", httpx.ConnectError("reset"), exists)
    server.on("GET", "/_inference/emb", es_error(503, "unavailable", "busy"))
    server.on("GET", "/_inference/text_embedding/emb", ok({"endpoints": [EMBEDDING]}))
    async with server.client() as es:
        live = await es.put_endpoint_safely("text_embedding", "emb", {}, Secret("sk-x"))
    assert live.inference_id == "emb"


async def test_put_safely_first_already_exists_is_an_error(server: Server) -> None:
    exists = es_error(400, "resource_already_exists_exception", "exists")
    server.on("PUT", "/_inference/text_embedding/emb", exists)
    async with server.client() as es:
        with pytest.raises(PermanentApiError, match="exists"):
            await es.put_endpoint_safely("text_embedding", "emb", {}, Secret("sk-x"))


async def test_update_puts_task_type_in_url(server: Server, canary_key: str) -> None:
    server.on(
        "PUT", "/_inference/completion/c/_update", ok({**EMBEDDING, "task_type": "completion"})
    )
    async with server.client() as es:
        await es.update_endpoint("completion", "c", {"task_settings": {"user": "u"}})
        await es.update_endpoint("completion", "c", {}, api_key=Secret(canary_key))
    first, second = (json.loads(r.content) for r in server.requests)
    assert first == {"task_settings": {"user": "u"}}
    assert second == {"service_settings": {"api_key": canary_key}}


async def test_update_is_retried(server: Server) -> None:
    server.on(
        "PUT",
        "/_inference/completion/c/_update",
        es_error(502, "x", "bad gateway"),
        ok({**EMBEDDING, "task_type": "completion"}),
    )
    async with server.client() as es:
        await es.update_endpoint("completion", "c", {"task_settings": {}})
    assert len(server.requests) == 2


async def test_delete_and_its_dry_run(server: Server) -> None:
    server.on(
        "DELETE",
        "/_inference/text_embedding/emb",
        ok(
            {
                "acknowledged": False,
                "pipelines": ["p1"],
                "indexes": ["docs"],
                "error_message": " Inference endpoint emb is being used",
            }
        ),
    )
    async with server.client() as es:
        assert await es.in_use("text_embedding", "emb") == InUse(("docs",), ("p1",))
        result = await es.delete_endpoint("text_embedding", "emb", force=True)
    assert server.requests[0].url.params["dry_run"] == "true"
    assert "force" not in server.requests[0].url.params
    assert server.requests[1].url.params["force"] == "true"
    assert "dry_run" not in server.requests[1].url.params
    assert result.indexes == ("docs",)


async def test_delete_in_use_is_a_conflict(server: Server) -> None:
    reason = "Inference endpoint emb is referenced by pipelines: [p1]."
    server.on("DELETE", "/_inference/text_embedding/emb", es_error(409, "status_exception", reason))
    async with server.client() as es:
        with pytest.raises(ConflictError, match="referenced by pipelines"):
            await es.delete_endpoint("text_embedding", "emb")


# -- inference -----------------------------------------------------------------------------


async def test_infer_embedding_and_completion(server: Server) -> None:
    server.on(
        "POST",
        "/_inference/text_embedding/emb",
        ok({"text_embedding": [{"embedding": [0.1, 0.2, 0.3]}]}),
    )
    server.on("POST", "/_inference/completion/c", ok({"completion": [{"result": "hi"}]}))
    async with server.client() as es:
        emb = await es.infer("text_embedding", "emb", "hello")
        text = await es.infer("completion", "c", "hello")
    assert emb.embeddings == ((0.1, 0.2, 0.3),)
    assert text.text == "hi"
    assert json.loads(server.requests[0].content) == {"input": "hello"}


def sse(*frames: str, event: str = "message") -> bytes:
    return "".join(f"\ufeffevent: {event}\ndata: {f}\n\n" for f in frames).encode()


def chunk(content: str) -> str:
    return json.dumps(
        {
            "id": "1",
            "choices": [{"delta": {"content": content}, "index": 0}],
            "object": "chat.completion.chunk",
        }
    )


async def test_chat_completion_streams_until_done(server: Server) -> None:
    body = sse(chunk("Hel"), chunk("lo"), "[DONE]") + sse(chunk("ignored"))
    server.on(
        "POST",
        "/_inference/chat_completion/chat/_stream",
        httpx.Response(200, content=body, headers={"Content-Type": "text/event-stream"}),
    )
    async with server.client() as es:
        out = await es.infer("chat_completion", "chat", "hi")
    assert (out.text, out.chunks) == ("Hello", 2)
    assert json.loads(server.requests[0].content) == {
        "messages": [{"role": "user", "content": "hi"}]
    }


async def test_chat_completion_error_frame_is_mapped(server: Server) -> None:
    error = json.dumps(
        {"error": {"type": "status_exception", "reason": "upstream said no"}, "status": 401}
    )
    body = sse(chunk("a")) + sse(error, event="error")
    server.on("POST", "/_inference/chat_completion/chat/_stream", httpx.Response(200, content=body))
    async with server.client() as es:
        with pytest.raises(PermanentApiError, match="upstream said no") as caught:
            await es.infer("chat_completion", "chat", "hi")
    assert caught.value.status == 401


async def test_chat_completion_error_before_the_stream(server: Server) -> None:
    error = json.dumps({"error": {"type": "status_exception", "reason": "rate"}, "status": 429})
    server.on(
        "POST",
        "/_inference/chat_completion/chat/_stream",
        httpx.Response(429, content=sse(error, event="error")),
        httpx.Response(200, content=sse(chunk("ok"), "[DONE]")),
    )
    async with server.client() as es:
        out = await es.infer("chat_completion", "chat", "hi")
    assert out.text == "ok"
    assert server.sleeps == [0.5]


# -- error mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, PermanentApiError),
        (401, PermanentApiError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, TemporaryApiError),
        (500, TemporaryApiError),
        (503, TemporaryApiError),
    ],
)
async def test_status_to_error_class(server: Server, status: int, kind: type[ApiError]) -> None:
    server.on("GET", "/_inference/_all", es_error(status, "some_exception", "why"))
    async with server.client(retry=RetryPolicy(max_attempts=1)) as es:
        with pytest.raises(kind) as caught:
            await es.list_endpoints()
    assert type(caught.value) is kind
    assert caught.value.status == status
    assert caught.value.error_type == "some_exception"
    assert "GET /_inference/_all: " + str(status) in str(caught.value)


async def test_error_keeps_type_reason_and_cause_only(server: Server) -> None:
    reason = "Could not complete inference endpoint creation " + "x" * 2000
    server.on(
        "PUT",
        "/_inference/completion/c",
        es_error(
            400,
            "status_exception",
            reason,
            caused_by={"type": "status_exception", "reason": "Received an authentication error"},
            stack_trace="at org.elasticsearch.SECRET_STACK",
        ),
    )
    async with server.client() as es:
        with pytest.raises(PermanentApiError) as caught:
            await es.put_endpoint("completion", "c", {}, Secret("sk-x"))
    message = str(caught.value)
    assert "caused by: Received an authentication error" in message
    assert "SECRET_STACK" not in message
    assert len(message) < 900


async def test_non_json_error_body(server: Server) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    server.on("GET", "/_inference/_all", httpx.Response(502, text=html))
    async with server.client(retry=RetryPolicy(max_attempts=1)) as es:
        with pytest.raises(TemporaryApiError, match="502 Bad Gateway"):
            await es.list_endpoints()


async def test_transport_error_is_temporary_and_leaks_no_httpx_exception(server: Server) -> None:
    server.on("GET", "/_inference/_all", httpx.ConnectError("connection refused"))
    async with server.client(retry=RetryPolicy(max_attempts=1)) as es:
        with pytest.raises(TemporaryApiError, match="could not reach the server") as caught:
            await es.list_endpoints()
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


# -- retries -------------------------------------------------------------------------------


async def test_429_honours_retry_after(server: Server) -> None:
    busy = es_error(429, "status_exception", "rate limited")
    busy.headers["Retry-After"] = "7"
    server.on("GET", "/_inference/_all", busy, busy, ok({"endpoints": []}))
    async with server.client() as es:
        assert await es.list_endpoints() == []
        assert es.request_count == 3
    assert server.sleeps == [7.0, 7.0]


async def test_retry_after_is_capped(server: Server) -> None:
    busy = es_error(429, "status_exception", "rate limited")
    busy.headers["Retry-After"] = "86400"
    server.on("GET", "/_inference/_all", busy, ok({"endpoints": []}))
    async with server.client() as es:
        await es.list_endpoints()
    assert server.sleeps == [60.0]


async def test_5xx_backs_off_with_jitter_then_gives_up(server: Server) -> None:
    server.on("GET", "/_inference/_all", es_error(503, "unavailable", "busy"))
    async with server.client() as es:
        with pytest.raises(TemporaryApiError, match="gave up after 4 attempts"):
            await es.list_endpoints()
        assert es.request_count == 4
    assert server.sleeps == [0.5, 1.0, 2.0]  # rand 0.5 x ceilings 1, 2, 4


# -- secrets never leak --------------------------------------------------------------------


async def test_a_server_echoing_the_key_never_leaks_it(server: Server, canary_key: str) -> None:
    echo = f"Incorrect API key provided: {canary_key}"
    server.on(
        "PUT",
        "/_inference/completion/c",
        es_error(400, "status_exception", echo, caused_by={"reason": f"key {canary_key} revoked"}),
    )
    server.on("GET", "/_inference/_all", httpx.Response(500, text=f"oops {canary_key}"))
    async with server.client(retry=RetryPolicy(max_attempts=1)) as es:
        with pytest.raises(PermanentApiError) as put_error:
            await es.put_endpoint("completion", "c", {}, Secret(canary_key))
        with pytest.raises(TemporaryApiError) as get_error:
            await es.list_endpoints()
    for error in (put_error.value, get_error.value):
        assert canary_key not in str(error)
        assert canary_key not in repr(error.args)
        assert REDACTED in str(error)


async def test_target_credentials_are_redacted(server: Server) -> None:
    header = base64.b64encode(b"elastic:hunter2-password").decode()
    server.on(
        "GET",
        "/_inference/_all",
        es_error(401, "security_exception", f"bad Basic {header} for hunter2-password"),
    )
    target = Target("http://es.test", username="elastic", password=Secret("hunter2-password"))
    async with server.client(target) as es:
        with pytest.raises(PermanentApiError) as caught:
            await es.list_endpoints()
    assert "hunter2" not in str(caught.value)
    assert header not in str(caught.value)


async def test_unknown_openai_like_keys_are_masked(server: Server) -> None:
    server.on(
        "GET",
        "/_inference/_all",
        es_error(400, "status_exception", "key sk-proj-abcdefghijklmnop is bad"),
    )
    async with server.client() as es:
        with pytest.raises(PermanentApiError) as caught:
            await es.list_endpoints()
    assert "abcdefghijklmnop" not in str(caught.value)


# -- documents -----------------------------------------------------------------------------


async def test_create_index_is_idempotent(server: Server) -> None:
    exists = es_error(400, "resource_already_exists_exception", "index [s] already exists")
    server.on("PUT", "/s", ok({"acknowledged": True}), exists)
    async with server.client() as es:
        assert await es.create_index("s", {"properties": {}}) is True
        assert await es.create_index("s", {"properties": {}}) is False
    assert json.loads(server.requests[0].content) == {"mappings": {"properties": {}}}


async def test_document_calls(server: Server) -> None:
    server.on("PUT", "/s/_doc/a", ok({"_id": "a", "_seq_no": 3, "_primary_term": 1}, 201))
    server.on(
        "GET",
        "/s/_doc/a",
        ok({"_id": "a", "_seq_no": 3, "_primary_term": 1, "found": True, "_source": {"x": 1}}),
    )
    server.on("GET", "/s/_doc/b", ok({"_id": "b", "found": False}, 404))
    server.on("DELETE", "/s/_doc/b", ok({"result": "not_found"}, 404))
    async with server.client() as es:
        written = await es.put_doc("s", "a", {"x": 1}, op_type="create", refresh="true")
        doc = await es.get_doc("s", "a")
        assert await es.get_doc("s", "b") is None
        assert await es.delete_doc("s", "b", if_seq_no=1, if_primary_term=1) is False
    assert (written.seq_no, written.primary_term) == (3, 1)
    assert doc is not None and doc.source == {"x": 1} and doc.seq_no == 3
    assert dict(server.requests[0].url.params) == {"op_type": "create", "refresh": "true"}
    assert dict(server.requests[3].url.params) == {"if_seq_no": "1", "if_primary_term": "1"}


async def test_search_and_missing_index(server: Server) -> None:
    hits = {
        "total": {"value": 1, "relation": "eq"},
        "hits": [{"_id": "a", "_seq_no": 0, "_primary_term": 1, "_source": {"k": "v"}}],
    }
    server.on("POST", "/s/_search", ok({"hits": hits}))
    server.on("POST", "/missing/_search", es_error(404, "index_not_found_exception", "no such"))
    async with server.client() as es:
        docs, total = await es.search("s", {"match_all": {}}, size=10_000)
        assert await es.search("missing") == ([], 0)
    assert total == 1 and docs[0].source == {"k": "v"}
    sent = json.loads(server.requests[0].content)
    assert sent["size"] == 10_000 and sent["seq_no_primary_term"] is True


async def test_path_segments_are_escaped(server: Server) -> None:
    server.on("GET", "/s/_doc/a/b", ok({"_id": "a/b", "found": True, "_source": {}}))
    async with server.client() as es:
        await es.get_doc("s", "a/b")
    assert server.requests[0].url.raw_path == b"/s/_doc/a%2Fb"


async def test_concurrent_creates_ask_for_the_version_once(server: Server) -> None:
    server.on("GET", "/", version("9.1.0"))
    for i in range(5):
        server.on("PUT", f"/_inference/completion/c{i}", ok({**EMBEDDING, "inference_id": f"c{i}"}))
    async with server.client() as es:
        await asyncio.gather(
            *(es.put_endpoint("completion", f"c{i}", {}, Secret("sk-x"), "30s") for i in range(5))
        )
    assert [r.method for r in server.requests].count("GET") == 1


async def test_a_key_echoed_in_an_endpoint_is_dropped(server: Server, canary_key: str) -> None:
    leaky = {**EMBEDDING, "service_settings": {"model_id": "m", "api_key": canary_key}}
    server.on("GET", "/_inference/_all", ok({"endpoints": [leaky]}))
    async with server.client() as es:
        [endpoint] = await es.list_endpoints()
    assert canary_key not in repr(endpoint)
    assert endpoint.body["service_settings"] == {"model_id": "m"}
