"""What the server fills in, accepts and lets change, per task type and Elasticsearch version.

Data tables first, then a few lookups over them. Every figure comes from the Elasticsearch
source (elastic/elasticsearch; each table names the class it was read from) or the
`@availability since=` tags of elastic/elasticsearch-specification (one branch per release);
the tables are the only place in the code base that knows them, so a new ES release means
editing this file (and, for what a service does, its descriptor in the service registry).

What is openai's own (its rate limits, similarity and dimension defaults, default URLs,
server-chosen paths, update table) lives in its descriptor in the service registry
(`reconciler.services.registry`, `Service.facts`); the names below read it from there, so the
planner, the executor and the normalizers keep asking this module. What holds for every service
(release features, `_update` safety facts, separator groups) stays here; the default chunking
settings are shared by every descriptor (`reconciler.services.facts`) and re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from reconciler.model import JSON, Capabilities, FieldChange, FieldOp, KeyRotation, has_path
from reconciler.services import facts as service_facts
from reconciler.services.registry import SERVICES

Release = service_facts.Release
"""An Elasticsearch release. A server's is (major, minor, patch); a table boundary is (major,
minor), or (major, minor, patch) where a patch release changed the behaviour. Tuples compare item
by item, the shorter first on a tie, so the boundary (9, 2) means 9.2.0 and every 9.2.x lies
below (9, 3)."""

NEWEST: Final[Release] = (9, 5)
"""The newest release these tables describe; serverless projects run at least this code."""

SERVICE: Final = "openai"

_OPENAI: Final = SERVICES[SERVICE].facts
"""openai's facts, from its descriptor in the service registry (their one home)."""

DEFAULT_SIMILARITY: Final[str] = _OPENAI.filled_value(service_facts.SIMILARITY, "text_embedding")
"""text_embedding `similarity` the validation call fills in when unset."""

DEFAULT_CHUNKING: Final[Mapping[str, JSON]] = service_facts.DEFAULT_CHUNKING
"""text_embedding chunking when absent or `{}` on an 8.16+ server
(`ChunkingSettingsBuilder.DEFAULT_SETTINGS`)."""

LEGACY_CHUNKING: Final[Mapping[str, JSON]] = service_facts.LEGACY_CHUNKING
"""How endpoints created before 8.16 read back after an upgrade
(`ChunkingSettingsBuilder.OLD_DEFAULT_SETTINGS`)."""

SENTENCE_OVERLAP: Final = 1
"""`sentence_overlap` when a sentence strategy omits it (`SentenceBoundaryChunkingSettings`)."""

SEPARATOR_GROUPS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "plaintext": (r"(?<!\n)\n\n(?!\n)", r"(?<!\n)\n(?!\n)"),
        "markdown": (
            "\n# ",
            "\n## ",
            "\n### ",
            "\n#### ",
            "\n##### ",
            "\n###### ",
            "\n^(?!\\s*$).*\\n-{1,}\\n",
            "\n^(?!\\s*$).*\\n={1,}\\n",
        ),
    }
)
"""`recursive` chunking `separator_group` → the `separators` the server stores and echoes.

Source: elastic/elasticsearch
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/chunking/SeparatorGroup.java`
(commit 697871cdab0ade4bb256f487502be4b13710a963), `getSeparators()`. The Java literals keep
their escapes: the markdown entries start with a real newline, the regex parts hold a literal
backslash. The group name is matched trimmed and case-insensitively (`fromString`); with
neither `separators` nor a group the server uses `plaintext` (`RecursiveChunkingSettings`).
"""

MERGE: Final = service_facts.MERGE
"""Update semantics: new keys and values land, omitted keys are kept (cannot remove)."""
REPLACE: Final = service_facts.REPLACE
"""Update semantics: the object is replaced as a whole (removing a key works)."""

CHUNKING_RESET_ISSUE: Final = "elastic/elasticsearch#139574"
"""The upstream issue of `_update` dropping `chunking_settings` (see UPDATE_FACTS)."""

UNVALIDATED_UPDATE_ISSUE: Final = "elastic/elasticsearch#122356"
"""The upstream issue of `_update` storing a key it never tried (see UPDATE_FACTS)."""


@dataclass(frozen=True, slots=True)
class ReleaseFact:
    """What some releases do: the ranges [from, until) that do it, the upstream evidence, and
    what is assumed where the evidence stops (always the side that cannot lose a setting)."""

    ranges: tuple[tuple[Release, Release | None], ...]
    evidence: str
    assumed: str = ""


