"""The table the schemas are generated from: every manifest field and chunking strategy.

Each `Field` row gives a field's type, requiredness, default, range, the task types that accept
it, the Elasticsearch version that added it (`since`, written as `x-since`; set for fields
beyond the seed documents) and where the fact comes from (`source`, written as `x-source`).
Each `Strategy` row gives the keys one chunking strategy takes and their limits. Data only:
`reconciler.schema.gen` turns it into JSON Schema.

Every integer carries the bound of the Java type Elasticsearch parses it into (`java`, written
as `maximum` and `x-java-type`) and every free string a `max_length`, so that no value the server
would refuse, or could not store, passes `reconcile validate`. The limits and their evidence are
the constants below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import TASK_TYPES
from reconciler.schema_compile import INT_MAX, LONG_MAX
from reconciler.secrets import REFERENCE

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_HOME = "https://raw.githubusercontent.com/es-inference-reconciler/es-inference-reconciler/main/schemas/"
"""Where the committed `schemas/` folder is published: each schema's `$id` is its own URL
there, so an editor outside this repository can point its modeline at it."""
ID_PREFIX = SCHEMA_HOME
SERVICE = "openai"
EMBEDDING = ("text_embedding",)
INFERENCE_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?$"

# --- where each fact comes from (written as x-source) -----------------------------------------
# The public documentation page of the openai service, and the Elasticsearch source that parses
# the request: paths in the elastic/elasticsearch repository.

DOCS = (
    "Elasticsearch docs, OpenAI inference integration "
    "(https://www.elastic.co/guide/en/elasticsearch/reference/current/infer-service-openai.html)"
)
ES_SERVER = "elastic/elasticsearch server/src/main/java/org/elasticsearch/inference/"
ES_INFERENCE = (
    "elastic/elasticsearch x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/"
)
OPENAI = f"{ES_INFERENCE}services/openai/"
OPENAI_SERVICE = f"{OPENAI}OpenAiService.java (parseRequestConfig)"
SERVICE_UTILS = f"{ES_INFERENCE}services/ServiceUtils.java"
EMBEDDINGS_SETTINGS = f"{OPENAI}embeddings/OpenAiEmbeddingsServiceSettings.java (fromMap)"
COMPLETION_SETTINGS = f"{OPENAI}completion/OpenAiChatCompletionServiceSettings.java (fromMap)"
BOTH_SETTINGS = f"{EMBEDDINGS_SETTINGS}, {COMPLETION_SETTINGS}"
TASK_SETTINGS = f"{OPENAI}OpenAiTaskSettings.java"
RATE_LIMIT_SETTINGS = f"{ES_INFERENCE}services/settings/RateLimitSettings.java (of)"
CHUNKING = f"{ES_INFERENCE}chunking/"
PUT_REQUEST = (
    "elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/"
    "inference/action/PutInferenceModelAction.java (Request.validate: MlStrings.isValidId, "
    "no length check); x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ml/utils/"
    "MlStrings.java (VALID_ID_CHAR_PATTERN, Metadata.ALL)"
)
DOC_ID = (
    f"{ES_SERVER}Model.java "
    '(documentId: "model_" + inferenceEntityId), used by '
    f"{ES_INFERENCE}registry/ModelRegistry.java (storeModel); "
    "server/src/main/java/org/elasticsearch/action/DocWriteRequest.java (validateDocIdLength, "
    "IndexRequest.MAX_DOCUMENT_ID_LENGTH_IN_BYTES = 512)"
)
RECONCILER = "the reconciler's own setting (the `reconcile` block is never sent to Elasticsearch)"
SECRETS = (
    f"{ES_INFERENCE}services/settings/DefaultSecretSettings.java (api_key); the reconciler's "
    "rule: manifests live in Git, so the key is a ${VAR} reference and a literal key is an error"
)

JAVA_INT_MAX = INT_MAX
"""2147483647, `Integer.MAX_VALUE`. Elasticsearch reads `dimensions`, `max_input_tokens` and
every chunking number with `ServiceUtils.removeAsType(map, key, Integer.class, ...)` (via
`extractOptionalPositiveInteger`, `extractRequiredPositiveInteger...`): a JSON number beyond it is
parsed as a `Long` and refused with "field [dimensions] is not of the expected type. The value
[3000000000] cannot be converted to a [Integer]" (`ServiceUtils.invalidTypeErrorMsg`)."""
JAVA_LONG_MAX = LONG_MAX
"""9223372036854775807, `Long.MAX_VALUE`. `rate_limit.requests_per_minute` is read by
`ServiceUtils.extractOptionalPositiveLong` (`Integer` or `Long` accepted); a bigger number is a
`BigInteger` and is refused with "field [requests_per_minute] is not of one of the expected
types. The value [...] cannot be converted to one of [Integer, Long]"."""
JAVA_MAX = {"int": JAVA_INT_MAX, "long": JAVA_LONG_MAX}

