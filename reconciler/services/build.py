"""Build the JSON Schema of one (service, task type) from the spec facts, the overlay and the
registry. Called by `reconciler.schema.gen`, which adds the parts every service shares
(`inference_id`, `chunking_settings`, `reconcile`: `Common`) from the hand-kept field table.

Every field node cites its source in `x-source`: the specification file and class at the
commit the facts were extracted from (`elastic/elasticsearch-specification@<commit> <file>
(<Class>.<field>)`), followed by the overlay row's reason and evidence when one applies. A field
that appeared on a later specification branch than its service carries `x-since` (that branch).
Secrets are `${VAR}` references (`writeOnly`, `x-secret`); cross-field rules are listed in the
root's `x-rules` and checked by `reconciler.schema`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.schema_compile import INT_MAX, LONG_MAX
from reconciler.secrets import REFERENCE
from reconciler.services import overlay, registry
from reconciler.services.openai_fields import (
    DOCS,
    DRAFT,
    IDENTIFIER_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    UNINDEXED,
    URL_MAX_LENGTH,
)
from reconciler.services.registry import Service, Source

FACTS_FILE = Path(__file__).resolve().parent / "spec_facts.json"
STRING_MAX_LENGTH = URL_MAX_LENGTH
"""Every free string of a spec-derived schema: the reconciler's limit (the server keeps
settings unindexed), the same as openai's `url`."""
NON_EMPTY = (
    "minLength 1: ServiceUtils extractRequiredString/extractOptionalString refuse an empty "
    "string (inferred for this service)"
)
SECRET_MESSAGE = (
    "{name} must be a ${{VAR}} reference to an environment variable; literal secrets must not "
    "be committed"
)
API_KEY_MESSAGE = (
    "api_key must be a ${VAR} reference to an environment variable; "
    "literal keys must not be committed"
)


@functools.cache
def facts() -> dict[str, Any]:
    """The committed spec fact table (`spec_facts.json`)."""
    loaded: dict[str, Any] = json.loads(FACTS_FILE.read_text(encoding="utf-8"))
    return loaded


def commit(branch: str | None = None) -> str:
    rows = {b["name"]: b["commit"] for b in facts()["branches"]}
    return rows[branch or facts()["latest"]]


def spec_cite(file: str, anchor: str, branch: str | None = None) -> str:
    return f"{overlay.SPEC}@{commit(branch)} {file} ({anchor})"


@dataclass(frozen=True)
class Common:
    """The nodes every service shares, built by `reconciler.schema.gen` from the hand-kept
    field table."""

    inference_id: Mapping[str, Any]
    chunking: Mapping[str, Any]
    reconcile: Mapping[str, Any]
    reconcile_no_secret: Mapping[str, Any]


# --- the overlay, indexed -------------------------------------------------------------------


def _patches(service: str) -> dict[str, list[overlay.Patch]]:
    out: dict[str, list[overlay.Patch]] = {}
    for patch in overlay.PATCHES:
        if patch.service == service:
            out.setdefault(patch.path, []).append(patch)
    return out


def _secrets(service: str) -> dict[str, overlay.Secret]:
    return {s.path: s for s in overlay.SECRETS if s.service == service}


# --- field rows -----------------------------------------------------------------------------


@dataclass
class Row:
    """One field of one (service, task type), after the overlay."""

    path: str
    type: Any
    required: bool
    doc: str
    source: str
    since: str | None = None
    default: Any = None
    stability: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


def _in_scope(task_type: str, spec_row: Mapping[str, Any], patches: list[overlay.Patch]) -> bool:
    for patch in patches:
        if patch.task_types is not None:
            return task_type in patch.task_types
    scope = spec_row.get("task_scope")
    return scope is None or task_type in scope


def _typed_default(value: str, kind: Any) -> Any:
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return value == "true"
    return value


