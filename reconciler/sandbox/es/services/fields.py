"""Declarative settings fields and their extraction with `ServiceUtils`' error texts: one
`Field` per key a service's `*ServiceSettings.fromMap` / `*TaskSettings.fromMap` consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..extract import (
    Errors,
    extract_enum,
    extract_positive_int,
    extract_string,
    java_str,
    remove_as_type,
)

SS = "[service_settings]"
TS = "[task_settings]"
SIMILARITIES = ("cosine", "dot_product", "l2_norm")


@dataclass(frozen=True)
class Field:
    """`kind`: str, int (positive), similarity, enum (`choices`, stored lower-case), bool,
    float, map. `tasks`: the task types that read it (None: all)."""

    name: str
    kind: str = "str"
    required: bool = False
    tasks: tuple[str, ...] | None = None
    choices: tuple[str, ...] = ()

    def applies(self, task_type: str) -> bool:
        return self.tasks is None or task_type in self.tasks


def extract(field: Field, m: dict[str, Any], scope: str, errors: Errors) -> Any:
    """Remove `field.name` from `m` and return its parsed value (None when absent/invalid)."""
    kind, name = field.kind, field.name
    if kind == "str":
        return extract_string(m, name, scope, errors, required=field.required)
    if kind == "int":
        return extract_positive_int(m, name, scope, errors, required=field.required)
    if kind in ("similarity", "enum"):
        choices = SIMILARITIES if kind == "similarity" else field.choices
        before = len(errors)
        value = extract_enum(m, name, scope, list(choices), errors)
        if value is None and field.required and len(errors) == before:
            errors.add(f"{scope} does not contain the required setting [{name}]")
        return value
    if kind == "bool":
        return remove_as_type(m, name, "Boolean", errors)
    if kind == "float":
        return _number(m, name, errors)
    if kind == "map":
        return remove_as_type(m, name, "Map", errors)
    raise ValueError(f"unknown field kind {kind}")


def _number(m: dict[str, Any], name: str, errors: Errors) -> float | None:
    value = m.pop(name, None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(
            f"field [{name}] is not of the expected type. The value [{java_str(value)}] cannot be "
            "converted to a [Double]"
        )
        return None
    return float(value)


def extract_all(
    fields: tuple[Field, ...], task_type: str, m: dict[str, Any], scope: str, errors: Errors
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        if field.applies(task_type):
            out[field.name] = extract(field, m, scope, errors)
    return out


def compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def parse_fields(
    fields: tuple[Field, ...], task_type: str, m: dict[str, Any], scope: str
) -> dict[str, Any]:
    """Every field of `fields` the task type reads, errors raised at once, absent ones left
    out (a `*TaskSettings.fromMap`)."""
    errors = Errors()
    out = extract_all(fields, task_type, m, scope, errors)
    errors.raise_if_any()
    return compact(out)
