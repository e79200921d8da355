"""The `filter_path` response parameter (`FilterPath` in the x-content library): comma-separated
dotted paths with `*` (within one key) and `**` (any depth); a leading `-` excludes. Arrays are
transparent; objects left empty disappear."""

from __future__ import annotations

import fnmatch
from typing import Any

Pattern = tuple[str, ...]
_DROP = object()


def apply_filter_path(data: Any, expression: str) -> Any:
    includes: list[Pattern] = []
    excludes: list[Pattern] = []
    for item in expression.split(","):
        item = item.strip()
        if item:
            target = excludes if item.startswith("-") else includes
            target.append(tuple(item.lstrip("-").split(".")))
    if includes:
        data = _include(data, includes)
        data = {} if data is _DROP else data
    if excludes:
        data = _exclude(data, excludes)
    return data


def _advance(patterns: list[Pattern], key: str) -> tuple[bool, list[Pattern]]:
    """(does a pattern end at `key`, the patterns that continue below it)."""
    whole, rest = False, []
    for pattern in patterns:
        head, tail = pattern[0], pattern[1:]
        if head == "**":
            rest.append(pattern)
            if tail:
                more_whole, more = _advance([tail], key)
                whole, rest = whole or more_whole, rest + more
            else:
                whole = True
        elif fnmatch.fnmatchcase(key, head):
            if tail:
                rest.append(tail)
            else:
                whole = True
    return whole, rest


def _include(data: Any, patterns: list[Pattern]) -> Any:
    if isinstance(data, list):
        kept = [v for v in (_include(item, patterns) for item in data) if v is not _DROP]
        return kept or _DROP
    if not isinstance(data, dict):
        return _DROP
    out = {}
    for key, value in data.items():
        whole, rest = _advance(patterns, key)
        if whole:
            out[key] = value
        elif rest:
            kept = _include(value, rest)
            if kept is not _DROP:
                out[key] = kept
    return out or _DROP


def _exclude(data: Any, patterns: list[Pattern]) -> Any:
    if isinstance(data, list):
        return [_exclude(item, patterns) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        whole, rest = _advance(patterns, key)
        if not whole:
            out[key] = _exclude(value, rest) if rest else value
    return out
