"""What the benchmarks share: the test fixtures on the path, and a sandbox process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_on_path() -> None:
    """The benchmarks reuse the test fixtures (sandbox launcher, corpus)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


@contextmanager
def sandbox_process(**options: object) -> Iterator[str]:
    """A real sandbox process on a free port (the test fixture's launcher); yields its URL."""
    repo_on_path()
    from tests.fixtures.sandbox import start_sandbox_process

    with start_sandbox_process(**options) as process:
        yield process.url
