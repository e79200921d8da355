"""`cohere` (elastic/elasticsearch `…/services/cohere/`): `CohereServiceSettings` reads
`model_id` or the deprecated `model`; `url` and `api_version` are stored but hidden from GET
(`CohereCommonServiceSettings.toXContentFragmentOfExposedFields`); new endpoints are stamped
`api_version: V2`; `embedding_type` is always echoed as its element type
(`…/cohere/embeddings/CohereEmbeddingsServiceSettings.java`: `builder.field(EMBEDDING_TYPE,
elementType())`: int8/byte → byte, binary/bit → bit, float → float); default similarity by
element type (`CohereService.defaultSimilarity`: l2_norm for bit, dot_product otherwise);
rate limit 10000 (spec `RateLimitSetting`)."""

from __future__ import annotations

from typing import Any

from ..extract import Errors
from .fields import Field
from .remote import RemoteService, Spec

_TE = ("text_embedding",)
ELEMENT_TYPE = {"float": "float", "int8": "byte", "byte": "byte", "binary": "bit", "bit": "bit"}

SPEC = Spec(
    name="cohere",
    label="Cohere",
    task_since={"text_embedding": (8, 13), "rerank": (8, 14), "completion": (8, 15)},
    service_fields=(
        Field("url"),
        Field("similarity", "similarity", tasks=_TE),
        Field("dimensions", "int", tasks=_TE),
        Field("max_input_tokens", "int", tasks=_TE),
        Field("model_id", required=True),
        Field("api_version", "enum", choices=("v1", "v2")),
        Field(
            "embedding_type", "enum", tasks=_TE, choices=("binary", "bit", "byte", "float", "int8")
        ),
    ),
    task_fields=(
        Field(
            "input_type",
            "enum",
            tasks=_TE,
            choices=("classification", "clustering", "ingest", "search"),
        ),
        Field("truncate", "enum", tasks=_TE, choices=("end", "none", "start")),
        Field("return_documents", "bool", tasks=("rerank",)),
        Field("top_n", "int", tasks=("rerank",)),
        Field("max_chunks_per_doc", "int", tasks=("rerank",)),
    ),
    exposed={
        "text_embedding": (
            "similarity",
            "dimensions",
            "max_input_tokens",
            "model_id",
            "rate_limit",
            "embedding_type",
        ),
        "rerank": ("model_id", "rate_limit"),
        "completion": ("model_id", "rate_limit"),
    },
    rate_limit={"text_embedding": 10000, "rerank": 10000, "completion": 10000},
    secret_fields=("api_key",),
    updatable={
        "text_embedding": ("rate_limit", "max_input_tokens"),
        "rerank": ("rate_limit",),
        "completion": ("rate_limit",),
    },
    dims={
        "embed-english-light-v3.0": 384,
        "embed-multilingual-light-v3.0": 384,
        "embed-english-v3.0": 1024,
        "embed-multilingual-v3.0": 1024,
        "embed-v4.0": 1536,
        "embed-english-v2.0": 4096,
    },
    provider_401="invalid api token",
)


class Cohere(RemoteService):
    def before_parse(self, service_map: dict[str, Any]) -> None:
        """`CohereServiceSettings.fromMap`: the deprecated `model` is read when `model_id` is
        absent (both are consumed)."""
        legacy = service_map.pop("model", None)
        if legacy is not None and "model_id" not in service_map:
            service_map["model_id"] = legacy

    def after_parse(self, task_type: str, settings: dict[str, Any], errors: Errors) -> None:
        settings["api_version"] = (settings.get("api_version") or "v2").upper()
        if task_type == "text_embedding":
            settings["embedding_type"] = ELEMENT_TYPE[settings.get("embedding_type") or "float"]

    def default_similarity(self, settings: dict[str, Any]) -> str:
        return "l2_norm" if settings.get("embedding_type") == "bit" else "dot_product"

    def embedding_kind(self, settings: dict[str, Any]) -> str:
        return str(settings.get("embedding_type") or "float")


SERVICE = Cohere(SPEC)
