"""`googlevertexai` (elastic/elasticsearch `…/services/googlevertexai/`): the secret is
`service_account_json` (`GoogleVertexAiSecretSettings.java` @00a6636a); embeddings need
`location`, `project_id`, `model_id` and default `similarity` to dot_product in the constructor
(`…/embeddings/GoogleVertexAiEmbeddingsServiceSettings.java` @01818390:
`Objects.requireNonNullElse(similarity, SimilarityMeasure.DOT_PRODUCT)`); `max_batch_size` is
shown only when set and is the one setting a 9.5 `_update` changes (PR #140082 names
`GoogleVertexAiEmbeddingsServiceSettings.updateServiceSettings`); rate limit 30000 (spec
`RateLimitSetting`); completion and chat_completion from 8.19 (spec branch 8.19)."""

from __future__ import annotations

from typing import Any

from ..extract import Errors
from .fields import Field
from .remote import RemoteService, Spec

_TE = ("text_embedding",)
_CHAT = ("completion", "chat_completion")
_LOCATED = ("text_embedding", "completion", "chat_completion")

SPEC = Spec(
    name="googlevertexai",
    label="Google Vertex AI",
    task_since={
        "text_embedding": (8, 15),
        "rerank": (8, 15),
        "completion": (8, 19),
        "chat_completion": (8, 19),
    },
    service_fields=(
        Field("location", required=True, tasks=_LOCATED),
        Field("project_id", required=True),
        Field("model_id", required=True, tasks=_LOCATED),
        Field("model_id", tasks=("rerank",)),
        Field("dimensions", "int", tasks=_TE),
        Field("max_input_tokens", "int", tasks=_TE),
        Field("similarity", "similarity", tasks=_TE),
        Field("max_batch_size", "int", tasks=_TE),
    ),
    task_fields=(
        Field("auto_truncate", "bool", tasks=_TE),
        Field(
            "input_type",
            "enum",
            tasks=_TE,
            choices=("classification", "clustering", "ingest", "search"),
        ),
        Field("top_n", "int", tasks=("rerank",)),
        Field("max_tokens", "int", tasks=_CHAT),
        Field("thinking_config", "map", tasks=_CHAT),
    ),
    exposed={
        "text_embedding": (
            "location",
            "project_id",
            "model_id",
            "dimensions",
            "max_input_tokens",
            "similarity",
            "max_batch_size",
            "rate_limit",
        ),
        "rerank": ("project_id", "model_id", "rate_limit"),
        "completion": ("location", "project_id", "model_id", "rate_limit"),
        "chat_completion": ("location", "project_id", "model_id", "rate_limit"),
    },
    rate_limit={k: 30000 for k in ("text_embedding", "rerank", "completion", "chat_completion")},
    secret_fields=("service_account_json",),
    updatable={"text_embedding": ("max_batch_size",)},
    dims={
        "text-embedding-004": 768,
        "text-embedding-005": 768,
        "text-multilingual-embedding-002": 768,
        "gemini-embedding-001": 3072,
    },
    provider_401="Request had invalid authentication credentials.",
)


class GoogleVertexAi(RemoteService):
    def after_parse(self, task_type: str, settings: dict[str, Any], errors: Errors) -> None:
        if task_type == "text_embedding" and settings.get("similarity") is None:
            settings["similarity"] = "dot_product"


SERVICE = GoogleVertexAi(SPEC)