def _rows(service: Service, part: str, task_type: str) -> Iterator[Row]:
    """The fields of `service_settings` or `task_settings` for one task type."""
    entry = facts()["services"].get(service.name) if service.source is Source.SPEC else None
    patches = _patches(service.name)
    if service.source is Source.HAND:
        hand = overlay.ELASTIC
        if part != "service_settings":
            return
        for name, spec_row in hand.service_settings.items():
            if not _in_scope(task_type, {}, patches.get(f"{part}.{name}", [])):
                continue
            yield Row(
                f"{part}.{name}",
                spec_row["type"],
                name in hand.required,
                spec_row["doc"],
                hand.evidence,
            )
        return
    table = entry.get(part) if entry else None
    if not table:
        return
    first_branch = entry["first_branch"] if entry else None
    for name, spec_row in table["fields"].items():
        if "last_branch" in spec_row:
            continue  # gone from the newest branch
        path = f"{part}.{name}"
        mine = patches.get(path, [])
        if any(p.remove for p in mine) or not _in_scope(task_type, spec_row, mine):
            continue
        row = Row(
            path,
            spec_row["type"],
            spec_row["required"],
            spec_row["doc"],
            spec_cite(table["file"], f"{table['class']}.{name}"),
            since=spec_row["first_branch"] if spec_row["first_branch"] != first_branch else None,
            default=(
                _typed_default(spec_row["server_default"], spec_row["type"])
                if "server_default" in spec_row
                else None
            ),
            stability=spec_row.get("stability"),
        )
        if spec_row.get("task_scope"):
            row.source += f"; task types from its doc: {spec_row['task_scope_text']}"
        yield _patched(row, mine, task_type)
    for path, mine in patches.items():
        added = [p for p in mine if p.add]
        if added and path.startswith(f"{part}.") and _in_scope(task_type, {}, added):
            patch = added[0]
            row = Row(path, patch.type, bool(patch.required), patch.description or "", "")
            row.source = f"added by the reconciler's overlay: {patch.why} ({patch.evidence})"
            yield _patched(row, [p for p in mine if not p.add], task_type, added=patch)


def _patched(
    row: Row, patches: list[overlay.Patch], task_type: str, added: overlay.Patch | None = None
) -> Row:
    for patch in [*patches, *([added] if added else [])]:
        if patch is not added:
            row.source += f"; overlay: {patch.why} ({patch.evidence})"
        if patch.type is not None:
            row.type = patch.type
        if patch.required is not None:
            row.required = patch.required
        if patch.enum_by_task is not None:
            row.type = {"kind": "enum", "values": list(patch.enum_by_task.get(task_type, ()))}
        if patch.minimum is not None:
            row.minimum = patch.minimum
        if patch.maximum is not None:
            row.maximum = patch.maximum
        if patch.max_length is not None:
            row.max_length = patch.max_length
        if patch.description is not None and patch is not added:
            row.doc = patch.description
        if patch.hint:
            row.doc = f"{row.doc}\n\n{patch.hint}".strip()
    return row


# --- nodes ----------------------------------------------------------------------------------


def _class_rows(name: str) -> tuple[Mapping[str, Any], str, str]:
    table = facts()["classes"][name]
    return table["fields"], table["file"], table["class"]


def type_node(kind: Any, where: str, service: Service, task_type: str) -> dict[str, Any]:
    """The JSON Schema of a spec-like type at manifest path `where`."""
    if isinstance(kind, str):
        return _primitive(kind)
    tag = kind.get("kind")
    if tag == "enum":
        values = list(kind["values"])
        json_type = "integer" if all(isinstance(v, int) for v in values) else "string"
        return {"type": json_type, "enum": values}
    if tag == "object":
        return _object(kind, where, service, task_type)
    if tag == "map":
        return {
            "type": "object",
            "propertyNames": _key_node(kind["key"]),
            "additionalProperties": type_node(kind["value"], f"{where}.*", service, task_type),
        }
    if tag == "array":
        return {
            "type": "array",
            "items": type_node(kind["items"], f"{where}[]", service, task_type),
        }
    if tag == "union":
        names: list[str] = []
        for option in kind["of"]:
            found = _primitive(option).get("type") if isinstance(option, str) else None
            found = "number" if found == "integer" else found
            if isinstance(found, str) and found not in names:
                names.append(found)
        return {"type": names} if names else {}
    return {}


