"""`semantic_text` model settings: what a field records of its endpoint when the first document
with a value for it is indexed, and the PUT check (8.19.7, 9.1.7, 9.2.1, 9.3+) that refuses to
re-create an endpoint whose settings those records cannot take
(`checkForExistingUsesOfInferenceId`, below).

Upstream facts (elastic/elasticsearch; `…/inference/` is `x-pack/plugin/inference/src/main/java/
org/elasticsearch/xpack/inference/`):

* `…/inference/action/filter/ShardBulkInferenceActionFilter.java`: indexing a document runs the
  field's endpoint and stores `new MinimalServiceSettings(model)` as the field's
  `model_settings`; until then the mapping has none. A missing endpoint fails the document:
  `ResourceNotFoundException("Inference id [{}] not found for field [{}]")`.
* `…/inference/mapper/SemanticTextFieldMapper.java`: the `model_settings` parameter is written
  with `XContentBuilder::field`, i.e. `MinimalServiceSettings.toXContent`.
* `server/…/inference/MinimalServiceSettings.java`: `toXContent` writes `service` (8.18+, PR
  #120560), `task_type`, then `dimensions`, `similarity`, `element_type` when not null; the
  constructor throws `IllegalArgumentException("required [dimensions] field is missing for
  task_type [TEXT_EMBEDDING]")` (then `similarity`, `element_type`) for a text_embedding model
  without them; `canMergeWith` compares task type, dimensions, similarity and element type (not
  the service).
* `…/inference/common/SemanticTextInfoExtractor.java`
  `getModelSettingsForIndicesReferencingInferenceEndpoints`: an index counts when a
  semantic_text field names the id as `inference_id` OR `search_inference_id`; only the first
  such field is read (`findFirst`), at `properties.<full field name>.model_settings`, so a field
  inside an object reads as no settings.
* `…/inference/action/TransportPutInferenceModelAction.java` (copy with #137055):
  `parseRequestConfig` → `checkForExistingUsesOfInferenceId` → validation call → store. The
  check builds `new MinimalServiceSettings(model)` from the *parsed* request, before the
  validation call fills `dimensions`/`similarity`, as soon as any index references the id;
  incompatible indexes are collected in a `HashSet` and printed by `buildErrorString`.
* `…/inference/services/openai/embeddings/OpenAiEmbeddingsServiceSettings.java`: `dimensions()`
  and `similarity()` are the user's values (null when unset); `elementType()` is FLOAT.

Not emulated: the inference itself at index time (no upstream call, no `_inference_fields`),
and the mapping conflict a later document raises when its endpoint no longer matches.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import EsError
from .state import EsState
from .store import Store
from .versions import Capabilities

ModelSettings = dict[str, Any]
FieldPath = tuple[str, ...]

ELEMENT_TYPE = "float"
"""`OpenAiEmbeddingsServiceSettings.elementType()`: always FLOAT."""
_COMPARED = ("task_type", "dimensions", "similarity", "element_type")
_LEADING_KEYS = ("type", "inference_id", "search_inference_id")


class SettingsMissing(Exception):
    """`new MinimalServiceSettings(model)` would throw; the message is Java's."""


# -- MinimalServiceSettings ------------------------------------------------------------------


_ELEMENT_TYPES = {"byte": "byte", "bit": "bit", "binary": "bit"}


def minimal_settings(record: dict[str, Any], caps: Capabilities) -> ModelSettings:
    """`new MinimalServiceSettings(model)` as `toXContent` writes it.

    Raises `SettingsMissing` where the constructor throws: a text_embedding model without
    `dimensions` or `similarity` (a request that did not set them, before validation)."""
    task_type = record["task_type"]
    settings = record.get("service_settings") or {}
    out: ModelSettings = {"service": record["service"]} if caps.model_settings_service else {}
    out["task_type"] = task_type
    if task_type != "text_embedding":
        return out
    for key in ("dimensions", "similarity"):
        if settings.get(key) is None:
            raise SettingsMissing(
                f"required [{key}] field is missing for task_type [{task_type.upper()}]"
            )
    # `ServiceSettings.elementType()`: cohere's `embedding_type` (stored as its element type),
    # bedrock's `binary` (`AmazonBedrockEmbeddingsServiceSettings`); float otherwise.
    element_type = _ELEMENT_TYPES.get(str(settings.get("embedding_type")), ELEMENT_TYPE)
    out.update(
        dimensions=settings["dimensions"],
        similarity=settings["similarity"],
        element_type=element_type,
    )
    return out


def can_merge(existing: ModelSettings, new: ModelSettings) -> bool:
    """`MinimalServiceSettings.canMergeWith`."""
    return all(existing.get(key) == new.get(key) for key in _COMPARED)


# -- the mappings check of PUT (8.19.7, 9.1.7, 9.2.1, 9.3+: elastic/elasticsearch#137055) ---


