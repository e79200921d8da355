"""On a terminal, apply shows a progress bar and asks before anything destructive."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, embeddings, write_manifest

pytestmark = pytest.mark.e2e


def _read_until(fd: int, marker: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _apply_on_a_terminal(cli: Cli, folder: Path, answer: bytes) -> tuple[int, str]:
    main, child = pty.openpty()
    command = [sys.executable, "-m", "reconciler", "apply", str(folder), "--color", "never"]
    env = {**cli.env, "PYTHONIOENCODING": "utf-8"}
    process = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    shown = _read_until(main, b"[y/N]")
    os.write(main, answer + b"\n")
    shown += _read_until(main, b"\x00", timeout=60)
    process.wait(timeout=60)
    os.close(main)
    return process.returncode, shown.decode("utf-8", "replace")


def test_destructive_changes_ask_first_and_no_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings(dimensions=32))
    assert cli("apply", str(folder))[0] == 0
    write_manifest(folder, "emb", embeddings(dimensions=16))
    code, shown = _apply_on_a_terminal(cli, folder, b"n")
    assert "Apply destructive changes (replace emb)?" in shown
    assert code == 1 and "apply cancelled" in shown
    with cli.es() as es:
        assert (
            es.get("/_inference/emb").json()["endpoints"][0]["service_settings"]["dimensions"] == 32
        )
    code, shown = _apply_on_a_terminal(cli, folder, b"y")
    assert code == 0, shown
    assert "[████████████████████] 1/1 ✓ replace emb" in shown