def _primitive(kind: str) -> dict[str, Any]:
    if kind == "string":
        return {"type": "string", "minLength": 1, "maxLength": STRING_MAX_LENGTH}
    if kind == "integer":
        return {"type": "integer", "maximum": INT_MAX, "x-java-type": "int"}
    if kind == "long":
        return {"type": "integer", "maximum": LONG_MAX, "x-java-type": "long"}
    if kind in ("float", "double"):
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    return {}


def _key_node(kind: Any) -> dict[str, Any]:
    if isinstance(kind, dict) and kind.get("kind") == "enum":
        return {"type": "string", "enum": list(kind["values"])}
    return {"type": "string", "minLength": 1, "maxLength": IDENTIFIER_MAX_LENGTH}


def _object(
    kind: Mapping[str, Any], where: str, service: Service, task_type: str
) -> dict[str, Any]:
    """A closed object: a spec class (`class`) or an overlay shape (`fields`)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    if "class" in kind:
        rows, file, cls = _class_rows(kind["class"])
        patches = _patches(service.name)
        for name, spec_row in rows.items():
            if "last_branch" in spec_row:
                continue
            path = f"{where}.{name}"
            row = Row(
                path,
                spec_row["type"],
                spec_row["required"],
                spec_row["doc"],
                spec_cite(file, f"{cls}.{name}"),
                default=(
                    _typed_default(spec_row["server_default"], spec_row["type"])
                    if "server_default" in spec_row
                    else None
                ),
            )
            if cls == "RateLimitSetting":
                row.minimum = 1
                row.type = "long"
                row.source += f"; {overlay.RATE_LIMIT_MINIMUM}"
                row.default = _rate_limit_default(service, task_type)
                row.doc = "The number of requests allowed per minute." + (
                    f" Defaults to {row.default} for this service and task type."
                    if row.default
                    else ""
                )
            row = _patched(row, patches.get(path, []), task_type)
            properties[name] = field_node(row, service, task_type)
            if row.required:
                required.append(name)
    else:
        for name, sub in kind["fields"].items():
            properties[name] = type_node(sub, f"{where}.{name}", service, task_type)
    node: dict[str, Any] = {"type": "object"}
    if required:
        node["required"] = required
    node["properties"] = properties
    node["additionalProperties"] = False
    return node


def _rate_limit_default(service: Service, task_type: str) -> int | None:
    """The service's `requests_per_minute` default: its descriptor's filled rate limit (the
    specification's `RateLimitSetting` list, EIS's documentation for `elastic`)."""
    return service.facts.rate_limit().get(task_type)


def field_node(row: Row, service: Service, task_type: str) -> dict[str, Any]:
    secret = _secrets(service.name).get(row.path)
    if secret is not None:
        return secret_node(row, secret)
    node: dict[str, Any] = {"description": row.doc} if row.doc else {}
    node.update(type_node(row.type, row.path, service, task_type))
    if node.get("type") == "string" and "minLength" in node and "enum" not in node:
        if row.max_length is not None:
            node["maxLength"] = row.max_length
        row.source += f"; {NON_EMPTY}; {UNINDEXED}"
    if row.minimum is not None:
        node["minimum"] = row.minimum
    if row.maximum is not None:
        node["maximum"] = row.maximum
    if row.default is not None:
        node["default"] = row.default
    if row.since:
        node["x-since"] = row.since
    if row.stability:
        node["x-stability"] = row.stability
    node["x-source"] = row.source
    return _reorder(node)


_ORDER = ("description", "type", "const", "enum", "required", "properties")


def _reorder(node: dict[str, Any]) -> dict[str, Any]:
    first = {k: node[k] for k in _ORDER if k in node}
    rest = {k: v for k, v in node.items() if k not in first and not k.startswith("x-")}
    tail = {k: v for k, v in node.items() if k.startswith("x-")}
    return {**first, **rest, **tail}


def secret_node(row: Row, secret: overlay.Secret) -> dict[str, Any]:
    """A write-only `${VAR}` reference (or a mapping of them)."""
    name = row.name
    message = API_KEY_MESSAGE if name == "api_key" else SECRET_MESSAGE.format(name=name)
    reference = {
        "type": "string",
        "pattern": REFERENCE.pattern,
        "patternErrorMessage": message,
        "maxLength": REFERENCE_MAX_LENGTH,
        "writeOnly": True,
    }
    doc = row.doc.strip()
    note = (
        "Given as a `${VAR}` reference to an environment variable (manifests live in Git; a "
        "literal secret is an error). Never returned by the server."
    )
    if secret.kind == "map":
        note = (
            "Every value is a `${VAR}` reference to an environment variable (manifests live in "
            "Git; a literal secret is an error); the names are not secret. Never returned."
        )
    if name == "service_account_json":
        note += (
            " The variable holds the whole service account JSON document (for example "
            '`export GOOGLE_SERVICE_ACCOUNT_JSON="$(cat key.json)"`); a file reference is not '
            "accepted."
        )
    node: dict[str, Any] = {"description": f"{doc}\n\n{note}".strip()}
    if secret.kind == "map":
        node.update(
            {
                "type": "object",
                "propertyNames": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDENTIFIER_MAX_LENGTH,
                },
                "additionalProperties": {**reference, "x-secret": True},
                "writeOnly": True,
            }
        )
    else:
        node.update(reference)
    node["x-secret"] = True
    if secret.group:
        node["x-secret-group"] = secret.group
    node["x-source"] = f"{row.source}; secret: {secret.evidence}"
    return node


def _settings_object(
    rows: list[Row], service: Service, task_type: str, description: str, source: str
) -> dict[str, Any]:
    node: dict[str, Any] = {"description": description, "type": "object"}
    required = [r.name for r in rows if r.required]
    if required:
        node["required"] = required
    node["properties"] = {r.name: field_node(r, service, task_type) for r in rows}
    node["additionalProperties"] = False
    node["x-source"] = source
    return node


# --- chunking and the shared nodes ----------------------------------------------------------


def chunking_task_types(service: Service) -> tuple[str, ...]:
    for row in overlay.CHUNKING:
        if row.service == service.name:
            return row.task_types
    if service.source is Source.HAND:
        return overlay.ELASTIC.chunking
    entry = facts()["services"][service.name]
    chunking = entry["body"]["chunking_settings"]
    if chunking is None:
        return ()
    return tuple(chunking.get("task_scope") or service.task_types)


def _recite(node: Any, old: str, new: str) -> Any:
    """A deep copy of `node` with `old` replaced by `new` in every `x-source`."""
    if isinstance(node, dict):
        return {
            k: (
                v.replace(old, new)
                if k == "x-source" and isinstance(v, str)
                else _recite(v, old, new)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_recite(v, old, new) for v in node]
    return node


def _request_file(service: Service) -> str:
    if service.source is Source.HAND:
        return ""
    return str(facts()["services"][service.name]["request"])


def _request_cite(service: Service, anchor: str) -> str:
    if service.source is Source.HAND:
        return overlay.ELASTIC.evidence
    return spec_cite(_request_file(service), anchor)


# --- the schema -----------------------------------------------------------------------------


def task_schema(service: Service, task_type: str, common: Common, schema_id: str) -> dict[str, Any]:
    """The schema of one manifest document of `service` and `task_type`."""
    spec = service.source is Source.SPEC
    entry = facts()["services"][service.name] if spec else None
    task_enum = entry["task_type_enum"] if entry else "task types"
    root: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": schema_id,
        "title": f"reconciler manifest: {service.name} {task_type} inference endpoint",
        "description": (
            f"One `{service.name}` inference endpoint of task type `{task_type}`: the path "
            "parameters `inference_id` and `task_type`, the PUT request body, and the "
            "reconciler-only `reconcile` block (never sent). Tier: "
            f"{service.tier.value}; changes: {service.updates}."
        ),
    }
    since = service.task_types.get(task_type)
    if since:
        root["x-since"] = since
    root["x-tier"] = service.tier.value
    if service.deprecation:
        root["x-deprecated"] = service.deprecation
    root["x-secrets"] = [p.path + (".*" if p.kind == "map" else "") for p in service.secrets]
    rules = [
        _rule_node(r) for r in overlay.RULES if r.service == service.name and _applies(r, task_type)
    ]
    if rules:
        root["x-rules"] = rules
    root["x-source"] = _request_cite(service, "Request") if spec else overlay.ELASTIC.evidence
    root["type"] = "object"
    settings_rows = list(_rows(service, "service_settings", task_type))
    task_rows = list(_rows(service, "task_settings", task_type))
    has_task_settings = bool(entry and entry["body"]["task_settings"])
    required = ["inference_id", "task_type", "service", "service_settings"]
    if any(r.required for r in task_rows):
        required.append("task_settings")
    root["required"] = required
    path_cite = _request_cite(service, f"path_parts.task_type: {task_enum}")
    properties: dict[str, Any] = {
        "inference_id": _recite(common.inference_id, DOCS, _request_cite(service, "path_parts")),
        "task_type": {
            "description": "The type of the inference task the model performs (the "
            "`<task_type>` path parameter).",
            "const": task_type,
            "x-source": path_cite,
        },
        "service": {
            "description": f"The type of service supported for the specified task type. In "
            f"this case, `{service.name}`.",
            "const": service.name,
            "x-source": _request_cite(service, "body.service"),
        },
        "service_settings": _settings_object(
            settings_rows,
            service,
            task_type,
            f"Settings used to install the inference model. These settings are specific to "
            f"the `{service.name}` service.",
            _request_cite(service, "body.service_settings"),
        ),
    }
    if has_task_settings:
        properties["task_settings"] = _settings_object(
            task_rows,
            service,
            task_type,
            "Settings to configure the inference task, specific to the task type.",
            _request_cite(service, "body.task_settings"),
        )
    if task_type in chunking_task_types(service):
        chunking = _recite(common.chunking, DOCS, _chunking_cite())
        chunking["description"] = (
            "Chunking configuration. When omitted the server uses `{strategy: sentence, "
            "max_chunk_size: 250, sentence_overlap: 1}`. When any key is given, `strategy` is "
            "required and each strategy requires its own keys."
        )
        chunking["x-source"] = (
            f"{_request_cite(service, 'body.chunking_settings')}; task types: "
            f"{', '.join(chunking_task_types(service))}"
        )
        chunking.pop("x-since", None)
        properties["chunking_settings"] = chunking
    properties["reconcile"] = copy.deepcopy(
        dict(common.reconcile if service.secrets else common.reconcile_no_secret)
    )
    root["properties"] = properties
    root["additionalProperties"] = False
    return root


def _chunking_cite() -> str:
    return spec_cite("specification/inference/_types/Services.ts", "InferenceChunkingSettings")


def _applies(rule: overlay.Rule, task_type: str) -> bool:
    return not rule.task_types or task_type in rule.task_types


def _rule_node(rule: overlay.Rule) -> dict[str, Any]:
    node: dict[str, Any] = {"kind": rule.kind, "paths": list(rule.paths), "message": rule.message}
    if rule.when:
        node["when"] = {"path": rule.when[0], "in": list(rule.when[1])}
    if rule.unless:
        node["unless"] = list(rule.unless)
    node["x-source"] = rule.evidence
    return node


def spec_task_types(service: str) -> dict[str, str]:
    """The task types the spec facts give a service, with their first branch."""
    entry = facts()["services"].get(service)
    return dict(entry["task_types"]) if entry else {}


def registry_services() -> tuple[Service, ...]:
    """The services whose schemas this module builds (all but the hand-table openai)."""
    return tuple(s for s in registry.SERVICES.values() if s.source is not Source.TABLE)
