"""A small `_search`: match_all, ids, term, terms, match, exists, prefix and bool queries over
`_source`, with `size`, `from`, `sort`, `seq_no_primary_term` and `version`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from .errors import EsError
from .mappings import field_type

Doc = tuple[str, dict[str, Any]]  # (id, stored record)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def parsing_error(reason: str) -> EsError:
    return EsError(400, "parsing_exception", reason, extra={"line": 1, "col": 1})


def values_at(source: Any, path: str) -> list[Any]:
    """All values at a dotted path, flattening arrays as Elasticsearch does."""
    current = [source]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, dict) and part in item:
                value = item[part]
                nxt.extend(value if isinstance(value, list) else [value])
        current = nxt
    return [v for v in current if v is not None]


def _tokens(value: Any) -> set[str]:
    return {t.lower() for t in _TOKEN.findall(str(value))}


def _equal(mappings: dict[str, Any], field: str, doc_value: Any, wanted: Any) -> bool:
    kind = field_type(mappings, field)
    if kind == "text":
        return str(wanted) in _tokens(doc_value)
    if isinstance(doc_value, bool) or isinstance(wanted, bool):
        return str(doc_value).lower() == str(wanted).lower()
    if isinstance(doc_value, int | float) and not isinstance(wanted, bool):
        try:
            return float(doc_value) == float(wanted)
        except (TypeError, ValueError):
            return False
    return str(doc_value) == str(wanted)


def _source_path(field: str, mappings: dict[str, Any]) -> str:
    """`name.keyword` reads `name` from the source."""
    if field_type(mappings, field) == "keyword" and field.endswith(".keyword"):
        parent = field.removesuffix(".keyword")
        if field_type(mappings, parent) not in (None, "keyword"):
            return parent
    return field


def _single(spec: Any, name: str) -> tuple[str, Any]:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise parsing_error(
            f"[{name}] query doesn't support multiple fields, found [{', '.join(spec)}]"
        )
    field, value = next(iter(spec.items()))
    return field, value


Predicate = Callable[[Doc], bool]


def compile_query(query: Any, mappings: dict[str, Any]) -> Predicate:
    if query is None:
        return lambda _doc: True
    if not isinstance(query, dict) or len(query) != 1:
        raise parsing_error("query malformed, no start_object after query name")
    kind, spec = next(iter(query.items()))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise parsing_error(f"unknown query [{kind}]")
    return builder(spec, mappings)


def _match_all(spec: Any, mappings: dict[str, Any]) -> Predicate:
    return lambda _doc: True


def _ids(spec: Any, mappings: dict[str, Any]) -> Predicate:
    wanted = {str(v) for v in (spec or {}).get("values", [])}
    return lambda doc: doc[0] in wanted


def _term(spec: Any, mappings: dict[str, Any]) -> Predicate:
    field, value = _single(spec, "term")
    value = value.get("value") if isinstance(value, dict) else value
    return _any_value(field, mappings, lambda v: _equal(mappings, field, v, value))


def _terms(spec: Any, mappings: dict[str, Any]) -> Predicate:
    field, values = _single({k: v for k, v in spec.items() if k != "boost"}, "terms")
    return _any_value(field, mappings, lambda v: any(_equal(mappings, field, v, w) for w in values))


def _match(spec: Any, mappings: dict[str, Any]) -> Predicate:
    field, value = _single(spec, "match")
    text = value.get("query") if isinstance(value, dict) else value
    if field_type(mappings, field) == "text":
        wanted = _tokens(text)
        return _any_value(field, mappings, lambda v: bool(wanted & _tokens(v)))
    return _any_value(field, mappings, lambda v: _equal(mappings, field, v, text))


def _exists(spec: Any, mappings: dict[str, Any]) -> Predicate:
    field = (spec or {}).get("field", "")
    return _any_value(field, mappings, lambda _v: True)


def _prefix(spec: Any, mappings: dict[str, Any]) -> Predicate:
    field, value = _single(spec, "prefix")
    value = value.get("value") if isinstance(value, dict) else value
    return _any_value(field, mappings, lambda v: str(v).startswith(str(value)))


def _any_value(field: str, mappings: dict[str, Any], test: Callable[[Any], bool]) -> Predicate:
    path = _source_path(field, mappings)
    return lambda doc: any(test(v) for v in values_at(doc[1]["_source"], path))


def _clauses(spec: dict[str, Any], key: str, mappings: dict[str, Any]) -> list[Predicate]:
    value = spec.get(key) or []
    items = value if isinstance(value, list) else [value]
    return [compile_query(q, mappings) for q in items]


def _bool(spec: Any, mappings: dict[str, Any]) -> Predicate:
    must = _clauses(spec, "must", mappings) + _clauses(spec, "filter", mappings)
    should = _clauses(spec, "should", mappings)
    must_not = _clauses(spec, "must_not", mappings)
    minimum = int(spec.get("minimum_should_match", 0 if must else 1)) if should else 0

    def test(doc: Doc) -> bool:
        if not all(p(doc) for p in must) or any(p(doc) for p in must_not):
            return False
        return sum(1 for p in should if p(doc)) >= minimum

    return test


_BUILDERS: dict[str, Callable[[Any, dict[str, Any]], Predicate]] = {
    "match_all": _match_all,
    "ids": _ids,
    "term": _term,
    "terms": _terms,
    "match": _match,
    "exists": _exists,
    "prefix": _prefix,
    "bool": _bool,
}


def sort_docs(docs: list[Doc], sort: Any) -> list[tuple[Doc, list[Any] | None]]:
    """Apply `sort` (field names, `{field: order}` or `{field: {order}}`)."""
    if not sort:
        return [(d, None) for d in docs]
    keys = _sort_keys(sort)
    out = list(docs)
    for field, order in reversed(keys):
        out.sort(key=functools.partial(_sort_value, field=field), reverse=order == "desc")
    return [(d, [_raw_sort_value(d, f) for f, _ in keys]) for d in out]


def _sort_keys(sort: Any) -> list[tuple[str, str]]:
    items = sort if isinstance(sort, list) else [sort]
    keys = []
    for item in items:
        if isinstance(item, str):
            keys.append((item, "desc" if item == "_score" else "asc"))
        elif isinstance(item, dict):
            for field, spec in item.items():
                order = spec.get("order", "asc") if isinstance(spec, dict) else str(spec)
                keys.append((field, order))
    return keys


def _raw_sort_value(doc: Doc, field: str) -> Any:
    if field == "_id":
        return doc[0]
    values = values_at(doc[1]["_source"], field.removesuffix(".keyword"))
    return values[0] if values else None


def _sort_value(doc: Doc, *, field: str) -> tuple[int, Any]:
    value = _raw_sort_value(doc, field)
    if value is None:
        return (1, "")
    return (0, value if isinstance(value, int | float) else str(value))
