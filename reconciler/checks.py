"""Validation of parsed manifests: the schema per document, then rules across documents.

Pure: documents in, located diagnostics out. Every problem is reported, none hides another.
A deprecated service (`elser`) is a WARNING diagnostic naming its replacement; warnings do not
make a set invalid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reconciler.manifest import Document, json_path
from reconciler.model import Diagnostic, Location, Severity
from reconciler.services import registry

if TYPE_CHECKING:
    from reconciler.schema import SchemaIssue

_KEY_RULES = ("schema.unknown-key", "yaml.duplicate-key")
"""Rules whose location is the offending key itself rather than its value."""


def check_documents(documents: Sequence[Document]) -> list[Diagnostic]:
    """Every problem in the set: per-document schema issues and duplicate inference ids."""
    problems: list[Diagnostic] = []
    for document in documents:
        problems.extend(check_document(document))
    problems.extend(_duplicate_ids(documents))
    return problems


def check_document(document: Document) -> list[Diagnostic]:
    """The schema and rule issues of one document, located in its file."""
    from reconciler.schema import validate_document

    if document.data is None:
        message = "empty document (a `---` separator with nothing after it?)"
        return [Diagnostic(document.location, "$", message, "manifest.empty-document")]
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        message = f"a manifest document must be a mapping of fields, got a {_kind(kind)}"
        return [Diagnostic(document.location, "$", message, "manifest.not-a-mapping")]
    problems = [
        Diagnostic(
            document.source_map.locate(issue.path, key=_at_key(document.data, issue)),
            json_path(issue.path),
            issue.message,
            issue.rule,
        )
        for issue in validate_document(document.data)
    ]
    problems.extend(_deprecated_service(document))
    return problems


def _deprecated_service(document: Document) -> list[Diagnostic]:
    """A WARNING (not an error) for a deprecated service alias, naming its replacement."""
    data = document.data
    descriptor = registry.get(data.get("service") if isinstance(data, dict) else None)
    if descriptor is None or not descriptor.deprecation:
        return []
    where = document.source_map.locate(("service",))
    message = f"{descriptor.deprecation} (replacement: `{descriptor.replaced_by}`)"
    return [
        Diagnostic(where, "$.service", message, "manifest.deprecated-service", Severity.WARNING)
    ]


def _at_key(data: object, issue: SchemaIssue) -> bool:
    """Point at the key for key-level rules and for containers (their value starts a line below)."""
    if issue.rule in _KEY_RULES:
        return True
    for part in issue.path:
        try:
            data = data[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(data, dict | list)


def _kind(name: str) -> str:
    return {"list": "list", "str": "string", "int": "number", "float": "number"}.get(name, name)


def _duplicate_ids(documents: Iterable[Document]) -> list[Diagnostic]:
    first_seen: dict[str, Location] = {}
    problems = []
    for document in documents:
        data = document.data
        if not isinstance(data, dict) or not isinstance(data.get("inference_id"), str):
            continue
        inference_id = data["inference_id"]
        where = document.source_map.locate(("inference_id",))
        if inference_id in first_seen:
            first = first_seen[inference_id]
            shown = inference_id if len(inference_id) <= 80 else inference_id[:77] + "..."
            message = f"duplicate inference_id `{shown}` (first declared at {first})"
            problems.append(Diagnostic(where, "$.inference_id", message, "manifest.duplicate-id"))
        else:
            first_seen[inference_id] = where
    return problems
