"""The providers' key rings, one per service (`PUT /_sandbox/keys/{service}`): which
credentials the emulated provider accepts. By default any non-empty key is valid; a listed
ring accepts only its keys; a revoked key is refused in both modes. Only digests are kept
(`KeyRing`)."""

from __future__ import annotations

from typing import Any

from ...upstream import KeyRing


class ServiceKeys:
    """A `KeyRing` per service name, created on first use."""

    def __init__(self) -> None:
        self._rings: dict[str, KeyRing] = {}

    def ring(self, service: str) -> KeyRing:
        if service not in self._rings:
            self._rings[service] = KeyRing(prefix="")
        return self._rings[service]

    def refused(self, service: str, secrets: dict[str, Any]) -> bool:
        """True when any secret leaf of the endpoint is not accepted by the provider."""
        ring = self.ring(service)
        return any(not ring.is_valid(value) for value in _leaves(secrets))


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [str(value)] if value is not None else []
