"""Trained-model deployments the `elasticsearch` service runs on the emulated ML node
(`StartTrainedModelDeploymentAction`, `GetDeploymentStatsAction`): who created each one (an
inference endpoint, or the trained models API when `owner` is None) and its allocations.

With adaptive allocations the live allocation count moves by itself: every read advances a
deterministic tick through [min, max] (elastic/elasticsearch PR #115233: `num_allocations` in
GET is read from the deployment stats, "this field is dynamic"); the sandbox's admin route
can also set it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Deployment:
    deployment_id: str
    model_id: str
    num_threads: int
    num_allocations: int | None
    adaptive: dict[str, Any] | None
    owner: str | None
    ticks: int = 0
    live: int | None = None

    @property
    def adaptive_enabled(self) -> bool:
        return bool(self.adaptive and self.adaptive.get("enabled"))

    def bounds(self) -> tuple[int, int]:
        adaptive = self.adaptive or {}
        low = int(adaptive.get("min_number_of_allocations") or 0)
        high = int(adaptive.get("max_number_of_allocations") or max(low, 1) + 3)
        return low, max(low, high)

    def read_allocations(self) -> int | None:
        """The value GET shows: fixed, or the live adaptive value (advancing one tick)."""
        if not self.adaptive_enabled:
            return self.num_allocations
        low, high = self.bounds()
        if self.live is None:
            value = low + self.ticks % (high - low + 1)
            self.ticks += 1
            return value
        return min(max(self.live, low), high)

    def set_live(self, allocations: int) -> None:
        self.live = allocations

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"num_threads": self.num_threads}
        if self.num_allocations is not None:
            out["num_allocations"] = self.num_allocations
        if self.adaptive is not None:
            out["adaptive_allocations"] = dict(self.adaptive)
        return out


class Deployments:
    """Deployment id → `Deployment`."""

    def __init__(self) -> None:
        self.by_id: dict[str, Deployment] = {}

    def get(self, deployment_id: str) -> Deployment | None:
        return self.by_id.get(deployment_id)

    def add(self, deployment: Deployment) -> None:
        self.by_id[deployment.deployment_id] = deployment

    def remove(self, deployment_id: str) -> None:
        self.by_id.pop(deployment_id, None)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"deployment_id": d.deployment_id, "model_id": d.model_id, "owner": d.owner,
             **d.settings()}
            for d in sorted(self.by_id.values(), key=lambda d: d.deployment_id)
        ]  # fmt: skip
