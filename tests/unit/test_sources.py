"""sources.py: stable walking and safe reading; every bad input is a located diagnostic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.sources import MAX_FILE_BYTES, read_sources


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
