"""What the specification lacks or gets wrong: hand-kept rows, each citing its evidence.

The generated schemas come from `spec_facts.json` (the specification's facts, mechanically
extracted) corrected by the rows below. Every row names the service and the manifest path it
changes, says why, and cites its evidence (`evidence`, written into the field's `x-source`): an
upstream pull request or issue, a specification file, an Elasticsearch source class, or
upstream's own request example. Facts marked "(inferred)" are readings of the upstream code
that nobody upstream has stated.

Kinds of row:
- `Patch`: retype, (un)require, restrict to task types, bound, add or remove one field;
- `Secret`: a write-only path that must be a `${VAR}` reference (a `map` secret: every value);
- `Rule`: a cross-field rule JSON Schema cannot say precisely (`x-rules` in the schema; checked
  by `reconciler.schema`);
- `Chunking`: the task types that accept `chunking_settings`, where the prose is unreadable;
- `ELASTIC`: the `elastic` service (EIS), which has no request type in the specification.

Data only: `reconciler.services.build` applies the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.services.openai_fields import ES_INFERENCE, RATE_LIMIT_SETTINGS, SERVICE_UTILS

SPEC = "elastic/elasticsearch-specification"
PUT = f"{SPEC} specification/inference/"
SERVICES = f"{ES_INFERENCE}services/"
EXAMPLE = f"{SPEC} specification/inference/put_{{}}/examples/request/{{}}.yaml"

# --- row types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Patch:
    """One correction to one field of one service (`path` is dotted from the document root)."""

    service: str
    path: str
    why: str
    evidence: str
    type: Any = None
    """A spec-like type for the field: "string", "integer", "long", "float", "boolean",
    {"kind": "enum", "values": [...]}, {"kind": "map", ...}, {"kind": "object", "fields": {...}}."""
    required: bool | None = None
    task_types: tuple[str, ...] | None = None
    enum_by_task: Mapping[str, tuple[str, ...]] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    add: bool = False
    remove: bool = False
    description: str | None = None
    hint: str | None = None
    """A sentence appended to the field's description (what the reconciler adds)."""


@dataclass(frozen=True)
class Secret:
    """A write-only path: a `${VAR}` reference (`kind="map"`: a mapping whose every value is)."""

    service: str
    path: str
    evidence: str
    kind: str = "string"
    group: str | None = None
    """Secrets that authenticate together or instead of each other (a rotation unit)."""


@dataclass(frozen=True)
class Rule:
    """A cross-field rule over paths dotted from the document root.

    kinds: `one_of` (at least one present), `exclusive` (at most one), `together` (all or
    none), `required` (all), `forbidden` (none), `order` (value of the first ≤ the second),
    `disjoint_keys` (the two mappings share no key). It applies only for `task_types` (all when
    empty), only when `when` holds (`(path, values)`: the value at path is one of values, None
    standing for "absent"), and not when any path of `unless` is present.
    """

    service: str
    kind: str
    paths: tuple[str, ...]
    message: str
    evidence: str
    task_types: tuple[str, ...] = ()
    when: tuple[str, tuple[Any, ...]] | None = None
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunking:
    """The task types of a service that accept `chunking_settings`."""

    service: str
    task_types: tuple[str, ...]
    evidence: str


# --- secrets --------------------------------------------------------------------------------

DEFAULT_SECRET = f"{SERVICES}settings/DefaultSecretSettings.java (api_key)"
NOT_RETRIEVED = 'spec doc: "The get inference endpoint API does not retrieve your API key"'
API_KEY_SERVICES = (
    "ai21",
    "alibabacloud-ai-search",
    "anthropic",
    "azureaistudio",
    "cohere",
    "contextualai",
    "deepseek",
    "fireworksai",
    "googleaistudio",
    "groq",
    "hugging_face",
    "jinaai",
    "mistral",
    "nvidia",
    "openshift_ai",
    "watsonxai",
)

