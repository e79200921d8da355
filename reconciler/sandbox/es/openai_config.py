"""The `openai` service's request parsing: a PUT body becomes a stored endpoint record, with the
exact field errors of `OpenAiService.parseRequestConfig` (elastic/elasticsearch
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/services/openai/
OpenAiService.java`, the `*ServiceSettings`/`*TaskSettings` classes beside it,
`ServiceUtils.java`, `DefaultSecretSettings`, `RateLimitSettings`)."""

from __future__ import annotations

import re
from typing import Any

from .body import endpoint_record, open_body
from .errors import EsError, status_exception, unsupported_task_type
from .extract import (
    Errors,
    extract_enum,
    extract_map,
    extract_positive_int,
    extract_string,
    not_positive,
    remove_as_int_or_long,
    remove_as_type,
    unknown_settings,
)
from .versions import Capabilities

SS = "[service_settings]"
TS = "[task_settings]"
SUPPORTED_TASK_TYPES = ("text_embedding", "completion", "chat_completion")
DEFAULT_RATE_LIMIT = {"text_embedding": 3000, "completion": 500, "chat_completion": 500}
SIMILARITIES = ["cosine", "dot_product", "l2_norm"]


def parse_openai_request(
    inference_id: str, task_type: str, config: dict[str, Any], caps: Capabilities
) -> dict[str, Any]:
    """Parse the body left after `service`/`task_type` were removed; return a stored record."""
    service_map, task_map, chunking = open_body(config, task_type, caps, ("text_embedding",))
    _move_model_to_service_settings(task_map, service_map)
    if task_type not in SUPPORTED_TASK_TYPES:
        raise unsupported_task_type("openai", task_type)
    service_settings = parse_service_settings(task_type, service_map)
    task_settings = parse_task_settings(task_map, caps)
    secrets = parse_secrets(service_map, caps)
    parsed = (service_settings, task_settings, chunking)
    return endpoint_record(
        inference_id, task_type, "openai", parsed, secrets, config, service_map, task_map
    )


def _move_model_to_service_settings(task_map: dict[str, Any], service_map: dict[str, Any]) -> None:
    """`OpenAiService.moveModelFromTaskToServiceSettings` (legacy `task_settings.model`)."""
    if "model_id" in service_map:
        return
    for key in ("model", "model_id"):
        if key in task_map:
            service_map["model_id"] = task_map.pop(key)
            return


def parse_service_settings(task_type: str, m: dict[str, Any]) -> dict[str, Any]:
    errors = Errors()
    if task_type == "text_embedding":
        out = _embedding_settings(m, errors)
    else:
        out = _completion_settings(m, errors)
    out["rate_limit"] = {"requests_per_minute": _rate_limit(m, task_type, errors)}
    errors.raise_if_any()
    return {k: v for k, v in out.items() if v is not None}


