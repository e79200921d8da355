"""The sandbox: a local Elasticsearch inference API (service `openai`) and the OpenAI-compatible
upstream it calls, as one ASGI app (in process) or a uvicorn server (`python -m
reconciler.sandbox`). It never imports the rest of the reconciler."""

from __future__ import annotations

from .app import SandboxApp, SandboxConfig, create_app
from .es.openai_client import RetrySettings
from .es.versions import DEFAULT_ES_VERSION

__all__ = ["DEFAULT_ES_VERSION", "RetrySettings", "SandboxApp", "SandboxConfig", "create_app"]
