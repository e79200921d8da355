"""The state one emulated cluster carries between requests: capabilities, store, the outbound
caller, and endpoint lookups that merge stored and preconfigured endpoints (elastic/elasticsearch
`x-pack/plugin/inference/…/inference/registry/ModelRegistry.java`, `defaultConfigs`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .auth import AuthConfig
from .endpoints import preconfigured
from .errors import endpoint_not_found
from .openai_client import UpstreamCaller
from .services.deployments import Deployment, Deployments
from .services.eis_catalog import EisCatalog
from .services.elastic import preconfigured as eis_preconfigured
from .services.keys import ServiceKeys
from .store import Store
from .versions import Capabilities


@dataclass
class EsState:
    caps: Capabilities
    store: Store
    caller: UpstreamCaller
    auth: AuthConfig = field(default_factory=AuthConfig)
    node_name: str = "sandbox-node-0"
    clock: Callable[[], float] = time.monotonic
    updating: set[str] = field(default_factory=set)
    service_keys: ServiceKeys = field(default_factory=ServiceKeys)
    eis: EisCatalog = field(default_factory=EisCatalog)
    deployments: Deployments = field(default_factory=Deployments)
    ml_latency_s: float = 0.0
    defaults: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.refresh_defaults()
        self._rebuild_deployments()

    def refresh_defaults(self) -> None:
        """The preconfigured endpoints: the built-in ones, plus EIS's while it is enabled."""
        defaults = preconfigured(self.caps)
        if self.eis.enabled:
            defaults.update(eis_preconfigured(self.caps, self.eis.models))
        self.defaults = defaults

    def set_eis(self, enabled: bool) -> None:
        self.eis.enabled = enabled
        self.refresh_defaults()

    def _rebuild_deployments(self) -> None:
        """After a restart with `--data-dir`: the deployments endpoints had created."""
        for record in self.store.endpoints.values():
            settings = record.get("service_settings") or {}
            if record["service"] not in ("elasticsearch", "elser") or "deployment_id" in settings:
                continue
            self.deployments.add(
                Deployment(
                    deployment_id=record["inference_id"],
                    model_id=str(settings.get("model_id")),
                    num_threads=int(settings.get("num_threads") or 1),
                    num_allocations=settings.get("num_allocations"),
                    adaptive=settings.get("adaptive_allocations"),
                    owner=record["inference_id"],
                )
            )

    def all_endpoints(self) -> list[dict[str, Any]]:
        """Stored and preconfigured endpoints sorted by id (Java `String` order)."""
        merged = {**self.defaults, **self.store.endpoints}
        return [merged[k] for k in sorted(merged)]

    def find(self, inference_id: str) -> dict[str, Any] | None:
        return self.store.endpoints.get(inference_id) or self.defaults.get(inference_id)

    def get(self, inference_id: str) -> dict[str, Any]:
        record = self.find(inference_id)
        if record is None:
            raise endpoint_not_found(inference_id)
        return record