UPDATE_FACTS: Final[Mapping[str, ReleaseFact]] = MappingProxyType(
    {
        "update_keeps_chunking": ReleaseFact(
            ranges=(((9, 2, 6), (9, 3)), ((9, 3, 1), None)),
            evidence=(
                "elastic/elasticsearch#139574: `TransportUpdateInferenceModelAction` built the"
                " updated model with `new ModelConfigurations(id, taskType, service,"
                " serviceSettings, taskSettings)`, which has no chunking settings, so every"
                " `_update` (a key rotation, a task_settings change; on 8.17.0 even one that"
                " changes nothing) stores none and the endpoint reads back"
                " `ChunkingSettingsBuilder.OLD_DEFAULT_SETTINGS`, word/250/100. Fixed by #141687"
                " on the 9.2 branch and #141682 on the 9.3 branch (both merged 2026-02-02, no"
                " changelog entry of their own) and on main by #140003 (9.4.0 changelog bundle)."
                " No 8.19 or 9.1 backport exists."
            ),
            assumed=(
                "#141687 and #141682 are not in a release note: the 9.2.5 changelog bundle was"
                " generated 2026-01-31 and 9.3.0's 2026-01-26, before they merged, so 9.2.6 and"
                " 9.3.1 are the first releases taken to carry them (both list #142238, a later"
                " follow-up to the same code). Were 9.2.5 or 9.3.0 already fixed, they cost a"
                " replace the server could have done in place, never a lost setting."
            ),
        ),
        "update_validates": ReleaseFact(
            ranges=(((9, 4), None),),
            evidence=(
                "elastic/elasticsearch#122356: `_update` stored a new api_key without trying it"
                ' (200; the endpoint fails at inference time). #140003 "Add provider validation'
                " call to Update Inference Endpoint operation\" runs the PUT's"
                " `ModelValidatorBuilder` validation on update; it is listed in the 9.4.0"
                " changelog bundle and was not backported (the 9.2 and 9.3 chunking fixes were"
                " separate pull requests)."
            ),
            assumed=(
                "every release before 9.4.0 stores an untried key: proving it on a probe first"
                " costs one validation call where the server would have made it anyway."
            ),
        ),
    }
)
"""How `_update` behaves beyond what it changes (`updatable`): the per-release facts the planner
and the executor both read, and the only place that knows them. A fact holds from `update_api`
on; `Capabilities` turns them into `update_resets_chunking` and `update_validates`."""

FEATURES: Final[Mapping[str, tuple[tuple[Release, Release | None], ...]]] = MappingProxyType(
    {
        "rate_limit": (((8, 15), None),),
        "chunking_settings": (((8, 16), None),),
        "update_api": (((8, 17), None),),
        "chat_completion": (((8, 18), None),),
        "put_timeout": (((8, 19), (9, 0)), ((9, 1), None)),
        "chunking.none": (((9, 1), None),),
        "chunking.recursive": (((9, 1), None),),
        "task_settings.headers": (((9, 2), None),),
        "update_timeout": (((9, 5), None),),
        "mapping_compatibility_check": (
            ((8, 19, 7), (9, 0)),
            ((9, 1, 7), (9, 2)),
            ((9, 2, 1), None),
        ),
    }
)
"""Feature → release ranges [from, until) that have it (the spec's `@availability since=` tags;
`put_timeout`: `TransportVersions.INFERENCE_ADD_TIMEOUT_PUT_ENDPOINT_8_19`, and older servers
refuse the unknown parameter in `BaseRestHandler`; `mapping_compatibility_check`:
`TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId` makes PUT refuse settings
that semantic_text mappings using the id cannot take: elastic/elasticsearch#137055, merged for
9.3 and backported as #137587, #137584 and #137583, which the release notes of 8.19.7, 9.1.7 and
9.2.1 list and no earlier patch release's do; 9.0 got no backport). A boundary with a patch
needs the server's full version: `capabilities(version)`, not `ServerInfo.supports`, which
knows the minor release only."""

INCOMPATIBLE_PATHS: Final[frozenset[str]] = frozenset(
    {"task_type", "service_settings.dimensions", "service_settings.similarity"}
)
"""What a semantic_text field records of its endpoint (MinimalServiceSettings: task type,
dimensions, similarity): a re-create that changes one of them is refused where
`mapping_compatibility_check` holds
(`TransportPutInferenceModelAction.findIndicesWithIncompatibleMappings`)."""