SECRETS: tuple[Secret, ...] = (
    Secret(
        "openai",
        "service_settings.api_key",
        f"{DEFAULT_SECRET}; the openai schema is the hand-kept table "
        "(reconciler.services.openai_fields)",
    ),
    *(
        Secret(name, "service_settings.api_key", f"{DEFAULT_SECRET}; {NOT_RETRIEVED}")
        for name in API_KEY_SERVICES
    ),
    Secret(
        "voyageai",
        "service_settings.api_key",
        f"{SERVICES}voyageai/VoyageAIService.java (parseRequestConfig passes the service "
        f"settings as the secret map; {DEFAULT_SECRET}) (inferred)",
    ),
    Secret(
        "llama",
        "service_settings.api_key",
        f"{DEFAULT_SECRET}; optional, and it cannot be added later by an update: "
        "elastic/elasticsearch#140888",
    ),
    *(
        Secret(
            name,
            f"service_settings.{key}",
            f"{SERVICES}amazonbedrock/AmazonBedrockSecretSettings.java ({key}); rotated "
            "together since elastic/elasticsearch#149628",
            group="aws",
        )
        for name in ("amazonbedrock", "amazon_sagemaker")
        for key in ("access_key", "secret_key")
    ),
    Secret(
        "googlevertexai",
        "service_settings.service_account_json",
        f"{SERVICES}googlevertexai/GoogleVertexAiSecretSettings.java (service_account_json: "
        "the whole service account JSON document as a string)",
    ),
    *(
        Secret(
            "azureopenai",
            f"service_settings.{key}",
            f'{SERVICES}azureopenai/AzureOpenAiSecretSettings.java ("must have either the '
            '[api_key] or the [entra_id] key set"); client_secret: spec AzureOpenAIServiceSettings '
            "(OAuth 2.0); one type per endpoint since elastic/elasticsearch#149628",
            group="azure-auth",
        )
        for key in ("api_key", "entra_id", "client_secret")
    ),
    Secret(
        "custom",
        "service_settings.secret_parameters",
        f"{SERVICES}custom/CustomSecretSettings.java (the whole secret_parameters map)",
        kind="map",
    ),
)

# --- field corrections ----------------------------------------------------------------------

POSITIVE_INT = (
    f"a positive Java int: {SERVICE_UTILS} (extractOptionalPositiveInteger), as for openai "
    "(inferred for this service: the same helper)"
)
TRUNCATE = ("END", "NONE", "START", "end", "none", "start")

