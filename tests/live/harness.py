"""What the contract tests share: the target under test (`Live`), the upstream keys, endpoint
bodies, per-release helpers and assertions on Elasticsearch error bodies."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.live.recording import Answer, LiveClient
from tests.live.upstream import Upstream

Release = tuple[int, int]
EMBEDDING_MODEL = "text-embedding-3-small"
CHAT_MODEL = "gpt-4o-mini"
SANDBOX_BUILD_HASH = "0" * 40


@dataclass(frozen=True)
class Keys:
    """Upstream API keys: two the upstream accepts, one it refuses (401)."""

    good: str
    other: str
    bad: str

    @classmethod
    def new(cls) -> Keys:
        token = secrets.token_hex(12)
        return cls(f"sk-contract-{token}", f"sk-contract-other-{token}", f"sk-contract-bad-{token}")

    def secrets(self) -> dict[str, str]:
        """By the names their placeholders carry in a recording (`<redacted:NAME>`)."""
        return {
            "openai_api_key": self.good,
            "openai_api_key_2": self.other,
            "bad_api_key": self.bad,
        }


def parse_version(number: str) -> tuple[int, int, int]:
    """`9.1.10` → (9, 1, 10); a `-SNAPSHOT` or other suffix is dropped."""
    parts = number.split("-", 1)[0].split(".")
    nums = [int(p) for p in parts[:3] if p.isdigit()] + [0, 0, 0]
    return nums[0], nums[1], nums[2]


@dataclass
class Live:
    """The target under test, as the tests see it."""

    client: LiveClient
    upstream: Upstream
    keys: Keys
    info: dict[str, Any]
    run_id: str

    @property
    def version(self) -> tuple[int, int, int]:
        return parse_version(str(self.info["version"]["number"]))

    @property
    def release(self) -> Release:
        return self.version[:2]

    @property
    def label(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def is_sandbox(self) -> bool:
        """The sandbox says so in `GET /`: cluster `sandbox`, an all-zero build hash."""
        version = self.info.get("version", {})
        return (
            self.info.get("cluster_name") == "sandbox"
            and version.get("build_hash") == SANDBOX_BUILD_HASH
        )

    def at_least(self, major: int, minor: int) -> bool:
        return self.release >= (major, minor)

    def id(self, name: str) -> str:
        """A per-run inference id, so a shared cluster's own endpoints are never touched."""
        return f"{id_prefix(self.run_id)}{name}"

    def require(self, release: Release, what: str) -> None:
        if not self.at_least(*release):
            since = ".".join(map(str, release))
            pytest.skip(f"{self.label} has no {what} (since {since})")

    # -- endpoint bodies -------------------------------------------------------------------

    def embedding(
        self,
        *,
        key: str | None = None,
        dimensions: int | None = None,
        chunking: dict[str, Any] | None = None,
        **service: Any,
    ) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "api_key": key or self.keys.good,
            "model_id": EMBEDDING_MODEL,
            "url": self.upstream.embeddings_url,
        }
        if dimensions is not None:
            settings["dimensions"] = dimensions
        settings.update(service)
        body: dict[str, Any] = {"service": "openai", "service_settings": settings}
        if chunking is not None:
            body["chunking_settings"] = chunking
        return body

    def completion(self, *, key: str | None = None) -> dict[str, Any]:
        settings = {
            "api_key": key or self.keys.good,
            "model_id": CHAT_MODEL,
            "url": self.upstream.chat_url,
        }
        return {"service": "openai", "service_settings": settings}


def id_prefix(run_id: str) -> str:
    return f"contract-{run_id}-"


class Endpoints:
    """Creates endpoints and pipelines for one test and removes them afterwards."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.endpoints: list[tuple[str, str]] = []
        self.pipelines: list[str] = []

    def put(self, task_type: str, name: str, body: dict[str, Any], **params: str) -> Answer:
        inference_id = self.live.id(name)
        answer = self.live.client.put(f"/_inference/{task_type}/{inference_id}", body, **params)
        if answer.status == 200:
            self.endpoints.append((task_type, inference_id))
        return answer

    def create(self, task_type: str, name: str, body: dict[str, Any]) -> tuple[str, Answer]:
        answer = self.put(task_type, name, body)
        assert answer.status == 200, f"creating {name}: {answer.status} {answer.text[:500]}"
        return self.live.id(name), answer

    def pipeline(self, name: str, body: dict[str, Any]) -> str:
        pipeline_id = self.live.id(name)
        answer = self.live.client.put(f"/_ingest/pipeline/{pipeline_id}", body)
        assert answer.status == 200, f"creating pipeline {name}: {answer.status} {answer.text}"
        self.pipelines.append(pipeline_id)
        return pipeline_id

    def cleanup(self) -> None:
        client = self.live.client
        for pipeline_id in self.pipelines:
            client.delete(f"/_ingest/pipeline/{pipeline_id}")
        for task_type, inference_id in self.endpoints:
            client.delete(f"/_inference/{task_type}/{inference_id}", force="true")


def get_endpoint(live: Live, inference_id: str) -> dict[str, Any]:
    answer = live.client.get(f"/_inference/{inference_id}")
    assert answer.status == 200, answer.text
    (endpoint,) = answer.body["endpoints"]
    assert isinstance(endpoint, dict)
    return endpoint


def assert_no_secret(live: Live, answer: Answer) -> None:
    """Secrets are never returned: no `api_key` field at any depth, no key text anywhere."""
    for name, key in live.keys.secrets().items():
        assert key not in answer.text, f"the answer carries {name}"
    assert not list(_fields_named(answer.body, "api_key")), answer.text


def _fields_named(data: Any, name: str) -> Iterator[Any]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == name:
                yield value
            yield from _fields_named(value, name)
    elif isinstance(data, list):
        for item in data:
            yield from _fields_named(item, name)


def assert_error(answer: Answer, status: int, error_type: str, reason: str | None = None) -> None:
    """An Elasticsearch error body: `{"error": {"root_cause": [...], "type", "reason"}, "status"}`
    (`ElasticsearchException.generateFailureXContent`, `BytesRestResponse`)."""
    assert answer.status == status, f"expected {status}, got {answer.status}: {answer.text[:800]}"
    error = answer.error
    assert error.get("type") == error_type, answer.text[:800]
    assert isinstance(error.get("reason"), str), answer.text[:800]
    assert isinstance(error.get("root_cause"), list) and error["root_cause"], answer.text[:800]
    assert answer.body.get("status") == status
    if reason is not None:
        assert reason in error["reason"], f"{reason!r} not in {error['reason']!r}"
