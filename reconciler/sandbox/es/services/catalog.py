"""`GET _inference/_services` entries for the services other than openai (elastic/elasticsearch
`…/rest/RestGetInferenceServicesAction.java`; `server/src/main/java/org/elasticsearch/inference/
SettingsConfiguration.java` @012e1dcd). One format for every release: the one of PR #120150
(`task_types` per service, `supported_task_types` per field, flattened
`rate_limit.requests_per_minute`). Like upstream it lists no task_settings nor chunking, and
the `elasticsearch` entry has no `adaptive_allocations` (`ElasticsearchInternalService
.Configuration`); `updatable` marks secrets, `num_allocations` and the 9.5 updatable settings."""

from __future__ import annotations

from typing import Any

from ..versions import Capabilities
from .base import Service
from .elastic import Elastic
from .elasticsearch import Elasticsearch
from .generic import GenericService
from .remote import RemoteService

_KINDS = {"str": "str", "int": "int", "similarity": "str", "enum": "str", "bool": "bool",
          "float": "int", "map": "map"}  # fmt: skip


def field_entry(
    label: str, kind: str, task_types: list[str], *, required: bool = False,
    sensitive: bool = False, updatable: bool = False,
) -> dict[str, Any]:  # fmt: skip
    return {
        "description": label,
        "label": label,
        "required": required,
        "sensitive": sensitive,
        "updatable": updatable,
        "type": kind,
        "supported_task_types": task_types,
    }


def _title(name: str) -> str:
    return name.replace("_", " ").title().replace("Id", "ID")


def _remote(service: RemoteService, caps: Capabilities, tasks: list[str]) -> dict[str, Any]:
    spec = service.spec
    config: dict[str, Any] = {}
    for secret in spec.secret_fields:
        required = len(spec.secret_fields) == 1 or service.name == "amazonbedrock"
        config[secret] = field_entry(_title(secret), "str", tasks, required=required,
                                     sensitive=True, updatable=True)  # fmt: skip
    for f in spec.service_fields:
        applies = [t for t in tasks if f.applies(t)]
        if not applies or f.name in config or f.name in ("url", "api_version"):
            continue
        updatable = caps.update_service_settings and any(
            f.name in spec.updatable.get(t, ()) for t in applies
        )
        config[f.name] = field_entry(_title(f.name), _KINDS[f.kind], applies,
                                     required=f.required, updatable=updatable)  # fmt: skip
    rated = [t for t in tasks if t in spec.rate_limit]
    if rated:
        updatable = caps.update_service_settings and any(
            "rate_limit" in spec.updatable.get(t, ()) for t in rated
        )
        config["rate_limit.requests_per_minute"] = field_entry(
            "Rate Limit", "int", rated, updatable=updatable
        )
    return config


def _configurations(service: Service, caps: Capabilities, tasks: list[str]) -> dict[str, Any]:
    if isinstance(service, RemoteService):
        return _remote(service, caps, tasks)
    if isinstance(service, Elasticsearch):
        return {
            "model_id": field_entry("Model ID", "str", tasks, required=True),
            "num_allocations": field_entry("Number Allocations", "int", tasks, required=True,
                                           updatable=True),
            "num_threads": field_entry("Number Threads", "int", tasks, required=True),
        }  # fmt: skip
    if isinstance(service, Elastic):
        config = {"model_id": field_entry("Model ID", "str", tasks, required=True)}
        chat = [t for t in tasks if t in ("chat_completion", "completion")]
        if chat:
            config["rate_limit.requests_per_minute"] = field_entry("Rate Limit", "int", chat)
        return config
    assert isinstance(service, GenericService)
    config = {}
    if service.name in ("amazon_sagemaker",):
        for secret in ("access_key", "secret_key"):
            config[secret] = field_entry(_title(secret), "str", tasks, required=True,
                                         sensitive=True, updatable=True)  # fmt: skip
    elif service.name == "custom":
        config["secret_parameters"] = field_entry(
            "Secret Parameters", "map", tasks, required=True, sensitive=True, updatable=True
        )
    else:
        config["api_key"] = field_entry("API Key", "str", tasks, required=service.name != "llama",
                                        sensitive=True, updatable=True)  # fmt: skip
    if service.spec.rate_limit is not None:
        config["rate_limit.requests_per_minute"] = field_entry("Rate Limit", "int", tasks)
    return config


def entry(service: Service, caps: Capabilities) -> dict[str, Any]:
    tasks = list(service.task_types(caps))
    return {
        "service": service.name,
        "name": service.label,
        "task_types": tasks,
        "configurations": _configurations(service, caps, tasks),
    }
