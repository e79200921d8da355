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
    defaults: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.defaults = preconfigured(self.caps)

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
