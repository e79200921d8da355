"""The inference services the sandbox emulates, by name: `openai` keeps its own modules
(`openai_config`, `openai_client`), every other service is a `Service` here. One module per
full-tier service, `generic` for the rest."""

from __future__ import annotations

from ..versions import Capabilities
from . import amazonbedrock, azureopenai, cohere, elastic, elasticsearch, generic, googlevertexai
from .base import Service

FULL_TIER: dict[str, Service] = {
    s.name: s
    for s in (
        azureopenai.SERVICE,
        cohere.SERVICE,
        amazonbedrock.SERVICE,
        googlevertexai.SERVICE,
        elastic.SERVICE,
        elasticsearch.SERVICE,
        elasticsearch.ELSER,
    )
}
SERVICES: dict[str, Service] = {**FULL_TIER, **generic.SERVICES}


def service_for(name: str, caps: Capabilities) -> Service | None:
    """The emulated service `name` if this release has it."""
    service = SERVICES.get(name)
    if service is None or not service.available(caps):
        return None
    return service


def available(caps: Capabilities) -> list[Service]:
    return [SERVICES[name] for name in sorted(SERVICES) if SERVICES[name].available(caps)]
