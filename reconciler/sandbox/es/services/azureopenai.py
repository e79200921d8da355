"""`azureopenai` (elastic/elasticsearch `…/services/azureopenai/`): resource_name,
deployment_id and api_version are required; exactly one of `api_key` / `entra_id` is the secret
(`…/services/settings/AzureOpenAiSecretSettings.java`: "must have either the [api_key] or the
[entra_id] key set"); rate limits 1440 (embeddings) / 120 (completion), from the
`RateLimitSetting` doc in elastic/elasticsearch-specification `specification/inference/_types/
Services.ts`; chat_completion from 9.3 (spec `AzureOpenAITaskType` on branch 9.3)."""

from __future__ import annotations

from typing import Any

from ..errors import status_exception
from ..extract import Errors
from ..versions import Capabilities
from .fields import Field, extract
from .remote import RemoteService, Spec

_TE = ("text_embedding",)
SPEC = Spec(
    name="azureopenai",
    label="Azure OpenAI",
    task_since={"text_embedding": (8, 14), "completion": (8, 14), "chat_completion": (9, 3)},
    service_fields=(
        Field("resource_name", required=True),
        Field("deployment_id", required=True),
        Field("api_version", required=True),
        Field("dimensions", "int", tasks=_TE),
        Field("max_input_tokens", "int", tasks=_TE),
        Field("similarity", "similarity", tasks=_TE),
    ),
    task_fields=(Field("user"),),
    # `AzureOpenAiEmbeddingsServiceSettings` / `AzureOpenAiCompletionServiceSettings`
    # `toXContentFragmentOfExposedFields`.
    exposed={
        "text_embedding": (
            "resource_name",
            "deployment_id",
            "api_version",
            "dimensions",
            "max_input_tokens",
            "similarity",
            "rate_limit",
        ),
        "completion": ("resource_name", "deployment_id", "api_version", "rate_limit"),
        "chat_completion": ("resource_name", "deployment_id", "api_version", "rate_limit"),
    },
    rate_limit={"text_embedding": 1440, "completion": 120, "chat_completion": 120},
    secret_fields=("api_key", "entra_id"),
    model_field="deployment_id",
    updatable={
        "text_embedding": ("rate_limit", "max_input_tokens"),
        "completion": ("rate_limit",),
        "chat_completion": ("rate_limit",),
    },
    dims={
        "text-embedding-3-large": 3072,
        "text-embedding-3-small": 1536,
        "text-embedding-ada-002": 1536,
    },
    provider_401=(
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
        "provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource."
    ),
)


class AzureOpenAi(RemoteService):
    def parse_secrets(self, service_map: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
        """`AzureOpenAiSecretSettings.fromMap`: one of the two, never both."""
        errors = Errors()
        api_key = extract(Field("api_key"), service_map, caps.secret_scope, errors)
        entra_id = extract(Field("entra_id"), service_map, caps.secret_scope, errors)
        if api_key is None and entra_id is None and not errors.messages:
            errors.add("[secret_settings] must have either the [api_key] or the [entra_id] key set")
        if api_key is not None and entra_id is not None:
            errors.add(
                "[secret_settings] must have only one of the [api_key] or the [entra_id] key set"
            )
        errors.raise_if_any()
        return {"api_key": api_key} if api_key is not None else {"entra_id": entra_id}

    def rotate_secrets(
        self, current: dict[str, Any], service_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        """9.5 (elastic/elasticsearch#149628): optional; a given secret must be of the type the
        endpoint already uses (switching api_key ↔ entra_id in place is refused)."""
        if "api_key" not in service_map and "entra_id" not in service_map:
            return dict(current)
        new = self.parse_secrets(service_map, caps)
        (old_type,) = current
        (new_type,) = new
        if old_type != new_type:
            raise status_exception(
                400,
                f"[secret_settings] cannot change the authentication type from [{old_type}] to "
                f"[{new_type}]; recreate the inference endpoint to change it",
            )
        return new


SERVICE = AzureOpenAi(SPEC)
