"""Generate the committed JSON Schemas (draft 2020-12) from one table of every manifest field.

Each row of `FIELDS` gives a field's type, requiredness, default, range, the task types that
accept it, the Elasticsearch version that added it (`x-since`, for fields beyond the seed
documents) and where the fact comes from (`x-source`). `STRATEGIES` does the same for each
chunking strategy. `python -m reconciler.schemagen` rewrites `schemas/`; with `--check` it
only compares and exits 1 when a committed file differs from what the table gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.model import TASK_TYPES
from reconciler.secrets import REFERENCE

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:reconciler:schemas:v1:"
SERVICE = "openai"
EMBEDDING = ("text_embedding",)
MANIFEST_FILE = "manifest.schema.json"
INFERENCE_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?$"

SEED = "seeds/002_aed671f5e2fd1b39.txt"
REF = "reference/elasticsearch-inference-api.md"
SPEC = "reference/terraform-provider-and-spec.md"
DESIGN = "DESIGN.md (conventions: reconciler-only block)"
SECRETS = "DESIGN.md (conventions: secrets); issue #2 (a literal api_key is an error)"

TASK_SINCE = {"text_embedding": "8.12", "completion": "8.14", "chat_completion": "8.18"}
"""When the openai service gained each task type (reference §11)."""


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Field:
    """One manifest field. `path` is dotted from the document root."""

    path: str
    type: str
    source: str
    description: str = ""
    required: bool = False
    default: Any = NO_DEFAULT
    task_defaults: Mapping[str, Any] = field(default_factory=dict)
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[Any, ...] | None = None
    const: str | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    min_length: int | None = None
    task_types: tuple[str, ...] = TASK_TYPES
    since: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def parent(self) -> str:
        return self.path.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]

    def default_for(self, task_type: str) -> Any:
        return self.task_defaults.get(task_type, self.default)


@dataclass(frozen=True)
class Limit:
    """What one chunking strategy demands of one of its keys."""

    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[int, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class Strategy:
    """A chunking strategy: the keys it takes (besides `strategy`) and their limits."""

    name: str
    keys: Mapping[str, Limit]
    source: str
    since: str | None = None
    exclusive: tuple[str, ...] = ()
    note: str = ""


API_KEY_MESSAGE = (
    "api_key must be a ${VAR} reference to an environment variable; "
    "literal keys must not be committed"
)
INFERENCE_ID_MESSAGE = (
    "use lower-case letters, digits, `_`, `-` and `.`, starting and ending with a letter or "
    "digit (Elasticsearch's inference_id rule)"
)

FIELDS: tuple[Field, ...] = (
    Field(
        "inference_id",
        "string",
        f"{SEED} (path parameters); {REF} §2.4",
        "The unique identifier of the inference endpoint (the `<inference_id>` path "
        "parameter). Lower-case letters, digits, `_`, `-` and `.`; must start and end with a "
        "letter or digit; `_all` is reserved. No length limit.",
        required=True,
        pattern=INFERENCE_ID_PATTERN,
        pattern_message=INFERENCE_ID_MESSAGE,
    ),
    Field(
        "task_type",
        "string",
        f"{SEED} (path parameters); {REF} §2.3",
        "The type of the inference task the model performs (the `<task_type>` path parameter).",
        required=True,
        enum=TASK_TYPES,
    ),
    Field(
        "service",
        "string",
        f"{SEED} (request body); {REF} §2.1",
        "The type of service supported for the specified task type. In this case, `openai`.",
        required=True,
        const=SERVICE,
    ),
    Field(
        "service_settings",
        "object",
        f"{SEED} (request body); {REF} §2.1",
        "Settings used to install the inference model. These settings are specific to the "
        "`openai` service.",
        required=True,
    ),
    Field(
        "service_settings.api_key",
        "string",
        f"{SEED} (service_settings); {REF} §2.1; {SECRETS}",
        "A valid API key of your OpenAI account, given as a `${VAR}` reference to an "
        "environment variable (manifests live in Git; a literal key is an error). Never "
        "returned by the server.",
        required=True,
        pattern=REFERENCE.pattern,
        pattern_message=API_KEY_MESSAGE,
        extra={"writeOnly": True},
    ),
    Field(
        "service_settings.model_id",
        "string",
        f"{SEED} (service_settings); {REF} §2.1, §2.5",
        "The name of the model to use for the inference task.",
        required=True,
        min_length=1,
    ),
    Field(
        "service_settings.dimensions",
        "integer",
        f"{SEED} (service_settings); {REF} §2.1, §2.5 (positive; text_embedding only)",
        "The number of dimensions the resulting output embeddings should have. Only supported "
        "in `text-embedding-3` and later models. If not set the OpenAI defined default for the "
        "model is used.",
        minimum=1,
        task_types=EMBEDDING,
    ),
    Field(
        "service_settings.similarity",
        "string",
        f"{REF} §2.1; {SPEC} B.1 (default); OpenAiEmbeddingsServiceSettings "
        "(TransportVersions.V_8_12_0)",
        "The similarity measure of the embeddings. Elasticsearch accepts any case but stores "
        "it lower-case, so the manifest must use lower case. Filled in as `dot_product` when "
        "not given.",
        default="dot_product",
        enum=("cosine", "dot_product", "l2_norm"),
        task_types=EMBEDDING,
        since="8.12",
    ),
    Field(
        "service_settings.max_input_tokens",
        "integer",
        f"{REF} §2.1, §2.5; {SPEC} B.1 (missing from the spec); OpenAiEmbeddingsServiceSettings "
        "(TransportVersions.V_8_12_0)",
        "The maximum number of input tokens; longer input is truncated.",
        minimum=1,
        since="8.12",
    ),
    Field(
        "service_settings.organization_id",
        "string",
        f"{SEED} (service_settings); {REF} §2.1",
        "The unique identifier of your organization (sent as the `OpenAI-Organization` header).",
        min_length=1,
    ),
    Field(
        "service_settings.url",
        "string",
        f"{SEED} (service_settings); {REF} §2.1, §2.5; {SPEC} B.1 (per-task default)",
        "The URL endpoint to use for the requests. Can be changed for testing purposes. "
        "Elasticsearch only checks that it parses as a java.net.URI.",
        task_defaults={
            "text_embedding": "https://api.openai.com/v1/embeddings",
            "completion": "https://api.openai.com/v1/chat/completions",
            "chat_completion": "https://api.openai.com/v1/chat/completions",
        },
        min_length=1,
        extra={"format": "uri-reference"},
    ),
    Field(
        "service_settings.rate_limit",
        "object",
        f"{SEED} (service_settings); {REF} §2.1, §11",
        "The number of requests allowed per minute. Only `requests_per_minute` may be set.",
        since="8.15",
    ),
    Field(
        "service_settings.rate_limit.requests_per_minute",
        "integer",
        f"{SEED} (rate_limit); {REF} §2.1, §2.5 (positive long)",
        "Requests allowed per minute. Defaults to 3000 for `text_embedding` and 500 for "
        "`completion` and `chat_completion`.",
        task_defaults={"text_embedding": 3000, "completion": 500, "chat_completion": 500},
        minimum=1,
        since="8.15",
    ),
    Field(
        "task_settings",
        "object",
        f"{SEED} (request body); {REF} §2.1",
        "Settings to configure the inference task, specific to the task type.",
    ),
    Field(
        "task_settings.user",
        "string",
        f"{SEED} (task_settings for completion and text_embedding); {REF} §2.1, §2.5",
        "Specifies the user issuing the request, which can be used for abuse detection.",
        min_length=1,
    ),
    Field(
        "task_settings.headers",
        "object",
        f"{REF} §2.1, §11; {SPEC} B.1 (OpenAITaskSettings, branch 9.2)",
        "Custom HTTP headers sent with each request to OpenAI (name → value).",
        since="9.2",
        extra={
            "additionalProperties": {"type": "string"},
            "propertyNames": {"type": "string", "minLength": 1},
        },
    ),
    Field(
        "chunking_settings",
        "object",
        f"{SEED} (request body); {REF} §2.1, §2.6, §11",
        "Chunking configuration (text_embedding only). When omitted the server uses "
        "`{strategy: sentence, max_chunk_size: 250, sentence_overlap: 1}`. When any key is "
        "given, `strategy` is required and each strategy requires its own keys.",
        task_types=EMBEDDING,
        since="8.16",
    ),
    Field(
        "chunking_settings.strategy",
        "string",
        f"{SEED} (chunking_settings); {REF} §2.6; {SPEC} B.1 (server default, none/recursive)",
        "The chunking strategy: `sentence` or `word`; `none` and `recursive` since 9.1.",
        default="sentence",
        enum=("sentence", "word", "none", "recursive"),
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.max_chunk_size",
        "integer",
        f"{SEED} (chunking_settings); {REF} §2.6",
        "The maximum size of a chunk in words. Defaults to 250. Required by the server for "
        "`sentence` (20–300), `word` (10–300) and `recursive` (10–300).",
        default=250,
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.overlap",
        "integer",
        f"{SEED} (chunking_settings); {REF} §2.6",
        "Only for `word`: the number of overlapping words for chunks, at most half of "
        "`max_chunk_size`. Defaults to 100 (documented), but required by the server.",
        default=100,
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.sentence_overlap",
        "integer",
        f"{SEED} (chunking_settings); {REF} §2.6",
        "Only for `sentence`: the number of overlapping sentences for chunks, 0 or 1. "
        "Defaults to 1.",
        default=1,
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.separators",
        "array",
        f"{REF} §2.6; {SPEC} B.1",
        "Only for `recursive`: the separators (plain strings or regular expressions), in order. "
        "Give either `separators` or `separator_group`, not both.",
        task_types=EMBEDDING,
        since="9.1",
        extra={"items": {"type": "string"}, "minItems": 1},
    ),
    Field(
        "chunking_settings.separator_group",
        "string",
        f"{REF} §2.6; {SPEC} B.1",
        "Only for `recursive`: a predefined separator list. The server expands it into "
        "`separators` and echoes those instead.",
        enum=("plaintext", "markdown"),
        task_types=EMBEDDING,
        since="9.1",
    ),
    Field(
        "reconcile",
        "object",
        DESIGN,
        "Reconciler-only settings; never sent to Elasticsearch.",
    ),
    Field(
        "reconcile.protect",
        "boolean",
        DESIGN,
        "Refuse to delete or replace this endpoint.",
        default=False,
    ),
    Field(
        "reconcile.key_rotation",
        "string",
        DESIGN,
        "How a changed API key reaches the server: `auto` (update API where available, else "
        "recreate), `update` (always the update API, 8.17+), `recreate` (delete and create).",
        default="auto",
        enum=("auto", "update", "recreate"),
    ),
    Field(
        "reconcile.smoke",
        "object",
        DESIGN,
        "The smoke-test inference run after apply.",
    ),
    Field(
        "reconcile.smoke.enabled",
        "boolean",
        DESIGN,
        "Run a smoke-test inference after apply.",
        default=True,
    ),
    Field(
        "reconcile.smoke.input",
        "string",
        DESIGN,
        "The input text of the smoke-test inference.",
        min_length=1,
    ),
)

STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "sentence",
        {
            "max_chunk_size": Limit(True, 20, 300, note="the 300 bound is dropped in 9.2+"),
            "sentence_overlap": Limit(enum=(0, 1)),
        },
        f"{SEED} (chunking_settings); {REF} §2.6",
    ),
    Strategy(
        "word",
        {
            "max_chunk_size": Limit(True, 10, 300),
            "overlap": Limit(True, 1, note="at most max_chunk_size / 2 (integer division)"),
        },
        f"{SEED} (chunking_settings); {REF} §2.6",
        note="overlap ≤ max_chunk_size / 2 is checked by reconciler.schema (rule.overlap-max)",
    ),
    Strategy(
        "none",
        {},
        f"{REF} §2.6, §11",
        since="9.1",
        note="Elasticsearch silently drops any other key; the reconciler rejects them",
    ),
    Strategy(
        "recursive",
        {
            "max_chunk_size": Limit(True, 10, 300),
            "separators": Limit(),
            "separator_group": Limit(),
        },
        f"{REF} §2.6; {SPEC} B.1",
        since="9.1",
        exclusive=("separators", "separator_group"),
        note="neither separators nor separator_group: the plaintext group is used",
    ),
)


def schema_id(name: str) -> str:
    return ID_PREFIX + name


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
        ("minimum", f.minimum),
        ("maximum", f.maximum),
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
        "x-source": f"{SEED}; {REF} §2.1–2.6, §11",
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


def build_manifest_schema() -> dict[str, Any]:
    """The envelope editors use: dispatches on `task_type` to the per-task-type schema."""
    envelope = [f for f in FIELDS if f.path in ("inference_id", "task_type", "service")]
    return {
        "$schema": DRAFT,
        "$id": schema_id("manifest"),
        "title": "reconciler manifest: one Elasticsearch inference endpoint",
        "description": (
            "One YAML document per endpoint. `task_type` selects the schema of the rest; "
            "see $defs for each task type."
        ),
        "type": "object",
        "required": [f.name for f in FIELDS if f.parent == "" and f.required],
        "properties": {f.name: _node(f, "text_embedding") for f in envelope},
        "allOf": [
            {
                "if": {"properties": {"task_type": {"const": t}}, "required": ["task_type"]},
                "then": {"$ref": f"#/$defs/{SERVICE}.{t}"},
            }
            for t in TASK_TYPES
        ],
        "$defs": {f"{SERVICE}.{t}": _embedded(build_task_schema(t)) for t in TASK_TYPES},
    }


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """File name → file text, for every schema the project commits."""
    files = {task_file(t): render(build_task_schema(t)) for t in TASK_TYPES}
    files[MANIFEST_FILE] = render(build_manifest_schema())
    return files


def default_out() -> Path:
    """`reconciler/schemas`, a symlink to the repository's `schemas/` in a checkout."""
    return Path(__file__).resolve().parent / "schemas"


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
    parser = argparse.ArgumentParser(prog="python -m reconciler.schemagen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("--out", type=Path, default=None, help="directory (default: schemas/)")
    args = parser.parse_args(argv)
    out = args.out or default_out()
    if args.check:
        names = stale(out)
        for name in names:
            print(f"{out / name} is out of date; run `python -m reconciler.schemagen`")
        return 1 if names else 0
    for name in write(out):
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
