"""The models the emulated Elastic Inference Service (EIS) authorizes, with the metadata GET
shows for them (`server/src/main/java/org/elasticsearch/inference/metadata/EndpointMetadata.java`
@303f1c6a: `heuristics` {`properties`, `status`, `release_date`, `end_of_life_date`},
`display`). The metadata belongs to the model, not to the endpoint: it changes by itself when
EIS changes it (here: `PUT /_sandbox/eis/models/{model_id}`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EisModel:
    model_id: str
    task_type: str
    display_name: str
    properties: list[str]
    release_date: str
    status: str = "ga"
    end_of_life_date: str | None = None
    dimensions: int | None = None

    def metadata(self) -> dict[str, Any]:
        heuristics: dict[str, Any] = {
            "properties": list(self.properties),
            "status": self.status,
            "release_date": self.release_date,
        }
        if self.end_of_life_date is not None:
            heuristics["end_of_life_date"] = self.end_of_life_date
        return {"heuristics": heuristics, "display": {"name": self.display_name}}


def _models() -> dict[str, EisModel]:
    models = [
        EisModel("elser_model_2", "sparse_embedding", "Elastic ELSER v2", ["english"],
                 "2024-05-01"),
        EisModel("rainbow-sprinkles", "chat_completion", "Rainbow Sprinkles", ["multilingual"],
                 "2025-02-01"),
        EisModel("jina-embeddings-v3", "text_embedding", "Jina Embeddings v3", ["multilingual"],
                 "2025-09-01", dimensions=1024),
        EisModel("jina-embeddings-v5-text-small", "text_embedding", "Jina Embeddings v5 Text Small",
                 ["multilingual"], "2026-02-01", dimensions=1024),
        EisModel("rerank-v1", "rerank", "Elastic Rerank v1", ["english"], "2025-06-01"),
        EisModel("jina-embeddings-v5-omni-small", "embedding", "Jina Embeddings v5 Omni Small",
                 ["multilingual", "multimodal"], "2026-05-01", dimensions=1024),
    ]  # fmt: skip
    return {m.model_id: m for m in models}


# The preconfigured EIS endpoints: id → model.
PRECONFIGURED = {
    ".elser-2-elastic": "elser_model_2",
    ".rainbow-sprinkles-elastic": "rainbow-sprinkles",
    ".jina-embeddings-v5-text-small": "jina-embeddings-v5-text-small",
}


@dataclass
class EisCatalog:
    """Whether the cluster is authorized for EIS (Elastic Cloud or Cloud Connected Mode), and
    the model list it was authorized for."""

    enabled: bool = True
    models: dict[str, EisModel] = field(default_factory=_models)

    def model(self, model_id: str) -> EisModel | None:
        return self.models.get(model_id)

    def set_lifecycle(self, model_id: str, changes: dict[str, Any]) -> EisModel:
        model = self.models.get(model_id)
        if model is None:
            model = EisModel(model_id, "chat_completion", model_id, [], "2026-01-01")
            self.models[model_id] = model
        for key in ("status", "end_of_life_date", "release_date", "display_name"):
            if key in changes:
                setattr(model, key, changes[key])
        if "properties" in changes:
            model.properties = list(changes["properties"])
        return model

    def describe(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "models": {k: copy.deepcopy(m.metadata()) for k, m in sorted(self.models.items())},
        }
