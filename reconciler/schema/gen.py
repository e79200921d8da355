"""Generate the committed JSON Schemas (draft 2020-12): one per (service, task type) and the
envelope that dispatches on `service`, then `task_type`.

`openai` comes from the hand-kept table `reconciler.services.openai_fields` (`FIELDS`,
`STRATEGIES`): every manifest field with its type, requiredness, default, range, task types,
`x-since` version and `x-source` citation. Every other service comes from the specification's
fact table (`reconciler/services/spec_facts.json`, written by
`reconciler.services.spec_extract`) corrected by the overlay (`reconciler.services.overlay`),
for the services and task types the registry (`reconciler.services.registry`) lists;
`reconciler.services.build` assembles them and this module adds the parts every service shares
(`inference_id`, `chunking_settings`, `reconcile`) from the table. `python -m
reconciler.schema.gen` rewrites `schemas/`; with `--check` it only compares and exits 1 when a
committed file differs from what the tables give."""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.services import build, registry
from reconciler.services.openai_fields import (
    DOCS,
    DRAFT,
    FIELDS,
    ID_PREFIX,
    NO_DEFAULT,
    OPENAI,
    SERVICE,
    STRATEGIES,
    TASK_SINCE,
    Field,
    Limit,
    Strategy,
)

MANIFEST_FILE = "manifest.schema.json"


def schema_id(name: str) -> str:
    """The schema's published URL (its file name under the schemas folder)."""
    return f"{ID_PREFIX}{name}.schema.json"


def task_file(task_type: str) -> str:
    return f"{SERVICE}.{task_type}.schema.json"


def _children(parent: str, task_type: str) -> list[Field]:
    return [f for f in FIELDS if f.parent == parent and task_type in f.task_types]


def _constraints(f: Field, task_type: str) -> dict[str, Any]:
    node: dict[str, Any] = {"const": f.const} if f.const else {"type": f.type}
    pairs = (
        ("enum", list(f.enum) if f.enum else None),
        ("pattern", f.pattern),
        ("patternErrorMessage", f.pattern_message),
        ("minLength", f.min_length),
        ("maxLength", f.max_length),
        ("minimum", f.minimum),
        ("maximum", f.upper),
    )
    node.update({k: v for k, v in pairs if v is not None})
    node.update(f.extra)
    default = f.default_for(task_type)
    if default is not NO_DEFAULT:
        node["default"] = default
    return node


def _node(f: Field, task_type: str) -> dict[str, Any]:
    node: dict[str, Any] = {"description": f.description} if f.description else {}
    node.update(_constraints(f, task_type))
    if f.since:
        node["x-since"] = f.since
    if f.java:
        node["x-java-type"] = f.java
    node["x-source"] = f.source
    if f.type == "object" and "additionalProperties" not in f.extra:
        node.update(_object_body(f.path, task_type))
    return node


def _object_body(path: str, task_type: str) -> dict[str, Any]:
    children = _children(path, task_type)
    body: dict[str, Any] = {}
    required = [c.name for c in children if c.required]
    if required:
        body["required"] = required
    body["properties"] = {c.name: _node(c, task_type) for c in children}
    body["additionalProperties"] = False
    if path == "chunking_settings":
        body["allOf"] = _chunking_rules()
    return body


def _limit_node(limit: Limit) -> dict[str, Any]:
    pairs = (
        ("enum", list(limit.enum) if limit.enum else None),
        ("minimum", limit.minimum),
        ("maximum", limit.maximum),
        ("description", limit.note or None),
    )
    return {k: v for k, v in pairs if v is not None}


def _strategy_branch(s: Strategy) -> dict[str, Any]:
    then: dict[str, Any] = {"x-strategy": s.name}
    if s.note:
        then["description"] = s.note
    if s.since:
        then["x-since"] = s.since
    then["x-source"] = s.source
    required = [k for k, limit in s.keys.items() if limit.required]
    if required:
        then["required"] = required
    props: dict[str, Any] = {"strategy": True}
    props.update({k: _limit_node(limit) for k, limit in s.keys.items()})
    then["properties"] = props
    then["additionalProperties"] = False
    if s.exclusive:
        names = " or ".join(f"`{k}`" for k in s.exclusive)
        then["allOf"] = [
            {
                "not": {"required": list(s.exclusive)},
                "errorMessage": f"give either {names}, not both",
            }
        ]
    selector = {"properties": {"strategy": {"const": s.name}}, "required": ["strategy"]}
    return {"if": selector, "then": then}


