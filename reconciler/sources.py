"""Find manifest files under the given paths and read them safely.

Directories are walked recursively in a stable (sorted) order; only `*.yaml` / `*.yml` files
(in any case: `A.YAML`, `b.Yml`) are taken from them, while a file named explicitly is always
read. Everything a walk leaves out is reported as `Skipped` with its reason — a hidden entry
(`.git`, `.a.yaml`; a hidden folder is not searched), a file without a manifest extension — and
so is anything that is not a regular file (a FIFO, socket or device), in a folder or named
explicitly: it is never opened, so it can never block a read. Every problem — a missing path,
a symlink loop, an unreadable, binary, oversized or non-UTF-8 file — becomes a located
Diagnostic instead of an exception.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reconciler.model import Diagnostic, Location

MANIFEST_SUFFIXES = (".yaml", ".yml")
"""Lower case; compare with `is_manifest_name`, which ignores the case of the name."""
MAX_FILE_BYTES = 4 * 1024 * 1024
"""A manifest is a few hundred bytes; 4 MiB holds thousands. Larger input is refused unread."""

HIDDEN = "hidden"
HIDDEN_FOLDER = "hidden folder, not searched"
NOT_MANIFEST = "not a .yaml/.yml file"
_FILE_TYPES = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISDIR, "directory"),
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A manifest file's text, with the path as the user should see it."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or folder under the paths that was deliberately not read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


@dataclass(frozen=True, slots=True)
class ReadResult:
    files: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    skipped: tuple[Skipped, ...] = ()


def is_manifest_name(name: str) -> bool:
    """`a.yaml`, `b.yml`, `C.YAML`, `d.Yml`: the names a walk reads."""
    return name.lower().endswith(MANIFEST_SUFFIXES)


def not_regular(mode: int) -> str | None:
    """`not a regular file (FIFO)` for a FIFO, socket or device; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_TYPES if test(mode)), "special file")
    return f"not a regular file ({kind})"


STDIN = "-"
"""The path that means standard input (a manifest stream piped in: `... | reconcile validate -`)."""
STDIN_NAME = "<stdin>"


def read_sources(paths: Iterable[str], stdin: BinaryIO | None = None) -> ReadResult:
    """Read every manifest file under `paths`, each at most once, in a stable order; `-`
    reads the manifests from `stdin` (the process's standard input unless given)."""
    files: list[SourceFile] = []
    problems: list[Diagnostic] = []
    skipped: dict[str, Skipped] = {}
    seen: set[str] = set()
    paths = list(paths)
    if STDIN in paths:
        paths = [p for p in paths if p != STDIN]
        piped = read_stream(STDIN_NAME, stdin if stdin is not None else sys.stdin.buffer)
        if isinstance(piped, SourceFile):
            files.append(piped)
        else:
            problems.append(piped)
    for path, outcome in _candidates(paths):
        if isinstance(outcome, Diagnostic):
            problems.append(outcome)
            continue
        real = os.path.realpath(path)
        if isinstance(outcome, Skipped):
            skipped.setdefault(real, outcome)
            continue
        if real in seen:
            continue
        seen.add(real)
        read = read_one(path)
        if isinstance(read, SourceFile):
            files.append(read)
        elif isinstance(read, Skipped):
            skipped.setdefault(real, read)
        else:
            problems.append(read)
    left_out = tuple(s for real, s in skipped.items() if real not in seen)  # also named: read
    return ReadResult(tuple(files), tuple(problems), left_out)


def read_one(path: str) -> SourceFile | Diagnostic | Skipped:
    """Read one file, or say precisely why it cannot be a manifest.

    Opened non-blocking and checked to be a regular file before a byte is read: a FIFO that
    replaced the file since it was looked at is skipped instead of blocking forever.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        return _problem(path, f"cannot read file: {exc.strerror or exc}", "source.unreadable")
    with os.fdopen(descriptor, "rb") as handle:
        reason = not_regular(os.fstat(handle.fileno()).st_mode)
        if reason is not None:
            return Skipped(path, reason)
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            message = f"cannot read file: {exc.strerror or exc}"
            return _problem(path, message, "source.unreadable")
    return _checked(path, data)


def read_stream(name: str, stream: BinaryIO) -> SourceFile | Diagnostic:
    """Read a manifest stream (standard input) with the same limits as a file."""
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _problem(name, f"cannot read: {exc.strerror or exc}", "source.unreadable")
    return _checked(name, data)


def _checked(path: str, data: bytes) -> SourceFile | Diagnostic:
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return _problem(path, f"file is larger than {limit} MiB", "source.too-large")
    if b"\x00" in data:
        return _problem(path, "binary file (contains NUL bytes)", "source.binary")
    return _decode(path, data)


def _decode(path: str, data: bytes) -> SourceFile | Diagnostic:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return SourceFile(path, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        message = f"not valid UTF-8: byte 0x{data[exc.start]:02x} cannot start a character"
        return Diagnostic(Location(path, line, column), "$", message, "source.encoding")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


Candidate = tuple[str, Diagnostic | Skipped | None]
"""A path to read (None), or why it is not read: a problem, or a deliberate skip."""


def _candidates(paths: Iterable[str]) -> Iterator[Candidate]:
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path, {_identity(path)})
        elif os.path.lexists(path) and not os.path.exists(path):
            yield path, _problem(path, "broken symbolic link or symlink loop", "source.symlink")
        elif os.path.exists(path):
            yield path, _regular(path)
        else:
            yield path, _problem(path, "no such file or directory", "source.missing")


def _regular(path: str) -> Diagnostic | Skipped | None:
    """None for a regular file (named explicitly: read whatever its name)."""
    try:
        reason = not_regular(os.stat(path).st_mode)
    except OSError as exc:
        return _problem(path, f"cannot read file: {exc.strerror or exc}", "source.unreadable")
    return None if reason is None else Skipped(path, reason)


def _walk(directory: str, ancestors: set[tuple[int, int]]) -> Iterator[Candidate]:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        message = f"cannot list directory: {exc.strerror}"
        yield directory, _problem(directory, message, "source.unreadable")
        return
    for entry in entries:
        yield from _visit(Path(directory, entry.name).as_posix(), entry, ancestors)


def _visit(
    path: str, entry: os.DirEntry[str], ancestors: set[tuple[int, int]]
) -> Iterator[Candidate]:
    try:
        is_dir = entry.is_dir()
    except OSError:
        is_dir = False
    if entry.name.startswith("."):
        yield path, Skipped(path, HIDDEN_FOLDER if is_dir else HIDDEN)
    elif is_dir:
        identity = _identity(path)
        if identity in ancestors:
            yield path, _problem(path, "symlink loop: directory contains itself", "source.symlink")
        else:
            yield from _walk(path, ancestors | {identity})
    elif (reason := _entry_type(entry)) is not None:
        yield path, Skipped(path, reason)
    elif not is_manifest_name(entry.name):
        yield path, Skipped(path, NOT_MANIFEST)
    elif entry.is_symlink() and not os.path.exists(path):
        yield path, _problem(path, "broken symbolic link or symlink loop", "source.symlink")
    else:
        yield path, None


def _entry_type(entry: os.DirEntry[str]) -> str | None:
    """Why a directory entry is not a regular file; None if it is one (or cannot be told:
    a broken symlink, reported by the name rules)."""
    try:
        return not_regular(entry.stat().st_mode)
    except OSError:
        return None


def _identity(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _problem(path: str, message: str, rule: str) -> Diagnostic:
    return Diagnostic(Location(path, 1, 1), "$", message, rule)