PATCHES: tuple[Patch, ...] = (
    # -- spec errors
    Patch(
        "voyageai",
        "service_settings.api_key",
        "the spec has no api_key, but the server requires one",
        f"{SERVICES}voyageai/VoyageAIService.java (parseRequestConfig) (inferred)",
        type="string",
        required=True,
        add=True,
        description="A valid API key of your VoyageAI account. Never returned by the server.",
    ),
    Patch(
        "voyageai",
        "service_settings.embedding_type",
        "typed `float` in the spec; the field's own doc lists the string values",
        f'{PUT}_types/CommonTypes.ts (VoyageAIServiceSettings.embedding_type: "Permitted '
        'values: float, int8, bit")',
        type={"kind": "enum", "values": ["float", "int8", "bit"]},
    ),
    Patch(
        "azureaistudio",
        "task_settings.do_sample",
        "typed `float` in the spec; the server reads a boolean",
        f"{SERVICES}azureaistudio/completion/AzureAiStudioChatCompletionRequestTaskSettings.java "
        "(extractOptionalBoolean(map, DO_SAMPLE_FIELD, ...))",
        type="boolean",
    ),
    Patch(
        "cohere",
        "task_settings.input_type",
        "marked required in the spec; optional on the server (the spec's own rerank example "
        "sends none)",
        f"{SERVICES}cohere/embeddings/CohereEmbeddingsTaskSettings.java "
        "(optionalConstructorArg); " + EXAMPLE.format("cohere", "PutCohereRequestExample2"),
        required=False,
    ),
    Patch(
        "amazonbedrock",
        "service_settings.provider",
        "optional and untyped in the spec; the server requires one of the providers its doc "
        "lists, each for some task types",
        f"{SERVICES}amazonbedrock/AmazonBedrockServiceSettings.java (extractRequiredEnum(map, "
        "PROVIDER_FIELD, ..., AmazonBedrockProvider::fromString, ...)); task types per "
        f"provider: {PUT}_types/AmazonBedrockTypes.ts (AmazonBedrockServiceSettings.provider)",
        required=True,
        enum_by_task={
            "text_embedding": ("amazontitan", "cohere"),
            "completion": ("amazontitan", "anthropic", "ai21labs", "cohere", "meta", "mistral"),
            # the doc leaves amazontitan out of chat_completion; upstream's own chat example
            # uses it (PutAmazonBedrockRequestExample3), so it is accepted
            "chat_completion": (
                "amazontitan",
                "anthropic",
                "ai21labs",
                "cohere",
                "meta",
                "mistral",
            ),
        },
        hint="Elasticsearch accepts any case and answers in upper case; write it in lower case.",
    ),
    Patch(
        "custom",
        "service_settings.request",
        "the spec types it as an object {content}; the server and every upstream example take "
        "the request body template as a string",
        EXAMPLE.format("custom", "PutCustomRequestExample1") + " (and Examples 2-5)",
        type="string",
        max_length=65536,
        description=(
            "The request body template sent to the custom service, a string (for example "
            '`{"input": ${input}}`). `${...}` placeholders are filled in by Elasticsearch; '
            "they are not secrets."
        ),
    ),
    Patch(
        "custom",
        "service_settings.input_type",
        "the spec types it as a map of input types; the server and the upstream example take "
        "{translation: {input type: value}, default: value}",
        EXAMPLE.format("custom", "PutCustomRequestExample3"),
        type={
            "kind": "object",
            "fields": {
                "translation": {
                    "kind": "map",
                    "key": {
                        "kind": "enum",
                        "values": ["classification", "clustering", "ingest", "search"],
                    },
                    "value": "string",
                },
                "default": "string",
            },
        },
    ),
    Patch(
        "elasticsearch",
        "service_settings.model_id",
        "required in the spec; optional when `deployment_id` names an existing deployment",
        EXAMPLE.format("elasticsearch", "PutElasticsearchRequestExample6")
        + "; elastic/elasticsearch PR #114750 (deployment_id)",
        required=False,
    ),
    Patch(
        "elasticsearch",
        "service_settings.num_threads",
        "required in the spec; copied from the deployment when `deployment_id` is given; a "
        "power of 2 up to 32 (the field's own doc)",
        EXAMPLE.format("elasticsearch", "PutElasticsearchRequestExample6")
        + f'; {PUT}_types/CommonTypes.ts (ElasticsearchServiceSettings.num_threads: "must be '
        'a power of 2. The maximum value is 32")',
        required=False,
        type={"kind": "enum", "values": [1, 2, 4, 8, 16, 32]},
    ),
    Patch(
        "elasticsearch",
        "service_settings.num_allocations",
        "a positive integer",
        f"{SERVICES}elasticsearch/ElasticsearchInternalServiceSettings.java "
        "(extractOptionalPositiveInteger)",
        minimum=1,
    ),
    Patch(
        "elser",
        "service_settings.num_allocations",
        "required in the spec; `adaptive_allocations` may stand instead",
        EXAMPLE.format("elser", "PutElserRequestExample2")
        + f"; {SERVICES}elasticsearch/ElasticsearchInternalServiceSettings.java (fromMap: "
        "missingOneOfSettingsErrorMsg(NUM_ALLOCATIONS, ADAPTIVE_ALLOCATIONS))",
        required=False,
        minimum=1,
    ),
    Patch(
        "elser",
        "service_settings.num_threads",
        "a power of 2 up to 32 (the field's own doc)",
        f"{PUT}_types/CommonTypes.ts (ElserServiceSettings.num_threads)",
        type={"kind": "enum", "values": [1, 2, 4, 8, 16, 32]},
    ),
    *(
        Patch(
            name,
            "service_settings.adaptive_allocations.min_number_of_allocations",
            "at least 0 (the field's own doc)",
            f"{PUT}_types/CommonTypes.ts (AdaptiveAllocations.min_number_of_allocations: "
            '"must be greater than or equal to 0")',
            minimum=0,
        )
        for name in ("elasticsearch", "elser")
    ),
    *(
        Patch(
            name,
            "service_settings.adaptive_allocations.max_number_of_allocations",
            "a positive integer",
            f"{PUT}_types/CommonTypes.ts (AdaptiveAllocations.max_number_of_allocations)",
            minimum=1,
        )
        for name in ("elasticsearch", "elser")
    ),
    Patch(
        "nvidia",
        "task_settings.truncate",
        "the spec's enum is upper case; the server reads any case (the spec's own example "
        "sends `start`)",
        EXAMPLE.format("nvidia", "PutNvidiaRequestExample2") + " (inferred)",
        type={"kind": "enum", "values": list(TRUNCATE)},
    ),
    Patch(
        "cohere",
        "task_settings.truncate",
        "the spec's enum is upper case; the server reads any case",
        f"{SERVICES}cohere/CohereTruncation.java (fromString: toUpperCase) (inferred)",
        type={"kind": "enum", "values": list(TRUNCATE)},
    ),
    Patch(
        "llama",
        "service_settings.api_key",
        "missing from the spec; an optional secret",
        "elastic/elasticsearch#140888",
        type="string",
        add=True,
        description="An API key, when the Llama Stack endpoint needs one. Never returned.",
    ),
    Patch(
        "llama",
        "service_settings.dimensions",
        "missing from the spec; sent by upstream's own text_embedding example",
        EXAMPLE.format("llama", "PutLlamaRequestExample1") + " (inferred)",
        type="integer",
        add=True,
        task_types=("text_embedding",),
        minimum=1,
        description="The number of dimensions of the embeddings.",
    ),
    # -- prose scoping the extractor cannot read, or reads too widely
    Patch(
        "elastic",
        "service_settings.rate_limit",
        "EIS rate limiting is off for embeddings and rerank: their settings keep "
        "`RateLimitSettings.DISABLED_INSTANCE` (written nothing on GET) and newer code refuses "
        "the field (`declareUnsupportedRateLimitField`); completion and chat keep 240",
        "elastic/elasticsearch x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/"
        "inference/services/elastic/sparseembeddings/"
        "ElasticInferenceServiceSparseEmbeddingsServiceSettings.java (transport version "
        "INFERENCE_API_DISABLE_EIS_RATE_LIMITING)",
        task_types=("completion", "chat_completion"),
    ),
    Patch(
        "jinaai",
        "task_settings.input_type",
        "the prose scopes it to embedding tasks",
        f"{PUT}_types/CommonTypes.ts (JinaAITaskSettings.input_type)",
        task_types=("embedding", "text_embedding"),
    ),
    Patch(
        "googlevertexai",
        "service_settings.provider",
        'only for completion and chat_completion (its doc: "for `completion` and '
        '`chat_completion` tasks")',
        f"{PUT}_types/CommonTypes.ts (GoogleVertexAIServiceSettings.provider)",
        task_types=("completion", "chat_completion"),
    ),
    *(
        Patch(
            "googlevertexai",
            f"service_settings.{key}",
            "only for a Google Model Garden provider (completion and chat_completion)",
            f"{PUT}_types/CommonTypes.ts (GoogleVertexAIServiceSettings.{key})",
            task_types=("completion", "chat_completion"),
        )
        for key in ("url", "streaming_url")
    ),
    # -- integers the spec leaves unbounded below
    *(
        Patch(name, f"service_settings.{key}", "a positive integer", POSITIVE_INT, minimum=1)
        for name, key in (
            ("amazon_sagemaker", "dimensions"),
            ("fireworksai", "dimensions"),
            ("googlevertexai", "dimensions"),
            ("jinaai", "dimensions"),
            ("voyageai", "dimensions"),
            ("llama", "max_input_tokens"),
            ("mistral", "max_input_tokens"),
            ("nvidia", "max_input_tokens"),
            ("openshift_ai", "max_input_tokens"),
        )
    ),
)

