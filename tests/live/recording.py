"""Recording the contract suite's exchanges: an HTTP client that keeps every request and answer,
scrubbed of secrets, and writes them as JSON Lines.

A recording is one JSON object per line: first `{"meta": {...}}` (the format, the target's
version, the prefix of the ids the suite created), then one `{"exchange": N, ...}` per request,
in the order sent:

    {"exchange": 3, "test": "test_contract.py::test_put_fills_defaults",
     "request": {"method": "PUT", "path": "/_inference/text_embedding/contract-1a2b3c-emb",
                 "query": {}, "body": {...}},
     "response": {"status": 200, "body": {...}}}

Nothing secret is written: every key the suite knows (the upstream API keys, the cluster's
credentials) becomes `<redacted:NAME>` wherever it occurs, any other value under a secret-named
field (`api_key`, `password`, ...) becomes `<redacted:secret>`, anything shaped like an OpenAI
key (`sk-...`, masked or not) becomes `<redacted:key>`, and the address of the suite's upstream
becomes `{{upstream}}`, so a replay can put its own keys and upstream back (`replay.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

FORMAT = "reconciler-contract-recording/1"
UPSTREAM = "{{upstream}}"
"""Stands for the base URL of the suite's OpenAI-compatible upstream (`http://host:port`)."""
SECRET_FIELDS = frozenset(
    {"api_key", "password", "secret", "secret_key", "access_key", "token", "authorization"}
)
_KEY_LIKE = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-*]{4,}")
_PLACEHOLDER = re.compile(r"<redacted:([a-z0-9_]+)>")
MIN_SECRET_LENGTH = 8
"""Shorter values are not searched for in text: a password like `elastic` would also match
inside `elasticsearch` (the reconciler's own redactor uses the same bound)."""


def placeholder(name: str) -> str:
    return f"<redacted:{name}>"


@dataclass
class Scrubber:
    """Replaces known secrets (by name), secret-named fields and key-shaped text."""

    secrets: dict[str, str] = field(default_factory=dict)
    upstream_url: str | None = None

    def text(self, value: str) -> str:
        for name, secret in sorted(self.secrets.items(), key=lambda kv: -len(kv[1])):
            if len(secret) >= MIN_SECRET_LENGTH:
                value = value.replace(secret, placeholder(name))
        if self.upstream_url:
            value = value.replace(self.upstream_url, UPSTREAM)
        return _KEY_LIKE.sub(placeholder("key"), value)

    def value(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, list):
            return [self.value(item) for item in data]
        if isinstance(data, Mapping):
            return {str(k): self._field(str(k), v) for k, v in data.items()}
        return data

    def _field(self, key: str, value: Any) -> Any:
        if key.lower() in SECRET_FIELDS and isinstance(value, str):
            scrubbed = self.text(value)
            return scrubbed if _PLACEHOLDER.fullmatch(scrubbed) else placeholder("secret")
        return self.value(value)

    def leaks(self, text: str) -> list[str]:
        """The names of the known secrets `text` carries verbatim."""
        found = self.secrets.items()
        return sorted(n for n, s in found if len(s) >= MIN_SECRET_LENGTH and s in text)

    def restore(self, data: Any) -> Any:
        """The inverse for a replay: placeholders back to this scrubber's values."""
        if isinstance(data, str):
            if self.upstream_url:
                data = data.replace(UPSTREAM, self.upstream_url)
            return _PLACEHOLDER.sub(lambda m: self.secrets.get(m.group(1), m.group(0)), data)
        if isinstance(data, list):
            return [self.restore(item) for item in data]
        if isinstance(data, Mapping):
            return {k: self.restore(v) for k, v in data.items()}
        return data


