"""The generic tier: services the sandbox knows by name, task types, first release and default
`rate_limit` only (elastic/elasticsearch-specification `specification/inference/put_*/` on main
and the version branches; rpm defaults from `RateLimitSetting` in
`specification/inference/_types/Services.ts`). PUT keeps the secret fields apart
(`DefaultSecretSettings`, `AwsSecretSettings`, `CustomSecretSettings` …) and stores the rest
as sent; GET echoes it without secrets, with `rate_limit` filled where the service has a
default; `_update` ignores non-secret service settings before 9.5 and refuses them from 9.5
(elastic/elasticsearch#149430). No per-field validation."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..extract import Errors
from ..openai_config import rate_limit_or
from ..versions import Capabilities
from . import fake
from .base import InferRequest, Record, Service
from .remote import completions, embeddings, rerank_result, sparse_embeddings

if TYPE_CHECKING:
    from ..state import EsState

SECRET_FIELDS = (
    "api_key",
    "access_key",
    "secret_key",
    "secret_parameters",
    "service_account_json",
    "client_secret",
    "entra_id",
)
_CHUNKED = ("text_embedding", "sparse_embedding")
_PROVIDER_401 = "Unauthorized"


@dataclass(frozen=True)
class GenericSpec:
    name: str
    label: str
    since: tuple[int, int]
    task_types: tuple[str, ...]
    rate_limit: int | None = None


SPECS = (
    GenericSpec("ai21", "AI21", (9, 2), ("completion", "chat_completion")),
    GenericSpec(
        "alibabacloud-ai-search",
        "AlibabaCloud AI Search",
        (8, 16),
        ("text_embedding", "sparse_embedding", "rerank", "completion"),
        1000,
    ),
    GenericSpec(
        "amazon_sagemaker",
        "Amazon SageMaker",
        (9, 1),
        ("text_embedding", "sparse_embedding", "rerank", "completion", "chat_completion"),
    ),
    GenericSpec("anthropic", "Anthropic", (8, 16), ("completion", "chat_completion"), 50),
    GenericSpec(
        "azureaistudio", "Azure AI Studio", (8, 14), ("text_embedding", "rerank", "completion"), 240
    ),
    GenericSpec("contextualai", "Contextual AI", (9, 2), ("rerank",), 1000),
    GenericSpec(
        "custom", "Custom", (8, 19), ("text_embedding", "sparse_embedding", "rerank", "completion")
    ),
    GenericSpec("deepseek", "DeepSeek", (9, 1), ("completion", "chat_completion")),
    GenericSpec(
        "fireworksai",
        "Fireworks AI",
        (9, 4),
        ("text_embedding", "completion", "chat_completion"),
        6000,
    ),
    GenericSpec(
        "googleaistudio", "Google AI Studio", (8, 15), ("text_embedding", "completion"), 360
    ),
    GenericSpec("groq", "Groq", (9, 3), ("chat_completion",)),
    GenericSpec(
        "hugging_face",
        "Hugging Face",
        (8, 12),
        ("text_embedding", "rerank", "completion", "chat_completion"),
        3000,
    ),
    GenericSpec("jinaai", "Jina AI", (8, 18), ("text_embedding", "rerank"), 2000),
    GenericSpec(
        "llama", "Llama", (9, 2), ("text_embedding", "completion", "chat_completion"), 3000
    ),
    GenericSpec(
        "mistral", "Mistral", (8, 15), ("text_embedding", "completion", "chat_completion"), 240
    ),
    GenericSpec(
        "nvidia", "NVIDIA", (9, 3), ("text_embedding", "rerank", "completion", "chat_completion")
    ),
    GenericSpec(
        "openshift_ai",
        "OpenShift AI",
        (9, 3),
        ("text_embedding", "rerank", "completion", "chat_completion"),
        3000,
    ),
    GenericSpec("voyageai", "Voyage AI", (8, 19), ("text_embedding", "rerank"), 2000),
    GenericSpec(
        "watsonxai",
        "IBM watsonx",
        (8, 16),
        ("text_embedding", "rerank", "completion", "chat_completion"),
        120,
    ),
)


class GenericService(Service):
    def __init__(self, spec: GenericSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.label = spec.label

    def task_types(self, caps: Capabilities) -> tuple[str, ...]:
        if not caps.version.at_least(*self.spec.since):
            return ()
        return tuple(
            t for t in self.spec.task_types if t != "chat_completion" or caps.chat_completion
        )

    def parse(
        self, inference_id: str, task_type: str, config: dict[str, Any], caps: Capabilities
    ) -> Record:
        service_map, task_map, chunking = self.open_request(task_type, config, caps, _CHUNKED)
        secrets = {k: service_map.pop(k) for k in SECRET_FIELDS if k in service_map}
        errors = Errors()
        if self.spec.rate_limit is not None:
            rpm = rate_limit_or(service_map, self.spec.rate_limit, errors)
            service_map["rate_limit"] = {"requests_per_minute": rpm}
        errors.raise_if_any()
        parsed = (service_map, copy.deepcopy(task_map), chunking)
        return self.stored_record(inference_id, task_type, parsed, secrets, config)

    async def create(self, state: EsState, record: Record, timeout: float, label: str) -> None:
        self.validation_call(state, record, _PROVIDER_401)

    def render_settings(self, record: Record, state: EsState) -> dict[str, Any]:
        return copy.deepcopy(record["service_settings"])

    def update_service_settings(
        self, state: EsState, record: Record, merged: Record, service_map: dict[str, Any]
    ) -> None:
        given = {k: service_map.pop(k) for k in SECRET_FIELDS if k in service_map}
        merged["secrets"] = {**record["secrets"], **given}

    def parse_task_settings(
        self, task_type: str, task_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        out = copy.deepcopy(task_map)
        task_map.clear()
        return out

    async def infer(self, state: EsState, record: Record, request: InferRequest) -> dict[str, Any]:
        self.check_key(state, record, _PROVIDER_401)
        settings = record["service_settings"]
        model = str(settings.get("model_id") or settings.get("model") or self.name)
        task_type = record["task_type"]
        if task_type == "text_embedding":
            dims = settings.get("dimensions") or fake.model_dimensions(model, {})
            return embeddings("float", model, {"dimensions": dims}, request.inputs)
        if task_type == "sparse_embedding":
            return sparse_embeddings(request.inputs)
        if task_type == "rerank":
            return rerank_result(record, request, False)
        return completions(self.name, model, request.inputs)

    async def stream_text(self, state: EsState, record: Record, text: str) -> str:
        self.check_key(state, record, _PROVIDER_401)
        settings = record["service_settings"]
        return fake.completion(self.name, str(settings.get("model_id") or self.name), text)


SERVICES = {spec.name: GenericService(spec) for spec in SPECS}
