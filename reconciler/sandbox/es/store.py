"""What the emulated cluster holds (endpoints with their secrets, indices with documents,
ingest pipelines) and its persistence under `--data-dir` (one durable file per unit)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import persist as es_persist


def new_uuid() -> str:
    """An index or cluster UUID in Elasticsearch's url-safe base64 form (22 characters)."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class Index:
    name: str
    uuid: str
    created_ms: int
    mappings: dict[str, Any]
    settings: dict[str, Any]
    aliases: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)
    max_seq_no: int = -1
    primary_term: int = 1
    # Near-real-time search: what the last refresh exposed (not persisted: a restart recovers).
    searchable: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_refresh: float = 0.0
    last_search: float = 0.0

    def to_json(self) -> dict[str, Any]:
        keys = ("name", "uuid", "created_ms", "mappings", "settings", "aliases", "docs")
        out = {k: getattr(self, k) for k in keys}
        out.update(tombstones=self.tombstones, max_seq_no=self.max_seq_no)
        out["primary_term"] = self.primary_term
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Index:
        index = cls(**data)
        index.searchable = dict(index.docs)
        return index

    def refresh(self, now: float) -> None:
        self.searchable = dict(self.docs)
        self.last_refresh = now


class Store:
    """In-memory state, written through to `data_dir` when one is given."""

    def __init__(self, data_dir: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.indices: dict[str, Index] = {}
        self.cluster_uuid = new_uuid()
        if data_dir is not None:
            self._load(data_dir)

    # -- persistence -------------------------------------------------------------------

    def _load(self, data_dir: Path) -> None:
        es_persist.clean_temporaries(data_dir)
        es_persist.clean_temporaries(data_dir / "indices")
        meta = es_persist.read_json(data_dir / "cluster.json", None)
        if meta is None:
            es_persist.write_json(data_dir / "cluster.json", {"cluster_uuid": self.cluster_uuid})
        else:
            self.cluster_uuid = meta["cluster_uuid"]
        self.endpoints = es_persist.read_json(data_dir / "endpoints.json", {})
        self.pipelines = es_persist.read_json(data_dir / "pipelines.json", {})
        for path in sorted((data_dir / "indices").glob("*.json")):
            index = Index.from_json(es_persist.read_json(path, {}))
            self.indices[index.name] = index

    def save_endpoints(self) -> None:
        if self.data_dir is not None:
            es_persist.write_json(self.data_dir / "endpoints.json", self.endpoints)

    def save_pipelines(self) -> None:
        if self.data_dir is not None:
            es_persist.write_json(self.data_dir / "pipelines.json", self.pipelines)

    def save_index(self, index: Index) -> None:
        if self.data_dir is not None:
            es_persist.write_json(self._index_path(index.name), index.to_json())

    def _index_path(self, name: str) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "indices" / f"{name}.json"

    # -- endpoints ---------------------------------------------------------------------

    def put_endpoint(self, record: dict[str, Any]) -> None:
        self.endpoints[record["inference_id"]] = record
        self.save_endpoints()

    def delete_endpoint(self, inference_id: str) -> None:
        self.endpoints.pop(inference_id, None)
        self.save_endpoints()

    # -- pipelines ---------------------------------------------------------------------

    def put_pipeline(self, pipeline_id: str, body: dict[str, Any]) -> None:
        self.pipelines[pipeline_id] = body
        self.save_pipelines()

    def delete_pipeline(self, pipeline_id: str) -> None:
        self.pipelines.pop(pipeline_id, None)
        self.save_pipelines()

    # -- indices -----------------------------------------------------------------------

    def create_index(
        self, name: str, mappings: dict[str, Any], settings: dict[str, Any], aliases: dict[str, Any]
    ) -> Index:
        index = Index(
            name=name,
            uuid=new_uuid(),
            created_ms=int(time.time() * 1000),
            mappings=mappings,
            settings=settings,
            aliases=aliases,
        )
        index.last_refresh = self.clock()
        self.indices[name] = index
        self.save_index(index)
        return index

    def delete_index(self, name: str) -> None:
        self.indices.pop(name, None)
        if self.data_dir is not None:
            es_persist.remove(self._index_path(name))

    # -- references (for DELETE _inference in-use checks) ---------------------------------

    def indexes_using(self, inference_id: str) -> list[str]:
        return sorted(
            name
            for name, index in self.indices.items()
            if inference_id in semantic_ids(index.mappings)
        )

    def pipelines_using(self, inference_id: str) -> list[str]:
        return sorted(
            pid for pid, body in self.pipelines.items() if inference_id in inference_model_ids(body)
        )


def semantic_ids(mappings: dict[str, Any]) -> set[str]:
    """`inference_id` and `search_inference_id` of every semantic_text field, at any depth."""
    found: set[str] = set()
    for spec in (mappings.get("properties") or {}).values():
        if not isinstance(spec, dict):
            continue
        if spec.get("type") == "semantic_text":
            found.update(spec[k] for k in ("inference_id", "search_inference_id") if spec.get(k))
        found |= semantic_ids(spec)
    return found


def inference_model_ids(pipeline: dict[str, Any]) -> set[str]:
    """`model_id` of every inference processor, including `on_failure` and `foreach` bodies."""
    found: set[str] = set()
    for key in ("processors", "on_failure"):
        for processor in pipeline.get(key) or []:
            found |= _processor_ids(processor)
    return found


def _processor_ids(processor: Any) -> set[str]:
    found: set[str] = set()
    if not isinstance(processor, dict):
        return found
    for kind, config in processor.items():
        if not isinstance(config, dict):
            continue
        if kind == "inference" and isinstance(config.get("model_id"), str):
            found.add(config["model_id"])
        if kind == "foreach":
            found |= _processor_ids(config.get("processor"))
        found |= inference_model_ids(config)
    return found