# --- chunking -------------------------------------------------------------------------------

CHUNKING: tuple[Chunking, ...] = (
    Chunking(
        "jinaai",
        ("embedding", "text_embedding"),
        f'{PUT}put_jinaai/PutJinaAiRequest.ts (chunking_settings: "Applies only to the '
        '`embedding` and text_embedding` task types", a missing backtick)',
    ),
    Chunking(
        "elser",
        ("sparse_embedding",),
        f"{PUT}put_elser/PutElserRequest.ts (chunking_settings; the service's only task type)",
    ),
)

# --- cross-field rules ----------------------------------------------------------------------

AZURE_AUTH = (
    f'{PUT}_types/CommonTypes.ts (AzureOpenAIServiceSettings.api_key: "You must specify '
    "either `api_key`, `entra_id`, or `client_secret`. If you do not provide one or you provide "
    f'more than one of them, you will receive an error"); {SERVICES}azureopenai/'
    "AzureOpenAiSecretSettings.java"
)
AZURE_OAUTH = (
    f'{PUT}_types/CommonTypes.ts (AzureOpenAIServiceSettings.client_id: "To configure OAuth '
    '2.0, you must specify `client_id`, `scopes`, `tenant_id`, and `client_secret` together")'
)
ES_SETTINGS = f"{SERVICES}elasticsearch/ElasticsearchInternalServiceSettings.java (fromMap)"
ALLOCATIONS = (
    f"{ES_SETTINGS}: missingOneOfSettingsErrorMsg(NUM_ALLOCATIONS, ADAPTIVE_ALLOCATIONS), "
    '"[num_allocations] cannot be set if [adaptive_allocations] is set"; '
    "elastic/elasticsearch#137127"
)
VERTEX = f"{PUT}_types/CommonTypes.ts (GoogleVertexAIServiceSettings.provider, url, model_id)"
GARDEN = ("anthropic", "meta", "hugging_face", "mistral", "ai21")

