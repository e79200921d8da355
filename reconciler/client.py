"""The only module that talks HTTP to Elasticsearch: inference endpoints and state documents.

One boundary for errors: every non-2xx answer and every transport failure becomes an
`ApiError` subclass here (see `errors.py`), keeping only the ES `error.type`, a truncated
`error.reason` and `caused_by.reason`, with every secret this client has seen redacted: the
target's credentials in every form (`Target.secrets`), every key it sent, whole, encoded or in
fragments of 8+ characters (`secrets.Redactor`); `redact` offers the same to callers.
Temporary failures (429, 5xx, transport) are retried for idempotent calls; the endpoint
create PUT is not, since a failed PUT may have created the endpoint anyway (ES
`TransportPutInferenceModelAction` stores it after an upstream validation call the client may
have given up on): `put_endpoint_safely` reads back before trying again.

Keys travel as `Secret`s and are revealed only while a request is built: the Authorization
header in `_SecretAuth`, an endpoint's secrets, each at its path (`service_settings.api_key`,
`service_settings.access_key`, ...), in `_with_secrets`. Nothing here logs a header or a body.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import ssl
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.errors import (
    ApiError,
    NotFoundError,
    PermanentApiError,
    TemporaryApiError,
    UsageError,
)
from reconciler.model import API_KEY, JSON, InUse, LiveEndpoint
from reconciler.responses import (
    ConflictError,
    DeleteResult,
    Doc,
    InferenceOutput,
    ServerInfo,
    SseFrames,
    chat_delta,
    describe_error_body,
    error_for_status,
    json_or_none,
    parse_inference,
    search_hits,
    to_doc,
    to_live_endpoint,
)
from reconciler.retry import (
    DEFAULT_RETRY,
    NO_RETRY,
    Random,
    RetryPolicy,
    Sleep,
    parse_retry_after,
    with_retries,
)
from reconciler.secrets import REDACTED, Redactor, Secret, SecretPath, basic_auth_secret
from reconciler.target import Target

__all__ = [
    "ConflictError",
    "DeleteResult",
    "Doc",
    "EsClient",
    "InferenceOutput",
    "ServerInfo",
]

log = logging.getLogger(__name__)

Secrets = Secret | Mapping[SecretPath, Secret]
"""An endpoint's secrets by path (`service_settings.api_key`, `service_settings.access_key`,
...); a lone `Secret` is the `service_settings.api_key` of a one-key service (`openai`)."""

_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")
"""OpenAI-style keys the client was never given are still masked (defence in depth)."""
_ALREADY_EXISTS = "resource_already_exists_exception"
TIMEOUT = "timeout"
"""`error_type` of a request sent but not answered in time (no HTTP status)."""


def _unanswered(task_type: str, inference_id: str) -> str:
    """Why a create is not retried after a timeout: the same PUT would wait just as long."""
    return (
        f"PUT /_inference/{task_type}/{inference_id}: the server did not answer and did not"
        " create the endpoint; not retried. Elasticsearch 9.1+ never answers the create of a"
        " text_embedding endpoint without `dimensions` and `similarity` while a semantic_text"
        " mapping already uses the id: name both in the manifest"
    )


class _SecretAuth(httpx.Auth):
    """Adds the Authorization header per request, revealing the secret only then."""

    def __init__(self, scheme: str, credential: Secret) -> None:
        self._scheme = scheme
        self._credential = credential

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"{self._scheme} {self._credential.reveal()}"
        yield request


class EsClient:
    """Async Elasticsearch client for the inference API and the state index.

    Use as `async with EsClient(target) as es:`. Tests pass `transport=` (an
    `httpx.ASGITransport` to the sandbox, or an `httpx.MockTransport`) and a fake `sleep`.
    """

    def __init__(
        self,
        target: Target,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        rand: Random = random.random,
        timeout: float = 120.0,
    ) -> None:
        self._retry, self._sleep, self._rand = retry, sleep, rand
        self._secrets: dict[Secret, None] = dict.fromkeys(target.secrets())
        self._redactor = Redactor(self._secrets)
        self._count = 0
        self._info: ServerInfo | None = None
        self._info_lock = asyncio.Lock()  # concurrent creates ask for the version once
        self._services: Any = None
        self._services_asked = False
        self._services_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=target.url,
            transport=transport,
            auth=self._auth(target),
            verify=_verify(target),
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"Accept": "application/json", "User-Agent": "reconciler"},
        )

    async def __aenter__(self) -> EsClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._count

    def remember(self, *secrets: Secret) -> None:
        """Add secrets to redact from server text (keys are also remembered when sent)."""
        new = [s for s in secrets if s not in self._secrets]
        if new:
            self._secrets.update(dict.fromkeys(new))
            self._redactor = Redactor(self._secrets)

    def redact(self, text: str) -> str:
        """The text with every secret this client knows scrubbed (see `secrets.Redactor`),
        and anything shaped like an OpenAI key as well."""
        return _KEY_LIKE.sub(REDACTED, self._redactor.redact(text))

    # -- server and endpoints ------------------------------------------------------------

    async def info(self) -> ServerInfo:
        """Version and capabilities (`GET /`), fetched once and cached."""
        async with self._info_lock:
            if self._info is None:
                body = await self._call("GET", "")
                try:
                    self._info = ServerInfo.parse(body)
                except PermanentApiError as error:  # it quotes the server's version text
                    raise PermanentApiError(self.redact(str(error))) from None
            return self._info

    async def list_endpoints(self) -> list[LiveEndpoint]:
        """Every endpoint, in one request (`models` was the key before 8.15)."""
        body = await self._call("GET", "_inference/_all")
        entries = body.get("endpoints", body.get("models", []))
        return [to_live_endpoint(e) for e in entries]

    async def get_endpoint(self, task_type: str, inference_id: str) -> LiveEndpoint:
        body = await self._call("GET", _path("_inference", task_type, inference_id))
        entries = body.get("endpoints", body.get("models", []))
        if not entries:
            raise NotFoundError(f"Inference endpoint not found [{inference_id}]", status=404)
        return to_live_endpoint(entries[0])

    async def put_endpoint(
        self,
        task_type: str,
        inference_id: str,
        body: Mapping[str, JSON],
        secrets: Secrets,
        timeout: str | None = None,
    ) -> LiveEndpoint:
        """Create an endpoint (never retried: see `put_endpoint_safely`), with every secret put
        at its path (`Secrets`: a lone `Secret` is the `service_settings.api_key`).

        `timeout` is sent only to servers that know it (8.19+, 9.1+:
        `TransportVersions.INFERENCE_ADD_TIMEOUT_PUT_ENDPOINT_8_19`); older ones refuse an
        unrecognized parameter with 400 (`BaseRestHandler`).
        """
        params = {"timeout": timeout} if timeout and (await self.info()).has_put_timeout else {}
        path = _path("_inference", task_type, inference_id)
        response = await self._call(
            "PUT", path, params=params, payload=self._with_secrets(body, secrets), retry=NO_RETRY
        )
        return to_live_endpoint(response)

    async def put_endpoint_safely(
        self,
        task_type: str,
        inference_id: str,
        body: Mapping[str, JSON],
        secrets: Secrets,
        timeout: str | None = None,
    ) -> LiveEndpoint:
        """Create with retries: after a temporary failure, read back before trying again.

        The server may have stored the endpoint although the PUT failed (a timeout after the
        store, a dropped connection). Whatever the read-back finds is returned: the caller
        compares it with what it asked for (GET never shows the key, so a found endpoint's
        key is unproven; the executor may follow with an update of the key).
        """
        attempts = 0

        async def attempt() -> LiveEndpoint:
            nonlocal attempts
            attempts += 1
            try:
                return await self.put_endpoint(task_type, inference_id, body, secrets, timeout)
            except TemporaryApiError as error:
                found = await self._read_back(task_type, inference_id)
                if found is None and error.error_type == TIMEOUT:
                    raise PermanentApiError(_unanswered(task_type, inference_id)) from None
                if found is None:
                    raise
                return found
            except PermanentApiError as error:
                if attempts == 1 or error.error_type != _ALREADY_EXISTS:
                    raise
                return await self.get_endpoint(task_type, inference_id)

        return await with_retries(attempt, self._retry, sleep=self._sleep, rand=self._rand)

    async def update_endpoint(
        self,
        task_type: str,
        inference_id: str,
        body: Mapping[str, JSON],
        api_key: Secret | None = None,
        *,
        secrets: Mapping[SecretPath, Secret] | None = None,
    ) -> LiveEndpoint:
        """`PUT _inference/{task_type}/{id}/_update` (8.17+; task type in the URL, since early 8.17
        mishandles it in the body: elastic/elasticsearch#121231).

        Each of `secrets` goes in at its path, `api_key` at `service_settings.api_key`
        (service_settings, when present, must hold every secret: the server rebuilds the
        secret settings from it). The server silently ignores fields it cannot change: read
        back and compare.
        """
        found = {**(secrets or {}), **({API_KEY: api_key} if api_key is not None else {})}
        payload = self._with_secrets(body, found) if found else dict(body)
        path = _path("_inference", task_type, inference_id, "_update")
        return to_live_endpoint(await self._call("PUT", path, payload=payload))

    async def delete_endpoint(
        self, task_type: str, inference_id: str, *, dry_run: bool = False, force: bool = False
    ) -> DeleteResult:
        params = {k: "true" for k, v in (("dry_run", dry_run), ("force", force)) if v}
        path = _path("_inference", task_type, inference_id)
        body = await self._call("DELETE", path, params=params)
        return DeleteResult(
            acknowledged=bool(body.get("acknowledged")),
            pipelines=tuple(body.get("pipelines") or ()),
            indexes=tuple(body.get("indexes") or ()),
            error_message=self.redact(str(body.get("error_message") or "")) or None,
        )

    async def in_use(self, task_type: str, inference_id: str) -> InUse:
        """The indexes and pipelines that use the endpoint (a delete dry run; deletes nothing)."""
        result = await self.delete_endpoint(task_type, inference_id, dry_run=True)
        return InUse(indexes=result.indexes, pipelines=result.pipelines)

    async def infer(
        self,
        task_type: str,
        inference_id: str,
        input: str | Sequence[str],
        *,
        query: str | None = None,
    ) -> InferenceOutput:
        """Run an inference; `chat_completion` goes through the `_stream` SSE route. `query` is
        sent only when given (rerank: `RerankRequest` body `query`; other task types refuse it,
        e.g. `Field [query] cannot be specified for task type [text_embedding]`)."""
        if task_type == "chat_completion":
            return await self._chat(inference_id, input)
        path = _path("_inference", task_type, inference_id)
        payload: dict[str, JSON] = {"input": input if isinstance(input, str) else list(input)}
        if query is not None:
            payload["query"] = query
        body = await self._call("POST", path, payload=payload)
        return parse_inference(task_type, body)

    async def services(self) -> Any:
        """`GET _inference/_services` (8.16+; `RestGetInferenceServicesAction`), asked once per
        client, that is once per run, and cached. None when the target does not answer it:
        an older server (400/404), a missing privilege (403), serverless (an internal route),
        an answer that is not JSON, a server error or a transport failure. Advisory only: the
        caller reads it for warnings and it never fails a command."""
        async with self._services_lock:
            if not self._services_asked:
                self._services_asked = True
                try:
                    self._services = await self._call("GET", "_inference/_services", retry=NO_RETRY)
                except ApiError as error:
                    log.info("GET /_inference/_services not available: %s", error)
                    self._services = None
            return self._services

    # -- documents (the state index) -----------------------------------------------------

    async def create_index(
        self, name: str, mappings: Mapping[str, JSON], settings: Mapping[str, JSON] | None = None
    ) -> bool:
        """Create an index with explicit mappings; False if it already exists."""
        body: dict[str, JSON] = {"mappings": dict(mappings)}
        if settings:
            body["settings"] = dict(settings)
        try:
            await self._call("PUT", _path(name), payload=body)
        except PermanentApiError as error:
            if error.error_type != _ALREADY_EXISTS:
                raise
            return False
        return True

    async def get_doc(self, index: str, doc_id: str) -> Doc | None:
        """A document by id (realtime: sees every write at once); None if missing."""
        try:
            body = await self._call("GET", _path(index, "_doc", doc_id))
        except NotFoundError:
            return None
        return to_doc(body) if body.get("found", True) else None

    async def put_doc(
        self,
        index: str,
        doc_id: str,
        doc: Mapping[str, JSON],
        *,
        op_type: str | None = None,
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
        refresh: str | None = None,
    ) -> Doc:
        """Index a document; `op_type="create"` or `if_seq_no`/`if_primary_term` make it a
        compare-and-swap that raises `ConflictError` when it loses."""
        params = _params(
            op_type=op_type, if_seq_no=if_seq_no, if_primary_term=if_primary_term, refresh=refresh
        )
        body = await self._call("PUT", _path(index, "_doc", doc_id), params=params, payload=doc)
        return Doc(doc_id, doc, body.get("_seq_no"), body.get("_primary_term"))

    async def delete_doc(
        self,
        index: str,
        doc_id: str,
        *,
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
        refresh: str | None = None,
    ) -> bool:
        """Delete a document; False if it was not there."""
        params = _params(if_seq_no=if_seq_no, if_primary_term=if_primary_term, refresh=refresh)
        try:
            await self._call("DELETE", _path(index, "_doc", doc_id), params=params)
        except NotFoundError:
            return False
        return True

    async def search(
        self, index: str, query: Mapping[str, JSON] | None = None, size: int = 10
    ) -> tuple[list[Doc], int]:
        """One `_search`: the hits (with versions) and the total; a missing index is empty."""
        body = {
            "query": dict(query or {"match_all": {}}),
            "size": size,
            "seq_no_primary_term": True,
            "track_total_hits": True,
        }
        try:
            result = await self._call("POST", _path(index, "_search"), payload=body)
        except NotFoundError:
            return [], 0
        return search_hits(result)

    async def refresh(self, index: str) -> None:
        await self._call("POST", _path(index, "_refresh"))

    # -- plumbing ------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        payload: Any = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send with retries (the client's policy unless told otherwise); the JSON answer."""

        async def once() -> Any:
            response = await self._send(method, path, params=params, payload=payload)
            return _json_body(method, path, response)

        policy = retry or self._retry
        return await with_retries(once, policy, sleep=self._sleep, rand=self._rand)

    async def _send(
        self, method: str, path: str, *, params: Mapping[str, str] | None, payload: Any
    ) -> httpx.Response:
        """One request; any failure comes out as an `ApiError` (nothing of httpx leaks)."""
        self._count += 1
        failure: str | None = None
        kind: str | None = None
        try:
            response = await self._http.request(method, "/" + path, params=params, json=payload)
        except httpx.TransportError as exc:
            failure = self.redact(f"{type(exc).__name__}: {exc}")
            kind = TIMEOUT if isinstance(exc, httpx.ReadTimeout) else None
        if failure is not None:  # raised outside `except`: no httpx exception in the chain
            message = f"{method} /{path}: could not reach the server ({failure})"
            raise TemporaryApiError(message, error_type=kind)
        log.debug("%s /%s -> %s", method, path, response.status_code)
        if response.is_success:
            return response
        raise self._error(method, path, response.status_code, response.headers, response.text)

    def _error(
        self, method: str, path: str, status: int, headers: httpx.Headers, text: str
    ) -> ApiError:
        error_type, reason = describe_error_body(text)
        message = self.redact(f"{method} /{path}: {status} {error_type or 'error'}: {reason}")
        return error_for_status(
            status, message, error_type, parse_retry_after(headers.get("Retry-After"))
        )

    def _with_secrets(self, body: Mapping[str, JSON], secrets: Secrets) -> dict[str, JSON]:
        """A copy of the body with every secret at its path, built at request time (each
        mapping on a path copied, the caller's body untouched)."""
        found = {API_KEY: secrets} if isinstance(secrets, Secret) else secrets
        self.remember(*found.values())
        payload: dict[str, JSON] = dict(body)
        for path, secret in sorted(found.items()):
            node = payload
            for key in path[:-1]:
                child = node.get(key)
                node[key] = dict(child) if isinstance(child, Mapping) else {}
                node = node[key]
            node[path[-1]] = secret.reveal()
        return payload

    async def _read_back(self, task_type: str, inference_id: str) -> LiveEndpoint | None:
        """The endpoint if it exists now; None when absent or the read fails as well."""
        try:
            body = await self._call("GET", _path("_inference", inference_id), retry=NO_RETRY)
        except ApiError:
            return None
        found = [to_live_endpoint(e) for e in body.get("endpoints", [])]
        return next((e for e in found if e.task_type == task_type), None)

    async def _chat(self, inference_id: str, input: str | Sequence[str]) -> InferenceOutput:
        text = input if isinstance(input, str) else "\n".join(input)
        body = {"messages": [{"role": "user", "content": text}]}
        path = _path("_inference", "chat_completion", inference_id, "_stream")

        async def once() -> InferenceOutput:
            return await self._stream(path, body)

        return await with_retries(once, self._retry, sleep=self._sleep, rand=self._rand)

    async def _stream(self, path: str, body: Mapping[str, JSON]) -> InferenceOutput:
        self._count += 1
        failure: str | None = None
        try:
            async with self._http.stream("POST", "/" + path, json=body) as response:
                if not response.is_success:
                    text = (await response.aread()).decode("utf-8", "replace")
                    raise self._error("POST", path, response.status_code, response.headers, text)
                return await self._collect_chat(path, _sse(response.aiter_lines()))
        except httpx.TransportError as exc:
            failure = self.redact(f"{type(exc).__name__}: {exc}")
        raise TemporaryApiError(f"POST /{path}: the stream failed ({failure})")

    async def _collect_chat(
        self, path: str, frames: AsyncIterator[tuple[str, str]]
    ) -> InferenceOutput:
        parts: list[str] = []
        async for event, data in frames:
            if event == "error":
                raise self._stream_error(path, data)
            if data.strip() == "[DONE]":
                break
            parts.append(chat_delta(data))
        return InferenceOutput("chat_completion", text="".join(parts), chunks=len(parts))

    def _stream_error(self, path: str, data: str) -> ApiError:
        status = json_or_none(data)
        code = status.get("status") if isinstance(status, dict) else None
        return self._error(
            "POST", path, code if isinstance(code, int) else 500, httpx.Headers(), data
        )

    def _auth(self, target: Target) -> httpx.Auth | None:
        """Header auth from the target's secret (`Target.secrets` lists the header values)."""
        if target.api_key is not None:
            return _SecretAuth("ApiKey", target.api_key)
        if target.username is None or target.password is None:
            return None
        return _SecretAuth("Basic", basic_auth_secret(target.username, target.password))


async def _sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    parser = SseFrames()
    async for line in lines:
        frame = parser.feed(line)
        if frame is not None:
            yield frame
    last = parser.flush()
    if last is not None:
        yield last


def _json_body(method: str, path: str, response: httpx.Response) -> Any:
    if not response.content:
        return {}
    body = json_or_none(response.text)
    if body is None:
        raise PermanentApiError(f"{method} /{path}: the server answered with something not JSON")
    return body


def _path(*segments: str) -> str:
    return "/".join(quote(s, safe="") for s in segments)


def _params(**values: object) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


def _verify(target: Target) -> ssl.SSLContext | bool:
    # plain http needs no TLS context (httpx would still build one: ~50 ms of CA loading)
    if target.insecure or target.url.startswith("http://"):
        return False
    if not target.ca_cert:
        return True
    try:
        return ssl.create_default_context(cafile=target.ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot use the CA certificate {target.ca_cert}: {exc}") from None
