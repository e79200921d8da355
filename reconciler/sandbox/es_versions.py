"""Which Elasticsearch generation the sandbox emulates: a version and its capability table.

Every version-dependent behaviour reads one flag here, so the generations are visible in one
place. Each flag's release comes from the `@availability since=` tags of
elastic/elasticsearch-specification, the TransportVersions constants of elastic/elasticsearch,
or the pull request named beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering

DEFAULT_ES_VERSION = "9.1.0"
"""9.1 is the newest release whose behaviour is pinned completely: it has every 8.18–9.x behaviour
(update API, chat_completion) plus the PUT `timeout` parameter and `none`/`recursive` chunking,
and predates the 9.2 `headers` task setting and the dropped sentence upper bound."""

MIN_VERSION = (8, 15, 0)

_LUCENE = {
    (8, 15): "9.11.1",
    (8, 16): "9.12.0",
    (8, 17): "9.12.0",
    (8, 18): "9.12.1",
    (8, 19): "9.12.2",
}


@total_ordering
@dataclass(frozen=True)
class EsVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> EsVersion:
        parts = text.strip().split(".")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"not a version: {text!r}")
        nums = [int(p) for p in parts] + [0] * (3 - len(parts))
        version = cls(nums[0], nums[1], nums[2])
        if version.tuple() < MIN_VERSION:
            raise ValueError(f"the sandbox emulates Elasticsearch 8.15 or later, not {text}")
        return version

    def tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, EsVersion):
            return NotImplemented
        return self.tuple() < other.tuple()

    def at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class Capabilities:
    """Behaviour switches of one server generation."""

    version: EsVersion
    validates_completion: bool  # 8.16: PUT validation call for completion too
    chunking: bool  # 8.16: chunking_settings
    omit_empty_task_settings: bool  # 8.16 (PR #114389)
    semantic_text_delete_check: bool  # 8.16: delete refuses when semantic_text uses it
    model_settings_service: bool  # 8.18: `model_settings` is MinimalServiceSettings (+service)
    mapping_compatibility_check: bool  # 9.1: PUT refuses settings semantic_text cannot take
    stream: bool  # 8.16: POST .../_stream for completion
    default_endpoints: tuple[str, ...]
    update_api: bool  # 8.17
    secret_scope: str  # 8.17+: "[secret_settings]"
    chat_completion: bool  # 8.18
    unified: bool  # 8.18: .../_unified
    put_timeout: bool  # 8.19 / 9.1
    extra_chunking_strategies: bool  # 9.1: none, recursive
    sentence_upper_bound: bool  # up to 9.1
    task_headers: bool  # 9.2
    services_api: bool  # 8.16: GET _inference/_services
    compatible_with: tuple[int, ...]  # accepted `compatible-with=N` values


def _put_timeout(v: EsVersion) -> bool:
    return (v.major == 8 and v.at_least(8, 19)) or v.at_least(9, 1)


def _defaults(v: EsVersion) -> tuple[str, ...]:
    if not v.at_least(8, 16):
        return ()
    ids = [".elser-2-elasticsearch", ".multilingual-e5-small-elasticsearch"]
    if v.at_least(8, 18):
        ids.append(".rerank-v1-elasticsearch")
    return tuple(ids)


def capabilities(version: EsVersion) -> Capabilities:
    v = version
    return Capabilities(
        version=v,
        validates_completion=v.at_least(8, 16),
        chunking=v.at_least(8, 16),
        omit_empty_task_settings=v.at_least(8, 16),
        semantic_text_delete_check=v.at_least(8, 16),
        model_settings_service=v.at_least(8, 18),
        mapping_compatibility_check=v.at_least(9, 1),
        stream=v.at_least(8, 16),
        default_endpoints=_defaults(v),
        update_api=v.at_least(8, 17),
        secret_scope="[secret_settings]" if v.at_least(8, 17) else "[service_settings]",
        chat_completion=v.at_least(8, 18),
        unified=v.at_least(8, 18),
        put_timeout=_put_timeout(v),
        extra_chunking_strategies=v.at_least(9, 1),
        sentence_upper_bound=not v.at_least(9, 2),
        task_headers=v.at_least(9, 2),
        services_api=v.at_least(8, 16),
        compatible_with=(v.major - 1, v.major),
    )


def lucene_version(v: EsVersion) -> str:
    if v.major == 8:
        return _LUCENE.get((v.major, v.minor), "9.12.0")
    return "10.2.2" if v.at_least(9, 1) else "10.1.0"


def info_body(v: EsVersion, node_name: str, cluster_uuid: str) -> dict[str, object]:
    """`GET /` as `RestMainAction` answers it."""
    min_wire = "7.17.0" if v.major == 8 else "8.18.0"
    min_index = "7.0.0" if v.major == 8 else "8.0.0"
    return {
        "name": node_name,
        "cluster_name": "sandbox",
        "cluster_uuid": cluster_uuid,
        "version": {
            "number": str(v),
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": "0000000000000000000000000000000000000000",
            "build_date": "2025-01-01T00:00:00.000000000Z",
            "build_snapshot": False,
            "lucene_version": lucene_version(v),
            "minimum_wire_compatibility_version": min_wire,
            "minimum_index_compatibility_version": min_index,
        },
        "tagline": "You Know, for Search",
    }