DOC_ID_MAX_BYTES = 512
"""`IndexRequest.MAX_DOCUMENT_ID_LENGTH_IN_BYTES`: `DocWriteRequest.validateDocIdLength` refuses a
longer id with "id [...] is too long, must be no longer than 512 bytes but was: N"."""
DOC_ID_PREFIX = "model_"
"""`Model.documentId(inferenceEntityId)` is `"model_" + inferenceEntityId`: the id under which
`ModelRegistry.storeModel` indexes the endpoint in `.inference` and its secrets in
`.secrets-inference`."""
INFERENCE_ID_MAX_LENGTH = DOC_ID_MAX_BYTES - len(DOC_ID_PREFIX)
"""506. The PUT request checks only `MlStrings.isValidId` (the pattern, not `MlStrings
.hasValidLengthForId`), so a longer id passes validation, calls OpenAI, and then fails to be
stored. The pattern allows ASCII only, so characters and bytes are the same count."""

# The server keeps `service_settings` and `task_settings` unindexed in `_source` (the `.inference`
# mapping makes both `"dynamic": "false"`, `InferenceIndex.mappings`), so their strings have no
# server-side limit short of the request size. These limits are the reconciler's: each is many
# times what a real value needs, and small enough that a pasted file or a runaway template is a
# located error instead of an endpoint.
UNINDEXED = (
    "maxLength: the reconciler's limit (the server keeps these settings unindexed: "
    f"{ES_INFERENCE}InferenceIndex.java, mappings)"
)
IDENTIFIER_MAX_LENGTH = 1024
"""model_id, organization_id, task_settings.user and header names: OpenAI model ids (fine-tuned
ones included) and organization ids are under 100 characters; 1 KiB leaves room for other
OpenAI-compatible servers that use paths as model names."""
URL_MAX_LENGTH = 8192
"""RFC 9110 (HTTP Semantics) asks senders and recipients to support URIs of at least 8000 octets;
common front ends refuse a longer request line (nginx `large_client_header_buffers` 8k, Apache
`LimitRequestLine` 8190)."""
HEADER_VALUE_MAX_LENGTH = 8192
"""One header field: nginx buffers 8k per header line and Apache's `LimitRequestFieldSize` is
8190, so a longer header is refused before it reaches OpenAI."""
REFERENCE_MAX_LENGTH = 256
"""`api_key` is a `${VAR}` reference: an environment variable name, never the key itself."""
SEPARATOR_MAX_LENGTH = 1024
"""One recursive-chunking separator (a literal or a Java regular expression), compiled by the
server for every chunked document."""
SMOKE_INPUT_MAX_LENGTH = 4096
"""The smoke test sends one short inference (`how big` by default); 4 KiB is far beyond that and
well under any model's context window."""

