"""Validate one parsed manifest document against the committed JSON Schemas, precisely.

The document is dispatched on `service`, then on `task_type`, before validation (and chunking
on `strategy` inside the schema, by `if`/`then`), so every error is specific: no `oneOf` dumps.
An unknown service, or a task type its service does not offer, is one issue listing what
exists; the rest of the document is still checked (as the closest service, `openai` when no
name is close; as the service's first task type). Each jsonschema error becomes a `SchemaIssue`
with a message that says what was expected; small rule functions then check what JSON Schema
cannot express (`overlap` ≤ `max_chunk_size`/2, and each schema's `x-rules`: one-of, together,
exclusive, ... across fields). No message ever contains the value of a secret: every path the
registry (`reconciler.services.registry`) declares secret is a `${VAR}` reference, and a literal
is reported without being echoed.

Validators are compiled once, lazily. The only file access is reading this package's own
schema files (`reconciler/schemas/*.json`), once.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.model import MISSING, TASK_TYPES, get_path
from reconciler.schema_compile import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    Check,
    WideInt,
    compile_schema,
    ecma_pattern,
    is_strict_int,
    java_uri_problem,
)
from reconciler.services import registry

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

SERVICE = "openai"
Path_ = tuple[str | int, ...]
Doc = Mapping[str, Any]

API_KEY_LITERAL = (
    "api_key must be a ${VAR} reference to an environment variable; "
    "literal keys must not be committed"
)
SECRET_LITERAL = (
    "{name} must be a ${{VAR}} reference to an environment variable; "
    "literal secrets must not be committed"
)


@dataclass(frozen=True)
class SchemaIssue:
    """One problem in a document: where (JSON path from the root), what, and which rule."""

    path: tuple[str | int, ...]
    message: str
    rule: str


# --- public API -----------------------------------------------------------------------------


def validate_document(doc: object) -> list[SchemaIssue]:
    """Every issue in one manifest document (a parsed YAML document), sorted by path."""
    if not isinstance(doc, dict):
        return [
            SchemaIssue((), f"expected a mapping of manifest fields, got {_a(doc)}", "schema.type")
        ]
    service = checked_service(doc)
    descriptor = registry.SERVICES[service]
    task_type = doc.get("task_type")
    # An unknown service or task type is reported by the schema's `const`; the rest is checked
    # against the service's first task type (for openai, text_embedding, which accepts the most
    # keys).
    offered = descriptor.offers(task_type)
    checked_as = str(task_type) if offered else descriptor.ordered_task_types[0]
    issues: list[SchemaIssue] = []
    if not _is_valid(checked_as, service)(doc):
        tame = _tame(doc)
        errors = _drop_implied(list(_validator(checked_as, service).iter_errors(tame)))
        issues = [i for e in errors for i in _translate(e, tame)]
    issues.extend(i for rule in RULES for i in rule(doc))
    if offered and registry.get(doc.get("service")) is not None:
        issues.extend(cross_field_issues(doc, service, checked_as))
    return _finish(issues, doc)


def checked_service(doc: Doc) -> str:
    """The service a document is checked as: its own, else the closest name, else openai."""
    name = doc.get("service")
    if registry.get(name) is not None:
        return str(name)
    if isinstance(name, str):
        close = _closest(name, registry.NAMES)
        if close:
            return close
    return registry.DEFAULT_SERVICE


def manifest_schema() -> dict[str, Any]:
    """The envelope schema editors use (`reconcile schema`); dispatches on `service`, then on
    `task_type`."""
    return copy.deepcopy(_load("manifest.schema.json"))


def service_schema(service: str) -> dict[str, Any]:
    """The envelope restricted to one service (`reconcile schema --service S`); ValueError if
    the service is unknown."""
    _service_or_error(service)
    whole = manifest_schema()
    whole["$id"] = whole["$id"].replace("/manifest.schema.json", f"/manifest.{service}.schema.json")
    whole["title"] = f"reconciler manifest: one `{service}` inference endpoint"
    whole["properties"]["service"] = {"const": service}
    whole["allOf"] = [
        rule for rule in whole["allOf"] if rule["if"]["properties"]["service"]["const"] == service
    ]
    prefix = f"{service}."
    whole["$defs"] = {k: v for k, v in whole["$defs"].items() if k.startswith(prefix)}
    return whole


def schema_for(service: str, task_type: str) -> dict[str, Any]:
    """The schema of a document of `service` and `task_type`; ValueError if unsupported."""
    descriptor = _service_or_error(service)
    if not descriptor.offers(task_type):
        supported = ", ".join(descriptor.ordered_task_types)
        where = "" if service == SERVICE else f" for service {service!r}"
        raise ValueError(f"unsupported task_type {task_type!r}{where}; supported: {supported}")
    return copy.deepcopy(_task_schema(task_type, service))


def _service_or_error(service: str) -> registry.Service:
    descriptor = registry.get(service)
    if descriptor is None:
        names = ", ".join(registry.NAMES)
        hint = _suggest(service, registry.NAMES)
        raise ValueError(f"unsupported service {service!r}; supported: {names}{hint}")
    return descriptor


# --- loading and compiling ------------------------------------------------------------------


def _is_task_type(value: object) -> bool:
    return isinstance(value, str) and value in TASK_TYPES


@functools.cache
def _load(name: str) -> dict[str, Any]:
    """A schema file from the package data, or from the checkout's `schemas/` as a fallback."""
    try:
        text = resources.files("reconciler").joinpath("schemas", name).read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        text = (Path(__file__).resolve().parents[2] / "schemas" / name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _pattern_keyword(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if isinstance(instance, str) and not ecma_pattern(pattern).search(instance):
        yield ValidationError("does not match the pattern")  # never echoes the value


@functools.cache
def _validator(task_type: str, service: str = SERVICE) -> Validator:
    """jsonschema's validator with our keyword semantics (see `schema_compile`)."""
    from jsonschema import Draft202012Validator, FormatChecker, validators

    def uri_reference(value: object) -> bool:
        problem = java_uri_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValueError(problem)
        return True

    checker = FormatChecker(formats=())
    checker.checks("uri-reference", raises=ValueError)(uri_reference)
    types = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: is_strict_int(value)
    )
    cls = validators.extend(
        Draft202012Validator, validators={"pattern": _pattern_keyword}, type_checker=types
    )
    schema = _task_schema(task_type, service)
    return cls(schema, format_checker=checker)  # type: ignore[no-any-return]


@functools.cache
def _is_valid(task_type: str, service: str = SERVICE) -> Check:
    """The fast yes/no answer; jsonschema runs only when this says no."""
    return compile_schema(_task_schema(task_type, service))


def _task_schema(task_type: str, service: str = SERVICE) -> dict[str, Any]:
    return _load(f"{registry.schema_name(service, task_type)}.schema.json")


def _tame(value: Any) -> Any:
    """`value` with every integer beyond the 64-bit range as a `WideInt` (a copy only if needed).

    The manifest parser already does this; documents built in Python may hold any int, and
    jsonschema writes the instance into its messages.
    """
    if isinstance(value, dict):
        tamed = {key: _tame(item) for key, item in value.items()}
        return value if all(tamed[k] is value[k] for k in value) else tamed
    if isinstance(value, list):
        items = [_tame(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if (
        is_strict_int(value)
        and not isinstance(value, WideInt)
        and not LONG_MIN <= value <= LONG_MAX
    ):
        return WideInt(_show_int(value), negative=value < 0)
    return value


# --- where keys are allowed (for "did you mean" and "only allowed for") ----------------------


@dataclass(frozen=True)
class _Index:
    keys: dict[tuple[str, ...], dict[str, set[str]]]  # object path -> key -> task types
    strategies: dict[str, list[str]]  # chunking key -> strategies that take it

    def at(self, where: tuple[str, ...]) -> dict[str, set[str]]:
        return self.keys.get(where, {})

    def homes(self, key: str) -> list[tuple[str, ...]]:
        return [where for where, keys in self.keys.items() if key in keys]


def _walk(node: Mapping[str, Any], where: tuple[str, ...], task: str, out: dict[Any, Any]) -> None:
    for key, sub in node.get("properties", {}).items():
        out.setdefault(where, {}).setdefault(key, set()).add(task)
        if isinstance(sub, dict) and "properties" in sub:
            _walk(sub, (*where, key), task, out)


def _strategy_keys(chunking: Mapping[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rule in chunking.get("allOf", []):
        then = rule.get("then", {})
        for key in then.get("properties", {}) if "x-strategy" in then else ():
            out.setdefault(key, []).append(then["x-strategy"])
    return out


@functools.cache
def _index(service: str = SERVICE) -> _Index:
    keys: dict[tuple[str, ...], dict[str, set[str]]] = {}
    strategies: dict[str, list[str]] = {}
    for task in registry.SERVICES[service].ordered_task_types:
        schema = _task_schema(task, service)
        _walk(schema, (), task, keys)
        chunking = schema["properties"].get("chunking_settings")
        if chunking and not strategies:
            strategies = _strategy_keys(chunking)
    return _Index(keys, strategies)


def _service_index(doc: Doc) -> _Index:
    return _index(checked_service(doc))


# --- describing values ----------------------------------------------------------------------

_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (dict, "a mapping"),
    (list, "a list"),
    (type(None), "null (an empty value)"),
)
_EXPECTED = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _a(value: object) -> str:
    """The YAML kind of a value: 'a string', 'a mapping', ..."""
    for kinds, word in _KINDS:
        if isinstance(value, kinds):
            return word
    return f"a {type(value).__name__}"


def _show(value: object) -> str:
    """A short rendering of a scalar for a message. Never called for api_key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int):
        return _show_int(value)
    if isinstance(value, float):
        return str(value)
    return _a(value)


def _show_int(value: int) -> str:
    """An integer's digits, shortened when long; never fails on a huge one.

    Python refuses to write an int of more than `sys.get_int_max_str_digits()` digits (4300 by
    default); the manifest parser already replaces such literals, but documents may come from
    elsewhere.
    """
    try:
        text = str(value)  # the parser's stand-in for a too-wide literal prints its own text
    except ValueError:
        sign = "negative, " if value < 0 else ""
        return f"<{sign}about {int(value.bit_length() * 0.30103) + 1} digits>"
    digits = text.lstrip("-")
    if len(text) <= 40 or not digits.isdigit():
        return text
    return f"{text[:20]}... ({len(digits)} digits)"


def _got(value: object) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return f"{_a(value)} {_show(value)}"
    return _a(value)


def _alternatives(values: Iterable[object]) -> str:
    shown = [f"`{v}`" for v in values]
    if len(shown) <= 2:
        return " or ".join(shown)
    return "one of " + ", ".join(shown)


def _suggest(word: object, choices: Iterable[object]) -> str:
    """` (did you mean `x`?)` for the closest choice (case-insensitive), or ''."""
    close = _closest(word, choices)
    return f" (did you mean `{close}`?)" if close else ""


def _closest(word: object, choices: Iterable[object]) -> str | None:
    by_lower = {str(c).lower(): str(c) for c in choices}
    typed = str(word).lower()
    close = difflib.get_close_matches(typed, list(by_lower), n=1, cutoff=0.7)
    if not close and len(typed) >= 4:
        close = [c for c in by_lower if typed in c or c in typed][:1]
    return by_lower[close[0]] if close else None


def _strategy_of(doc: Doc) -> str | None:
    chunking = doc.get("chunking_settings")
    strategy = chunking.get("strategy") if isinstance(chunking, dict) else None
    return strategy if isinstance(strategy, str) else None


# --- jsonschema errors -> issues ------------------------------------------------------------

Handler = Callable[["ValidationError", Path_, Doc], Iterator[SchemaIssue]]


def _is_type_bound(error: ValidationError) -> bool:
    """A failed `minimum`/`maximum` of a field node that carries its Java type's bound."""
    return error.validator in ("minimum", "maximum") and "x-java-type" in error.schema


def _drop_implied(errors: list[ValidationError]) -> list[ValidationError]:
    """Drop a field's Java-type range error when a stricter rule at the same path also failed.

    `max_chunk_size: 3000000000` under `sentence` breaks both `≤ 2147483647` (the field) and
    `20–300` (the strategy); the second says all there is to say. Likewise an `enum` error
    where the value is not even of the field's type (`num_threads: "1"`).
    """
    paths = [tuple(e.absolute_path) for e in errors]
    mistyped = {path for e, path in zip(errors, paths, strict=True) if e.validator == "type"}
    return [
        e
        for e, path in zip(errors, paths, strict=True)
        if not (_is_type_bound(e) and paths.count(path) > 1)
        and not (e.validator == "enum" and path in mistyped)  # "expected an integer" says it
    ]


def _translate(error: ValidationError, doc: Doc) -> Iterator[SchemaIssue]:
    path: Path_ = tuple(error.absolute_path)
    keyword = str(error.validator)
    names_check = "propertyNames" in error.absolute_schema_path
    secret = None if names_check else _secret_name(path, doc)
    if secret is not None and error.validator != "required":
        yield _secret_issue(path, error.instance, error, secret)
        return
    if names_check:
        keyword = "propertyNames"  # jsonschema reports the failing keyword inside it
    yield from _HANDLERS.get(keyword, _on_other)(error, path, doc)


def _secret_name(path: Path_, doc: Doc) -> tuple[str, bool] | None:
    """(the name to show, whether it is a mapping of secrets) if `path` is at or inside a
    declared secret path of the document's service (or any `api_key`), else None."""
    descriptor = registry.SERVICES[checked_service(doc)]
    for secret in descriptor.secrets:
        parts = secret.parts
        if tuple(path[: len(parts)]) != parts:
            continue
        if secret.kind == "map":
            if len(path) == len(parts):
                return secret.name, True
            return f"{secret.name}.{path[len(parts)]}", False
        return secret.name, False
    if "api_key" in path:
        return "api_key", False
    return None


def _secret_issue(
    path: Path_, value: object, error: ValidationError, secret: tuple[str, bool]
) -> SchemaIssue:
    name, is_map = secret
    if is_map:
        message = f"{name} must be a mapping of names to ${{VAR}} references, got {_a(value)}"
        return SchemaIssue(path, message, "schema.type")
    if value == "":
        return SchemaIssue(path, f"{name} is empty; give a ${{VAR}} reference", "schema.empty")
    if isinstance(value, dict | list) or value is None:
        message = f"{name} must be a ${{VAR}} reference (a string), got {_a(value)}"
        return SchemaIssue(path, message, "schema.type")
    pattern = error.schema.get("pattern")
    if error.validator == "maxLength" and pattern and ecma_pattern(pattern).search(str(value)):
        # A well-formed reference with an absurd variable name; a literal key is reported as one.
        message = (
            f"{name} reference is too long: expected at most {error.validator_value} "
            f"characters, got {len(str(value))}"
        )
        return SchemaIssue(path, message, "schema.too-long")
    if name == "api_key":
        return SchemaIssue(path, API_KEY_LITERAL, "secret.literal-api-key")
    return SchemaIssue(path, SECRET_LITERAL.format(name=name), "secret.literal")


def _on_required(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    instance = error.instance
    for name in error.validator_value:
        if name not in instance:
            message = _required_message(name, path, error.schema, doc)
            yield SchemaIssue(path, message, "schema.required")


def _required_message(name: str, path: Path_, schema: Mapping[str, Any], doc: Doc) -> str:
    strategy = schema.get("x-strategy")
    if strategy:
        return (
            f"`{name}` is required for chunking strategy `{strategy}` (Elasticsearch rejects it "
            "without; the documented default applies only when chunking_settings is omitted)"
        )
    if name == "strategy" and path[-1:] == ("chunking_settings",):
        return (
            "`strategy` is required when any chunking setting is given (Elasticsearch: "
            '"Can\'t generate Chunker without ChunkingStrategy provided")'
        )
    service = checked_service(doc)
    if name == "api_key" and service == SERVICE:
        return "missing required field `api_key` (a ${VAR} reference, e.g. ${OPENAI_API_KEY})"
    secret = next((s for s in registry.SERVICES[service].secrets if s.parts == (*path, name)), None)
    if secret is not None:
        variable = f"{service}_{name}".upper().replace("-", "_")
        example = f"${{{variable}}}" if secret.kind == "string" else f"{{name: ${{{variable}}}}}"
        kind = "a ${VAR} reference" if secret.kind == "string" else "a mapping of ${VAR} references"
        return f"missing required field `{name}` ({kind}, e.g. {example})"
    return f"missing required field `{name}`"


def _on_additional(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    allowed = error.schema.get("properties", {})
    where = tuple(str(p) for p in path)
    strategy = error.schema.get("x-strategy")
    for key in error.instance:
        if key in allowed:
            continue
        issue = (
            _strategy_key(where, key, strategy, doc) if strategy else _unknown_key(where, key, doc)
        )
        if issue:
            yield issue


def _strategy_key(
    where: tuple[str, ...], key: object, strategy: str, doc: Doc
) -> SchemaIssue | None:
    if key not in _service_index(doc).at(where):
        return None  # an unknown key: the chunking_settings object itself reports it
    if strategy == "none":
        message = (
            f"chunking strategy `none` takes no other settings; remove `{key}` (Elasticsearch "
            "silently drops it, so it would show as a difference on every plan)"
        )
    else:
        allowed = _alternatives(_service_index(doc).strategies.get(str(key), []))
        message = f"`{key}` is only allowed for chunking strategy {allowed}, not `{strategy}`"
    return SchemaIssue((*where, str(key)), message, "schema.strategy-key")


def _unknown_key(where: tuple[str, ...], key: object, doc: Doc) -> SchemaIssue:
    index = _service_index(doc)
    here = index.at(where)
    tasks = here.get(key, set()) if isinstance(key, str) else set()
    if tasks:
        allowed = _alternatives(t for t in registry.TASK_ORDER if t in tasks)
        message = f"`{key}` is only allowed for task_type {allowed}"
        return SchemaIssue((*where, str(key)), message, "schema.task-type-key")
    message = f"unknown key `{key}`" + _unknown_hint(where, key, here, index)
    return SchemaIssue((*where, str(key)), message, "schema.unknown-key")


def _unknown_hint(
    where: tuple[str, ...], key: object, here: Mapping[str, Any], index: _Index
) -> str:
    suggestion = _suggest(key, here)
    if suggestion:
        return suggestion
    homes = [h for h in index.homes(str(key)) if h != where]
    if homes:
        return f" here; it belongs under `{'.'.join(homes[0])}`"
    return "; allowed here: " + ", ".join(f"`{k}`" for k in here)


def _on_type(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    expected = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(_EXPECTED.get(n, n) for n in names)
    yield SchemaIssue(path, f"expected {wanted}, got {_got(error.instance)}", "schema.type")


def _on_enum(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    options, value = list(error.validator_value), error.instance
    message = f"expected {_alternatives(options)}, got {_show(value)}"
    if isinstance(value, str) and value.lower() in options:
        message += f"; write it in lower case (`{value.lower()}`)"
        if checked_service(doc) == SERVICE:
            message += (
                ": Elasticsearch stores it lower-case, so any other spelling would show as a "
                "difference on every plan"
            )
    elif isinstance(value, str):
        message += _suggest(value, options)
    yield SchemaIssue(path, message, "schema.enum")


def _on_const(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    value = error.instance
    if path == ("task_type",):
        service = checked_service(doc)
        offered = registry.SERVICES[service].ordered_task_types
        message = f"unknown task_type {_show(value)}; supported: {', '.join(offered)}"
        if isinstance(value, str) and value.lower() in offered:
            message += " (task types are written in lower case)"
        elif registry.get(doc.get("service")) is not None and value in registry.TASK_ORDER:
            others = ", ".join(f"`{s}`" for s in registry.offering(str(value)))
            message += (
                f" (service `{service}` does not offer `{value}`; services that do: {others})"
            )
        yield SchemaIssue(path, message, "schema.task-type")
    elif path == ("service",):
        message = f"unknown service {_show(value)}; supported: {', '.join(registry.NAMES)}"
        yield SchemaIssue(path, message + _suggest(value, registry.NAMES), "schema.service")
    else:
        message = f"expected `{error.validator_value}`, got {_show(value)}"
        yield SchemaIssue(path, message, "schema.const")


def _on_range(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    low, high = error.schema.get("minimum"), error.schema.get("maximum")
    if low is not None and high is not None:
        bounds = f"from {low} to {high}"
    else:
        bounds = f"≥ {low}" if low is not None else f"≤ {high}"
    java = error.schema.get("x-java-type")
    if java and error.validator == "maximum":
        bounds += f" (Elasticsearch reads `{path[-1]}` as a Java {java})"
    message = f"expected an integer {bounds}, got {_show(error.instance)}"
    strategy = _strategy_of(doc) if path[:1] == ("chunking_settings",) else None
    if strategy:
        message += f" (chunking strategy `{strategy}`)"
    yield SchemaIssue(path, message, "schema.range")


def _on_min_length(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    yield SchemaIssue(path, "expected a non-empty string", "schema.empty")


def _on_max_length(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    limit, length = error.validator_value, len(error.instance)
    message = f"expected at most {limit} characters, got {length}"
    if path == ("inference_id",):
        message += (
            " (Elasticsearch stores the endpoint as document `model_<inference_id>`, and a "
            "document id longer than 512 bytes is refused when the endpoint is stored)"
        )
    yield SchemaIssue(path, message, "schema.too-long")


def _on_min_items(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    message = "expected a non-empty list"
    if path[-1:] == ("separators",):
        message += " (Elasticsearch rejects an empty list of separators)"
    yield SchemaIssue(path, message, "schema.empty")


def _on_pattern(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    hint = error.schema.get("patternErrorMessage", f"must match {error.validator_value}")
    value = error.instance
    if path == ("inference_id",):
        reserved = " (`_all` is reserved)" if value == "_all" else ""
        yield SchemaIssue(
            path, f"invalid inference_id {_show(value)}{reserved}: {hint}", "schema.inference-id"
        )
    else:
        yield SchemaIssue(path, f"{hint}, got {_show(value)}", "schema.pattern")


def _on_format(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    reason = f": {error.cause}" if error.cause else ""
    got = _show(error.instance)
    message = f"expected a URI (Elasticsearch parses it with java.net.URI), got {got}{reason}"
    yield SchemaIssue(path, message, "schema.format")


def _on_not(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    message = error.schema.get("errorMessage", "this combination of keys is not allowed")
    yield SchemaIssue(path, message, "schema.exclusive")


def _on_property_names(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    if error.validator == "enum":
        options = _alternatives(error.validator_value)
        message = f"unknown name {_show(error.instance)} here; expected {options}"
        yield SchemaIssue(
            path, message + _suggest(error.instance, error.validator_value), "schema.key"
        )
        return
    if error.validator == "maxLength":
        message = (
            f"names here must be at most {error.validator_value} characters, "
            f"got {_show(error.instance)} ({len(error.instance)} characters)"
        )
        yield SchemaIssue(path, message, "schema.too-long")
        return
    message = f"names here must be non-empty strings, got {_got(error.instance)}"
    yield SchemaIssue(path, message, "schema.key")


def _on_other(error: ValidationError, path: Path_, doc: Doc) -> Iterator[SchemaIssue]:
    # Not reached by the committed schemas; kept so a new keyword never crashes validation.
    yield SchemaIssue(
        path, f"invalid value (fails `{error.validator}`)", f"schema.{error.validator}"
    )


_HANDLERS: dict[str, Handler] = {
    "required": _on_required,
    "additionalProperties": _on_additional,
    "type": _on_type,
    "enum": _on_enum,
    "const": _on_const,
    "minimum": _on_range,
    "maximum": _on_range,
    "minLength": _on_min_length,
    "maxLength": _on_max_length,
    "minItems": _on_min_items,
    "pattern": _on_pattern,
    "format": _on_format,
    "not": _on_not,
    "propertyNames": _on_property_names,
}


# --- rules JSON Schema cannot express -------------------------------------------------------


def rule_overlap_max(doc: Doc) -> Iterator[SchemaIssue]:
    """word chunking: `overlap` ≤ `max_chunk_size` // 2 (`WordBoundaryChunkingSettings.fromMap`:
    `extractRequiredPositiveIntegerLessThanOrEqualToMax(..., maxChunkSize / 2, ...)`)."""
    chunking = doc.get("chunking_settings")
    if not isinstance(chunking, dict) or not _accepts_chunking(doc):
        return
    size, overlap = chunking.get("max_chunk_size"), chunking.get("overlap")
    word = chunking.get("strategy") == "word"
    if not (word and is_strict_int(size) and is_strict_int(overlap)):
        return
    if not (INT_MIN <= size <= INT_MAX and INT_MIN <= overlap <= INT_MAX):
        return  # Elasticsearch refuses the type first ("cannot be converted to a [Integer]")
    if overlap > size // 2:
        message = f"`overlap` must be at most half of `max_chunk_size` ({size // 2}), got {overlap}"
        yield SchemaIssue(("chunking_settings", "overlap"), message, "rule.overlap-max")


def _accepts_chunking(doc: Doc) -> bool:
    descriptor = registry.get(doc.get("service"))
    task_type = doc.get("task_type")
    if descriptor is None or not descriptor.offers(task_type):
        return False
    return "chunking_settings" in _task_schema(str(task_type), descriptor.name)["properties"]


RULES: tuple[Callable[[Doc], Iterator[SchemaIssue]], ...] = (rule_overlap_max,)
"""Cross-field rules run after the schema; each yields issues like the schema does."""


def _get(doc: Doc, dotted: str) -> Any:
    return get_path(doc, tuple(dotted.split(".")))


def _parts(dotted: str) -> Path_:
    return tuple(dotted.split("."))


def cross_field_issues(doc: Doc, service: str, task_type: str) -> Iterator[SchemaIssue]:
    """The schema's `x-rules` (see `reconciler.services.overlay.Rule`) over one document."""
    for rule in _task_schema(task_type, service).get("x-rules", ()):
        if any(_get(doc, p) is not MISSING for p in rule.get("unless", ())):
            continue
        when = rule.get("when")
        if when is not None:
            value = _get(doc, when["path"])
            value = None if value is MISSING else value
            if not any(equal_json(value, option) for option in when["in"]):
                continue
        yield from _CROSS[rule["kind"]](doc, rule)


def equal_json(one: object, two: object) -> bool:
    return isinstance(one, bool) == isinstance(two, bool) and one == two


def _parent_present(doc: Doc, dotted: str) -> bool:
    parent = dotted.rpartition(".")[0]
    return not parent or isinstance(_get(doc, parent), dict)


def _present(doc: Doc, paths: Iterable[str]) -> list[str]:
    return [p for p in paths if _get(doc, p) is not MISSING]


def _one_of(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    paths = rule["paths"]
    if _parent_present(doc, paths[0]) and not _present(doc, paths):
        yield SchemaIssue(_parts(paths[0])[:-1], rule["message"], "rule.one-of")


def _exclusive(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    present = _present(doc, rule["paths"])
    for extra in present[1:]:
        yield SchemaIssue(_parts(extra), rule["message"], "rule.exclusive")


def _together(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    paths = rule["paths"]
    present = _present(doc, paths)
    if present and len(present) < len(paths):
        missing = ", ".join(f"`{p.rpartition('.')[2]}`" for p in paths if p not in present)
        message = f"{rule['message']} (missing: {missing})"
        yield SchemaIssue(_parts(paths[0])[:-1], message, "rule.together")


def _required_all(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    for path in rule["paths"]:
        if _parent_present(doc, path) and _get(doc, path) is MISSING:
            yield SchemaIssue(_parts(path)[:-1], rule["message"], "rule.required")


def _forbidden(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    for path in _present(doc, rule["paths"]):
        yield SchemaIssue(_parts(path), rule["message"], "rule.forbidden")


def _order(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    low, high = (_get(doc, p) for p in rule["paths"])
    if is_strict_int(low) and is_strict_int(high) and low > high and LONG_MIN <= low <= LONG_MAX:
        message = f"{rule['message']}: got {_show_int(high)} < {_show_int(low)}"
        yield SchemaIssue(_parts(rule["paths"][1]), message, "rule.order")


def _disjoint_keys(doc: Doc, rule: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    first, second = (_get(doc, p) for p in rule["paths"])
    if isinstance(first, dict) and isinstance(second, dict):
        for key in second:
            if key in first:
                yield SchemaIssue(
                    (*_parts(rule["paths"][1]), str(key)), rule["message"], "rule.disjoint-keys"
                )


_CROSS: Mapping[str, Callable[[Doc, Mapping[str, Any]], Iterator[SchemaIssue]]] = {
    "one_of": _one_of,
    "exclusive": _exclusive,
    "together": _together,
    "required": _required_all,
    "forbidden": _forbidden,
    "order": _order,
    "disjoint_keys": _disjoint_keys,
}


# --- finishing ------------------------------------------------------------------------------


def _path_key(path: Path_) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path)


def _literal_secrets(doc: Doc) -> list[str]:
    """Every literal string at any service's secret path (and any value of a secret map)."""
    found = []
    for parts in registry.ALL_SECRET_PATHS:
        node: Any = doc
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        values = node.values() if isinstance(node, dict) else [node]
        found += [
            v for v in values if isinstance(v, str) and len(v) >= 4 and not v.startswith("${")
        ]
    return sorted(set(found), key=len, reverse=True)


def _finish(issues: list[SchemaIssue], doc: Doc) -> list[SchemaIssue]:
    """Deduplicate, scrub any literal secret that slipped into a message, sort by path."""
    for secret in _literal_secrets(doc):
        issues = [
            SchemaIssue(i.path, i.message.replace(secret, "(sensitive)"), i.rule) for i in issues
        ]
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: (_path_key(i.path), i.rule, i.message))
