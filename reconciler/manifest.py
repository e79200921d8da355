"""Turn manifest text into documents that remember where every value came from.

PyYAML builds a node tree with line and column marks; we convert it ourselves so that we can
(a) refuse duplicate keys, which PyYAML silently resolves to the last one, (b) bound alias
expansion ("billion laughs") and nesting depth, and (c) record a source map from each JSON path
to its file:line:column. Every problem is a Diagnostic; nothing here raises for bad input.

Plain scalars are resolved by the YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-
resolution), as editors (yaml-language-server) and JSON Schema tools (check-jsonschema) read
them, not by PyYAML's YAML 1.1 rules: `yes`, `no`, `on`, `off`, `y`, `n` are strings, `1_024`
and `0b101` and `1:30` are strings, `0o17` is octal, `010` is ten. One file, one meaning,
whichever tool reads it. libyaml still parses (its speed is kept); only the resolver changes.

An integer beyond the 64-bit range (no Elasticsearch setting reads one: its widest integer is a
Java `long`) is kept as a `WideInt`, which compares as just past that range, so the schema
refuses it wherever it stands, and prints as the text written, so no code ever has to turn a
huge number into digits (Python refuses to for more than 4300 of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from reconciler.errors import UsageError
from reconciler.model import JSON, DesiredEndpoint, Diagnostic, KeyRotation, Location, Options
from reconciler.schema_compile import LONG_MAX, LONG_MIN, WideInt
from reconciler.secrets import secret_references
from reconciler.services import registry
from reconciler.sources import SourceFile

try:  # libyaml is an order of magnitude faster; pure Python is the fallback
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

CORE_SCHEMA: tuple[tuple[str, str, str], ...] = (
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
)
"""The YAML 1.2.2 core schema's tag resolution: (tag, regular expression, first characters)."""


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """libyaml's parser with the YAML 1.2 core schema's resolver instead of YAML 1.1's."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}


for _tag, _pattern, _first in CORE_SCHEMA:
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
# merge keys (`<<: *defaults`) are not in the core schema but every YAML tool reads them
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

Path = tuple[str | int, ...]

MAX_NODES = 20_000
"""Nodes one document may expand to, aliases included: a manifest has a few dozen."""
MAX_DEPTH = 64
MAX_FLOW_DEPTH = 2_000
"""libyaml's composer recurses in C; much deeper flow nesting crashes the interpreter."""

_TAG = "tag:yaml.org,2002:"
_SCALARS = yaml.constructor.SafeConstructor()
_STRING_TAGS = frozenset({_TAG + "str", _TAG + "timestamp", _TAG + "binary", "!"})
"""Kept as the text written: the API takes JSON, where a date is just a string."""
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each JSON path of one document starts: its value and, in a mapping, its key."""

    file: str
    values: Mapping[Path, tuple[int, int]]
    keys: Mapping[Path, tuple[int, int]]

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """The closest known place for `path` (falling back to its nearest ancestor)."""
        table = self.keys if key else self.values
        for depth in range(len(path), -1, -1):
            found = table.get(path[:depth]) or self.values.get(path[:depth])
            if found:
                return Location(self.file, *found)
        return Location(self.file)


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document of a manifest file, as plain data plus its source map."""

    file: str
    index: int
    data: JSON
    source_map: SourceMap

    @property
    def location(self) -> Location:
        return self.source_map.locate(())


@dataclass(frozen=True, slots=True)
class ParseResult:
    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]


