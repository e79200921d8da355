"""End-to-end helpers: the `reconcile` CLI run against a real sandbox process."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import run
from tests.fixtures.sandbox import start_sandbox_process

KEY = "sk-e2e-0123456789abcdefghij"


@dataclass
class Cli:
    """Runs `reconcile` in-process with a controlled environment; keeps what it printed."""

    url: str
    env: dict[str, str]
    capsys: pytest.CaptureFixture[str]
    transcript: list[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            code = run(list(args))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        out = self.capsys.readouterr()
        self.transcript += [out.out, out.err]
        return code, out.out, out.err

    def plan_json(self, *args: str) -> dict[str, Any]:
        code, out, err = self("plan", "--format", "json", *args)
        assert code in (0, 2), err
        return json.loads(out)

    def es(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    with start_sandbox_process() as process:
        yield process.url


def make_cli(url: str, capsys: pytest.CaptureFixture[str], home: Path, **env: str) -> Cli:
    """The CLI against `url` with a bare environment (PATH, HOME, ES_URL, GIT_COMMIT) plus `env`."""
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "ES_URL": url,
        "GIT_COMMIT": "0123abc",
    }
    return Cli(url, {**base, **env}, capsys, [])


@pytest.fixture
def cli(sandbox_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return make_cli(sandbox_url, capsys, tmp_path, OPENAI_API_KEY=KEY)


def write_manifest(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def embeddings(inference_id: str = "emb", **settings: Any) -> str:
    lines = [
        f"inference_id: {inference_id}",
        "task_type: text_embedding",
        "service: openai",
        "service_settings:",
        "  api_key: ${OPENAI_API_KEY}",
        f"  model_id: {settings.pop('model_id', 'text-embedding-3-small')}",
    ]
    lines += [f"  {key}: {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def completion(inference_id: str = "comp", user: str | None = None) -> str:
    text = (
        f"inference_id: {inference_id}\ntask_type: completion\nservice: openai\n"
        "service_settings:\n  api_key: ${OPENAI_API_KEY}\n  model_id: gpt-4o-mini\n"
    )
    return text + (f"task_settings:\n  user: {user}\n" if user else "")


def only_change(plan: dict[str, Any], inference_id: str) -> dict[str, Any]:
    (change,) = [c for c in plan["changes"] if c["inference_id"] == inference_id]
    return change