def _rotation_groups() -> Mapping[str, tuple[tuple[str, ...], ...]]:
    """The groups of the service registry's secret fields: fields that share a `group` rotate
    together; any other field is a group of its own; a map-valued field is one group of all
    its keys (`path.*`)."""
    from reconciler.services.registry import SERVICES

    table: dict[str, tuple[tuple[str, ...], ...]] = {}
    for name, service in SERVICES.items():
        groups: dict[str, list[str]] = {}
        for field in service.secrets:
            path = f"{field.path}.*" if field.kind == "map" else field.path
            groups.setdefault(field.group or field.path, []).append(path)
        table[name] = tuple(tuple(paths) for paths in groups.values())
    return MappingProxyType(table)


ROTATION_GROUPS: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = _rotation_groups()
"""Per service, the secret paths (dotted; a last step `*` is every key of the map there) an
`_update` must carry together: when one of a group rotates, all of the group are sent, changed
or not. The server rebuilds an endpoint's secret settings from the update's service_settings
(`SecretSettings.newSecretSettings`: `DefaultSecretSettings`, `AmazonBedrockSecretSettings`,
`AzureOpenAiSecretSettings`, `CustomSecretSettings` all call their `fromMap`, which requires
both AWS keys, exactly one of api_key/entra_id, the whole secret_parameters map), so each of
these services is one group; a service missing here is taken to be one group of all its
secrets, the side that cannot lose one. Only a service whose `newSecretSettings` merges
(`ocigenai`) could be split. Derived from the service registry (`SecretField.group`), the one
home of each service's secret paths and groups."""


def rotated_together(
    service: str, changed: Iterable[str], declared: Iterable[str]
) -> tuple[str, ...]:
    """The declared secret paths (dotted) an `_update` rotating `changed` must carry, sorted:
    every path of a group (`ROTATION_GROUPS`) holding a changed path; all of them for a service
    with no groups, or a changed path no group names."""
    paths, rotated = sorted(set(declared)), set(changed)
    if not rotated:
        return ()
    groups = [
        {path for path in paths if any(_matches(path, pattern) for pattern in group)}
        for group in ROTATION_GROUPS.get(service, ())
    ]
    if not groups or not rotated <= set().union(*groups):
        return tuple(paths)
    touched = [group for group in groups if rotated & group]
    return tuple(path for path in paths if any(path in group for group in touched))