class _Refused(Exception):
    """A document that cannot be converted; carries the diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def json_path(path: Path) -> str:
    """`("service_settings", "rate_limit")` → `$.service_settings.rate_limit`; lists as `[0]`."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def parse(source: SourceFile) -> ParseResult:
    """Every document of one file, with every problem found in it."""
    if _flow_depth(source.text) > MAX_FLOW_DEPTH:
        message = f"nesting deeper than {MAX_FLOW_DEPTH} levels"
        return ParseResult((), (Diagnostic(Location(source.path), "$", message, "yaml.depth"),))
    documents: list[Document] = []
    problems: list[Diagnostic] = []
    try:
        for index, node in enumerate(yaml.compose_all(source.text, Loader=_Loader)):
            _convert_document(source.path, index, node, documents, problems)
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_error(source.path, exc))
    except yaml.YAMLError as exc:
        problems.append(
            Diagnostic(Location(source.path), "$", f"invalid YAML: {exc}", "yaml.syntax")
        )
    if not documents and not problems:
        message = "file holds no manifest (it is empty or only comments)"
        problems.append(Diagnostic(Location(source.path), "$", message, "manifest.empty-file"))
    return ParseResult(tuple(documents), tuple(problems))


def _flow_depth(text: str) -> int:
    if text.count("[") + text.count("{") < MAX_FLOW_DEPTH:
        return 0
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _syntax_error(file: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
    parts = [part for part in (exc.context, exc.problem) if part]
    return Diagnostic(where, "$", "invalid YAML: " + ", ".join(parts), "yaml.syntax")


def _convert_document(
    file: str, index: int, node: yaml.Node, out: list[Document], problems: list[Diagnostic]
) -> None:
    converter = _Converter(file)
    try:
        data = converter.convert(node, ())
    except _Refused as refused:
        problems.append(refused.diagnostic)
        return
    problems.extend(converter.problems)
    source_map = SourceMap(file, converter.values, converter.keys)
    out.append(Document(file, index, data, source_map))


class _Converter:
    """Node tree → plain data and source map, for one document."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self.problems: list[Diagnostic] = []
        self.nodes = 0

    def convert(self, node: yaml.Node, path: Path) -> JSON:
        self._count(node, path)
        self.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _count(self, node: yaml.Node, path: Path) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            message = f"document expands to more than {MAX_NODES} values (an alias bomb?)"
            raise _Refused(self._diagnostic(node, (), message, "yaml.too-large"))
        if len(path) > MAX_DEPTH:
            message = f"nesting deeper than {MAX_DEPTH} levels"
            raise _Refused(self._diagnostic(node, path, message, "yaml.depth"))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, JSON]:
        result: dict[str, JSON] = {}
        merged: dict[str, JSON] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.update(self._merge(value_node, path))
                continue
            key = self._key(key_node, path)
            if key in result:
                self._duplicate(key_node, (*path, key))
                continue
            self.keys[(*path, key)] = _mark(key_node)
            result[key] = self.convert(value_node, (*path, key))
        return {**{k: v for k, v in merged.items() if k not in result}, **result}

    def _merge(self, node: yaml.Node, path: Path) -> dict[str, JSON]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, JSON] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                message = "a merge key (<<) must name a mapping or a list of mappings"
                raise _Refused(self._diagnostic(source, path, message, "yaml.merge"))
            merged.update(self._mapping(source, path))
        return merged

    def _key(self, node: yaml.Node, path: Path) -> str:
        if not isinstance(node, yaml.ScalarNode):
            message = "mapping keys must be plain strings"
            raise _Refused(self._diagnostic(node, path, message, "yaml.key-type"))
        return str(node.value)

    def _duplicate(self, node: yaml.Node, path: Path) -> None:
        line, _ = self.keys[path]
        message = (
            f"duplicate key `{path[-1]}` (first defined on line {line}); "
            "YAML would silently keep only the last one"
        )
        self.problems.append(self._diagnostic(node, path, message, "yaml.duplicate-key"))

    def _scalar(self, node: yaml.Node, path: Path) -> JSON:
        tag = node.tag
        if tag == _TAG + "int":
            return _integer(node)
        if tag in (_TAG + "float", _TAG + "bool", _TAG + "null"):
            return _SCALARS.construct_object(node)
        if tag in _STRING_TAGS:
            return str(node.value)
        message = f"unsupported YAML tag {tag}"
        raise _Refused(self._diagnostic(node, path, message, "yaml.tag"))

    def _diagnostic(self, node: yaml.Node, path: Path, message: str, rule: str) -> Diagnostic:
        return Diagnostic(Location(self.file, *_mark(node)), json_path(path), message, rule)


MAX_INT_DIGITS = 100
"""Significant digits beyond which an integer literal is out of the `long` range in any base
(binary needs 64); such a literal is not converted at all: PyYAML's sexagesimal conversion
(`1:30:00`) is quadratic in the number of parts."""


def _integer(node: yaml.Node) -> int:
    """A YAML 1.2 core integer (decimal, `0o` octal, `0x` hex); `WideInt` beyond 64 bits.

    An explicit `!!int` on text the core schema would not resolve (`!!int 1_000`) is refused
    by Python's `int` and kept as a `WideInt` of its text: the schema then reports it."""
    text = str(node.value)
    if len(_significant(text)) > MAX_INT_DIGITS:
        return WideInt(text)
    try:
        if text[:2] in ("0o", "0x"):
            value = int(text[2:], 8 if text[1] == "o" else 16)
        else:
            value = int(text, 10)
    except ValueError:  # not a core-schema integer, or past int_max_str_digits
        return WideInt(text)
    return value if LONG_MIN <= value <= LONG_MAX else WideInt(text)


def _significant(text: str) -> str:
    """The digits of an integer literal that carry its size: no sign, `_`, base prefix or 0s."""
    digits = text.replace("_", "").lstrip("+-")
    if digits[:2] in ("0x", "0b", "0o"):
        digits = digits[2:]
    return digits.lstrip("0")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def iter_mappings(documents: tuple[Document, ...]) -> Iterator[tuple[Document, dict[str, Any]]]:
    """The documents that are mappings (the others are reported by validation)."""
    for document in documents:
        if isinstance(document.data, dict):
            yield document, document.data


def options_of(data: Mapping[str, JSON]) -> Options:
    """The reconciler-only `reconcile:` block, already validated by the schema."""
    block = data.get("reconcile") or {}
    smoke = block.get("smoke") or {}
    return Options(
        protect=bool(block.get("protect", False)),
        key_rotation=KeyRotation(block.get("key_rotation", "auto")),
        smoke=bool(smoke.get("enabled", True)),
        smoke_input=tuple(given) if isinstance(given := smoke.get("input"), list) else given,
        smoke_query=smoke.get("query"),
    )


_PATH_PARAMETERS = ("inference_id", "task_type", "reconcile")


def desired_endpoint(document: Document) -> DesiredEndpoint:
    """The endpoint a valid document declares: body to send, key reference, options.

    Every service validates, but only the services the registry marks `managed` are planned
    and applied so far: any other one is a located UsageError (never a crash further on)."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    unmanaged_service(document)
    body = {key: value for key, value in data.items() if key not in _PATH_PARAMETERS}
    declared = (field.parts for field in registry.SERVICES[data["service"]].secrets)
    return DesiredEndpoint(
        inference_id=data["inference_id"],
        task_type=data["task_type"],
        body=body,
        secrets=secret_references(data, declared),  # every declared secret path, by path
        options=options_of(data),
        origin=document.source_map.locate(("inference_id",)),
    )


def unmanaged_service(document: Document) -> None:
    """Refuse a document whose service `plan`/`apply` do not manage yet, located at `service`."""
    message = unmanaged_message(document)
    if message:
        raise UsageError(message)


def unmanaged_message(document: Document) -> str | None:
    """`file:line:col: service `X` is validated but not yet managed by plan/apply ...` for a
    document of a service `plan`/`apply` do not manage yet, else None."""
    data = document.data
    service = data.get("service") if isinstance(data, dict) else None
    descriptor = registry.get(service)
    if descriptor is None or descriptor.managed:
        return None
    where = document.source_map.locate(("service",))
    managed = ", ".join(f"`{name}`" for name in registry.MANAGED)
    return (
        f"{where}: service `{service}` is validated but not yet managed by plan/apply "
        f"(managed: {managed}); `reconcile validate` accepts it, plan and apply do not yet"
    )
