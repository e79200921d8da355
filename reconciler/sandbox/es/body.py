"""A `PUT _inference` body as every service's `parseRequestConfig` opens it, and the record
stored once it is consumed: shared by `openai` (`openai_config`) and the emulated services
(`services.base.Service`)."""

from __future__ import annotations

from typing import Any

from .chunking import parse_chunking
from .errors import status_exception
from .extract import extract_map, refuse_leftovers
from .versions import Capabilities

Parsed = tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]
"""Service settings, task settings and chunking (None where the task type does not chunk)."""


def open_body(
    config: dict[str, Any], task_type: str, caps: Capabilities, chunked: tuple[str, ...]
) -> Parsed:
    """`service_settings` (required), `task_settings`, then chunking where the task type
    chunks. Returns the service and task maps, which the service consumes, and the parsed
    chunking."""
    service_map = extract_map(config, "service_settings")
    if service_map is None:
        raise status_exception(400, "Missing required field [service_settings]")
    task_map = extract_map(config, "task_settings") or {}
    chunking = None
    if task_type in chunked and caps.chunking:
        chunking = parse_chunking(extract_map(config, "chunking_settings"), caps)
    return service_map, task_map, chunking


def endpoint_record(
    inference_id: str,
    task_type: str,
    service: str,
    parsed: Parsed,
    secrets: dict[str, Any],
    *leftovers: dict[str, Any] | None,
) -> dict[str, Any]:
    """The record to store once every map is consumed: a key left over anywhere is refused
    (`throwIfNotEmptyMap`)."""
    refuse_leftovers(service, *leftovers)
    settings, task_settings, chunking = parsed
    return {
        "inference_id": inference_id,
        "task_type": task_type,
        "service": service,
        "service_settings": settings,
        "task_settings": task_settings,
        "chunking_settings": chunking,
        "secrets": secrets,
    }
