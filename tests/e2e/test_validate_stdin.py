"""`reconcile validate -` reads a manifest stream from standard input (an editor integration,
a generated set piped in), with the same limits and located errors as a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.newest


def validate(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "reconciler", "validate", *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=60, cwd=REPO)


def test_a_valid_stream_passes() -> None:
    stream = b"\n---\n".join(p.read_bytes() for p in sorted((REPO / "examples").glob("*.yaml")))
    result = validate("-", stdin=stream)
    assert result.returncode == 0, result.stdout + result.stderr
    assert b"OK: 4 manifests in 1 file valid" in result.stdout


def test_errors_in_a_stream_are_located_at_stdin() -> None:
    result = validate("-", stdin=b"inference_id: x\ntask_type: completion\nservice: openai\n")
    assert result.returncode == 1
    assert b"<stdin>:1:1: error: missing required field `service_settings`" in result.stdout


def test_stdin_and_files_together_find_duplicates_across_them() -> None:
    result = validate("-", "examples/", stdin=(REPO / "examples/openai-chat.yaml").read_bytes())
    assert result.returncode == 1
    assert b"first declared at <stdin>:3:15" in result.stdout


def test_an_empty_stream_is_an_empty_file_even_when_empty_sets_are_allowed() -> None:
    # like a truncated save: a file (or stream) with no document is never taken as intended
    for args in (("-",), ("-", "--allow-empty")):
        result = validate(*args, stdin=b"")
        assert result.returncode == 1
        assert b"<stdin>:1:1: error:" in result.stdout and b"[manifest.empty-file]" in result.stdout


def test_a_binary_stream_is_refused() -> None:
    result = validate("-", stdin=b"\x00\x01")
    assert result.returncode == 1
    assert b"<stdin>:1:1: error: binary file" in result.stdout