def _chunking_rules() -> list[dict[str, Any]]:
    needs_strategy = {
        "if": {"minProperties": 1},
        "then": {"required": ["strategy"]},
        "description": "Elasticsearch: Can't generate Chunker without ChunkingStrategy provided",
    }
    return [needs_strategy, *(_strategy_branch(s) for s in STRATEGIES)]


def build_task_schema(task_type: str) -> dict[str, Any]:
    """The schema of one manifest document of `task_type` (service `openai`)."""
    root: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": schema_id(f"{SERVICE}.{task_type}"),
        "title": f"reconciler manifest: {SERVICE} {task_type} inference endpoint",
        "description": (
            f"One `{SERVICE}` inference endpoint of task type `{task_type}`: the path parameters "
            "`inference_id` and `task_type`, the PUT request body, and the reconciler-only "
            "`reconcile` block (never sent)."
        ),
        "x-since": TASK_SINCE[task_type],
        "x-source": f"{DOCS}; {OPENAI}OpenAiService.java (parseRequestConfig, createModel)",
        "type": "object",
    }
    root.update(_object_body("", task_type))
    root["properties"]["task_type"] = {
        "description": root["properties"]["task_type"]["description"],
        "const": task_type,
        "x-source": root["properties"]["task_type"]["x-source"],
    }
    return root


