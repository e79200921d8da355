"""File events → triggers: which files to watch, which events matter, when a save is done.

`watchfiles.awatch` watches folder arguments recursively and the parent folder of a file
argument (an editor's rename-over save replaces the file's inode), keeps the events on
manifest files the arguments name (`.yaml`/`.yml` in any case, hidden files skipped: the files
`validate` reads), and yields a batch once the files have been quiet for the debounce step.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.sources import is_manifest_name, read_sources

DEBOUNCE_MS = 100
MAX_BATCH_MS = 1_500
"""A save is handled once files are quiet for DEBOUNCE_MS, or after MAX_BATCH_MS of writes."""
SETTLE_S = 0.5
STOP_POLL_MS = 300
"""How often the file-watching thread looks for a stop request (bounds the Ctrl-C delay)."""


class Kind(StrEnum):
    START = "start"
    SAVE = "save"
    CHECK = "drift check"


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: Kind
    files: tuple[str, ...] = ()


def merge(first: Trigger, queue: asyncio.Queue[Trigger]) -> Trigger:
    """The trigger plus everything queued behind it: a save wins over a check."""
    kinds, files = [first.kind], list(first.files)
    while not queue.empty():
        more = queue.get_nowait()
        kinds.append(more.kind)
        files.extend(more.files)
    kind = next((k for k in (Kind.START, Kind.SAVE) if k in kinds), Kind.CHECK)
    return Trigger(kind, tuple(dict.fromkeys(files)))


def content_digest(paths: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for source in read_sources(paths).files:
        digest.update(f"{source.path}\0{source.text}\0".encode())
    return digest.hexdigest()


async def settled(paths: Sequence[str], wait: float = SETTLE_S) -> bool:
    """Whether the manifest files read the same after `wait` seconds."""
    before = content_digest(paths)
    await asyncio.sleep(wait)
    return content_digest(paths) == before


def watch_roots(paths: Sequence[str]) -> list[tuple[tuple[str, ...], bool]]:
    """(folders, recursive): folder arguments recursively, the parents of file arguments not."""
    folders = tuple(dict.fromkeys(p for p in paths if os.path.isdir(p)))
    files = [p for p in paths if not os.path.isdir(p)]
    parents = tuple(dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p in files))
    return [(roots, recursive) for roots, recursive in ((folders, True), (parents, False)) if roots]


def manifest_filter(paths: Sequence[str]) -> Callable[[object, str], bool]:
    """Events on manifest files the arguments name (hidden files, like `validate`, skipped)."""
    folders = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
    files = {os.path.abspath(p) for p in paths if not os.path.isdir(p)}

    def wanted(_change: object, path: str) -> bool:
        path = os.path.abspath(path)
        if path in files:
            return True
        if not is_manifest_name(path):
            return False
        return any(_inside(path, folder) for folder in folders)

    return wanted


def _inside(path: str, folder: str) -> bool:
    relative = os.path.relpath(path, folder)
    parts = relative.split(os.sep)
    return parts[0] != ".." and not any(part.startswith(".") for part in parts)


def display_path(path: str) -> str:
    """Relative to the working directory when below it, else as given."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


async def watch_files(
    paths: Sequence[str], out: asyncio.Queue[Trigger], debounce_ms: int = DEBOUNCE_MS
) -> None:
    """Put a SAVE trigger on `out` for every batch of manifest changes under `paths`."""
    async with asyncio.TaskGroup() as group:
        for roots, recursive in watch_roots(paths):
            group.create_task(_watch(roots, recursive, paths, out, debounce_ms))


async def _watch(
    roots: tuple[str, ...],
    recursive: bool,
    paths: Sequence[str],
    out: asyncio.Queue[Trigger],
    debounce_ms: int,
) -> None:
    from watchfiles import awatch

    async for changes in awatch(
        *roots,
        watch_filter=manifest_filter(paths),
        step=debounce_ms,
        debounce=MAX_BATCH_MS,
        rust_timeout=STOP_POLL_MS,
        recursive=recursive,
    ):
        files = sorted({display_path(path) for _, path in changes})
        out.put_nowait(Trigger(Kind.SAVE, tuple(files)))