@dataclass
class Answer:
    """What the server said: status, the JSON body (None when not JSON) and the raw text."""

    status: int
    body: Any
    text: str

    @property
    def error(self) -> dict[str, Any]:
        """`error` of an Elasticsearch error body (`{}` when there is none or it is a string)."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error if isinstance(error, dict) else {}


@dataclass
class Exchange:
    number: int
    test: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    response: Any
    response_text: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "body": self.response}
        if self.response_text is not None:
            response["text"] = self.response_text
        request = {"method": self.method, "path": self.path, "query": self.query, "body": self.body}
        return {
            "exchange": self.number,
            "test": self.test,
            "request": request,
            "response": response,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Exchange:
        request, response = data["request"], data["response"]
        return cls(
            number=int(data["exchange"]),
            test=str(data.get("test", "")),
            method=str(request["method"]),
            path=str(request["path"]),
            query=dict(request.get("query") or {}),
            body=request.get("body"),
            status=int(response["status"]),
            response=response.get("body"),
            response_text=response.get("text"),
        )


def parse_answer(response: httpx.Response) -> Answer:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    return Answer(response.status_code, body, response.text)


class Recorder:
    """Keeps every exchange, scrubbed; notes any answer that carried a known secret verbatim."""

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber
        self.exchanges: list[Exchange] = []
        self.leaks: list[tuple[int, str, list[str]]] = []
        self.test = "<session>"
        self.meta: dict[str, Any] = {"format": FORMAT}

    def add(
        self, method: str, path: str, query: Mapping[str, str], body: Any, answer: Answer
    ) -> Exchange:
        number = len(self.exchanges) + 1
        leaked = self.scrubber.leaks(answer.text)
        if leaked:
            self.leaks.append((number, f"{method} {path}", leaked))
        scrub = self.scrubber.value
        exchange = Exchange(
            number=number,
            test=self.test,
            method=method,
            path=self.scrubber.text(path),
            query={k: self.scrubber.text(v) for k, v in query.items()},
            body=scrub(body),
            status=answer.status,
            response=scrub(answer.body),
            response_text=None if answer.body is not None else self.scrubber.text(answer.text),
        )
        self.exchanges.append(exchange)
        return exchange

    def lines(self) -> Iterator[str]:
        yield json.dumps({"meta": self.meta}, sort_keys=True)
        for exchange in self.exchanges:
            yield json.dumps(exchange.to_json(), ensure_ascii=False)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in self.lines()), encoding="utf-8")


def read_recording(source: Path | Iterable[str]) -> tuple[dict[str, Any], list[Exchange]]:
    """The meta object and the exchanges of a recording (a path or its lines)."""
    lines = source.read_text(encoding="utf-8").splitlines() if isinstance(source, Path) else source
    meta: dict[str, Any] = {}
    exchanges: list[Exchange] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as error:
            raise ValueError(f"line {number}: not JSON ({error})") from None
        if "meta" in data:
            meta = dict(data["meta"])
        else:
            exchanges.append(Exchange.from_json(data))
    return meta, exchanges


class LiveClient:
    """A small synchronous client for one target; every request goes through the recorder."""

    def __init__(
        self,
        base_url: str,
        recorder: Recorder,
        *,
        headers: Mapping[str, str] | None = None,
        verify: Any = True,
        timeout: float = 90.0,
    ) -> None:
        self.recorder = recorder
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers or {}),
            verify=verify,
            timeout=timeout,
        )

    def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None
    ) -> Answer:
        query = dict(params or {})
        kwargs: dict[str, Any] = {"params": query}
        if json is not None:
            kwargs["json"] = json
        answer = parse_answer(self.http.request(method, path, **kwargs))
        self.recorder.add(method, path, query, json, answer)
        return answer

    def get(self, path: str, **params: str) -> Answer:
        return self.request("GET", path, params=params)

    def put(self, path: str, body: Any = None, **params: str) -> Answer:
        return self.request("PUT", path, params=params, json=body)

    def post(self, path: str, body: Any = None, **params: str) -> Answer:
        return self.request("POST", path, params=params, json=body)

    def delete(self, path: str, **params: str) -> Answer:
        return self.request("DELETE", path, params=params)

    def close(self) -> None:
        self.http.close()