def _embedded(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def _field(path: str) -> Field:
    return next(f for f in FIELDS if f.path == path)


def common_nodes() -> build.Common:
    """The parts every service shares, from the openai table (service-agnostic rows)."""
    reconcile = _node(_field("reconcile"), "text_embedding")
    no_secret = copy.deepcopy(reconcile)
    no_secret["properties"].pop("key_rotation")
    return build.Common(
        inference_id=_node(_field("inference_id"), "text_embedding"),
        chunking=_node(_field("chunking_settings"), "text_embedding"),
        reconcile=reconcile,
        reconcile_no_secret=no_secret,
    )


def pairs() -> list[tuple[str, str]]:
    """Every (service, task type) with a schema, in file-name order."""
    return [(s.name, t) for s in registry.SERVICES.values() for t in s.ordered_task_types]


def build_schema(service: str, task_type: str) -> dict[str, Any]:
    """The schema of one manifest document of `service` and `task_type`."""
    descriptor = registry.SERVICES[service]
    if descriptor.source is registry.Source.TABLE:
        return with_smoke_request(build_task_schema(task_type), task_type)
    name = registry.schema_name(service, task_type)
    schema = build.task_schema(descriptor, task_type, common_nodes(), schema_id(name))
    return with_smoke_request(schema, task_type)


SMOKE_SOURCE = (
    "the reconciler's own setting (the `reconcile` block is never sent to Elasticsearch); "
    "sent as the body of `POST _inference/rerank/{id}`: `query` and `input` (a string or an "
    "array of strings), elastic/elasticsearch-specification specification/inference/rerank/"
    "RerankRequest.ts"
)


def with_smoke_request(schema: dict[str, Any], task_type: str) -> dict[str, Any]:
    """The `reconcile.smoke` block of one task type's schema: rerank also takes `query` and
    a list of documents as `input` (each ranked by the smoke test); the others one text."""
    if task_type != "rerank":
        return schema
    smoke = schema["properties"]["reconcile"]["properties"]["smoke"]["properties"]
    text = {k: v for k, v in smoke["input"].items() if k in ("type", "minLength", "maxLength")}
    smoke["input"] = {
        "description": "What the smoke test ranks: one text, or a list of texts (documents). "
        "Default: three short documents.",
        "type": ["string", "array"],
        "minLength": text["minLength"],
        "maxLength": text["maxLength"],
        "items": text,
        "minItems": 1,
        "x-source": SMOKE_SOURCE,
    }
    smoke["query"] = {
        "description": "The query the smoke test ranks the input against. Default: a question "
        "about the first default document.",
        **text,
        "x-source": SMOKE_SOURCE,
    }
    return schema


def build_manifest_schema() -> dict[str, Any]:
    """The envelope editors use: dispatches on `service`, then on `task_type`."""
    envelope = [f for f in FIELDS if f.path in ("inference_id", "task_type", "service")]
    properties = {f.name: _node(f, "text_embedding") for f in envelope}
    properties["task_type"]["enum"] = list(registry.TASK_ORDER)
    properties["service"] = {
        "description": "The inference service: selects the schema of the rest (see `$defs`).",
        "enum": list(registry.NAMES),
        "x-source": "reconciler.services.registry (one descriptor per service)",
    }
    return {
        "$schema": DRAFT,
        "$id": schema_id("manifest"),
        "title": "reconciler manifest: one Elasticsearch inference endpoint",
        "description": (
            "One YAML document per endpoint. `service`, then `task_type`, selects the schema of "
            "the rest; see $defs for each (service, task type)."
        ),
        "type": "object",
        "required": [f.name for f in FIELDS if f.parent == "" and f.required],
        "properties": properties,
        "allOf": [_service_branch(s) for s in registry.SERVICES.values()],
        "$defs": {registry.schema_name(s, t): _embedded(build_schema(s, t)) for s, t in pairs()},
    }


def _service_branch(service: registry.Service) -> dict[str, Any]:
    tasks = service.ordered_task_types
    rules: list[dict[str, Any]] = [
        {"properties": {"task_type": {"enum": list(tasks)}}},
        *(
            {
                "if": {"properties": {"task_type": {"const": t}}, "required": ["task_type"]},
                "then": {"$ref": f"#/$defs/{registry.schema_name(service.name, t)}"},
            }
            for t in tasks
        ),
    ]
    return {
        "if": {"properties": {"service": {"const": service.name}}, "required": ["service"]},
        "then": {"allOf": rules},
    }


def service_manifest_schema(service: str) -> dict[str, Any]:
    """The envelope restricted to one service (not committed: `reconcile schema --service`)."""
    whole = build_manifest_schema()
    descriptor = registry.SERVICES[service]
    prefix = f"{service}."
    whole["$id"] = schema_id(f"manifest.{service}")
    whole["title"] = f"reconciler manifest: one `{service}` inference endpoint"
    whole["properties"]["service"] = {"const": service}
    whole["allOf"] = [_service_branch(descriptor)]
    whole["$defs"] = {k: v for k, v in whole["$defs"].items() if k.startswith(prefix)}
    return whole


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """File name → file text, for every schema the project commits."""
    files = {
        f"{registry.schema_name(s, t)}.schema.json": render(build_schema(s, t)) for s, t in pairs()
    }
    files[MANIFEST_FILE] = render(build_manifest_schema())
    return files


def default_out() -> Path:
    """`reconciler/schemas`, a symlink to the repository's `schemas/` in a checkout."""
    return Path(__file__).resolve().parents[1] / "schemas"


def stale(out: Path) -> list[str]:
    """Names of the files under `out` that differ from (or are missing against) `generate()`."""
    names = []
    for name, text in generate().items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            names.append(name)
    return names


def write(out: Path) -> list[str]:
    """Write every schema whose text changed; return the names written."""
    changed = stale(out)
    files = generate()
    out.mkdir(parents=True, exist_ok=True)
    for name in changed:
        (out / name).write_text(files[name], encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.schema.gen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("--out", type=Path, default=None, help="directory (default: schemas/)")
    args = parser.parse_args(argv)
    out = args.out or default_out()
    if args.check:
        names = stale(out)
        for name in names:
            print(f"{out / name} is out of date; run `python -m reconciler.schema.gen`")
        return 1 if names else 0
    for name in write(out):
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