RULES: tuple[Rule, ...] = (
    Rule(
        "azureopenai",
        "one_of",
        ("service_settings.api_key", "service_settings.entra_id", "service_settings.client_secret"),
        "give one of `api_key`, `entra_id` or `client_secret` (a ${VAR} reference)",
        AZURE_AUTH,
    ),
    Rule(
        "azureopenai",
        "exclusive",
        ("service_settings.api_key", "service_settings.entra_id", "service_settings.client_secret"),
        "give only one of `api_key`, `entra_id` or `client_secret`",
        AZURE_AUTH,
    ),
    Rule(
        "azureopenai",
        "together",
        (
            "service_settings.client_id",
            "service_settings.scopes",
            "service_settings.tenant_id",
            "service_settings.client_secret",
        ),
        "OAuth 2.0 needs `client_id`, `scopes`, `tenant_id` and `client_secret` together",
        AZURE_OAUTH,
    ),
    Rule(
        "elasticsearch",
        "one_of",
        ("service_settings.model_id", "service_settings.deployment_id"),
        "give `model_id` (or `deployment_id` to use an existing deployment)",
        f'{PUT}_types/CommonTypes.ts (ElasticsearchServiceSettings.deployment_id: "When '
        '`deployment_id` is used the `model_id` is optional"); elastic/elasticsearch PR #114750',
    ),
    Rule(
        "elasticsearch",
        "one_of",
        ("service_settings.num_threads",),
        "`num_threads` is required unless `deployment_id` names an existing deployment",
        f"{ES_SETTINGS} (extractRequiredPositiveInteger(NUM_THREADS)); "
        + EXAMPLE.format("elasticsearch", "PutElasticsearchRequestExample6"),
        unless=("service_settings.deployment_id",),
    ),
    *(
        Rule(
            name,
            "one_of",
            ("service_settings.num_allocations", "service_settings.adaptive_allocations"),
            "give `num_allocations` or `adaptive_allocations`",
            ALLOCATIONS,
            unless=("service_settings.deployment_id",) if name == "elasticsearch" else (),
        )
        for name in ("elasticsearch", "elser")
    ),
    *(
        Rule(
            name,
            "exclusive",
            ("service_settings.num_allocations", "service_settings.adaptive_allocations"),
            "give either `num_allocations` or `adaptive_allocations`, not both",
            ALLOCATIONS,
        )
        for name in ("elasticsearch", "elser")
    ),
    *(
        Rule(
            name,
            "order",
            (
                "service_settings.adaptive_allocations.min_number_of_allocations",
                "service_settings.adaptive_allocations.max_number_of_allocations",
            ),
            "`max_number_of_allocations` must be at least `min_number_of_allocations`",
            f'{PUT}_types/CommonTypes.ts (AdaptiveAllocations.max_number_of_allocations: "it '
            'must be greater than or equal to `min_number_of_allocations`")',
        )
        for name in ("elasticsearch", "elser")
    ),
    Rule(
        "googlevertexai",
        "one_of",
        ("service_settings.url", "service_settings.streaming_url"),
        "a Google Model Garden provider needs `url` or `streaming_url`",
        VERTEX,
        task_types=("completion", "chat_completion"),
        when=("service_settings.provider", GARDEN),
    ),
    Rule(
        "googlevertexai",
        "forbidden",
        ("service_settings.url", "service_settings.streaming_url"),
        "Google Vertex AI (no `provider`, or `google`) builds its own URL: remove it",
        VERTEX,
        task_types=("completion", "chat_completion"),
        when=("service_settings.provider", (None, "google")),
    ),
    Rule(
        "googlevertexai",
        "required",
        ("service_settings.project_id",),
        "Google Vertex AI needs `project_id`",
        VERTEX + ' ("For Google Vertex AI `project_id` is mandatory")',
        when=("service_settings.provider", (None, "google")),
    ),
    Rule(
        "googlevertexai",
        "required",
        ("service_settings.model_id",),
        "Google Vertex AI needs `model_id`",
        VERTEX
        + ' ("For Google Vertex AI `model_id` is mandatory"); not for rerank: '
        + EXAMPLE.format("googlevertexai", "PutGoogleVertexAiRequestExample2"),
        task_types=("text_embedding", "completion", "chat_completion"),
        when=("service_settings.provider", (None, "google")),
    ),
    Rule(
        "custom",
        "disjoint_keys",
        ("service_settings.secret_parameters", "task_settings.parameters"),
        "`task_settings.parameters` may not repeat a key of `secret_parameters`",
        f"{PUT}_types/CommonTypes.ts (CustomTaskSettings.parameters); elastic/elasticsearch "
        "PR #153309",
    ),
    # `similarity` carries the same sentence, but upstream's own example leaves it out
    # (PutAmazonSageMakerRequestExample1): only `element_type` is enforced
    Rule(
        "amazon_sagemaker",
        "required",
        ("service_settings.element_type",),
        "`element_type` is required when `api` is `elastic` for text_embedding",
        f'{PUT}_types/CommonTypes.ts (AmazonSageMakerServiceSettings.element_type: "Required '
        'when `api` is `elastic` and task type is `text_embedding`")',
        task_types=("text_embedding",),
        when=("service_settings.api", ("elastic",)),
    ),
)

