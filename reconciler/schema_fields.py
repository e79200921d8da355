"""The table the schemas are generated from: every manifest field and chunking strategy.

Each `Field` row gives a field's type, requiredness, default, range, the task types that accept
it, the Elasticsearch version that added it (`since`, written as `x-since`; set for fields
beyond the seed documents) and where the fact comes from (`source`, written as `x-source`).
Each `Strategy` row gives the keys one chunking strategy takes and their limits. Data only:
`reconciler.schemagen` turns it into JSON Schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import TASK_TYPES
from reconciler.secrets import REFERENCE

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:reconciler:schemas:v1:"
SERVICE = "openai"
EMBEDDING = ("text_embedding",)
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
