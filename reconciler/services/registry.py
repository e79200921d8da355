"""Every Elasticsearch inference service the manifest accepts: one descriptor each, data only.

A descriptor says what the rest of the tool needs to know about a service without reading a
schema: its name, its task types and the first release of each, its tier, where its schema
comes from, its secret paths, whether `plan`/`apply` manage it yet, and how the server treats
its endpoints (`Service.facts`, the kinds in `reconciler.services.facts`): the paths GET fills
in and with what, the named normalizers, the dynamic paths never diffed, the hidden-but-stored
paths, and what `_update` changes per release. Every fact cites its upstream evidence; a
full-tier descriptor with no fact of a kind says why (`ServiceFacts.none`), and what the
evidence leaves open is in `ServiceFacts.gaps`. The schema generator (`reconciler.schema.gen`,
rate-limit defaults included), validation (`reconciler.schema`, `reconciler.checks`), the
plan/apply guard (`reconciler.pipeline`) and openai's plan/apply tables (`reconciler.defaults`,
a thin reader of the openai descriptor) all read it from here. What each task type returns and
how it is smoke-checked is in `reconciler.services.task_types`.

Adding a service is one descriptor in this file plus its tests: `_service(...)` with its name,
tier, first release and task types, and, for the full tier, a `ServiceFacts` block (or, for
the generic tier, `rpm=`, the specification's rate-limit default); then
`tests/unit/test_services_facts.py` and `tests/unit/test_services.py` check it against the
specification's facts. Two things still live beside it, both data: the service's secret paths
(`overlay.SECRETS`, an `API_KEY_SERVICES` entry for a plain `api_key`) and overlay rows where
the specification is wrong (`overlay.PATCHES`/`RULES`); `spec_facts.json` and the schemas are
generated (`python -m reconciler.services.spec_extract`, `python -m reconciler.schema.gen`).

Tiers:
- `full`: reviewed field by field (overlay rows for what the specification gets wrong), an
  example manifest in `examples/services/`, invalid-corpus cases, and managed by plan/apply
  (`managed`): diffed, updated or replaced, rotated and smoke-tested from its facts.
- `generic`: validated by its generated schema with its secrets declared; any change to a
  non-secret setting will mean replacing the endpoint (no update table yet).

Task-type releases: for `openai`, the Elasticsearch release that added the task type; for the
others, the first branch of the API specification that lists it (the per-service request types
start on branch 8.18, so "8.18" there means "8.18 or earlier"); None where no source says.
The service's own first release (`since`) is the specification's `@availability stack since`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from reconciler.model import TASK_TYPES as OPENAI_TASK_TYPES
from reconciler.services.facts import (
    CHUNKING,
    CHUNKING_SOURCE,
    DEFAULT_CHUNKING,
    DIMENSIONS,
    EMBEDDING_DETAILS,
    MERGE,
    RATE_LIMIT,
    RATE_LIMIT_EVIDENCE,
    SIMILARITY,
    SIMILARITY_ENUM,
    Dynamic,
    Filled,
    Hidden,
    Normalizer,
    Release,
    ServiceFacts,
    UpdatePath,
    UpdateStep,
)
from reconciler.services.facts import REPLACE as REPLACED
from reconciler.services.openai_fields import ES_INFERENCE
from reconciler.services.openai_fields import TASK_SINCE as OPENAI_TASK_SINCE
from reconciler.services.overlay import ELASTIC, SECRETS

TASK_ORDER: tuple[str, ...] = (
    "text_embedding",
    "sparse_embedding",
    "rerank",
    "completion",
    "chat_completion",
    "embedding",
)
"""Every task type of any service, in the order messages list them."""


class Tier(StrEnum):
    FULL = "full"
    GENERIC = "generic"


class Source(StrEnum):
    TABLE = "table"  # reconciler.services.openai_fields, the hand-kept openai table
    SPEC = "spec"  # spec_facts.json + overlay rows
    HAND = "hand"  # overlay.HandService (no request type in the specification)


REPLACE = "replace on any non-secret change"
OPENAI_UPDATES = "per-release update table (its descriptor's facts; planned by reconciler.defaults)"


@dataclass(frozen=True)
class SecretField:
    """A write-only manifest path holding a `${VAR}` reference (`map`: every value does)."""

    path: str
    kind: str = "string"
    group: str | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


@dataclass(frozen=True)
class Service:
    """One inference service as the manifest knows it."""

    name: str
    tier: Tier
    task_types: Mapping[str, str | None]
    since: str | None
    source: Source = Source.SPEC
    replaced_by: str | None = None
    """A deprecated alias: validated, with a warning naming this service instead."""
    deprecation: str | None = None
    updates: str = REPLACE
    facts: ServiceFacts = field(default_factory=ServiceFacts)
    """How the server treats its endpoints: filled defaults, normalizers, dynamic and hidden
    paths, what `_update` changes per release (`reconciler.services.facts`)."""

    @property
    def managed(self) -> bool:
        """Planned and applied by `plan`/`apply`: the full tier; the others are validated only."""
        return self.tier is Tier.FULL

    @property
    def secrets(self) -> tuple[SecretField, ...]:
        return _SECRETS.get(self.name, ())

    def offers(self, task_type: object) -> bool:
        return isinstance(task_type, str) and task_type in self.task_types

    @property
    def ordered_task_types(self) -> tuple[str, ...]:
        return tuple(t for t in TASK_ORDER if t in self.task_types)


_SECRETS: dict[str, tuple[SecretField, ...]] = {}
for _row in SECRETS:
    _SECRETS.setdefault(_row.service, ())
    _SECRETS[_row.service] += (SecretField(_row.path, _row.kind, _row.group),)

B818 = "8.18"


# --- what the server does with each service's endpoints (reconciler.services.facts) ---------

SVC = f"{ES_INFERENCE}services/"
SPEC_SERVICES = "elastic/elasticsearch-specification specification/inference/_types/Services.ts"
SPEC_RATE_LIMITS = f"{SPEC_SERVICES} (RateLimitSetting doc: the per-service defaults)"
TASK_SETTINGS_MERGED = (
    "elastic/elasticsearch PR #114457 (the update API, 8.17): secrets and task_settings, merged "
    "through `updatedTaskSettings`; other service settings silently ignored"
)
CHUNKING_REPLACED = (
    "elastic/elasticsearch PR #149723: `_update` takes `chunking_settings` and replaces them whole"
)
NEWEST_SETTINGS_UPDATE = (
    "`ServiceSettings.updateServiceSettings` implemented per service (elastic/elasticsearch "
    "#147465 for openai, the same generation for the others; parser-based services reject "
    "unconsumed keys: `validateConsumedUpdateSettings`)"
)
SAME_GENERATION = (
    "merged with openai's #147465 generation (April-May 2026, after the 9.4 branch point): 9.5.0 "
    "is taken as the first release; were it later, the read-back after `_update` reports the "
    "change as not taken, and nothing is lost"
)
NOT_UPDATABLE_817 = "8.17–9.4 update API changes only the secrets and task_settings"
NO_DYNAMIC = "no path of its endpoints changes by itself (nothing overwritten on GET)"
NO_HIDDEN = (
    "GET withholds nothing it stores but the secrets and internal flags that are no manifest path "
    "(`dimensions_set_by_user`)"
)


def _rate_limits(
    evidence: str, by_task: Mapping[int, tuple[str, ...]], since: Release | None = (8, 15)
) -> tuple[Filled, ...]:
    return tuple(
        Filled(RATE_LIMIT, rpm, evidence, task_types, since=since)
        for rpm, task_types in by_task.items()
    )


def _chunking(task_types: tuple[str, ...]) -> Filled:
    return Filled(
        CHUNKING,
        DEFAULT_CHUNKING,
        f"{CHUNKING_SOURCE} (DEFAULT_SETTINGS when absent or empty; OLD_DEFAULT_SETTINGS, "
        "word/250/100, for endpoints created before 8.16)",
        task_types,
        since=(8, 16),
    )


def _lower_similarity(task_types: tuple[str, ...]) -> Normalizer:
    return Normalizer("lower_similarity", SIMILARITY, SIMILARITY_ENUM, task_types=task_types)


def _base_updates(since: Release = (8, 17), note: str = NOT_UPDATABLE_817) -> UpdateStep:
    return UpdateStep(since, (UpdatePath("task_settings", MERGE),), note, TASK_SETTINGS_MERGED)


def _newest_updates(note: str, *more: UpdatePath, evidence: str = "") -> UpdateStep:
    return UpdateStep(
        (9, 5),
        (UpdatePath("task_settings", MERGE), *more, UpdatePath(CHUNKING, REPLACED)),
        note,
        "; ".join(x for x in (evidence, NEWEST_SETTINGS_UPDATE, CHUNKING_REPLACED) if x),
        assumed=SAME_GENERATION,
    )


# openai: the facts plan/apply use today (reconciler.defaults reads them from here).
OPENAI_SVC = f"{SVC}openai/"
OPENAI_FACTS = ServiceFacts(
    filled=(
        *_rate_limits(
            f"{RATE_LIMIT_EVIDENCE}; {OPENAI_SVC}embeddings/OpenAiEmbeddingsServiceSettings.java, "
            f"{OPENAI_SVC}completion/OpenAiChatCompletionServiceSettings.java "
            "(DEFAULT_RATE_LIMIT_SETTINGS; since 8.15, ML_INFERENCE_RATE_LIMIT_SETTINGS_ADDED)",
            {3000: ("text_embedding",), 500: ("completion", "chat_completion")},
        ),
        Filled(SIMILARITY, "dot_product", EMBEDDING_DETAILS, ("text_embedding",)),
        Filled(
            DIMENSIONS,
            None,
            f"{EMBEDDING_DETAILS}; the lengths OpenAI's models return when `dimensions` is unset "
            "(https://platform.openai.com/docs/guides/embeddings); any other model: whatever "
            "the upstream returned, unknown at plan time",
            ("text_embedding",),
            by_model=MappingProxyType(
                {
                    "text-embedding-3-small": 1536,
                    "text-embedding-3-large": 3072,
                    "text-embedding-ada-002": 1536,
                }
            ),
        ),
        _chunking(("text_embedding",)),
    ),
    normalizers=(
        _lower_similarity(("text_embedding",)),
        Normalizer(
            "move_legacy_model_id",
            "task_settings.model_id",
            f"{OPENAI_SVC}OpenAiService.java (moveModelFromTaskToServiceSettings: a "
            "task_settings `model`/`model_id` moves to service_settings.model_id)",
        ),
        Normalizer(
            "drop_default_url",
            "service_settings.url",
            "https://www.elastic.co/guide/en/elasticsearch/reference/current/"
            "infer-service-openai.html (the URL used when `url` is unset; never stored, never "
            "echoed: the service settings keep null and the model computes the URI)",
            table=MappingProxyType(
                {
                    "text_embedding": "https://api.openai.com/v1/embeddings",
                    "completion": "https://api.openai.com/v1/chat/completions",
                    "chat_completion": "https://api.openai.com/v1/chat/completions",
                }
            ),
        ),
    ),
    updates=(
        _base_updates(note="8.17–9.4 update API changes only api_key and task_settings"),
        UpdateStep(
            (9, 5),
            (
                UpdatePath("task_settings", MERGE),
                UpdatePath("service_settings.rate_limit", MERGE),
                UpdatePath("service_settings.organization_id", MERGE),
                UpdatePath("service_settings.max_input_tokens", MERGE),
                UpdatePath(CHUNKING, REPLACED),
            ),
            "the 9.5+ update API changes only api_key, task_settings, rate_limit, "
            "organization_id, max_input_tokens and chunking_settings",
            "`ServiceSettings.updateServiceSettings`, `OpenAiTaskSettings.updatedTaskSettings`; "
            "8.17-9.4: only task_settings, merged (other service-settings keys silently ignored, "
            "`chunking_settings` refused by `UpdateInferenceModelAction.Request`); 9.5: also "
            "rate_limit, organization_id, max_input_tokens (elastic/elasticsearch#147465) and "
            "chunking_settings replaced whole (elastic/elasticsearch#149723); unknown keys "
            "refused from then on (elastic/elasticsearch#149430)",
            assumed=(
                "none of the three has a changelog entry: merged April-May 2026, after the 9.4 "
                "branch point, and elastic/elasticsearch-specification documents the update "
                "body's new fields from its 9.5 branch, so 9.5.0 is taken as the first release; "
                "were it later, the read-back reports the change as not taken"
            ),
        ),
    ),
    none=MappingProxyType(
        {
            "dynamic": NO_DYNAMIC,
            "hidden": "the default `url` is never stored, not hidden (normalizer "
            "drop_default_url); " + NO_HIDDEN,
        }
    ),
)

# elasticsearch (and its deprecated alias elser): models deployed on the cluster's ML nodes.
ES_SVC = f"{SVC}elasticsearch/"
IN_CLUSTER: tuple[str, ...] = ("elasticsearch", "elser")
"""The services whose endpoints run a trained-model deployment on the cluster's ML nodes
(`TransportUpdateInferenceModelAction.isInClusterService`): a create starts it, and only the
endpoint that created it may change its allocations."""

IN_CLUSTER_UPDATE = (
    "elastic/elasticsearch PR #114457 (`TransportUpdateInferenceModelAction`: in-cluster "
    "services, `isInClusterService`: elasticsearch or elser, can have num_allocations updated, "
    "through `UpdateTrainedModelDeploymentAction`; 409 INFERENCE_REFERENCE_CANNOT_UPDATE_ANOTHER_"
    "ENDPOINT / INFERENCE_CAN_ONLY_UPDATE_MODELS_IT_CREATED unless the endpoint created the "
    f"deployment); {TASK_SETTINGS_MERGED}"
)


def _in_cluster_facts(task_types: tuple[str, ...]) -> ServiceFacts:
    chunked = tuple(t for t in task_types if t in ("text_embedding", "sparse_embedding"))
    return ServiceFacts(
        filled=(
            Filled(
                "service_settings.model_id",
                None,
                f"{ES_SVC}ElasticsearchInternalService.java "
                "(selectDefaultModelVariantBasedOnClusterArchitecture: the platform variant, "
                "`.elser_model_2_linux-x86_64`, on homogeneous linux-x86_64 clusters)",
                task_types,
                when="model_id omitted",
            ),
            *(
                Filled(
                    f"service_settings.{name}",
                    None,
                    f"{ES_SVC}ElasticsearchInternalService.java (validateAgainstDeployment: "
                    "copied from the existing deployment); elastic/elasticsearch PR #114750",
                    task_types,
                    when="deployment_id set",
                    requires="service_settings.deployment_id",
                )
                for name in ("num_threads", "num_allocations", "adaptive_allocations")
            ),
            *(
                Filled(
                    path,
                    None,
                    f"{EMBEDDING_DETAILS}; taken as chosen by the server (never diffed unless "
                    "declared): the in-cluster model's own values are not read",
                    ("text_embedding",),
                )
                for path in (SIMILARITY, DIMENSIONS)
                if "text_embedding" in task_types
            ),
            _chunking(chunked),
            *(
                (
                    Filled(
                        "task_settings.return_documents",
                        True,
                        f"{ES_SVC}CustomElandRerankTaskSettings.java (defaultsFromMap: TRUE for "
                        "a missing map or key; the constructor never leaves it null and "
                        "toXContent always writes it)",
                        ("rerank",),
                    ),
                )
                if "rerank" in task_types
                else ()
            ),
        ),
        dynamic=(
            Dynamic(
                "service_settings.num_allocations",
                "adaptive_allocations.enabled is true, or the deployment is shared "
                "(deployment_id set)",
                f"{ES_SVC}ElasticsearchInternalService.java (updateModelsWithDynamicFields → "
                "GetDeploymentStatsAction → model.updateServiceSettings(deploymentStats), on "
                'every GET); elastic/elasticsearch PR #115233 ("num_allocations": 3, <-- this '
                "field is dynamic)",
            ),
        ),
        updates=(
            UpdateStep(
                (8, 17),
                (
                    UpdatePath("task_settings", MERGE),
                    UpdatePath("service_settings.num_allocations", MERGE),
                ),
                "8.17–9.4 update API changes only task_settings and num_allocations (of a "
                "deployment the endpoint created)",
                IN_CLUSTER_UPDATE,
            ),
            _newest_updates(
                "the 9.5+ update API changes only task_settings, num_allocations or "
                "adaptive_allocations (of a deployment the endpoint created) and "
                "chunking_settings",
                UpdatePath("service_settings.num_allocations", MERGE),
                UpdatePath("service_settings.adaptive_allocations", REPLACED),
                evidence=(
                    f"{ES_SVC}ElasticsearchInternalServiceSettings.java (Update: only the "
                    "allocation settings are mutable, `[num_threads] cannot be updated`, "
                    "num_allocations XOR adaptive_allocations, the other nulled); "
                    "`TransportUpdateInferenceModelAction` (setAdaptiveAllocationsSettings)"
                ),
            ),
        ),
        none=MappingProxyType(
            {
                "normalizers": "none known: its settings are echoed as sent (model_id and the "
                "deployment settings are filled, see `filled`)",
                "hidden": NO_HIDDEN,
            }
        ),
        gaps=(
            "the release that first updates adaptive_allocations in place (a later version of "
            "TransportUpdateInferenceModelAction) is undated: taken as 9.5 (before it, a "
            "replace)",
            "text_embedding similarity/dimensions of an in-cluster model: not read, so taken as "
            "chosen by the server (never diffed unless the manifest declares them)",
            "default endpoints (ids starting with `.`) cannot be updated: not a table row",
        ),
    )


ELASTICSEARCH_FACTS = _in_cluster_facts(("text_embedding", "sparse_embedding", "rerank"))
ELSER_FACTS = _in_cluster_facts(("sparse_embedding",))

# elastic (EIS): cluster-level authorisation, no request type in the specification.
ELASTIC_FACTS = ServiceFacts(
    filled=(
        *_rate_limits(
            f"{SPEC_RATE_LIMITS} (elastic: 240 for chat_completion); {ES_INFERENCE}services/"
            "elastic/completion/ElasticInferenceServiceCompletionServiceSettings.java. Not "
            "sparse_embedding, whatever the EIS docs say (1000): "
            "ElasticInferenceServiceSparseEmbeddingsServiceSettings keeps "
            "`RateLimitSettings.DISABLED_INSTANCE`, whose toXContent writes nothing, and newer "
            "code refuses the field (`declareUnsupportedRateLimitField`, transport version "
            "INFERENCE_API_DISABLE_EIS_RATE_LIMITING)",
            {240: tuple(t for t, rpm in ELASTIC.rate_limit.items() if rpm == 240)},
            since=None,
        ),
        Filled(SIMILARITY, None, EMBEDDING_DETAILS, ("text_embedding", "embedding")),
        Filled(DIMENSIONS, None, EMBEDDING_DETAILS, ("text_embedding", "embedding")),
        _chunking(ELASTIC.chunking),
    ),
    dynamic=(
        Dynamic(
            "metadata",
            "always",
            "elastic/elasticsearch server/src/main/java/org/elasticsearch/inference/metadata/"
            "EndpointMetadata.java (heuristics, display, regions, denied_by_region_policy: "
            "written by EIS, internal fields stripped on GET)",
        ),
    ),
    updates=(
        _base_updates((8, 18), "8.18–9.4 update API changes only task_settings"),
        _newest_updates("the 9.5+ update API changes only task_settings and chunking_settings"),
    ),
    none=MappingProxyType(
        {
            "normalizers": "none known: its service settings are model_id and rate_limit only",
            "hidden": NO_HIDDEN,
        }
    ),
    gaps=(
        "sparse_embedding service_settings.max_batch_size is updatable in the newest code but "
        "not in the manifest schema",
        "the similarity EIS stores for dense embeddings is not read (taken as server-chosen)",
    ),
)

# azureopenai
AZURE_SVC = f"{SVC}azureopenai/"
AZURE_EMBEDDINGS = f"{AZURE_SVC}embeddings/AzureOpenAiEmbeddingsServiceSettings.java"
AZUREOPENAI_FACTS = ServiceFacts(
    filled=(
        *_rate_limits(
            f"{RATE_LIMIT_EVIDENCE}; {SPEC_RATE_LIMITS}; {AZURE_EMBEDDINGS}",
            {1440: ("text_embedding",), 120: ("completion", "chat_completion")},
        ),
        Filled(SIMILARITY, None, f"{EMBEDDING_DETAILS}; {AZURE_EMBEDDINGS}", ("text_embedding",)),
        Filled(DIMENSIONS, None, f"{EMBEDDING_DETAILS}; {AZURE_EMBEDDINGS}", ("text_embedding",)),
        _chunking(("text_embedding",)),
    ),
    normalizers=(_lower_similarity(("text_embedding",)),),
    updates=(
        _base_updates(),
        _newest_updates(
            "the 9.5+ update API changes only the secrets (one type only), task_settings, "
            "rate_limit, max_input_tokens (text_embedding) and chunking_settings",
            UpdatePath("service_settings.rate_limit", MERGE),
            UpdatePath("service_settings.max_input_tokens", MERGE, ("text_embedding",)),
            evidence=f"{AZURE_EMBEDDINGS} (updateServiceSettings: `updateCommonSettings`, "
            "rate_limit through `RateLimitSettings.of` over the stored one, and the OAuth2 "
            "settings of an endpoint created with them; max_input_tokens); elastic/elasticsearch "
            "PR #149628 (a secret type is rotated only in its own field)",
        ),
    ),
    none=MappingProxyType({"dynamic": NO_DYNAMIC, "hidden": NO_HIDDEN}),
    gaps=(
        "the similarity azureopenai stores when unset is not read (taken as server-chosen)",
        "the OAuth2 settings (client_id, scopes, tenant_id) of an OAuth2 endpoint update in "
        "place in the newest code: not in the table (a replace)",
        "whether completion/chat_completion take max_input_tokens on update: not read (replace)",
    ),
)

# cohere
COHERE_SVC = f"{SVC}cohere/"
COHERE_COMMON = f"{COHERE_SVC}CohereCommonServiceSettings.java"
COHERE_EMBEDDINGS = f"{COHERE_SVC}embeddings/CohereEmbeddingsServiceSettings.java"
COHERE_FACTS = ServiceFacts(
    filled=(
        *_rate_limits(
            f"{RATE_LIMIT_EVIDENCE}; {SPEC_RATE_LIMITS}; {COHERE_COMMON}",
            {10000: ("text_embedding", "rerank", "completion")},
        ),
        Filled(
            "service_settings.embedding_type",
            None,
            f"{COHERE_EMBEDDINGS} (toXContentFragmentOfExposedFields: "
            "`builder.field(ServiceFields.EMBEDDING_TYPE, elementType())`, always)",
            ("text_embedding",),
        ),
        Filled(SIMILARITY, None, f"{EMBEDDING_DETAILS}; {COHERE_EMBEDDINGS}", ("text_embedding",)),
        Filled(DIMENSIONS, None, EMBEDDING_DETAILS, ("text_embedding",)),
        _chunking(("text_embedding",)),
    ),
    normalizers=(
        Normalizer(
            "alias",
            "service_settings.embedding_type",
            f"{COHERE_EMBEDDINGS} (echoed as `elementType()`: int8/byte → byte, binary/bit → "
            "bit, float → float)",
            table=MappingProxyType({"int8": "byte", "binary": "bit"}),
            task_types=("text_embedding",),
        ),
        Normalizer(
            "move_legacy_model_id",
            "service_settings.model",
            f"{COHERE_COMMON} (the deprecated `model` is read as `model_id`)",
        ),
        *(
            Normalizer(
                "lower_enum",
                f"task_settings.{name}",
                f"{COHERE_SVC}{source} (`fromString` upper-cases any spelling; `toString` "
                "writes the constant lower case, as GET shows it)",
                task_types=("text_embedding",),
            )
            for name, source in (
                ("truncate", "CohereTruncation.java"),
                ("input_type", "embeddings/CohereEmbeddingsTaskSettings.java (InputType)"),
            )
        ),
        _lower_similarity(("text_embedding",)),
    ),
    hidden=(
        Hidden(
            "service_settings.url",
            f"{COHERE_COMMON} (stored by toXContent, not written by "
            "toXContentFragmentOfExposedFields, which shows model_id and rate_limit only)",
        ),
        Hidden(
            "service_settings.api_version",
            f"{COHERE_COMMON} (stored, not exposed; new endpoints are stamped V2)",
        ),
    ),
    updates=(
        _base_updates(),
        _newest_updates(
            "the 9.5+ update API changes only api_key, task_settings, rate_limit, "
            "max_input_tokens and chunking_settings",
            UpdatePath("service_settings.rate_limit", MERGE),
            UpdatePath("service_settings.max_input_tokens", MERGE),
            evidence=f"{COHERE_SVC}CohereServiceSettings.java (updateServiceSettings: rate_limit "
            "through `RateLimitSettings.of` over the stored one, max_input_tokens)",
        ),
    ),
    none=MappingProxyType({"dynamic": NO_DYNAMIC}),
    gaps=(
        "the embedding_type stored when unset is not read (taken as server-chosen)",
        "the similarity cohere derives from embedding_type is not read (taken as server-chosen)",
        "CohereServiceSettings.updateServiceSettings also takes url, similarity, dimensions, "
        "model_id and api_version in place: left out of the table (a replace) until the "
        "release that first does is known",
        "`url` is hidden by CohereCommonServiceSettings.toXContentFragmentOfExposedFields "
        "(model_id and rate_limit only) but shown by the CohereServiceSettings copy, which hides "
        "api_version only: comparing url with the last-applied state is safe on both",
    ),
)

# amazonbedrock
BEDROCK_SVC = f"{SVC}amazonbedrock/"
BEDROCK_SETTINGS = f"{BEDROCK_SVC}AmazonBedrockServiceSettings.java"
AMAZONBEDROCK_FACTS = ServiceFacts(
    filled=(
        *_rate_limits(
            f"{RATE_LIMIT_EVIDENCE}; {SPEC_RATE_LIMITS}; {BEDROCK_SETTINGS}",
            {240: ("text_embedding", "completion", "chat_completion")},
        ),
        Filled(SIMILARITY, None, EMBEDDING_DETAILS, ("text_embedding",)),
        Filled(DIMENSIONS, None, EMBEDDING_DETAILS, ("text_embedding",)),
        _chunking(("text_embedding",)),
    ),
    normalizers=(
        Normalizer(
            "upper_enum",
            "service_settings.provider",
            f"{BEDROCK_SETTINGS} (`builder.field(PROVIDER_FIELD, provider.name())`: echoed as "
            f"the enum constant, AMAZONTITAN); {BEDROCK_SVC}AmazonBedrockProvider.java "
            "(fromString → toUpperCase: any case accepted)",
        ),
        Normalizer(
            "drop_default",
            "service_settings.embedding_type",
            f"{BEDROCK_SETTINGS} (`if (embeddingType != DEFAULT_EMBEDDING_TYPE)` the field is "
            "written: float is never echoed)",
            table=MappingProxyType({"default": "float"}),
            task_types=("text_embedding",),
        ),
        _lower_similarity(("text_embedding",)),
    ),
    updates=(
        _base_updates(),
        _newest_updates(
            "the 9.5+ update API changes only the access_key/secret_key pair, task_settings and "
            "chunking_settings",
            evidence="elastic/elasticsearch PR #149628 (AWS keys rotate as a pair)",
        ),
    ),
    none=MappingProxyType({"dynamic": NO_DYNAMIC, "hidden": NO_HIDDEN}),
    gaps=(
        "chat_completion rate_limit is likely updatable in the newest code (an Update.PARSER): "
        "not confirmed, so a replace",
        "text_embedding similarity/dimensions the server stores when unset: not read, so taken "
        "as chosen by the server (never diffed unless the manifest declares them)",
        "task_settings.max_new_tokens echoed with a default: not confirmed for this service",
    ),
)

# googlevertexai
VERTEX_SVC = f"{SVC}googlevertexai/"
VERTEX_EMBEDDINGS = f"{VERTEX_SVC}embeddings/GoogleVertexAiEmbeddingsServiceSettings.java"
GOOGLEVERTEXAI_FACTS = ServiceFacts(
    filled=(
        *_rate_limits(
            f"{RATE_LIMIT_EVIDENCE}; {SPEC_RATE_LIMITS}",
            {30000: ("text_embedding", "rerank", "completion", "chat_completion")},
        ),
        Filled(
            SIMILARITY,
            "dot_product",
            f"{VERTEX_EMBEDDINGS} (`Objects.requireNonNullElse(similarity, "
            "SimilarityMeasure.DOT_PRODUCT)`)",
            ("text_embedding",),
        ),
        Filled(DIMENSIONS, None, EMBEDDING_DETAILS, ("text_embedding",)),
        _chunking(("text_embedding",)),
    ),
    normalizers=(_lower_similarity(("text_embedding",)),),
    updates=(
        _base_updates(),
        _newest_updates(
            "the 9.5+ update API changes only service_account_json, task_settings, "
            "max_batch_size (text_embedding) and chunking_settings",
            UpdatePath("service_settings.max_batch_size", MERGE, ("text_embedding",)),
            evidence="elastic/elasticsearch PR #140082 (updateServiceSettings implemented for "
            f"GoogleVertexAiEmbeddingsServiceSettings); {VERTEX_EMBEDDINGS}",
        ),
    ),
    none=MappingProxyType({"dynamic": NO_DYNAMIC, "hidden": NO_HIDDEN}),
    gaps=(
        "`location` is required on older servers and optional on 9.5+: its default is not read, "
        "so no normalizer yet",
    ),
)


def _generic(task_types: tuple[str, ...], rpm: int | None) -> ServiceFacts:
    """A generic-tier service: its rate-limit default where the specification gives one (for
    every task type), no update table (any non-secret change replaces the endpoint)."""
    filled = () if rpm is None else _rate_limits(SPEC_RATE_LIMITS, {rpm: task_types})
    return ServiceFacts(filled=filled, none=MappingProxyType({"updates": REPLACE}))


def _service(
    name: str,
    tier: Tier,
    since: str | None,
    task_types: Mapping[str, str | None],
    rpm: int | None = None,
    **more: object,
) -> Service:
    """A descriptor; a generic-tier one gets its facts from `rpm`, the specification's
    rate-limit default for every task type (None where it gives none)."""
    if tier is Tier.GENERIC:
        more["facts"] = _generic(tuple(t for t in TASK_ORDER if t in task_types), rpm)
    return Service(name, tier, MappingProxyType(dict(task_types)), since, **more)  # type: ignore[arg-type]


FULL, GENERIC = Tier.FULL, Tier.GENERIC

_ALL: tuple[Service, ...] = (
    # --- full tier
    _service(
        "openai",
        FULL,
        "8.12",
        {t: OPENAI_TASK_SINCE[t] for t in OPENAI_TASK_TYPES},
        source=Source.TABLE,
        updates=OPENAI_UPDATES,
        facts=OPENAI_FACTS,
    ),
    _service(
        "elasticsearch",
        FULL,
        "8.13",
        {"text_embedding": B818, "sparse_embedding": B818, "rerank": B818},
        facts=ELASTICSEARCH_FACTS,
    ),
    _service(
        "elser",
        FULL,
        "8.11",
        {"sparse_embedding": B818},
        replaced_by="elasticsearch",
        deprecation=(
            "the `elser` service is deprecated since 8.16 (elastic/elasticsearch PR #113216); "
            "use `service: elasticsearch` with `model_id: .elser_model_2` (or "
            "`.elser_model_2_linux-x86_64`) instead"
        ),
        facts=ELSER_FACTS,
    ),
    _service(
        "elastic",
        FULL,
        B818,
        {
            "text_embedding": None,
            "sparse_embedding": B818,
            "rerank": None,
            "completion": None,
            "chat_completion": B818,
            "embedding": None,
        },
        source=Source.HAND,
        facts=ELASTIC_FACTS,
    ),
    _service(
        "azureopenai",
        FULL,
        "8.14",
        {"text_embedding": B818, "completion": B818, "chat_completion": "9.3"},
        facts=AZUREOPENAI_FACTS,
    ),
    _service(
        "cohere",
        FULL,
        "8.13",
        {"text_embedding": B818, "rerank": B818, "completion": B818},
        facts=COHERE_FACTS,
    ),
    _service(
        "amazonbedrock",
        FULL,
        "8.12",
        {"text_embedding": B818, "completion": B818, "chat_completion": "9.4"},
        facts=AMAZONBEDROCK_FACTS,
    ),
    _service(
        "googlevertexai",
        FULL,
        "8.15",
        {"text_embedding": B818, "rerank": B818, "completion": "8.19", "chat_completion": "8.19"},
        facts=GOOGLEVERTEXAI_FACTS,
    ),
    # --- generic tier
    _service("ai21", GENERIC, "9.2", {"completion": "9.2", "chat_completion": "9.2"}),
    _service(
        "alibabacloud-ai-search",
        GENERIC,
        "8.16",
        {"text_embedding": B818, "sparse_embedding": "9.2", "rerank": B818, "completion": B818},
        rpm=1000,
    ),
    _service(
        "amazon_sagemaker",
        GENERIC,
        "9.1",
        {
            "text_embedding": "8.19",
            "sparse_embedding": "8.19",
            "rerank": "8.19",
            "completion": "8.19",
            "chat_completion": "8.19",
        },
    ),
    _service(
        "anthropic",
        GENERIC,
        "8.16",
        {"completion": B818, "chat_completion": "main"},
        rpm=50,
    ),
    _service(
        "azureaistudio",
        GENERIC,
        "8.14",
        {"text_embedding": B818, "rerank": "9.2", "completion": B818},
        rpm=240,
    ),
    _service(
        "contextualai",
        GENERIC,
        "9.2",
        {"rerank": "9.2"},
        rpm=1000,
    ),
    _service(
        "custom",
        GENERIC,
        "8.19",
        {
            "text_embedding": "8.19",
            "sparse_embedding": "8.19",
            "rerank": "8.19",
            "completion": "8.19",
        },
    ),
    _service("deepseek", GENERIC, "9.1", {"completion": "8.19", "chat_completion": "8.19"}),
    _service(
        "fireworksai",
        GENERIC,
        "9.4",
        {"text_embedding": "9.4", "completion": "9.4", "chat_completion": "9.4"},
        rpm=6000,
    ),
    _service(
        "googleaistudio",
        GENERIC,
        "8.15",
        {"text_embedding": B818, "completion": B818},
        rpm=360,
    ),
    _service("groq", GENERIC, "9.3", {"chat_completion": "9.3"}),
    _service(
        "hugging_face",
        GENERIC,
        "8.12",
        {"text_embedding": B818, "rerank": "8.19", "completion": "8.19", "chat_completion": "8.19"},
        rpm=3000,
    ),
    _service(
        "jinaai",
        GENERIC,
        "8.18",
        {"text_embedding": B818, "rerank": B818, "embedding": "9.4"},
        rpm=2000,
    ),
    _service(
        "llama",
        GENERIC,
        "9.2",
        {"text_embedding": "9.2", "completion": "9.2", "chat_completion": "9.2"},
        rpm=3000,
    ),
    _service(
        "mistral",
        GENERIC,
        "8.15",
        {"text_embedding": B818, "completion": "8.19", "chat_completion": "8.19"},
        rpm=240,
    ),
    _service(
        "nvidia",
        GENERIC,
        "9.3",
        {"text_embedding": "9.3", "rerank": "9.3", "completion": "9.3", "chat_completion": "9.3"},
    ),
    _service(
        "openshift_ai",
        GENERIC,
        "9.3",
        {"text_embedding": "9.3", "rerank": "9.3", "completion": "9.3", "chat_completion": "9.3"},
        rpm=3000,
    ),
    _service(
        "voyageai",
        GENERIC,
        "8.19",
        {"text_embedding": B818, "rerank": B818},
        rpm=2000,
    ),
    _service(
        "watsonxai",
        GENERIC,
        "8.16",
        {"text_embedding": B818, "rerank": "8.19", "completion": "9.1", "chat_completion": "9.1"},
        rpm=120,
    ),
)

SERVICES: Mapping[str, Service] = MappingProxyType(
    {s.name: s for s in sorted(_ALL, key=lambda s: s.name)}
)
"""Every service by name, in name order."""

NAMES: tuple[str, ...] = tuple(SERVICES)
MANAGED: tuple[str, ...] = tuple(s.name for s in SERVICES.values() if s.managed)
DEFAULT_SERVICE = "openai"
"""The service a document with an unknown `service` is checked as when no name is close: the
one the manifest format started with."""

ALL_SECRET_PATHS: frozenset[tuple[str, ...]] = frozenset(
    p.parts for s in SERVICES.values() for p in s.secrets
)
"""Every secret path of any service: scrubbed from messages whatever the document's service."""


def get(name: object) -> Service | None:
    return SERVICES.get(name) if isinstance(name, str) else None


def by_tier(tier: Tier) -> tuple[Service, ...]:
    return tuple(s for s in SERVICES.values() if s.tier is tier)


def offering(task_type: str) -> tuple[str, ...]:
    """The services that offer `task_type`, by name."""
    return tuple(s.name for s in SERVICES.values() if task_type in s.task_types)


def schema_name(service: str, task_type: str) -> str:
    """The file stem of a (service, task type) schema: `cohere.rerank`."""
    return f"{service}.{task_type}"
