"""`elastic`: the Elastic Inference Service (elastic/elasticsearch
`…/services/elastic/ElasticInferenceService.java`). No secret: authorization is cluster-level
(Elastic Cloud or Cloud Connected Mode), so endpoints exist only while the sandbox's EIS is
enabled (`PUT /_sandbox/eis {"enabled": true}`). `model_id` is required; chat_completion and
completion echo `rate_limit` 240 (spec `RateLimitSetting`: "`elastic` service: 240 (chat
completion)"); text_embedding gets `dimensions`/`similarity` after the validation call; from
9.4 GET appends the model's `metadata` (`EndpointMetadata`), which the user never sent and
which changes when EIS changes it; the sparse `max_batch_size` is the one setting a 9.5
`_update` changes."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..chunking import DEFAULT_SETTINGS
from ..errors import unsupported_task_type
from ..extract import Errors
from ..openai_config import rate_limit_or
from ..versions import Capabilities
from . import fake
from .base import InferRequest, Record, Service
from .eis_catalog import PRECONFIGURED
from .fields import SS, TS, Field, compact, extract, extract_all, parse_fields
from .remote import completions, embeddings, rerank_result, sparse_embeddings

if TYPE_CHECKING:
    from ..state import EsState

_CHAT = ("chat_completion", "completion")
_CHUNKED = ("sparse_embedding", "text_embedding", "embedding")
_DENSE = ("text_embedding", "embedding")
_SERVICE_FIELDS = (
    Field("model_id", required=True),
    Field("max_input_tokens", "int", tasks=("sparse_embedding", "text_embedding")),
    Field("max_batch_size", "int", tasks=("sparse_embedding",)),
    Field("similarity", "similarity", tasks=("text_embedding",)),
    Field("dimensions", "int", tasks=("text_embedding",)),
)
_TASK_FIELDS = (
    Field("top_n", "int", tasks=("rerank",)),
    Field("return_documents", "bool", tasks=("rerank",)),
)
_EXPOSED = {
    "sparse_embedding": ("model_id", "max_input_tokens", "max_batch_size"),
    "text_embedding": ("model_id", "similarity", "dimensions", "max_input_tokens"),
    "embedding": ("model_id", "similarity", "dimensions", "max_input_tokens"),
    "rerank": ("model_id",),
    "chat_completion": ("model_id", "rate_limit"),
    "completion": ("model_id", "rate_limit"),
}
RATE_LIMIT = 240


class Elastic(Service):
    name = "elastic"
    label = "Elastic"

    def task_types(self, caps: Capabilities) -> tuple[str, ...]:
        return caps.eis_task_types

    def parse(
        self, inference_id: str, task_type: str, config: dict[str, Any], caps: Capabilities
    ) -> Record:
        service_map, task_map, chunking = self.open_request(task_type, config, caps, _CHUNKED)
        errors = Errors()
        settings = extract_all(_SERVICE_FIELDS, task_type, service_map, SS, errors)
        if task_type in _CHAT:
            rpm = rate_limit_or(service_map, RATE_LIMIT, errors)
            settings["rate_limit"] = {"requests_per_minute": rpm}
        errors.raise_if_any()
        task_settings = self.parse_task_settings(task_type, task_map, caps)
        parsed = (compact(settings), task_settings, chunking)
        return self.stored_record(
            inference_id, task_type, parsed, {}, config, service_map, task_map
        )

    def parse_task_settings(
        self, task_type: str, task_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        return parse_fields(_TASK_FIELDS, task_type, task_map, TS)

    async def create(self, state: EsState, record: Record, timeout: float, label: str) -> None:
        """EIS authorizes per cluster: without it no task type is offered."""
        _require_eis(state, record["task_type"])
        settings = record["service_settings"]
        if record["task_type"] in _DENSE:
            model = state.eis.model(settings["model_id"])
            dims = model.dimensions if model is not None and model.dimensions else None
            settings.setdefault(
                "dimensions", dims or fake.model_dimensions(settings["model_id"], {})
            )
            settings.setdefault("similarity", "cosine")

    def render_settings(self, record: Record, state: EsState) -> dict[str, Any]:
        settings = record["service_settings"]
        order = _EXPOSED[record["task_type"]]
        return {k: copy.deepcopy(settings[k]) for k in order if settings.get(k) is not None}

    def extra_fields(self, record: Record, state: EsState) -> dict[str, Any]:
        if not state.caps.eis_metadata:
            return {}
        model = state.eis.model(record["service_settings"].get("model_id", ""))
        return {"metadata": model.metadata()} if model is not None else {}

    def update_service_settings(
        self, state: EsState, record: Record, merged: Record, service_map: dict[str, Any]
    ) -> None:
        """No secrets to replace; 9.5: the sparse `max_batch_size` only."""
        if not state.caps.update_service_settings or record["task_type"] != "sparse_embedding":
            return
        errors = Errors()
        value = extract(Field("max_batch_size", "int"), service_map, SS, errors)
        errors.raise_if_any()
        if value is not None:
            merged["service_settings"] = {**merged["service_settings"], "max_batch_size": value}

    async def infer(self, state: EsState, record: Record, request: InferRequest) -> dict[str, Any]:
        _require_eis(state, record["task_type"])
        settings = record["service_settings"]
        model = str(settings.get("model_id", ""))
        task_type = record["task_type"]
        if task_type == "sparse_embedding":
            return sparse_embeddings(request.inputs)
        if task_type == "text_embedding":
            return embeddings("float", model, settings, request.inputs)
        if task_type == "embedding":  # `EmbeddingFloatResults`: key `embeddings` (Results.ts)
            dense = embeddings("float", model, settings, request.inputs)
            return {"embeddings": dense["text_embedding"]}
        if task_type == "rerank":
            return rerank_result(record, request, False)
        return completions(self.name, model, request.inputs)

    async def stream_text(self, state: EsState, record: Record, text: str) -> str:
        _require_eis(state, record["task_type"])
        return fake.completion(self.name, str(record["service_settings"].get("model_id")), text)


def _require_eis(state: EsState, task_type: str) -> None:
    if not state.eis.enabled:
        raise unsupported_task_type("elastic", task_type)


def preconfigured(caps: Capabilities, state_models: dict[str, Any]) -> dict[str, Record]:
    """The `.…-elastic` endpoints this release lists while EIS is authorized."""
    out: dict[str, Record] = {}
    for inference_id in caps.eis_preconfigured:
        model = state_models[PRECONFIGURED[inference_id]]
        task_type = model.task_type
        settings: dict[str, Any] = {"model_id": model.model_id}
        if task_type in _CHAT:
            settings["rate_limit"] = {"requests_per_minute": RATE_LIMIT}
        if task_type in _DENSE:
            settings.update(similarity="cosine", dimensions=model.dimensions)
        chunking = dict(DEFAULT_SETTINGS) if task_type in _CHUNKED else None
        out[inference_id] = SERVICE.stored_record(
            inference_id, task_type, (settings, {}, chunking), {}
        )
    return out


SERVICE = Elastic()
