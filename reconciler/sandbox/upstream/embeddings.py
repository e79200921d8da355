"""``POST /v1/embeddings`` of the sandbox upstream: deterministic vectors in OpenAI's shape.

One job: turn an OpenAI embeddings request into OpenAI's response, with vectors that depend
only on (model, text). Request and response follow the OpenAI API reference
(https://platform.openai.com/docs/api-reference/embeddings/create) and openai-python
``types/create_embedding_response.py``.

Vectors: SHAKE-256 of ``model NUL text`` gives a stream of uint32s mapped to [-1, 1); the first
``d`` of them, unit-normalised, are the vector of length ``d``. So a shortened embedding is the
truncated-and-renormalised full one, as OpenAI documents for ``dimensions``. Values are rounded
to float32 so the ``float`` and ``base64`` encodings carry the same numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.upstream import errors as err

# Default sizes from the OpenAI embeddings guide; ada-002 cannot be shortened.
EMBEDDING_MODELS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
SHORTENABLE = frozenset({"text-embedding-3-small", "text-embedding-3-large"})
# The API answers with the served snapshot for ada ("text-embedding-ada-002-v2").
RESPONSE_MODEL = {"text-embedding-ada-002": "text-embedding-ada-002-v2"}
MAX_INPUTS = 2048
ENCODINGS = ["float", "base64"]


@dataclass(frozen=True)
class EmbeddingRequest:
    model: str
    texts: list[str]
    dimensions: int
    encoding_format: str


def embed(model: str, text: str, dimensions: int) -> list[float]:
    """The deterministic unit vector of ``text`` under ``model``, ``dimensions`` long."""
    raw = hashlib.shake_256(f"{model}\0{text}".encode()).digest(4 * dimensions)
    ints = struct.unpack(f"<{dimensions}I", raw)
    values = [i / 2**31 - 1.0 for i in ints]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return _float32([v / norm for v in values])


def _float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def encode_base64(vector: list[float]) -> str:
    """Little-endian float32 bytes, base64 (what openai-python decodes by default)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def required_model(body: dict[str, Any]) -> str:
    """The request's `model`, first of what either endpoint checks."""
    model = body.get("model")
    if model is None or model == "":
        raise err.missing_model()
    if not isinstance(model, str):
        raise err.invalid_type("model", "a string", model)
    return model


def parse_request(body: dict[str, Any], chat_models: frozenset[str]) -> EmbeddingRequest:
    """Validate an embeddings body in the order the API reports problems."""
    model = required_model(body)
    if "input" not in body:
        raise err.missing_parameter("input")
    texts = _texts(body["input"])
    if model not in EMBEDDING_MODELS:
        raise _not_an_embedding_model(model, chat_models)
    return EmbeddingRequest(
        model=model,
        texts=texts,
        dimensions=_dimensions(model, body.get("dimensions")),
        encoding_format=_encoding(body.get("encoding_format")),
    )


def _not_an_embedding_model(model: str, chat_models: frozenset[str]) -> err.OpenAIError:
    if model in chat_models:
        return err.OpenAIError(400, "You are not allowed to generate embeddings from this model")
    return err.model_not_found(model)


def _texts(value: Any) -> list[str]:
    """``input``: a string, a list of strings, a token list, or a list of token lists."""
    items = [value] if isinstance(value, str) or _is_tokens(value) else value
    if not isinstance(items, list) or not 0 < len(items) <= MAX_INPUTS:
        raise err.invalid_input()
    if not all(_is_text(item) for item in items):
        raise err.invalid_input()
    return [item if isinstance(item, str) else json.dumps(item) for item in items]


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_token(t) for t in value)


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_text(item: Any) -> bool:
    return (isinstance(item, str) and item != "") or _is_tokens(item)


def _dimensions(model: str, value: Any) -> int:
    default = EMBEDDING_MODELS[model]
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise err.invalid_type("dimensions", "an integer", value)
    if model not in SHORTENABLE:
        # Body quoted in SciPhi-AI/R2R#768: param and code are null.
        raise err.OpenAIError(400, "This model does not support specifying dimensions.")
    if value < 1:
        raise err.out_of_range("dimensions", value, 1, above=False)
    if value > default:
        raise err.out_of_range("dimensions", value, default, above=True)
    return value


def _encoding(value: Any) -> str:
    if value is None:
        return "float"
    if value not in ENCODINGS:
        raise err.invalid_value("encoding_format", value, ENCODINGS)
    return str(value)


def count_tokens(text: str) -> int:
    """A stand-in for tiktoken: about four characters per token, at least one."""
    return max(1, math.ceil(len(text) / 4))


def response_body(request: EmbeddingRequest) -> dict[str, Any]:
    data = [_item(i, text, request) for i, text in enumerate(request.texts)]
    tokens = sum(count_tokens(t) for t in request.texts)
    return {
        "object": "list",
        "data": data,
        "model": RESPONSE_MODEL.get(request.model, request.model),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _item(index: int, text: str, request: EmbeddingRequest) -> dict[str, Any]:
    vector = embed(request.model, text, request.dimensions)
    encoded: Any = encode_base64(vector) if request.encoding_format == "base64" else vector
    return {"object": "embedding", "index": index, "embedding": encoded}
