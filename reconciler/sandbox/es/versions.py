"""Which Elasticsearch release the sandbox emulates: a version and its capability table.

Every version-dependent behaviour reads one flag here, so the releases are visible in one place.
Each flag's release comes from the `@availability since=` tags of
elastic/elasticsearch-specification, the TransportVersions constants of elastic/elasticsearch,
or the pull request named beside it. Fixes that shipped in patch releases are switched on the
patch: the release is the one whose release notes list the pull request
(`docs/release-notes/changelog-bundles/<version>.yml` on 9.x,
`docs/reference/release-notes/<version>.asciidoc` on 8.x), or, for a pull request without a
changelog entry, the first patch release whose changelog bundle was generated after the merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering

DEFAULT_ES_VERSION = "9.1.7"
"""9.1 has every 8.18–9.x behaviour (update API, chat_completion) plus the PUT `timeout` parameter
and `none`/`recursive` chunking, and predates the 9.2 `headers` task setting and the dropped
`max_chunk_size` upper bound. 9.1.7 is the first 9.1 patch release with the PUT check against
semantic_text mappings (elastic/elasticsearch#137055, backported as #137584; listed in the 9.1.7
changelog bundle, not in 9.1.6's), so the default exercises that check as every later release
does. Like all of 8.17–9.1, it resets `chunking_settings` on `_update` and makes no validation
call there."""

MIN_VERSION = (8, 15, 0)

_LUCENE = {
    (8, 15): "9.11.1",
    (8, 16): "9.12.0",
    (8, 17): "9.12.0",
    (8, 18): "9.12.1",
    (8, 19): "9.12.2",
}


Minor = tuple[int, int]
Patches = dict[Minor, int]
"""(major, minor) → the first patch release of that minor that has a fix."""


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

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return self.tuple() >= (major, minor, patch)

    def has_fix(self, patches: Patches, since: Minor) -> bool:
        """A fix released in the patch `patches[(major, minor)]` of some minors and in every
        minor from `since` on."""
        if self.at_least(*since):
            return True
        patch = patches.get((self.major, self.minor))
        return patch is not None and self.patch >= patch

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
    mapping_compatibility_check: bool  # 8.19.7/9.1.7/9.2.1, 9.3+: PUT checks semantic_text uses
    stream: bool  # 8.16: POST .../_stream for completion
    default_endpoints: tuple[str, ...]
    update_api: bool  # 8.17
    update_id_only_path: bool  # 8.17.2: `_inference/{id}/_update` (#121231)
    update_noop_writes: bool  # 8.17.0: a no-op `_update` rewrites the endpoint
    update_resets_chunking: bool  # 8.17–9.1, 9.2.0–9.2.5, 9.3.0: #139574
    update_validates: bool  # 9.4: validation call on `_update` (#140003)
    update_service_settings: bool  # 9.5: rate_limit, organization_id, max_input_tokens (#147465)
    update_chunking: bool  # 9.5: `chunking_settings` replaceable (#149723)
    update_rejects_unknown: bool  # 9.5: unknown service/task settings keys refused (#149430)
    update_timeout: bool  # 9.5: `timeout` query parameter on `_update`
    secret_scope: str  # 8.17+: "[secret_settings]"
    chat_completion: bool  # 8.18
    unified: bool  # 8.18: .../_unified
    put_timeout: bool  # 8.19 / 9.1
    extra_chunking_strategies: bool  # 9.1: none, recursive
    chunk_size_upper_bound: bool  # up to 9.1: `max_chunk_size` <= 300 (all strategies)
    task_headers: bool  # 9.2
    services_api: bool  # 8.16: GET _inference/_services
    eis_task_types: tuple[str, ...]  # service `elastic` (EIS): 8.18 sparse + chat, see below
    eis_preconfigured: tuple[str, ...]  # `.…-elastic` endpoints when EIS authorizes them
    eis_metadata: bool  # 9.4: GET adds `metadata` to EIS endpoints (EndpointMetadata)
    compatible_with: tuple[int, ...]  # accepted `compatible-with=N` values


def _put_timeout(v: EsVersion) -> bool:
    return (v.major == 8 and v.at_least(8, 19)) or v.at_least(9, 1)


# elastic/elasticsearch#137055 "Do not create inference endpoint if ID is used in existing
# mappings" (merged for 9.3): its backports #137587 (8.19), #137584 (9.1) and #137583 (9.2) are
# listed in the release notes of 8.19.7 (`docs/reference/release-notes/8.19.7.asciidoc`), 9.1.7
# and 9.2.1 (`docs/release-notes/changelog-bundles/9.1.7.yml`, `9.2.1.yml`), and in no earlier
# patch of those minors (9.1.6's bundle, generated 2025-10-23, predates the 2025-11-04 merges).
# 9.0 got no backport.
_MAPPING_CHECK: Patches = {(8, 19): 7, (9, 1): 7, (9, 2): 1}

# elastic/elasticsearch#139574 (`_update` drops `chunking_settings`): fixed by #141687 (9.2) and
# #141682 (9.3), both opened 2026-02-02 without a changelog entry, and on main by #140003 (9.4.0
# changelog bundle). The 9.2.5 bundle was generated 2026-01-31 and 9.3.0's 2026-01-26, so the
# first releases that can carry them are 9.2.6 and 9.3.1; both bundles also list #142238 (merged
# 2026-02-10), the follow-up to the same fix. No 8.19 or 9.1 backport exists.
_CHUNKING_KEPT_ON_UPDATE: Patches = {(9, 2): 6, (9, 3): 1}


def _defaults(v: EsVersion) -> tuple[str, ...]:
    if not v.at_least(8, 16):
        return ()
    ids = [".elser-2-elasticsearch", ".multilingual-e5-small-elasticsearch"]
    if v.at_least(8, 18):
        ids.append(".rerank-v1-elasticsearch")
    return tuple(ids)


def _eis_task_types(v: EsVersion) -> tuple[str, ...]:
    """The `elastic` service (EIS) task types. 8.18: sparse_embedding (ELSER on EIS) and
    chat_completion (`.rainbow-sprinkles-elastic`, ES PR #120847). Picked, not pinned to a
    changelog: completion from 8.19/9.1, text_embedding and rerank from 9.2 (the spec has no
    `put_elastic`: removed by elastic/elasticsearch-specification PR #4212)."""
    if not v.at_least(8, 18):
        return ()
    out = ["sparse_embedding", "chat_completion"]
    if v.at_least(8, 19) and v.tuple()[:2] != (9, 0):
        out.append("completion")
    if v.at_least(9, 2):
        out += ["text_embedding", "rerank"]
    if v.at_least(9, 5):  # elastic/elasticsearch PR #154174 (multimodal `embedding` on EIS)
        out.append("embedding")
    return tuple(out)


def _eis_preconfigured(v: EsVersion) -> tuple[str, ...]:
    """EIS preconfigured endpoints (`InternalPreconfiguredEndpoints`): `.rainbow-sprinkles-elastic`
    (ES PR #120847, 8.18), `.elser-2-elastic` (picked: with the EIS ELSER of 8.18), and
    `.jina-embeddings-v5-text-small`, the default semantic_text endpoint on 9.4+
    (elastic/docs-content#7618)."""
    if not v.at_least(8, 18):
        return ()
    ids = [".elser-2-elastic", ".rainbow-sprinkles-elastic"]
    if v.at_least(9, 4):
        ids.append(".jina-embeddings-v5-text-small")
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
        mapping_compatibility_check=v.has_fix(_MAPPING_CHECK, since=(9, 3)),
        stream=v.at_least(8, 16),
        default_endpoints=_defaults(v),
        update_api=v.at_least(8, 17),
        # PR #121231 is listed in `docs/reference/release-notes/8.17.2.asciidoc`.
        update_id_only_path=v.at_least(8, 17, 2),
        # The 8.17.0 `TransportUpdateInferenceModelAction` always calls
        # `modelRegistry.updateModelTransaction`; later copies return early when the merged
        # model equals the stored one. Which 8.17 patch added that is not pinned: 8.17.1 on.
        update_noop_writes=v.tuple() == (8, 17, 0),
        update_resets_chunking=not v.has_fix(_CHUNKING_KEPT_ON_UPDATE, since=(9, 4)),
        # PR #140003 is listed in the 9.4.0 changelog bundle.
        update_validates=v.at_least(9, 4),
        # PRs #147465 (2026-04-24), #149430 (2026-05-19) and #149723 (2026-05-22) have no
        # changelog entry; they were merged after the 9.4 branch point (2026-04-06) and fall
        # within the PR range of the 9.5.0 changelog bundle. The spec's `timeout` on
        # `UpdateInferenceRequest` is `@availability stack since=9.5.0`.
        update_service_settings=v.at_least(9, 5),
        update_chunking=v.at_least(9, 5),
        update_rejects_unknown=v.at_least(9, 5),
        update_timeout=v.at_least(9, 5),
        secret_scope="[secret_settings]" if v.at_least(8, 17) else "[service_settings]",
        chat_completion=v.at_least(8, 18),
        unified=v.at_least(8, 18),
        put_timeout=_put_timeout(v),
        extra_chunking_strategies=v.at_least(9, 1),
        # PR #133718 "Remove upper limit for chunking settings" (2025-08-28, before the 9.2
        # branch point; an enhancement, not backported) drops the 300 cap of word, sentence
        # and recursive chunking alike.
        chunk_size_upper_bound=not v.at_least(9, 2),
        task_headers=v.at_least(9, 2),
        services_api=v.at_least(8, 16),
        eis_task_types=_eis_task_types(v),
        eis_preconfigured=_eis_preconfigured(v),
        # `server/src/main/java/org/elasticsearch/inference/metadata/EndpointMetadata.java`
        # @303f1c6a; the release is picked (the newest copies only).
        eis_metadata=v.at_least(9, 4),
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