def _embedding_settings(m: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """`OpenAiEmbeddingsServiceSettings.fromMap`, request context, in its extraction order."""
    url = extract_string(m, "url", SS, errors, required=False)
    organization = extract_string(m, "organization_id", SS, errors, required=False)
    similarity = extract_enum(m, "similarity", SS, SIMILARITIES, errors)
    max_tokens = extract_positive_int(m, "max_input_tokens", SS, errors, required=False)
    dimensions = extract_positive_int(m, "dimensions", SS, errors, required=False)
    _check_uri(url, errors)
    model_id = extract_string(m, "model_id", SS, errors, required=True)
    return {
        "model_id": model_id,
        "url": url,
        "organization_id": organization,
        "similarity": similarity,
        "dimensions": dimensions,
        "max_input_tokens": max_tokens,
        "dimensions_set_by_user": dimensions is not None,
    }


def _completion_settings(m: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """`OpenAiChatCompletionServiceSettings.fromMap`, in its extraction order."""
    model_id = extract_string(m, "model_id", SS, errors, required=True)
    organization = extract_string(m, "organization_id", SS, errors, required=False)
    url = extract_string(m, "url", SS, errors, required=False)
    _check_uri(url, errors)
    max_tokens = extract_positive_int(m, "max_input_tokens", SS, errors, required=False)
    return {
        "model_id": model_id,
        "url": url,
        "organization_id": organization,
        "max_input_tokens": max_tokens,
    }


def _rate_limit(m: dict[str, Any], task_type: str, errors: Errors) -> int:
    return rate_limit_or(m, DEFAULT_RATE_LIMIT[task_type], errors)


def rate_limit_or(m: dict[str, Any], default: int, errors: Errors) -> int:
    """`RateLimitSettings.of`: unknown keys inside `rate_limit` throw at once."""
    settings = extract_map(m, "rate_limit") or {}
    value = remove_as_int_or_long(settings, "requests_per_minute", errors)
    if settings:
        raise unknown_settings(settings)
    if value is not None and value <= 0:
        errors.add(not_positive("[rate_limit]", "requests_per_minute", value, kind="long"))
    return value if value is not None and value > 0 else default


def update_service_settings(current: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    """9.5+ `OpenAiEmbeddingsServiceSettings.updateServiceSettings` and its chat-completion twin
    (elastic/elasticsearch#147465): `organization_id`, `max_input_tokens` and `rate_limit` are
    taken from the request (the current values stay when absent); the other keys are left in
    the map for the caller's unknown-settings check."""
    errors = Errors()
    organization = extract_string(m, "organization_id", SS, errors, required=False)
    max_tokens = extract_positive_int(m, "max_input_tokens", SS, errors, required=False)
    rate = current.get("rate_limit", {}).get("requests_per_minute")
    rpm = rate_limit_or(m, rate, errors)
    errors.raise_if_any()
    out = dict(current)
    if organization is not None:
        out["organization_id"] = organization
    if max_tokens is not None:
        out["max_input_tokens"] = max_tokens
    out["rate_limit"] = {"requests_per_minute": rpm}
    return out


def parse_task_settings(m: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    errors = Errors()
    user = extract_string(m, "user", TS, errors, required=False)
    headers = _headers(m, errors) if caps.task_headers else None
    errors.raise_if_any()
    out: dict[str, Any] = {}
    if user is not None:
        out["user"] = user
    if headers:
        out["headers"] = headers
    return out


def _headers(m: dict[str, Any], errors: Errors) -> dict[str, str] | None:
    value = remove_as_type(m, "headers", "Map", errors)
    if value is None:
        return None
    for key, item in value.items():
        if not isinstance(item, str):
            kind = type(item).__name__
            errors.add(
                f"Map field [headers] has an entry that is not valid, [{key} => {item}]. "
                f"Value type of [{kind}] is not one of [String]."
            )
            return None
    return dict(value)


def parse_secrets(m: dict[str, Any], caps: Capabilities) -> dict[str, str]:
    """`DefaultSecretSettings.fromMap`: `api_key` lives inside `service_settings`."""
    errors = Errors()
    api_key = extract_string(m, "api_key", caps.secret_scope, errors, required=True)
    errors.raise_if_any()
    return {"api_key": str(api_key)}


# java.net.URI: characters that are never legal, and the component they are reported in.
_ILLEGAL = re.compile(r"[\s\"<>\\^`{|}]")


def _check_uri(url: str | None, errors: Errors) -> None:
    """`ServiceUtils.convertToUri`: only "does it parse as a java.net.URI" is checked."""
    if url is None:
        return
    reason = uri_syntax_error(url)
    if reason is not None:
        errors.add(
            f"{SS} Invalid url [{url}] received for field [url]. Error: unable to parse url "
            f"[{url}]. Reason: {reason}"
        )


def uri_syntax_error(url: str) -> str | None:
    """The `URISyntaxException.getReason()` java.net.URI would give, or None if it parses."""
    if url.startswith(":"):
        return "Expected scheme name"
    match = _ILLEGAL.search(url)
    if match is None:
        return None
    return f"Illegal character in {_component(url, match.start())}"


def _component(url: str, index: int) -> str:
    scheme_end = url.find(":")
    if scheme_end > 0 and index < scheme_end and "/" not in url[:scheme_end]:
        return "scheme name"
    fragment, query = url.find("#"), url.find("?")
    if 0 <= fragment < index:
        return "fragment"
    if 0 <= query < index:
        return "query"
    if url[scheme_end + 1 : scheme_end + 3] == "//":
        host_end = url.find("/", scheme_end + 3)
        if index < (host_end if host_end >= 0 else len(url)):
            return "authority"
    return "path"


def check_dimensions(record: dict[str, Any], size: int) -> EsError | None:
    """`TextEmbeddingModelValidator`: a user-set `dimensions` must match the upstream size."""
    settings = record["service_settings"]
    if settings.get("dimensions_set_by_user") and settings.get("dimensions") != size:
        return status_exception(
            400,
            f"The retrieved embeddings size [{size}] does not match the size specified in the "
            f"settings [{settings['dimensions']}]. Please recreate the "
            f"[{record['inference_id']}] configuration with the correct dimensions",
        )
    settings["dimensions"] = size
    settings.setdefault("similarity", "dot_product")
    return None
