"""Compile the JSON Schema subset our schemas use into plain predicates; shared keyword semantics.

`compile_schema` turns a schema into a function `object -> bool` that answers "valid?" in a
few microseconds, so `reconciler.schema` only runs jsonschema (slow, but precise about *why*)
for documents that have something wrong. Unknown keywords raise `UnsupportedKeyword` at
compile time, so the two can never silently disagree; a differential test holds them equal.

The keyword semantics both paths share live here too: integers are strict (no `1.0`, no
`true`), `pattern` follows ECMA-262 (`$` is the very end), and the `uri-reference` format
approximates what java.net.URI accepts (Elasticsearch's only check on `url`). So does `WideInt`,
the stand-in for an integer beyond the 64-bit range (the manifest parser makes them).
"""

from __future__ import annotations

import functools
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "patternErrorMessage",
        "errorMessage",
        "then",  # compiled together with `if`
        "else",
    }
)


class UnsupportedKeywordError(ValueError):
    """The schema uses a keyword this compiler does not implement."""


# --- keyword semantics shared with the jsonschema path --------------------------------------

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
"""Java's `Integer.MIN_VALUE` and `Integer.MAX_VALUE`."""
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1
"""Java's `Long.MIN_VALUE` and `Long.MAX_VALUE`: the widest integers Elasticsearch parses."""


class WideInt(int):
    """An integer outside the Java `long` range, kept as the text that was written.

    Its value is `LONG_MAX + 1` (or `LONG_MIN - 1` when negative), so every bound in the schemas
    (at most `LONG_MAX`) refuses it wherever it stands; `str()` gives the written text, shortened
    when long, so no message ever converts a huge number to digits (Python refuses to beyond
    `sys.get_int_max_str_digits()`, 4300 by default, and jsonschema puts the value in its
    messages).
    """

    text: str

    def __new__(cls, text: str, negative: bool | None = None) -> WideInt:
        if negative is None:
            negative = text.lstrip().startswith("-")
        self = super().__new__(cls, LONG_MIN - 1 if negative else LONG_MAX + 1)
        self.text = text
        return self

    def __reduce__(self) -> tuple[type[WideInt], tuple[str, bool]]:
        return WideInt, (self.text, self < 0)

    def __str__(self) -> str:
        if len(self.text) <= 40:
            return self.text
        return f"{self.text[:20]}... ({len(self.text)} characters)"

    __repr__ = __str__