def _matches(path: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return path.startswith(pattern[:-1]) and len(path) > len(pattern) - 1
    return path == pattern


_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")


def parse_release(version: str) -> Release:
    """`"8.18.2"` → (8, 18, 2), `"9.1.0-SNAPSHOT"` → (9, 1, 0), `"9.2"` → (9, 2, 0). Raises
    ValueError on anything else."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"not an Elasticsearch version: {version!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def supports(feature: str, release: Release) -> bool:
    """Whether a server of this release has the feature (a key of FEATURES or UPDATE_FACTS)."""
    fact = UPDATE_FACTS.get(feature)
    ranges = fact.ranges if fact is not None else FEATURES[feature]
    return any(start <= release and (until is None or release < until) for start, until in ranges)


def capabilities(version: str) -> Capabilities:
    """What a server reporting this version can do."""
    release = parse_release(version)
    names = (*FEATURES, *UPDATE_FACTS)
    features = frozenset(name for name in names if supports(name, release))
    return Capabilities(version=version, release=release, features=features)


def first_fixed(fact: str) -> str:
    """The first release of each range a fact holds in: `"9.2.6, 9.3.1"`."""
    return ", ".join(".".join(map(str, start)) for start, _ in UPDATE_FACTS[fact].ranges)


def updatable(
    release: Release, service: str = SERVICE, task_type: str | None = None
) -> Mapping[tuple[str, ...], str]:
    """Path prefix → MERGE | REPLACE for what `_update` changes in place (the secrets aside),
    for the service's endpoints of `task_type` (every task type when None) on `release`: its
    descriptor's update steps (`Service.facts.updates`); nothing for a service without any."""
    found = _facts(service)
    if found is None:
        return MappingProxyType({})
    table = found.updatable(release, task_type)
    return MappingProxyType({tuple(path.split(".")): mode for path, mode in table.items()})


def update_note(release: Release, service: str = SERVICE) -> str:
    """A short clause saying what this release's update API can change for the service."""
    found = _facts(service)
    steps = found.updates if found is not None else ()
    notes = (
        ((0, 0), "the server has no update API before 8.17"),
        *((step.since, step.note) for step in steps),
    )
    if not steps:
        notes = (*notes, ((8, 17), f"the update API changes only the secrets of {service}"))
    return next(note for since, note in reversed(notes) if release >= since)


def model_dimensions(model_id: object, service: str = SERVICE) -> int | None:
    """The model's default vector length, or None when we do not know the model."""
    if not isinstance(model_id, str):
        return None
    for item in _filled(service, service_facts.DIMENSIONS):
        if model_id in item.by_model:
            return int(item.by_model[model_id])
    return None


# --- per service: the registry's facts as the core asks for them -------------------------------


def _facts(service: object) -> service_facts.ServiceFacts | None:
    found = SERVICES.get(service) if isinstance(service, str) else None
    return found.facts if found is not None else None


def _filled(service: object, path: str) -> tuple[service_facts.Filled, ...]:
    found = _facts(service)
    return tuple(item for item in found.filled if item.path == path) if found else ()


def known_defaults(
    service: object, task_type: str, release: Release | None
) -> tuple[tuple[tuple[str, ...], JSON], ...]:
    """(path, value) of every value GET shows for this service and task type on `release`
    when the manifest leaves it unset and that is known (no condition, not server-chosen);
    chunking aside (its own rules: `default_chunking`)."""
    found = _facts(service)
    if found is None or release is None:
        return ()
    return tuple(
        (item.parts, item.value)
        for item in found.filled
        if task_type in item.task_types
        and item.value is not None
        and not item.when
        and item.path != service_facts.CHUNKING
        and (item.since is None or release >= item.since)
    )


def chunks(service: object, task_type: str) -> bool:
    """Whether the service's endpoints of this task type carry chunking settings (8.16+)."""
    return any(task_type in item.task_types for item in _filled(service, service_facts.CHUNKING))


_NO_PATHS: tuple[tuple[str, ...], ...] = ()


def server_chosen(
    service: object, task_type: str, spec: Mapping[str, JSON] | None = None
) -> tuple[tuple[str, ...], ...]:
    """The paths whose value the server picks when the manifest leaves them unset and that we
    cannot always predict (a vector length, a platform model variant): never diffed unless the
    manifest had set them before. With `spec`, only those the server fills for it (a fill that
    `requires` a path the spec lacks is left out: `elasticsearch` copies the allocations of a
    `deployment_id` only)."""
    found = _facts(service)
    if found is None:
        return _NO_PATHS
    chosen = found.server_chosen().get(task_type, _NO_PATHS)
    if spec is None:
        return chosen
    absent = {
        item.parts
        for item in found.filled
        if item.requires is not None and not has_path(spec, tuple(item.requires.split(".")))
    }
    return tuple(path for path in chosen if path not in absent)


def hidden_paths(service: object) -> tuple[tuple[str, ...], ...]:
    """Non-secret paths the server stores but GET never shows (cohere `url`, `api_version`):
    compared with the last-applied state only."""
    found = _facts(service)
    return tuple(tuple(item.path.split(".")) for item in found.hidden) if found else _NO_PATHS


def normalizers_of(service: object, task_type: str) -> tuple[service_facts.Normalizer, ...]:
    """The service's named normalizers that apply to this task type, in descriptor order."""
    found = _facts(service)
    if found is None:
        return ()
    return tuple(n for n in found.normalizers if not n.task_types or task_type in n.task_types)


def secret_paths(service: object) -> tuple[tuple[str, ...], ...]:
    """Every declared secret path of the service (a map-valued one as its own path)."""
    found = SERVICES.get(service) if isinstance(service, str) else None
    return tuple(item.parts for item in found.secrets) if found is not None else _NO_PATHS


def default_chunking(*, legacy: bool) -> dict[str, JSON]:
    """A fresh copy of the chunking settings the server reports when none were given."""
    return dict(LEGACY_CHUNKING if legacy else DEFAULT_CHUNKING)


def separators_for(group: object) -> list[str] | None:
    """The separators a `separator_group` expands to, or None for an unknown group."""
    if not isinstance(group, str):
        return None
    found = SEPARATOR_GROUPS.get(group.strip().lower())
    return list(found) if found is not None else None


def features_used(body: Mapping[str, JSON], task_type: str) -> tuple[str, ...]:
    """The version-gated features a request body relies on (keys of FEATURES)."""
    used = ["chat_completion"] if task_type.lower() == "chat_completion" else []
    service = body.get("service_settings")
    if isinstance(service, Mapping) and "rate_limit" in service:
        used.append("rate_limit")
    chunking = body.get("chunking_settings")
    if chunking:
        used.append("chunking_settings")
        strategy = chunking.get("strategy") if isinstance(chunking, Mapping) else None
        if f"chunking.{strategy}" in FEATURES:
            used.append(f"chunking.{strategy}")
    task = body.get("task_settings")
    if isinstance(task, Mapping) and "headers" in task:
        used.append("task_settings.headers")
    return tuple(used)


def unsupported(body: Mapping[str, JSON], task_type: str, release: Release) -> tuple[str, ...]:
    """The features a body uses that this release lacks, each with its first release."""
    return tuple(
        f"{name} needs Elasticsearch {_first(name)} or later"
        for name in features_used(body, task_type)
        if not supports(name, release)
    )


def _first(feature: str) -> str:
    major, minor = FEATURES[feature][0][0]
    return f"{major}.{minor}"


def update_resets_chunking(caps: Capabilities, target: Mapping[str, JSON]) -> bool:
    """Whether an `_update` of the endpoint `target` (a canonical spec) would change its chunking:
    the release drops it on update (UPDATE_FACTS), and it is not already the word/250/100 the
    endpoint then reads back (an endpoint created before 8.16 loses nothing)."""
    chunking = target.get("chunking_settings")
    return (
        caps.update_resets_chunking
        and isinstance(chunking, Mapping)
        and dict(chunking) != LEGACY_CHUNKING
    )


def replace_paths(
    fields: Iterable[FieldChange],
    caps: Capabilities,
    rotation: KeyRotation = KeyRotation.AUTO,
    *,
    service: str = SERVICE,
    task_type: str | None = None,
) -> tuple[str, ...]:
    """The paths among fields that must not or cannot change through the update API."""
    fields = tuple(fields)
    return tuple(
        item.path
        for item in fields
        if not in_place(item, caps, rotation, service=service, task_type=task_type)
        and not _switched_allocations(item, fields, caps, service, task_type)
    )


def in_place(
    change: FieldChange,
    caps: Capabilities,
    rotation: KeyRotation = KeyRotation.AUTO,
    *,
    service: str = SERVICE,
    task_type: str | None = None,
) -> bool:
    """Whether `_update` makes this change: a secret (unless the policy says recreate; never
    its removal: the server rebuilds the secret settings from what the update sends, and a
    secret of another kind, Azure's `entra_id` for `api_key`, is refused in place:
    elastic/elasticsearch#149628) and the release's updatable paths for the service and task
    type. Under MERGE a key can be set but not removed (`updatedTaskSettings` keeps omitted
    keys)."""
    if change.sensitive:
        return (
            caps.update_api
            and rotation is not KeyRotation.RECREATE
            and change.op is not FieldOp.REMOVED
        )
    path = tuple(change.path.split("."))
    for prefix, mode in updatable(caps.release, service, task_type).items():
        if path[: len(prefix)] == prefix:
            return change.op is not FieldOp.REMOVED or mode == REPLACE
    return False


ALLOCATIONS: Final = ("service_settings.num_allocations", "service_settings.adaptive_allocations")
"""The in-cluster allocation settings: one excludes the other, and an `_update` setting one
nulls the other (`ElasticsearchInternalServiceSettings.Update`: "[num_allocations] cannot be set
if [adaptive_allocations] is set"; `toBuilder().setNumAllocations(…).setAdaptiveAllocations…`)."""


def _switched_allocations(
    change: FieldChange,
    fields: tuple[FieldChange, ...],
    caps: Capabilities,
    service: str,
    task_type: str | None,
) -> bool:
    """The removal of one allocation setting when the same change sets the other in place, on
    a release whose update takes both (9.5+): the server nulls it itself, so the pair is one
    in-place switch. Before, setting `num_allocations` on an adaptive deployment is refused."""
    if change.op is not FieldOp.REMOVED or change.path not in ALLOCATIONS:
        return False
    settable = FieldChange(change.path, op=FieldOp.CHANGED)
    if not in_place(settable, caps, service=service, task_type=task_type):
        return False
    other = ALLOCATIONS[1 - ALLOCATIONS.index(change.path)]
    return any(
        item.path.startswith(other)
        and item.op is not FieldOp.REMOVED
        and in_place(item, caps, service=service, task_type=task_type)
        for item in fields
    )


ELEMENT_TYPE: Final = "service_settings.embedding_type"


def incompatible_paths(service: str) -> frozenset[str]:
    """`INCOMPATIBLE_PATHS` plus the service's element-type setting, which a semantic_text
    field records too (`MinimalServiceSettings.elementType`): cohere's and Amazon Bedrock's
    `embedding_type` (float, byte/int8, bit/binary vectors), where its descriptor has a fact."""
    found = _facts(service)
    named = {f.path for f in found.filled} | {n.path for n in found.normalizers} if found else ()
    return INCOMPATIBLE_PATHS | {ELEMENT_TYPE} if ELEMENT_TYPE in named else INCOMPATIBLE_PATHS
