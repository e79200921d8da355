"""A remote (third-party) inference service described by data: its fields per task type, the
fields GET exposes and in which order, default `rate_limit`, secrets, the settings a 9.5
`_update` may change, and the vector size each model returns. The cloud services
(`azureopenai`, `cohere`, `amazonbedrock`, `googlevertexai`) are instances with a few hooks.

Shared upstream behaviour (elastic/elasticsearch, `x-pack/plugin/inference/…/services/`):
* `RateLimitSettings.of(map, DEFAULT_RATE_LIMIT_SETTINGS, …)`: `rate_limit` always echoed;
* `SenderService.checkModelConfig` / `ServiceUtils.getEmbeddingSize` +
  `updateModelWithEmbeddingDetails`: text_embedding `dimensions` and `similarity` filled after
  the validation call;
* `ServiceUtils.throwIfNotEmptyMap`: leftover keys → "unknown to the [x] service";
* `TransportUpdateInferenceModelAction` (PR #114457; PRs #147465, #149430, #149628, #149723 for
  9.5): secrets and task settings before 9.5, per-service updatable settings from 9.5."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import status_exception
from ..extract import Errors
from ..openai_config import rate_limit_or
from ..versions import Capabilities
from . import fake
from .base import InferRequest, Record, Service
from .fields import SS, TS, Field, compact, extract, extract_all, parse_fields

if TYPE_CHECKING:
    from ..state import EsState

Version = tuple[int, int]


@dataclass(frozen=True)
class Spec:
    name: str
    label: str
    task_since: dict[str, Version]
    service_fields: tuple[Field, ...]
    task_fields: tuple[Field, ...]
    exposed: dict[str, tuple[str, ...]]
    rate_limit: dict[str, int]
    secret_fields: tuple[str, ...]
    model_field: str = "model_id"
    updatable: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dims: dict[str, int] = field(default_factory=dict)
    provider_401: str = "Invalid API key"
    rerank_returns_documents: bool = False


class RemoteService(Service):
    """Parsing, rendering, update and inference of one data-described remote service."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.name = spec.name
        self.label = spec.label

    # -- what the release offers ------------------------------------------------------------

    def task_types(self, caps: Capabilities) -> tuple[str, ...]:
        out = []
        for task_type, since in self.spec.task_since.items():
            if task_type == "chat_completion" and not caps.chat_completion:
                continue
            if caps.version.at_least(*since):
                out.append(task_type)
        return tuple(out)

    # -- PUT --------------------------------------------------------------------------------

    def parse(
        self, inference_id: str, task_type: str, config: dict[str, Any], caps: Capabilities
    ) -> Record:
        service_map, task_map, chunking = self.open_request(
            task_type, config, caps, ("text_embedding",)
        )
        self.before_parse(service_map)
        errors = Errors()
        settings = extract_all(self.spec.service_fields, task_type, service_map, SS, errors)
        if task_type in self.spec.rate_limit:
            rpm = rate_limit_or(service_map, self.spec.rate_limit[task_type], errors)
            settings["rate_limit"] = {"requests_per_minute": rpm}
        self.after_parse(task_type, settings, errors)
        errors.raise_if_any()
        if task_type == "text_embedding":
            settings["dimensions_set_by_user"] = settings.get("dimensions") is not None
        task_settings = self.parse_task_settings(task_type, task_map, caps)
        secrets = self.parse_secrets(service_map, caps)
        parsed = (compact(settings), task_settings, chunking)
        return self.stored_record(
            inference_id, task_type, parsed, secrets, config, service_map, task_map
        )

    def before_parse(self, service_map: dict[str, Any]) -> None:
        """Aliases and legacy keys, before the fields are extracted."""

    def after_parse(self, task_type: str, settings: dict[str, Any], errors: Errors) -> None:
        """Cross-field checks and normalisation of the parsed settings."""

    def parse_secrets(self, service_map: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
        """Every secret field is required (`DefaultSecretSettings`, `AwsSecretSettings`,
        `GoogleVertexAiSecretSettings`)."""
        errors = Errors()
        out = {}
        for name in self.spec.secret_fields:
            out[name] = extract(Field(name, required=True), service_map, caps.secret_scope, errors)
        errors.raise_if_any()
        return out

    def parse_task_settings(
        self, task_type: str, task_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        return parse_fields(self.spec.task_fields, task_type, task_map, TS)

    async def create(self, state: EsState, record: Record, timeout: float, label: str) -> None:
        """The validation call: the provider checks the credentials; text_embedding learns
        the vector size."""
        self.validation_call(state, record, self.spec.provider_401)
        if record["task_type"] == "text_embedding":
            self.fill_embedding_details(record)

    def fill_embedding_details(self, record: Record) -> None:
        settings = record["service_settings"]
        if settings.get("dimensions") is None:
            model = str(settings.get(self.spec.model_field, ""))
            settings["dimensions"] = fake.model_dimensions(model, self.spec.dims)
        if settings.get("similarity") is None:
            settings["similarity"] = self.default_similarity(settings)

    def default_similarity(self, settings: dict[str, Any]) -> str:
        return "dot_product"

    # -- GET --------------------------------------------------------------------------------

    def render_settings(self, record: Record, state: EsState) -> dict[str, Any]:
        settings = record["service_settings"]
        out: dict[str, Any] = {}
        for key in self.spec.exposed[record["task_type"]]:
            value = self.render_value(key, settings.get(key))
            if value is not None:
                out[key] = value
        return out

    def render_value(self, key: str, value: Any) -> Any:
        return value

    # -- _update ----------------------------------------------------------------------------

    def update_service_settings(
        self, state: EsState, record: Record, merged: Record, service_map: dict[str, Any]
    ) -> None:
        caps = state.caps
        if not caps.update_service_settings:
            # 8.17–9.4: `SecretSettings.newSecretSettings` needs the whole secret object;
            # the other service settings are silently ignored.
            merged["secrets"] = self.parse_secrets(service_map, caps)
            return
        merged["secrets"] = self.rotate_secrets(record["secrets"], service_map, caps)
        updated = dict(merged["service_settings"])
        errors = Errors()
        for key in self.spec.updatable.get(record["task_type"], ()):
            if key == "rate_limit":
                if "rate_limit" in service_map:
                    current = updated["rate_limit"]["requests_per_minute"]
                    rpm = rate_limit_or(service_map, current, errors)
                    updated["rate_limit"] = {"requests_per_minute": rpm}
                continue
            spec = next(f for f in self.spec.service_fields if f.name == key)
            value = extract(Field(key, spec.kind, choices=spec.choices), service_map, SS, errors)
            if value is not None:
                updated[key] = value
        errors.raise_if_any()
        merged["service_settings"] = updated

    def rotate_secrets(
        self, current: dict[str, Any], service_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        """9.5 (elastic/elasticsearch#149628): secrets are optional on `_update`; given ones
        replace the stored ones. Services with a pair or alternatives override this."""
        errors = Errors()
        out = dict(current)
        for name in self.spec.secret_fields:
            value = extract(Field(name), service_map, caps.secret_scope, errors)
            if value is not None:
                out[name] = value
        errors.raise_if_any()
        return out

    async def validate_update(self, state: EsState, merged: Record) -> None:
        self.validation_call(state, merged, self.spec.provider_401)

    # -- inference --------------------------------------------------------------------------

    def embedding_kind(self, settings: dict[str, Any]) -> str:
        """float, byte or bit: which `text_embedding*` result the service returns."""
        return "float"

    async def infer(self, state: EsState, record: Record, request: InferRequest) -> dict[str, Any]:
        self.check_key(state, record, self.spec.provider_401)
        settings = record["service_settings"]
        task_type = record["task_type"]
        model = str(settings.get(self.spec.model_field, ""))
        if task_type == "text_embedding":
            return embeddings(self.embedding_kind(settings), model, settings, request.inputs)
        if task_type == "rerank":
            return rerank_result(record, request, self.spec.rerank_returns_documents)
        if task_type == "completion":
            return completions(self.name, model, request.inputs)
        raise status_exception(400, f"task type [{task_type}] cannot be performed here")

    async def stream_text(self, state: EsState, record: Record, text: str) -> str:
        self.check_key(state, record, self.spec.provider_401)
        model = str(record["service_settings"].get(self.spec.model_field, ""))
        return fake.completion(self.name, model, text)


def embeddings(
    kind: str, model: str, settings: dict[str, Any], inputs: list[str]
) -> dict[str, Any]:
    """`TextEmbeddingFloatResults` / `TextEmbeddingByteResults` / `TextEmbeddingBitResults`."""
    dims = int(settings.get("dimensions") or 0)
    if kind == "byte":
        vectors: list[Any] = [fake.byte_vector(f"{model}:{t}", dims) for t in inputs]
        return {"text_embedding_bytes": [{"embedding": v} for v in vectors]}
    if kind == "bit":
        vectors = [fake.byte_vector(f"{model}:{t}", max(dims // 8, 1)) for t in inputs]
        return {"text_embedding_bits": [{"embedding": v} for v in vectors]}
    vectors = [fake.float_vector(f"{model}:{t}", dims) for t in inputs]
    return {"text_embedding": [{"embedding": v} for v in vectors]}


def sparse_embeddings(inputs: list[str]) -> dict[str, Any]:
    """`SparseEmbeddingResults`."""
    items = [{"is_truncated": False, "embedding": fake.sparse_tokens(t)} for t in inputs]
    return {"sparse_embedding": items}


def completions(service: str, model: str, inputs: list[str]) -> dict[str, Any]:
    """`ChatCompletionResults`: one answer per input."""
    return {"completion": [{"result": fake.completion(service, model, t)} for t in inputs]}


def rerank_result(record: Record, request: InferRequest, default_docs: bool) -> dict[str, Any]:
    """`RankedDocsResults`: every input ranked by score; request values win over the
    endpoint's task settings."""
    stored = {**(record.get("task_settings") or {}), **request.task_settings}
    top_n = request.top_n if request.top_n is not None else stored.get("top_n")
    docs = request.return_documents
    if docs is None:
        docs = stored.get("return_documents", default_docs)
    ranked = fake.rerank(request.query or "", request.inputs, top_n, bool(docs))
    return {"rerank": ranked}