def is_strict_int(value: object) -> TypeGuard[int]:
    """An integer as Elasticsearch reads one: a YAML `128.0` or `true` is not."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


@functools.cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled so that a final `$` means the very end, as in ECMA-262.

    Python's `$` also matches before a final newline, which would let "my-id\\n" through.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_URI_ILLEGAL = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def java_uri_problem(value: str) -> str | None:
    """Why java.net.URI would refuse `value` (an approximation), or None if it parses."""
    bad = _URI_ILLEGAL.search(value)
    if bad:
        char = bad.group()
        if char == "%":
            what = "a '%' not followed by two hex digits"
        elif char.isspace():
            what = "whitespace"
        else:
            what = f"the character {char!r}"
        return f"contains {what} at index {bad.start()}"
    if value.startswith(":"):
        return "expected a scheme name before ':'"
    if _URI_SCHEME.match(value) and value.endswith("://"):
        return "expected a host after '//'"
    return None


def is_uri_reference(value: str) -> bool:
    return java_uri_problem(value) is None


FORMATS: Mapping[str, Callable[[str], bool]] = {"uri-reference": is_uri_reference}


def equal(one: object, two: object) -> bool:
    """JSON equality: `true` is not `1` (jsonschema's `equal` agrees)."""
    if isinstance(one, bool) != isinstance(two, bool):
        return False
    return one == two


# --- the compiler ---------------------------------------------------------------------------

_TYPES: Mapping[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": is_strict_int,
    "number": is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _always(value: object) -> bool:
    return True


def _never(value: object) -> bool:
    return False


def compile_schema(schema: object) -> Check:
    """A predicate equivalent to validating against `schema` (no `$ref` support needed)."""
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise UnsupportedKeywordError(f"not a schema: {schema!r}")
    return _conjunction([_keyword(k, v, schema) for k, v in schema.items() if _is_assertion(k)])


def _conjunction(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check(x: object) -> bool:
        for one in checks:  # noqa: SIM110 - twice as fast as all(<genexpr>) on this hot path
            if not one(x):
                return False
        return True

    return check


def _is_assertion(keyword: str) -> bool:
    return keyword not in ANNOTATIONS and not keyword.startswith("x-")


def _keyword(keyword: str, value: Any, schema: Mapping[str, Any]) -> Check:
    builder = _BUILDERS.get(keyword)
    if builder is None:
        raise UnsupportedKeywordError(keyword)
    return builder(value, schema)


def _type(value: Any, schema: Mapping[str, Any]) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    unknown = [n for n in names if n not in _TYPES]
    if unknown:
        raise UnsupportedKeywordError(f"type {unknown[0]}")
    checks = [_TYPES[n] for n in names]
    return checks[0] if len(checks) == 1 else lambda x: any(check(x) for check in checks)


def _const(value: Any, schema: Mapping[str, Any]) -> Check:
    if isinstance(value, str):
        return lambda x: x == value and isinstance(x, str)
    return lambda x: equal(x, value)


def _enum(value: Any, schema: Mapping[str, Any]) -> Check:
    options = list(value)
    if all(isinstance(o, str) for o in options):
        strings = frozenset(options)
        return lambda x: isinstance(x, str) and x in strings
    return lambda x: any(equal(x, option) for option in options)


def _pattern(value: Any, schema: Mapping[str, Any]) -> Check:
    search = ecma_pattern(value).search
    return lambda x: not isinstance(x, str) or search(x) is not None


def _min_length(value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda x: not isinstance(x, str) or len(x) >= value


def _max_length(value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda x: not isinstance(x, str) or len(x) <= value


def _minimum(value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda x: not is_number(x) or x >= value


def _maximum(value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda x: not is_number(x) or x <= value


def _required(value: Any, schema: Mapping[str, Any]) -> Check:
    names = frozenset(value)
    return lambda x: not isinstance(x, dict) or x.keys() >= names


def _properties(value: Any, schema: Mapping[str, Any]) -> Check:
    table = {name: compile_schema(sub) for name, sub in value.items()}

    def check(x: object) -> bool:
        if isinstance(x, dict):
            for key, item in x.items():
                one = table.get(key)
                if one is not None and not one(item):
                    return False
        return True

    return check


def _additional(value: Any, schema: Mapping[str, Any]) -> Check:
    if "patternProperties" in schema:
        raise UnsupportedKeywordError("patternProperties")
    known = frozenset(schema.get("properties", {}))
    if value is False:
        return lambda x: not isinstance(x, dict) or known.issuperset(x)
    one = compile_schema(value)
    return lambda x: not isinstance(x, dict) or all(one(v) for k, v in x.items() if k not in known)


def _property_names(value: Any, schema: Mapping[str, Any]) -> Check:
    one = compile_schema(value)
    return lambda x: not isinstance(x, dict) or all(one(k) for k in x)


def _min_properties(value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda x: not isinstance(x, dict) or len(x) >= value


def _items(value: Any, schema: Mapping[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise UnsupportedKeywordError("prefixItems")
    one = compile_schema(value)
    return lambda x: not isinstance(x, list) or all(one(i) for i in x)


def _min_items(value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda x: not isinstance(x, list) or len(x) >= value


def _format(value: Any, schema: Mapping[str, Any]) -> Check:
    one = FORMATS.get(value)
    if one is None:
        return _always  # an unknown format is an annotation (as in jsonschema)
    return lambda x: not isinstance(x, str) or one(x)


def _all_of(value: Any, schema: Mapping[str, Any]) -> Check:
    return _conjunction([compile_schema(sub) for sub in value])


def _if(value: Any, schema: Mapping[str, Any]) -> Check:
    condition = compile_schema(value)
    then = compile_schema(schema.get("then", True))
    otherwise = compile_schema(schema.get("else", True))
    return lambda x: then(x) if condition(x) else otherwise(x)


def _not(value: Any, schema: Mapping[str, Any]) -> Check:
    one = compile_schema(value)
    return lambda x: not one(x)


_BUILDERS: Mapping[str, Callable[[Any, Mapping[str, Any]], Check]] = {
    "type": _type,
    "const": _const,
    "enum": _enum,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "minProperties": _min_properties,
    "items": _items,
    "minItems": _min_items,
    "format": _format,
    "allOf": _all_of,
    "if": _if,
    "not": _not,
}
