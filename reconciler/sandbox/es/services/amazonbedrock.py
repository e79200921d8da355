"""`amazonbedrock` (elastic/elasticsearch `…/services/amazonbedrock/`): `region`, `model` and
`provider` are required (`AmazonBedrockServiceSettings.java` @0208e59e:
`extractRequiredEnum(map, PROVIDER_FIELD, …, AmazonBedrockProvider::fromString, …)`); GET
echoes `provider.name()`, the upper-case enum constant; `embedding_type` is echoed only when
not float; `access_key` + `secret_key` are the secret (`AmazonBedrockSecretSettings`), rotated
together from 9.5 (elastic/elasticsearch#149628); rate limit 240 (spec `RateLimitSetting`);
chat_completion from 9.4 (spec `AmazonBedrockTaskType` on branch 9.4)."""

from __future__ import annotations

from typing import Any

from ..errors import status_exception
from ..extract import Errors
from ..versions import Capabilities
from .fields import Field
from .remote import RemoteService, Spec

_TE = ("text_embedding",)
_CHAT = ("completion", "chat_completion")
PROVIDERS = ("ai21labs", "amazontitan", "anthropic", "cohere", "meta", "mistral")
_EMBEDDING_PROVIDERS = ("amazontitan", "cohere")

SPEC = Spec(
    name="amazonbedrock",
    label="Amazon Bedrock",
    task_since={"text_embedding": (8, 12), "completion": (8, 12), "chat_completion": (9, 4)},
    service_fields=(
        Field("region", required=True),
        Field("model", required=True),
        Field("provider", "enum", required=True, choices=PROVIDERS),
        Field("dimensions", "int", tasks=_TE),
        Field("max_input_tokens", "int", tasks=_TE),
        Field("similarity", "similarity", tasks=_TE),
        Field("embedding_type", "enum", tasks=_TE, choices=("binary", "float")),
    ),
    task_fields=(
        Field("max_new_tokens", "int", tasks=_CHAT),
        Field("temperature", "float", tasks=_CHAT),
        Field("top_p", "float", tasks=_CHAT),
        Field("top_k", "float", tasks=_CHAT),
    ),
    exposed={
        "text_embedding": (
            "region",
            "model",
            "provider",
            "rate_limit",
            "embedding_type",
            "dimensions",
            "max_input_tokens",
            "similarity",
        ),
        "completion": ("region", "model", "provider", "rate_limit"),
        "chat_completion": ("region", "model", "provider", "rate_limit"),
    },
    rate_limit={"text_embedding": 240, "completion": 240, "chat_completion": 240},
    secret_fields=("access_key", "secret_key"),
    model_field="model",
    dims={
        "amazon.titan-embed-text-v1": 1536,
        "amazon.titan-embed-text-v2": 1024,
        "cohere.embed-english-v3": 1024,
        "cohere.embed-multilingual-v3": 1024,
    },
    provider_401="The security token included in the request is invalid.",
)


class AmazonBedrock(RemoteService):
    def after_parse(self, task_type: str, settings: dict[str, Any], errors: Errors) -> None:
        provider = settings.get("provider")
        if provider is None:
            return
        if task_type == "text_embedding" and provider not in _EMBEDDING_PROVIDERS:
            # `AmazonBedrockProviderCapabilities.providerAllowsTaskType`
            raise status_exception(
                400, f"The [{task_type}] task type for provider [{provider}] is not available"
            )
        settings["provider"] = provider.upper()

    def render_value(self, key: str, value: Any) -> Any:
        if key == "embedding_type" and value == "float":
            return None
        return value

    def embedding_kind(self, settings: dict[str, Any]) -> str:
        return "bit" if settings.get("embedding_type") == "binary" else "float"

    def rotate_secrets(
        self, current: dict[str, Any], service_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        """9.5 (elastic/elasticsearch#149628): optional, but the two keys only together."""
        given = [k for k in ("access_key", "secret_key") if k in service_map]
        if not given:
            return dict(current)
        if len(given) == 1:
            other = "secret_key" if given[0] == "access_key" else "access_key"
            errors = Errors()
            errors.add(f"{caps.secret_scope} does not contain the required setting [{other}]")
            errors.raise_if_any()
        return self.parse_secrets(service_map, caps)


SERVICE = AmazonBedrock(SPEC)
