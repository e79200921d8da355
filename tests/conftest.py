"""Shared fixtures: the canary API key every secret-leak test scans for, and a clean env."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fixtures.sandbox", "tests.live.options"]

CANARY_KEY = "sk-canary-7f3a9c1e5b2d4086a1c3e5f7b9d1f3a5"
"""A fake API key that must never appear in any output, log, state document or plan."""

FRAGMENT = 8
"""The length of a piece of a secret that no output may hold (the canary tests' own measure)."""


def windows(value: str, start: int = 0) -> set[str]:
    """Every FRAGMENT-character piece of `value` that begins at `start` or later."""
    return {value[i : i + FRAGMENT] for i in range(start, len(value) - FRAGMENT + 1)}


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (anyio's pytest plugin; the tool itself uses asyncio)."""
    return "asyncio"


@pytest.fixture
def canary_key() -> str:
    return CANARY_KEY


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No target or credential from the developer's shell leaks into a test."""
    for name in (
        "ES_URL",
        "ELASTICSEARCH_URL",
        "ES_API_KEY",
        "ELASTICSEARCH_API_KEY",
        "ES_USERNAME",
        "ES_PASSWORD",
        "ELASTIC_CLOUD_ID",
        "OPENAI_API_KEY",
        "GITHUB_SHA",
        "GIT_COMMIT",
    ):
        monkeypatch.delenv(name, raising=False)