TASK_SINCE = {"text_embedding": "8.12", "completion": "8.14", "chat_completion": "8.18"}
"""When the openai service gained each task type (`OpenAiService.createModel`)."""


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
    max_length: int | None = None
    java: str | None = None
    """For integers: the Java type Elasticsearch parses the value into (`int` or `long`); it sets
    `maximum` (unless a stricter one is given) and is written as `x-java-type`."""
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

    @property
    def upper(self) -> int | None:
        """The maximum written to the schema: the given one, else the Java type's."""
        if self.maximum is not None:
            return self.maximum
        return JAVA_MAX[self.java] if self.java else None


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
        f"{DOCS} (path parameters); pattern: {PUT_REQUEST}; maxLength: {DOC_ID}",
        "The unique identifier of the inference endpoint (the `<inference_id>` path "
        "parameter). Lower-case letters, digits, `_`, `-` and `.`; must start and end with a "
        f"letter or digit; `_all` is reserved. At most {INFERENCE_ID_MAX_LENGTH} characters: "
        f"Elasticsearch stores the endpoint as document `{DOC_ID_PREFIX}<inference_id>` and "
        f"document ids are limited to {DOC_ID_MAX_BYTES} bytes.",
        required=True,
        pattern=INFERENCE_ID_PATTERN,
        pattern_message=INFERENCE_ID_MESSAGE,
        max_length=INFERENCE_ID_MAX_LENGTH,
    ),
    Field(
        "task_type",
        "string",
        f"{DOCS} (path parameters); {ES_SERVER}TaskType.java; "
        f"{OPENAI}OpenAiService.java (createModel)",
        "The type of the inference task the model performs (the `<task_type>` path parameter).",
        required=True,
        enum=TASK_TYPES,
    ),
    Field(
        "service",
        "string",
        f"{DOCS} (request body); {OPENAI}OpenAiService.java (NAME)",
        "The type of service supported for the specified task type. In this case, `openai`.",
        required=True,
        const=SERVICE,
    ),
    Field(
        "service_settings",
        "object",
        f"{DOCS} (request body); {ES_SERVER}ModelConfigurations.java (SERVICE_SETTINGS); "
        f"{OPENAI_SERVICE}",
        "Settings used to install the inference model. These settings are specific to the "
        "`openai` service.",
        required=True,
    ),
    Field(
        "service_settings.api_key",
        "string",
        f"{DOCS} (service_settings); {SECRETS}",
        "A valid API key of your OpenAI account, given as a `${VAR}` reference to an "
        "environment variable (manifests live in Git; a literal key is an error). Never "
        "returned by the server.",
        required=True,
        pattern=REFERENCE.pattern,
        pattern_message=API_KEY_MESSAGE,
        max_length=REFERENCE_MAX_LENGTH,
        extra={"writeOnly": True},
    ),
    Field(
        "service_settings.model_id",
        "string",
        f"{DOCS} (service_settings); {BOTH_SETTINGS} (extractRequiredString); {UNINDEXED}",
        "The name of the model to use for the inference task.",
        required=True,
        min_length=1,
        max_length=IDENTIFIER_MAX_LENGTH,
    ),
    Field(
        "service_settings.dimensions",
        "integer",
        f"{DOCS} (service_settings); text_embedding only, a positive Java int: "
        f"{EMBEDDINGS_SETTINGS}, {SERVICE_UTILS} (extractOptionalPositiveInteger)",
        "The number of dimensions the resulting output embeddings should have. Only supported "
        "in `text-embedding-3` and later models. If not set the OpenAI defined default for the "
        "model is used.",
        minimum=1,
        java="int",
        task_types=EMBEDDING,
    ),
    Field(
        "service_settings.similarity",
        "string",
        f"{EMBEDDINGS_SETTINGS} (extractSimilarity; TransportVersions.V_8_12_0); "
        f"{ES_SERVER}SimilarityMeasure.java; default: {OPENAI}OpenAiService.java "
        "(updateModelWithEmbeddingDetails)",
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
        "a positive Java int, both task types (TransportVersions.V_8_12_0): "
        f"{BOTH_SETTINGS}, {SERVICE_UTILS} (extractOptionalPositiveInteger)",
        "The maximum number of input tokens; longer input is truncated.",
        minimum=1,
        java="int",
        since="8.12",
    ),
    Field(
        "service_settings.organization_id",
        "string",
        f"{DOCS} (service_settings); {BOTH_SETTINGS} (extractOptionalString); {UNINDEXED}",
        "The unique identifier of your organization (sent as the `OpenAI-Organization` header).",
        min_length=1,
        max_length=IDENTIFIER_MAX_LENGTH,
    ),
    Field(
        "service_settings.url",
        "string",
        f"{DOCS} (service_settings, per-task default); {BOTH_SETTINGS} (convertToUri: "
        f"java.net.URI); {UNINDEXED}",
        "The URL endpoint to use for the requests. Can be changed for testing purposes. "
        "Elasticsearch only checks that it parses as a java.net.URI.",
        task_defaults={
            "text_embedding": "https://api.openai.com/v1/embeddings",
            "completion": "https://api.openai.com/v1/chat/completions",
            "chat_completion": "https://api.openai.com/v1/chat/completions",
        },
        min_length=1,
        max_length=URL_MAX_LENGTH,
        extra={"format": "uri-reference"},
    ),
    Field(
        "service_settings.rate_limit",
        "object",
        f"{DOCS} (service_settings); {RATE_LIMIT_SETTINGS}",
        "The number of requests allowed per minute. Only `requests_per_minute` may be set.",
        since="8.15",
    ),
    Field(
        "service_settings.rate_limit.requests_per_minute",
        "integer",
        f"{DOCS} (rate_limit); a positive Java long: {RATE_LIMIT_SETTINGS}, {SERVICE_UTILS} "
        f"(extractOptionalPositiveLong); defaults: {BOTH_SETTINGS} (DEFAULT_RATE_LIMIT_SETTINGS)",
        "Requests allowed per minute. Defaults to 3000 for `text_embedding` and 500 for "
        "`completion` and `chat_completion`.",
        task_defaults={"text_embedding": 3000, "completion": 500, "chat_completion": 500},
        minimum=1,
        java="long",
        since="8.15",
    ),
    Field(
        "task_settings",
        "object",
        f"{DOCS} (request body); {ES_SERVER}ModelConfigurations.java (TASK_SETTINGS)",
        "Settings to configure the inference task, specific to the task type.",
    ),
    Field(
        "task_settings.user",
        "string",
        f"{DOCS} (task_settings); {TASK_SETTINGS} (user); {UNINDEXED}",
        "Specifies the user issuing the request, which can be used for abuse detection.",
        min_length=1,
        max_length=IDENTIFIER_MAX_LENGTH,
    ),
    Field(
        "task_settings.headers",
        "object",
        f"{TASK_SETTINGS} (headers, 9.2); {UNINDEXED}",
        "Custom HTTP headers sent with each request to OpenAI (name → value).",
        since="9.2",
        extra={
            "additionalProperties": {"type": "string", "maxLength": HEADER_VALUE_MAX_LENGTH},
            "propertyNames": {
                "type": "string",
                "minLength": 1,
                "maxLength": IDENTIFIER_MAX_LENGTH,
            },
        },
    ),
    Field(
        "chunking_settings",
        "object",
        f"{DOCS} (request body); text_embedding only: {OPENAI_SERVICE}; default: "
        f"{CHUNKING}ChunkingSettingsBuilder.java (DEFAULT_SETTINGS)",
        "Chunking configuration (text_embedding only). When omitted the server uses "
        "`{strategy: sentence, max_chunk_size: 250, sentence_overlap: 1}`. When any key is "
        "given, `strategy` is required and each strategy requires its own keys.",
        task_types=EMBEDDING,
        since="8.16",
    ),
    Field(
        "chunking_settings.strategy",
        "string",
        f"{DOCS} (chunking_settings); {CHUNKING}ChunkingSettingsBuilder.java (fromMap); "
        f"{ES_SERVER}ChunkingStrategy.java",
        "The chunking strategy: `sentence` or `word`; `none` and `recursive` since 9.1.",
        default="sentence",
        enum=("sentence", "word", "none", "recursive"),
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.max_chunk_size",
        "integer",
        f"{DOCS} (chunking_settings); Java int: {CHUNKING}"
        "SentenceBoundaryChunkingSettings.java, WordBoundaryChunkingSettings.java, "
        f"RecursiveChunkingSettings.java (fromMap), {SERVICE_UTILS} "
        "(extractRequiredPositiveIntegerBetween)",
        "The maximum size of a chunk in words. Defaults to 250. Required by the server for "
        "`sentence` (20–300), `word` (10–300) and `recursive` (10–300).",
        default=250,
        java="int",
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.overlap",
        "integer",
        f"{DOCS} (chunking_settings); Java int: {CHUNKING}"
        f"WordBoundaryChunkingSettings.java (fromMap), {SERVICE_UTILS} "
        "(extractRequiredPositiveIntegerLessThanOrEqualToMax)",
        "Only for `word`: the number of overlapping words for chunks, at most half of "
        "`max_chunk_size`. Defaults to 100 (documented), but required by the server.",
        default=100,
        java="int",
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.sentence_overlap",
        "integer",
        f"{DOCS} (chunking_settings); Java int: {CHUNKING}"
        "SentenceBoundaryChunkingSettings.java (fromMap: removeAsType(..., Integer.class, ...))",
        "Only for `sentence`: the number of overlapping sentences for chunks, 0 or 1. "
        "Defaults to 1.",
        default=1,
        java="int",
        task_types=EMBEDDING,
    ),
    Field(
        "chunking_settings.separators",
        "array",
        f"{CHUNKING}RecursiveChunkingSettings.java (fromMap); {UNINDEXED}",
        "Only for `recursive`: the separators (plain strings or regular expressions), in order. "
        "Give either `separators` or `separator_group`, not both.",
        task_types=EMBEDDING,
        since="9.1",
        extra={"items": {"type": "string", "maxLength": SEPARATOR_MAX_LENGTH}, "minItems": 1},
    ),
    Field(
        "chunking_settings.separator_group",
        "string",
        f"{CHUNKING}RecursiveChunkingSettings.java (fromMap), SeparatorGroup.java",
        "Only for `recursive`: a predefined separator list. The server expands it into "
        "`separators` and echoes those instead.",
        enum=("plaintext", "markdown"),
        task_types=EMBEDDING,
        since="9.1",
    ),
    Field(
        "reconcile",
        "object",
        RECONCILER,
        "Reconciler-only settings; never sent to Elasticsearch.",
    ),
    Field(
        "reconcile.protect",
        "boolean",
        RECONCILER,
        "Refuse to delete or replace this endpoint.",
        default=False,
    ),
    Field(
        "reconcile.key_rotation",
        "string",
        RECONCILER,
        "How a changed API key reaches the server: `auto` (update API where available, else "
        "recreate), `update` (always the update API, 8.17+), `recreate` (delete and create).",
        default="auto",
        enum=("auto", "update", "recreate"),
    ),
    Field(
        "reconcile.smoke",
        "object",
        RECONCILER,
        "The smoke-test inference run after apply.",
    ),
    Field(
        "reconcile.smoke.enabled",
        "boolean",
        RECONCILER,
        "Run a smoke-test inference after apply.",
        default=True,
    ),
    Field(
        "reconcile.smoke.input",
        "string",
        RECONCILER,
        "The input text of the smoke-test inference.",
        min_length=1,
        max_length=SMOKE_INPUT_MAX_LENGTH,
    ),
)

STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "sentence",
        {
            "max_chunk_size": Limit(True, 20, 300, note="the 300 bound is dropped in 9.2+"),
            "sentence_overlap": Limit(enum=(0, 1)),
        },
        f"{DOCS} (chunking_settings); {CHUNKING}SentenceBoundaryChunkingSettings.java (fromMap)",
    ),
    Strategy(
        "word",
        {
            "max_chunk_size": Limit(True, 10, 300),
            "overlap": Limit(True, 1, note="at most max_chunk_size / 2 (integer division)"),
        },
        f"{DOCS} (chunking_settings); {CHUNKING}WordBoundaryChunkingSettings.java (fromMap)",
        note="overlap ≤ max_chunk_size / 2 is checked by reconciler.schema (rule.overlap-max)",
    ),
    Strategy(
        "none",
        {},
        f"{CHUNKING}NoneChunkingSettings.java (fromMap)",
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
        f"{CHUNKING}RecursiveChunkingSettings.java (fromMap), SeparatorGroup.java",
        since="9.1",
        exclusive=("separators", "separator_group"),
        note="neither separators nor separator_group: the plaintext group is used",
    ),
)
