"""OpenAI-shaped errors for the sandbox upstream, and the masking of API keys in them.

One job: build the exact error bodies the OpenAI API answers with. Every error is
``{"error": {"message", "type", "param", "code"}}`` (OpenAI API reference, "Error codes";
openai-python ``_exceptions.APIStatusError`` reads ``body["error"]``). Messages are copied
from answers of the real API as quoted in public bug reports (cited per function).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

API_KEYS_URL = "https://platform.openai.com/account/api-keys"


class OpenAIError(Exception):
    """An error the upstream answers with; handlers raise it, the app renders it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type, "param": param, "code": code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status)


def mask_key(key: str) -> str:
    """Mask a key as OpenAI does: the first 8 characters, one ``*`` per hidden character, the
    last 4 (e.g. ``sk-WRQsP***************************************xQBt`` for a 51-character
    key, seen in dKosarevsky/AI-Talks#32 and popjane/free_chatgpt_api#3). Short keys keep at
    most a quarter of their characters at each end, so a full key is never echoed."""
    head = min(8, len(key) // 4)
    tail = min(4, len(key) // 4)
    hidden = len(key) - head - tail
    return key[:head] + "*" * hidden + (key[-tail:] if tail else "")


def invalid_api_key(key: str) -> OpenAIError:
    """401 for a wrong key (body quoted in Santosl2/wpp-chatgpt#3, popjane/free_chatgpt_api#3)."""
    message = (
        f"Incorrect API key provided: {mask_key(key)}. You can find your API key at {API_KEYS_URL}."
    )
    return OpenAIError(401, message, code="invalid_api_key")


def missing_api_key() -> OpenAIError:
    """401 without a Bearer key (text quoted in yihong0618/bilingual_book_maker#137)."""
    message = (
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
        "field (with blank username) if you're accessing the API from your browser and are "
        f"prompted for a username and password. You can obtain an API key from {API_KEYS_URL}."
    )
    return OpenAIError(401, message)


def model_not_found(model: str) -> OpenAIError:
    """404 for an unknown model (body quoted in openai/openai-agents-python#458)."""
    message = f"The model `{model}` does not exist or you do not have access to it."
    return OpenAIError(404, message, code="model_not_found")


def invalid_url(method: str, path: str) -> OpenAIError:
    return OpenAIError(404, f"Invalid URL ({method} {path})")


def invalid_json() -> OpenAIError:
    return OpenAIError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)",
    )


def missing_model() -> OpenAIError:
    return OpenAIError(400, "you must provide a model parameter")


def missing_parameter(param: str) -> OpenAIError:
    message = f"Missing required parameter: '{param}'."
    return OpenAIError(400, message, param=param, code="missing_required_parameter")


def invalid_type(param: str, expected: str, value: Any) -> OpenAIError:
    message = (
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead."
    )
    return OpenAIError(400, message, param=param, code="invalid_type")


def invalid_value(param: str, value: Any, supported: list[str]) -> OpenAIError:
    choices = ", ".join(f"'{s}'" for s in supported[:-1]) + f", and '{supported[-1]}'"
    if len(supported) == 2:
        choices = f"'{supported[0]}' and '{supported[1]}'"
    message = f"Invalid value: '{value}'. Supported values are: {choices}."
    return OpenAIError(400, message, param=param, code="invalid_value")


def out_of_range(
    param: str, value: float, bound: float, *, above: bool, kind: str = "integer"
) -> OpenAIError:
    """A number outside its schema bounds; ``kind`` is the parameter's schema type."""
    side, cmp = ("above maximum", "<=") if above else ("below minimum", ">=")
    message = (
        f"Invalid '{param}': {kind} {side} value. "
        f"Expected a value {cmp} {bound}, but got {value} instead."
    )
    code = f"{kind}_{'above_max' if above else 'below_min'}_value"
    return OpenAIError(400, message, param=param, code=code)


def invalid_input(param: str = "input") -> OpenAIError:
    """The generic schema failure (``'$.input' is invalid...``), param ``null`` as upstream."""
    message = (
        f"'$.{param}' is invalid. "
        "Please check the API reference: https://platform.openai.com/docs/api-reference."
    )
    return OpenAIError(400, message)


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string"}
    names.update({list: "an array", dict: "an object", type(None): "null"})
    return names.get(type(value), "a value")


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or OpenAI's 400 for anything else."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid_json() from None
    if not isinstance(body, dict):
        raise invalid_json()
    return body