def incompatible_indices(store: Store, record: dict[str, Any], caps: Capabilities) -> list[str]:
    """`findIndicesWithIncompatibleMappings`, in the order Java's `HashSet` prints them.

    Raises `SettingsMissing` when an index references the id and the parsed request lacks
    what `MinimalServiceSettings` needs (upstream the exception escapes on a utility thread)."""
    referencing = _settings_by_index(store, record["inference_id"])
    if not referencing:
        return []
    new = minimal_settings(record, caps)
    refused = []
    for name in java_hash_order(list(referencing)):  # the HashMap's forEach order
        existing = referencing[name]
        if existing is not None and not can_merge(existing, new):
            refused.append(name)
    return java_hash_order(refused)


def incompatible_message(inference_id: str, indices: Sequence[str]) -> str:
    """`TransportPutInferenceModelAction.buildErrorString` (a Java `Set.toString`)."""
    return (
        f"Inference endpoint [{inference_id}] could not be created because the inference_id is "
        "being used in mappings with incompatible settings for indices: "
        f"[{', '.join(indices)}]. Please either use a different inference_id or update the "
        "index mappings to refer to a different inference_id."
    )


def _settings_by_index(store: Store, inference_id: str) -> dict[str, ModelSettings | None]:
    """Index → the recorded settings of its first field using the id (None: not recorded)."""
    found: dict[str, ModelSettings | None] = {}
    for name in sorted(store.indices):  # cluster metadata order, approximated by name
        for path, spec in semantic_fields(store.indices[name].mappings):
            if inference_id in (spec.get("inference_id"), spec.get("search_inference_id")):
                found[name] = _readable_settings(path, spec)
                break
    return found


def _readable_settings(path: FieldPath, spec: dict[str, Any]) -> ModelSettings | None:
    """`ObjectPath.eval(["properties", <full name>, "model_settings"])`: top level only."""
    settings = spec.get("model_settings")
    return settings if len(path) == 1 and isinstance(settings, dict) else None


def semantic_fields(
    mappings: dict[str, Any], prefix: FieldPath = ()
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every semantic_text field with its path, depth first in mapping order."""
    for name, spec in (mappings.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        if spec.get("type") == "semantic_text":
            yield (*prefix, name), spec
        yield from semantic_fields(spec, (*prefix, name))


# -- recording on index ----------------------------------------------------------------------


def settings_to_record(
    state: EsState, mappings: dict[str, Any], source: dict[str, Any]
) -> list[tuple[FieldPath, ModelSettings]]:
    """The `model_settings` indexing `source` records, for fields that have none yet.

    Every semantic_text field with a value needs its endpoint: a missing one fails the document
    (404) before anything is written."""
    found: list[tuple[FieldPath, ModelSettings]] = []
    for path, spec in semantic_fields(mappings):
        if not _has_value(_value_at(source, path)):
            continue
        record = _endpoint_for(state, spec, path)
        if "model_settings" in spec:
            continue
        try:
            found.append((path, minimal_settings(record, state.caps)))
        except SettingsMissing:
            continue  # a preconfigured in-cluster model: its sizes are not emulated
    return found


def with_model_settings(
    mappings: dict[str, Any], recorded: Sequence[tuple[FieldPath, ModelSettings]]
) -> dict[str, Any]:
    """A copy of `mappings` with each field's settings placed where the mapper writes them."""
    out = copy.deepcopy(mappings)
    for path, settings in recorded:
        parent = out
        for part in path[:-1]:
            parent = parent["properties"][part]
        spec = parent["properties"][path[-1]]
        leading = {k: spec[k] for k in _LEADING_KEYS if k in spec}
        rest = {k: v for k, v in spec.items() if k not in leading}
        parent["properties"][path[-1]] = {**leading, "model_settings": dict(settings), **rest}
    return out


def _endpoint_for(state: EsState, spec: dict[str, Any], path: FieldPath) -> dict[str, Any]:
    inference_id = spec.get("inference_id")
    record = state.find(str(inference_id))
    if record is None:
        raise EsError(
            404,
            "resource_not_found_exception",
            f"Inference id [{inference_id}] not found for field [{'.'.join(path)}]",
        )
    return record


def _value_at(source: dict[str, Any], path: FieldPath) -> Any:
    node: Any = source
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _has_value(value: Any) -> bool:
    if isinstance(value, list):
        return any(item is not None for item in value)
    return value is not None and not isinstance(value, dict)


# -- java.util.HashSet / HashMap iteration order ---------------------------------------------


def java_hash_order(names: Sequence[str]) -> list[str]:
    """The order a `HashSet<String>` built by adding `names` in turn iterates in: by bucket
    of the final table (16 doubled while more than 3/4 full), insertion order within one."""
    capacity = 16
    while len(names) > capacity * 3 // 4:
        capacity *= 2
    position = {name: i for i, name in enumerate(names)}
    return sorted(names, key=lambda name: (_bucket(name, capacity), position[name]))


def _bucket(name: str, capacity: int) -> int:
    """`HashMap.hash`: `String.hashCode` with its high half folded in, masked to the table."""
    code = java_string_hash(name)
    return (code ^ (code >> 16)) & (capacity - 1)


def java_string_hash(text: str) -> int:
    """`String.hashCode` over UTF-16 code units, as an unsigned 32-bit value."""
    data = text.encode("utf-16-be")
    code = 0
    for i in range(0, len(data), 2):
        code = (31 * code + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return code