# --- the `elastic` service (EIS): no request type in the specification ----------------------

EIS_DOCS = (
    "Elasticsearch docs, Elastic Inference Service "
    "(https://www.elastic.co/guide/en/elasticsearch/reference/current/infer-service-elastic.html)"
)


@dataclass(frozen=True)
class HandService:
    """A service written by hand from its documentation (no `put_<service>` in the spec)."""

    name: str
    task_types: Mapping[str, str | None]
    service_settings: Mapping[str, Any]
    required: tuple[str, ...]
    chunking: tuple[str, ...]
    evidence: str
    rate_limit: Mapping[str, int] = field(default_factory=dict)


ELASTIC = HandService(
    "elastic",
    {
        "sparse_embedding": "8.18",
        "chat_completion": "8.18",
        "text_embedding": None,
        "rerank": None,
        "completion": None,
        "embedding": None,
    },
    {
        "model_id": {
            "type": "string",
            "doc": "The name of the model to use for the inference task (an EIS model id, for "
            "example `elser_model_2` or `jina-embeddings-v5-omni-small`).",
        },
        "rate_limit": {
            "type": {"kind": "object", "class": "RateLimitSetting"},
            "doc": "By default, the `elastic` service sets the number of requests allowed per "
            "minute to `240` for `chat_completion` and `completion`; the other task types are "
            "not rate limited.",
        },
    },
    ("model_id",),
    ("sparse_embedding", "text_embedding", "embedding"),
    f"{EIS_DOCS}; the put type was removed from the spec by elastic/elasticsearch-specification "
    "PR #4212; `embedding` task: elastic/elasticsearch PR #154174 (docs: "
    '`{"service":"elastic","service_settings":{"model_id":"jina-embeddings-v5-omni-small"}}`); '
    "task types: elastic/docs-content#5166",
    {"chat_completion": 240, "completion": 240},
)

RATE_LIMIT_MINIMUM = (
    f"a positive Java long: {RATE_LIMIT_SETTINGS}, {SERVICE_UTILS} (extractOptionalPositiveLong)"
)
