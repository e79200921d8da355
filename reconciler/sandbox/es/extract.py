"""Setting extraction as `ServiceUtils.java` does it: typed removal from a map, error texts,
accumulated field errors, and Java's `Map.toString()` for the unknown-settings message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import EsError, status_exception, validation_failed

INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
_MISSING = object()


class Errors:
    """A `ValidationException` under construction."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def __len__(self) -> int:
        return len(self.messages)

    def raise_if_any(self) -> None:
        if self.messages:
            raise validation_failed(self.messages)


def java_str(value: Any) -> str:
    """`String.valueOf` of a value parsed from JSON by XContent."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    return str(value)


def _java_double(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if 1e-3 <= abs(value) < 1e7 or value == 0:
        text = repr(value)
        return text if "." in text else text + ".0"
    mantissa, exp = f"{value:.16E}".split("E")
    mantissa = mantissa.rstrip("0")
    mantissa = mantissa + "0" if mantissa.endswith(".") else mantissa
    return f"{mantissa}E{int(exp)}"


def java_type(value: Any) -> str:
    """The Java class XContent would have produced for a JSON value."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer" if -(2**31) <= value <= INT_MAX else "Long"
    return {float: "Double", str: "String", list: "List", dict: "Map"}.get(type(value), "Object")


def unknown_settings(leftover: dict[str, Any], service: str = "openai") -> EsError:
    return status_exception(
        400,
        f"Model configuration contains settings [{java_str(leftover)}] unknown to the "
        f"[{service}] service",
    )


def refuse_leftovers(service: str, *maps: dict[str, Any] | None) -> None:
    """`ServiceUtils.throwIfNotEmptyMap` on each map in turn (None: the section was absent)."""
    for leftover in maps:
        if leftover:
            raise unknown_settings(leftover, service)


def remove_as_type(m: dict[str, Any], key: str, jtype: str, errors: Errors) -> Any:
    """`ServiceUtils.removeAsType`: None when absent; an error when of the wrong type."""
    value = m.pop(key, None)
    if value is None:
        return None
    if java_type(value) == jtype or (jtype == "Map" and isinstance(value, dict)):
        return value
    errors.add(
        f"field [{key}] is not of the expected type. The value [{java_str(value)}] cannot be "
        f"converted to a [{jtype}]"
    )
    return None


def remove_as_int_or_long(m: dict[str, Any], key: str, errors: Errors) -> int | None:
    value = m.pop(key, None)
    if value is None:
        return None
    if java_type(value) in ("Integer", "Long") and -(2**63) <= value <= LONG_MAX:
        return int(value)
    errors.add(
        f"field [{key}] is not of one of the expected types. The value [{java_str(value)}] "
        "cannot be converted to one of [Integer, Long]"
    )
    return None


def missing(scope: str, key: str) -> str:
    return f"{scope} does not contain the required setting [{key}]"


def empty_string(scope: str, key: str) -> str:
    return f"{scope} Invalid value empty string. [{key}] must be a non-empty string"


def not_positive(scope: str, key: str, value: Any, kind: str = "integer") -> str:
    return f"{scope} Invalid value [{value}]. [{key}] must be a positive {kind}"


def _remove_required(
    m: dict[str, Any], key: str, jtype: str, scope: str, errors: Errors, required: bool
) -> Any:
    """`remove_as_type`, and a missing-setting error when `required` and absent: None when
    absent or of the wrong type."""
    before = len(errors)
    value = remove_as_type(m, key, jtype, errors)
    if len(errors) > before:
        return None
    if value is None and required:
        errors.add(missing(scope, key))
    return value


def extract_string(
    m: dict[str, Any], key: str, scope: str, errors: Errors, *, required: bool
) -> str | None:
    value = _remove_required(m, key, "String", scope, errors, required)
    if value is None:
        return None
    if value == "":
        errors.add(empty_string(scope, key))
        return None
    return str(value)


def extract_positive_int(
    m: dict[str, Any], key: str, scope: str, errors: Errors, *, required: bool
) -> int | None:
    value = _remove_required(m, key, "Integer", scope, errors, required)
    if value is None:
        return None
    if value <= 0:
        errors.add(not_positive(scope, key, value))
        return None
    return int(value)


def extract_enum(
    m: dict[str, Any],
    key: str,
    scope: str,
    valid: list[str],
    errors: Errors,
    *,
    normalise: Callable[[str], str] = str.lower,
) -> str | None:
    """`ServiceUtils.extractOptionalEnum`: the message lists the valid values lower-case."""
    value = extract_string(m, key, scope, errors, required=False)
    if value is None:
        return None
    if normalise(value.strip()) in valid:
        return normalise(value.strip())
    errors.add(
        f"{scope} Invalid value [{value}] received. [{key}] must be one of [{', '.join(valid)}]"
    )
    return None


def extract_map(m: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A nested settings object; non-objects are a `ClassCastException` (500) in the source."""
    value = m.pop(key, _MISSING)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, dict):
        raise class_cast(value)
    return dict(value)


def class_cast(value: Any) -> EsError:
    jtype = java_type(value)
    return EsError(
        500,
        "class_cast_exception",
        f"class java.lang.{jtype} cannot be cast to class java.util.Map",
    )
