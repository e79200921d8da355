"""Index mappings: validation of explicit mappings (field types, `semantic_text` parameters),
dynamic mapping of new document fields, and field-type lookup for queries."""

from __future__ import annotations

import re
from typing import Any

from .errors import EsError
from .versions import Capabilities

FIELD_TYPES = frozenset(
    {
        "text",
        "keyword",
        "long",
        "integer",
        "short",
        "byte",
        "double",
        "float",
        "half_float",
        "scaled_float",
        "unsigned_long",
        "boolean",
        "date",
        "date_nanos",
        "object",
        "nested",
        "flattened",
        "binary",
        "ip",
        "geo_point",
        "geo_shape",
        "dense_vector",
        "sparse_vector",
        "semantic_text",
        "match_only_text",
        "wildcard",
        "constant_keyword",
        "rank_feature",
        "rank_features",
        "alias",
        "version",
        "search_as_you_type",
        "completion",
    }
)
SEMANTIC_TEXT_PARAMS = frozenset(
    {
        "type",
        "inference_id",
        "search_inference_id",
        "model_settings",
        "meta",
        "chunking_settings",
        "index_options",
    }
)
DEFAULT_SEMANTIC_INFERENCE_ID = ".elser-2-elasticsearch"
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def mapper_error(reason: str) -> EsError:
    cause = EsError(400, "mapper_parsing_exception", reason)
    return EsError(
        400, "mapper_parsing_exception", f"Failed to parse mapping: {reason}", cause=cause
    )


def normalise_mappings(mappings: Any, caps: Capabilities) -> dict[str, Any]:
    """Validate explicit mappings and fill `semantic_text` defaults, as the mapper echoes them."""
    if mappings is None:
        return {}
    if not isinstance(mappings, dict):
        raise mapper_error("Expected map for property [mappings]")
    out = dict(mappings)
    if "properties" in out:
        out["properties"] = _properties(out["properties"], caps)
    return out


def _properties(properties: Any, caps: Capabilities) -> dict[str, Any]:
    if not isinstance(properties, dict):
        raise mapper_error("Expected map for property [properties]")
    return {name: _field(name, spec, caps) for name, spec in properties.items()}


def _field(name: str, spec: Any, caps: Capabilities) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise mapper_error(
            f"Expected map for property [fields] on field [{name}] but got a class java.lang.String"
        )
    out = dict(spec)
    kind = out.get("type", "object")
    if kind not in FIELD_TYPES:
        raise mapper_error(f"No handler for type [{kind}] declared on field [{name}]")
    if kind == "semantic_text":
        _semantic_text(name, out, caps)
    if "properties" in out:
        out["properties"] = _properties(out["properties"], caps)
    return out


def _semantic_text(name: str, spec: dict[str, Any], caps: Capabilities) -> None:
    for key in spec:
        if key not in SEMANTIC_TEXT_PARAMS:
            raise mapper_error(
                f"unknown parameter [{key}] on mapper [{name}] of type [semantic_text]"
            )
    if "inference_id" not in spec:
        if not caps.default_endpoints:
            raise mapper_error(f"field [inference_id] must be specified on field [{name}]")
        spec["inference_id"] = DEFAULT_SEMANTIC_INFERENCE_ID
    for key in ("inference_id", "search_inference_id"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            raise mapper_error(
                f"[{key}] on mapper [{name}] of type [semantic_text] must not be empty"
            )


def merge_mappings(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`PUT _mapping`: new fields are added; existing ones keep their definition."""
    merged = dict(current)
    for key, value in update.items():
        if key == "properties":
            props = dict(merged.get("properties") or {})
            for field_name, spec in value.items():
                props[field_name] = _merge_field(props.get(field_name), spec)
            merged["properties"] = props
        else:
            merged[key] = value
    return merged


def _merge_field(current: dict[str, Any] | None, spec: dict[str, Any]) -> dict[str, Any]:
    if current is None:
        return spec
    if current.get("type", "object") != spec.get("type", "object"):
        raise EsError(
            400,
            "illegal_argument_exception",
            f"mapper [{spec}] cannot be changed from type [{current.get('type', 'object')}] "
            f"to [{spec.get('type', 'object')}]",
        )
    return merge_mappings(current, spec)


# -- dynamic mapping -----------------------------------------------------------------------


def dynamic_update(mappings: dict[str, Any], source: dict[str, Any]) -> dict[str, Any] | None:
    """The mapping after indexing `source`, or None if it is unchanged."""
    if mappings.get("dynamic") in (False, "false"):
        return None
    props = dict(mappings.get("properties") or {})
    changed = _add_fields(props, source, mappings.get("dynamic"), "")
    return {**mappings, "properties": props} if changed else None


def _add_fields(props: dict[str, Any], source: dict[str, Any], dynamic: Any, prefix: str) -> bool:
    changed = False
    for name, value in source.items():
        if value is None:
            continue
        spec = props.get(name)
        if spec is None:
            if dynamic in ("strict",):
                raise EsError(
                    400,
                    "strict_dynamic_mapping_exception",
                    f"[1:2] mapping set to strict, dynamic introduction of [{name}] within "
                    f"[{prefix.rstrip('.') or '_doc'}] is not allowed",
                )
            props[name] = _infer(value)
            changed = True
        elif isinstance(value, dict) and ("properties" in spec or spec.get("type") == "object"):
            inner = dict(spec.get("properties") or {})
            if _add_fields(inner, value, spec.get("dynamic", dynamic), f"{prefix}{name}."):
                props[name] = {**spec, "properties": inner}
                changed = True
    return changed


def _infer(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        first = next((v for v in value if v is not None), "")
        return _infer(first)
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, dict):
        props: dict[str, Any] = {}
        _add_fields(props, value, None, "")
        return {"properties": props}
    if isinstance(value, str) and _DATE.match(value):
        return {"type": "date"}
    return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


def field_type(mappings: dict[str, Any], path: str) -> str | None:
    """The mapped type of a dotted field path, including multi-fields (`name.keyword`)."""
    node: dict[str, Any] = mappings
    parts = path.split(".")
    for i, part in enumerate(parts):
        props = node.get("properties") or {}
        if part in props:
            node = props[part]
            continue
        fields = node.get("fields") or {}
        if part in fields and i == len(parts) - 1:
            return str(fields[part].get("type"))
        return None
    return str(node.get("type", "object"))
