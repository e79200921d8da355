"""sources.py: stable walking and safe reading; every bad input is a located diagnostic."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from reconciler.sources import MAX_FILE_BYTES, ReadResult, Skipped, read_one, read_sources


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_walks_directories_recursively_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b.yaml", "a/z.yml", "a/c.yaml", "c.txt", ".hidden/x.yaml"):
        _write(tmp_path / name, "x: 1\n")
    result = read_sources([str(tmp_path)])
    names = [Path(f.path).relative_to(tmp_path).as_posix() for f in result.files]
    assert names == ["a/c.yaml", "a/z.yml", "b.yaml"]
    assert result.diagnostics == ()


def test_a_file_named_explicitly_is_read_whatever_its_suffix(tmp_path: Path) -> None:
    path = _write(tmp_path / "endpoint.txt", "x: 1\n")
    assert [f.path for f in read_sources([str(path)]).files] == [str(path)]


def test_the_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.yaml", "x: 1\n")
    assert len(read_sources([str(path), str(tmp_path)]).files) == 1


def test_missing_path(tmp_path: Path) -> None:
    (problem,) = read_sources([str(tmp_path / "nope")]).diagnostics
    assert problem.rule == "source.missing"
    assert problem.file.endswith("nope")
    assert "no such file" in problem.message


def test_invalid_utf8_is_located_at_the_bad_byte(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.yaml", b"a: 1\nb: caf\xe9\n")
    (problem,) = read_sources([str(path)]).diagnostics
    assert (problem.rule, problem.line, problem.column) == ("source.encoding", 2, 7)
    assert "0xe9" in problem.message


def test_binary_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.yaml", b"\x89PNG\x00\x00")
    (problem,) = read_sources([str(path)]).diagnostics
    assert problem.rule == "source.binary"


def test_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.yaml", b"a: 1\n" * (MAX_FILE_BYTES // 5 + 10))
    (problem,) = read_sources([str(path)]).diagnostics
    assert problem.rule == "source.too-large"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.yaml", "a: 1\n")
    path.chmod(0)
    (problem,) = read_sources([str(path)]).diagnostics
    assert problem.rule == "source.unreadable"


def test_symlink_loop_between_directories_is_reported_not_followed_forever(tmp_path: Path) -> None:
    _write(tmp_path / "m/a.yaml", "x: 1\n")
    os.symlink(tmp_path / "m", tmp_path / "m" / "loop")
    result = read_sources([str(tmp_path / "m")])
    assert [Path(f.path).name for f in result.files] == ["a.yaml"]
    assert [d.rule for d in result.diagnostics] == ["source.symlink"]


def test_self_referencing_file_symlink(tmp_path: Path) -> None:
    os.symlink(tmp_path / "self.yaml", tmp_path / "self.yaml")
    (problem,) = read_sources([str(tmp_path)]).diagnostics
    assert problem.rule == "source.symlink"


# --- what a walk leaves out, and never opens ------------------------------------------------


def _skipped(result: ReadResult, root: Path) -> dict[str, str]:
    return {Path(s.path).relative_to(root).as_posix(): s.reason for s in result.skipped}


def test_manifest_extensions_are_read_whatever_their_case(tmp_path: Path) -> None:
    for name in ("A.YAML", "b.Yml", "c.yAmL", "d.yml"):
        _write(tmp_path / name, "x: 1\n")
    result = read_sources([str(tmp_path)])
    assert [Path(f.path).name for f in result.files] == ["A.YAML", "b.Yml", "c.yAmL", "d.yml"]
    assert result.skipped == ()


def test_every_file_a_walk_leaves_out_is_reported_with_its_reason(tmp_path: Path) -> None:
    for name in ("a.yaml", ".a.yaml", "README.md", "x.json", ".git/config.yaml", "sub/.b.yml"):
        _write(tmp_path / name, "x: 1\n")
    result = read_sources([str(tmp_path)])
    assert [Path(f.path).name for f in result.files] == ["a.yaml"]
    assert _skipped(result, tmp_path) == {
        ".a.yaml": "hidden",
        ".git": "hidden folder, not searched",  # one line, not one per file inside
        "README.md": "not a .yaml/.yml file",
        "sub/.b.yml": "hidden",
        "x.json": "not a .yaml/.yml file",
    }
    assert result.diagnostics == ()


def test_a_hidden_file_named_explicitly_is_read_and_not_reported_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / ".a.yaml", "x: 1\n")
    result = read_sources([str(path), str(tmp_path)])
    assert [f.path for f in result.files] == [str(path)]
    assert result.skipped == ()


@pytest.mark.timeout(10)
def test_a_fifo_in_a_folder_is_skipped_unopened(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "x: 1\n")
    os.mkfifo(tmp_path / "pipe.yaml")
    os.mkfifo(tmp_path / "pipe")  # whatever its name: the type is the reason
    result = read_sources([str(tmp_path)])
    assert [Path(f.path).name for f in result.files] == ["a.yaml"]
    assert _skipped(result, tmp_path) == {
        "pipe": "not a regular file (FIFO)",
        "pipe.yaml": "not a regular file (FIFO)",
    }
    assert result.diagnostics == ()


@pytest.mark.timeout(10)
def test_a_fifo_named_explicitly_is_skipped_unopened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    result = read_sources([str(tmp_path / "pipe.yaml")])
    assert result.files == () and result.diagnostics == ()
    assert [str(s) for s in result.skipped] == [
        f"{tmp_path / 'pipe.yaml'} (not a regular file (FIFO))"
    ]


@pytest.mark.timeout(10)
def test_read_one_never_blocks_on_a_fifo_that_replaced_a_file(tmp_path: Path) -> None:
    """The race guard: opened non-blocking, checked with fstat before a byte is read."""
    os.mkfifo(tmp_path / "a.yaml")
    assert read_one(str(tmp_path / "a.yaml")) == Skipped(
        str(tmp_path / "a.yaml"), "not a regular file (FIFO)"
    )


def test_a_socket_and_a_device_are_skipped(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="s", dir="/tmp"))  # AF_UNIX paths must be short
    try:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(folder / "s.yaml"))
        result = read_sources([str(folder), "/dev/null"])
        server.close()
    finally:
        shutil.rmtree(folder)
    assert [s.reason for s in result.skipped] == [
        "not a regular file (socket)",
        "not a regular file (character device)",
    ]
    assert result.files == () and result.diagnostics == ()


def test_a_broken_symlink_without_a_manifest_name_is_only_skipped(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone", tmp_path / "notes.txt")
    result = read_sources([str(tmp_path)])
    assert _skipped(result, tmp_path) == {"notes.txt": "not a .yaml/.yml file"}
    assert result.diagnostics == ()
