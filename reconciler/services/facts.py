"""The kinds of fact a service descriptor (`reconciler.services.registry`) carries about how the
server treats its endpoints: data only, each fact citing its upstream evidence.

- `Filled`: a path GET shows with a server value when the user left it unset (`value`; None when
  the server picks it and we cannot predict it in general, such as an unknown model's vector
  length: a *server-chosen* path, never diffed unless the user had set it);
- `Normalizer`: a named rewrite both sides of a diff go through (a case-insensitive enum, an
  alias, a default never echoed);
- `Dynamic`: a path whose value changes by itself and is never diffed;
- `Hidden`: a non-secret path the server stores but GET never shows (compared with the
  last-applied state only);
- `UpdateStep`: from a release on, the paths `_update` changes in place (MERGE or REPLACE),
  besides the secrets; a service without steps is replaced on any non-secret change.

A descriptor with none of a kind says so, with the reason, in `ServiceFacts.none`.

Also here, because they hold for every service: the chunking settings the server fills in
(`DEFAULT_CHUNKING`, `LEGACY_CHUNKING`) and the update modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from reconciler.services.openai_fields import ES_INFERENCE

Release = tuple[int, ...]
"""An Elasticsearch release: (major, minor) or (major, minor, patch); see reconciler.defaults."""

JSON = Any

MERGE: Final = "merge"
"""Update semantics: new keys and values land, omitted keys are kept (cannot remove)."""
REPLACE: Final = "replace"
"""Update semantics: the object is replaced as a whole (removing a key works)."""

KINDS: Final = ("filled", "normalizers", "dynamic", "hidden", "updates")
"""Every kind of fact a full-tier descriptor has, or explains in `ServiceFacts.none`."""

RATE_LIMIT: Final = "service_settings.rate_limit.requests_per_minute"
SIMILARITY: Final = "service_settings.similarity"
DIMENSIONS: Final = "service_settings.dimensions"
CHUNKING: Final = "chunking_settings"

CHUNKING_SOURCE = f"{ES_INFERENCE}chunking/ChunkingSettingsBuilder.java"
DEFAULT_CHUNKING: Final[Mapping[str, JSON]] = MappingProxyType(
    {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
)
"""Chunking when absent or `{}` on an 8.16+ server (`ChunkingSettingsBuilder.DEFAULT_SETTINGS`),
for every task type that chunks."""
LEGACY_CHUNKING: Final[Mapping[str, JSON]] = MappingProxyType(
    {"strategy": "word", "max_chunk_size": 250, "overlap": 100}
)
"""How endpoints created before 8.16 read back after an upgrade
(`ChunkingSettingsBuilder.OLD_DEFAULT_SETTINGS`)."""
RATE_LIMIT_EVIDENCE = (
    f"{ES_INFERENCE}services/settings/RateLimitSettings.java (of: the service's "
    "DEFAULT_RATE_LIMIT_SETTINGS when unset, always echoed)"
)
SIMILARITY_ENUM = (
    "elastic/elasticsearch server/src/main/java/org/elasticsearch/inference/"
    "SimilarityMeasure.java (fromString: case-insensitive; echoed lower case)"
)
EMBEDDING_DETAILS = (
    f"{ES_INFERENCE}services/validation/TextEmbeddingModelValidator.java "
    "(updateModelWithEmbeddingDetails: stores the returned vector length, and the service's "
    "default similarity when unset)"
)


@dataclass(frozen=True)
class Filled:
    """A path GET shows with `value` when the user left it unset (None: chosen by the server;
    `by_model`: the value per model where it is known)."""

    path: str
    value: JSON
    evidence: str
    task_types: tuple[str, ...]
    """The task types it applies to."""
    since: Release | None = None
    by_model: Mapping[str, JSON] = field(default_factory=lambda: MappingProxyType({}))
    when: str = ""
    """A condition (prose) under which it is filled; always when empty."""
    requires: str | None = None
    """The path that must be set for the server to fill this one (`when`, machine-readable)."""

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def server_chosen(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Normalizer:
    """A named rewrite of `path` (`table`: its data, such as an alias → canonical value map)."""

    name: str
    path: str
    evidence: str
    table: Mapping[str, JSON] = field(default_factory=lambda: MappingProxyType({}))
    task_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dynamic:
    """A path never diffed, `when` the condition holds (prose)."""

    path: str
    when: str
    evidence: str


@dataclass(frozen=True)
class Hidden:
    """A non-secret path stored but never shown by GET: compared with the last-applied state."""

    path: str
    evidence: str


@dataclass(frozen=True)
class UpdatePath:
    """A path prefix `_update` changes in place, merged or replaced (for `task_types` only)."""

    path: str
    mode: str
    task_types: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


@dataclass(frozen=True)
class UpdateStep:
    """From `since` on (until the next step), `_update` changes `paths` besides the secrets."""

    since: Release
    paths: tuple[UpdatePath, ...]
    note: str
    """Why something else cannot change in place on these releases (quoted in plans)."""
    evidence: str
    assumed: str = ""
    """What is assumed where the evidence stops (always the side that cannot lose a setting)."""


@dataclass(frozen=True)
class ServiceFacts:
    """How the server treats a service's endpoints beyond its schema."""

    filled: tuple[Filled, ...] = ()
    normalizers: tuple[Normalizer, ...] = ()
    dynamic: tuple[Dynamic, ...] = ()
    hidden: tuple[Hidden, ...] = ()
    updates: tuple[UpdateStep, ...] = ()
    none: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Kind (a name of KINDS) → why the service has no fact of that kind."""
    gaps: tuple[str, ...] = ()
    """What the evidence does not settle yet (and what is assumed meanwhile)."""

    def rate_limit(self) -> Mapping[str, int]:
        """Task type → `requests_per_minute` the server fills in when unset."""
        return MappingProxyType(
            {t: f.value for f in self.filled if f.path == RATE_LIMIT for t in f.task_types}
        )

    def filled_value(self, path: str, task_type: str) -> JSON:
        for item in self.filled:
            if item.path == path and task_type in item.task_types and not item.when:
                return item.value
        return None

    def server_chosen(self) -> Mapping[str, tuple[tuple[str, ...], ...]]:
        """Task type → the paths whose value the server picks and we may not predict."""
        table: dict[str, tuple[tuple[str, ...], ...]] = {}
        for item in self.filled:
            if item.server_chosen:
                for task_type in item.task_types:
                    table[task_type] = (*table.get(task_type, ()), item.parts)
        return MappingProxyType(table)

    def normalizer(self, name: str) -> Normalizer | None:
        return next((n for n in self.normalizers if n.name == name), None)

    def updatable(self, release: Release, task_type: str | None = None) -> Mapping[str, str]:
        """Dotted path prefix → MERGE | REPLACE that `_update` changes in place on `release`."""
        table: Mapping[str, str] = MappingProxyType({})
        for step in self.updates:
            if release >= step.since:
                table = MappingProxyType(
                    {
                        p.path: p.mode
                        for p in step.paths
                        if task_type is None or not p.task_types or task_type in p.task_types
                    }
                )
        return table
