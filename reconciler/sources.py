"""Find manifest files under the given paths and read them safely.

Directories are walked recursively in a stable (sorted) order; only `*.yaml` / `*.yml` files
are taken from them, while a file named explicitly is always read. Hidden entries (`.git`) are
skipped. Every problem — a missing path, a symlink loop, an unreadable, binary, oversized or
non-UTF-8 file — becomes a located Diagnostic instead of an exception.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reconciler.model import Diagnostic, Location

MANIFEST_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 4 * 1024 * 1024
"""A manifest is a few hundred bytes; 4 MiB holds thousands. Larger input is refused unread."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A manifest file's text, with the path as the user should see it."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class ReadResult:
    files: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]


def read_sources(paths: Iterable[str]) -> ReadResult:
    """Read every manifest file under `paths`, each at most once, in a stable order."""
    files: list[SourceFile] = []
    problems: list[Diagnostic] = []
    seen: set[str] = set()
    for path, problem in _candidates(paths):
        if problem is not None:
            problems.append(problem)
            continue
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        source, problem = read_one(path)
        if problem is not None:
            problems.append(problem)
        elif source is not None:
            files.append(source)
    return ReadResult(tuple(files), tuple(problems))


def read_one(path: str) -> tuple[SourceFile | None, Diagnostic | None]:
    """Read one file, or say precisely why it cannot be a manifest."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, _problem(path, f"cannot read file: {exc.strerror or exc}", "source.unreadable")
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return None, _problem(path, f"file is larger than {limit} MiB", "source.too-large")
    if b"\x00" in data:
        return None, _problem(path, "binary file (contains NUL bytes)", "source.binary")
    return _decode(path, data)


def _decode(path: str, data: bytes) -> tuple[SourceFile | None, Diagnostic | None]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return SourceFile(path, data.decode("utf-8")), None
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        message = f"not valid UTF-8: byte 0x{data[exc.start]:02x} cannot start a character"
        return None, Diagnostic(Location(path, line, column), "$", message, "source.encoding")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def _candidates(paths: Iterable[str]) -> Iterator[tuple[str, Diagnostic | None]]:
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path, {_identity(path)})
        elif os.path.lexists(path) and not os.path.exists(path):
            yield path, _problem(path, "broken symbolic link or symlink loop", "source.symlink")
        elif os.path.exists(path):
            yield path, None
        else:
            yield path, _problem(path, "no such file or directory", "source.missing")


Candidate = tuple[str, Diagnostic | None]


def _walk(directory: str, ancestors: set[tuple[int, int]]) -> Iterator[Candidate]:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        message = f"cannot list directory: {exc.strerror}"
        yield directory, _problem(directory, message, "source.unreadable")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        yield from _visit(Path(directory, entry.name).as_posix(), entry, ancestors)


def _visit(
    path: str, entry: os.DirEntry[str], ancestors: set[tuple[int, int]]
) -> Iterator[tuple[str, Diagnostic | None]]:
    try:
        is_dir = entry.is_dir()
    except OSError:
        is_dir = False
    if is_dir:
        identity = _identity(path)
        if identity in ancestors:
            yield path, _problem(path, "symlink loop: directory contains itself", "source.symlink")
        else:
            yield from _walk(path, ancestors | {identity})
    elif entry.name.endswith(MANIFEST_SUFFIXES):
        if entry.is_symlink() and not os.path.exists(path):
            yield path, _problem(path, "broken symbolic link or symlink loop", "source.symlink")
        else:
            yield path, None


def _identity(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _problem(path: str, message: str, rule: str) -> Diagnostic:
    return Diagnostic(Location(path, 1, 1), "$", message, rule)
