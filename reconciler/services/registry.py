"""Every Elasticsearch inference service the manifest accepts: one descriptor each, data only.

A descriptor says what the rest of the tool needs to know about a service without reading a
schema: its name, its task types and the first release of each, its tier, where its schema
comes from, its secret paths, and whether `plan`/`apply` manage it yet. The schema generator
(`reconciler.schemagen`), validation (`reconciler.schema`, `reconciler.checks`) and the
plan/apply guard (`reconciler.pipeline`) all read it from here; later work adds update tables
and normalizers to the same descriptors.

Tiers:
- `full`: reviewed field by field (overlay rows for what the specification gets wrong), an
  example manifest in `examples/services/`, invalid-corpus cases; `openai` is also managed by
  plan/apply.
- `generic`: validated by its generated schema with its secrets declared; any change to a
  non-secret setting will mean replacing the endpoint (no update table yet).

Task-type releases: for `openai`, the Elasticsearch release that added the task type; for the
others, the first branch of the API specification that lists it (the per-service request types
start on branch 8.18, so "8.18" there means "8.18 or earlier"); None where no source says.
The service's own first release (`since`) is the specification's `@availability stack since`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from reconciler.model import TASK_TYPES as OPENAI_TASK_TYPES
from reconciler.schema_fields import TASK_SINCE as OPENAI_TASK_SINCE
from reconciler.services.overlay import SECRETS

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
    TABLE = "table"  # reconciler.schema_fields, the hand-kept openai table
    SPEC = "spec"  # spec_facts.json + overlay rows
    HAND = "hand"  # overlay.HandService (no request type in the specification)


REPLACE = "replace on any non-secret change"
OPENAI_UPDATES = "per-release update table (reconciler.defaults)"


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
    managed: bool = False
    """Planned and applied by `plan`/`apply`; the others are validated only, for now."""
    replaced_by: str | None = None
    """A deprecated alias: validated, with a warning naming this service instead."""
    deprecation: str | None = None
    updates: str = REPLACE

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


def _service(
    name: str,
    tier: Tier,
    since: str | None,
    task_types: Mapping[str, str | None],
    **more: object,
) -> Service:
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
        managed=True,
        updates=OPENAI_UPDATES,
    ),
    _service(
        "elasticsearch",
        FULL,
        "8.13",
        {"text_embedding": B818, "sparse_embedding": B818, "rerank": B818},
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
    ),
    _service(
        "azureopenai",
        FULL,
        "8.14",
        {"text_embedding": B818, "completion": B818, "chat_completion": "9.3"},
    ),
    _service(
        "cohere",
        FULL,
        "8.13",
        {"text_embedding": B818, "rerank": B818, "completion": B818},
    ),
    _service(
        "amazonbedrock",
        FULL,
        "8.12",
        {"text_embedding": B818, "completion": B818, "chat_completion": "9.4"},
    ),
    _service(
        "googlevertexai",
        FULL,
        "8.15",
        {"text_embedding": B818, "rerank": B818, "completion": "8.19", "chat_completion": "8.19"},
    ),
    # --- generic tier
    _service("ai21", GENERIC, "9.2", {"completion": "9.2", "chat_completion": "9.2"}),
    _service(
        "alibabacloud-ai-search",
        GENERIC,
        "8.16",
        {"text_embedding": B818, "sparse_embedding": "9.2", "rerank": B818, "completion": B818},
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
    _service("anthropic", GENERIC, "8.16", {"completion": B818, "chat_completion": "main"}),
    _service(
        "azureaistudio",
        GENERIC,
        "8.14",
        {"text_embedding": B818, "rerank": "9.2", "completion": B818},
    ),
    _service("contextualai", GENERIC, "9.2", {"rerank": "9.2"}),
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
    ),
    _service("googleaistudio", GENERIC, "8.15", {"text_embedding": B818, "completion": B818}),
    _service("groq", GENERIC, "9.3", {"chat_completion": "9.3"}),
    _service(
        "hugging_face",
        GENERIC,
        "8.12",
        {"text_embedding": B818, "rerank": "8.19", "completion": "8.19", "chat_completion": "8.19"},
    ),
    _service(
        "jinaai", GENERIC, "8.18", {"text_embedding": B818, "rerank": B818, "embedding": "9.4"}
    ),
    _service(
        "llama",
        GENERIC,
        "9.2",
        {"text_embedding": "9.2", "completion": "9.2", "chat_completion": "9.2"},
    ),
    _service(
        "mistral",
        GENERIC,
        "8.15",
        {"text_embedding": B818, "completion": "8.19", "chat_completion": "8.19"},
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
    ),
    _service("voyageai", GENERIC, "8.19", {"text_embedding": B818, "rerank": B818}),
    _service(
        "watsonxai",
        GENERIC,
        "8.16",
        {"text_embedding": B818, "rerank": "8.19", "completion": "9.1", "chat_completion": "9.1"},
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
