"""Deterministic stand-ins for what a provider returns: embedding vectors, sparse token
weights, rerank scores and completion text. Everything is a pure function of its inputs (a
SHA-256 stream), so two runs of a test see the same numbers."""

from __future__ import annotations

import hashlib
import re
import struct
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")


def _stream(seed: str, count: int) -> list[int]:
    """`count` pseudo-random 32-bit integers derived from `seed`."""
    out: list[int] = []
    block = 0
    while len(out) < count:
        digest = hashlib.sha256(f"{seed}#{block}".encode()).digest()
        out.extend(struct.unpack(">8I", digest))
        block += 1
    return out[:count]


def _float32(x: float) -> float:
    packed = struct.unpack("f", struct.pack("f", x))[0]
    return float(f"{packed:.7g}")


def float_vector(seed: str, dims: int) -> list[float]:
    """A unit-length float vector (values printed as Java `float`s)."""
    raw = [(n / 2**32) * 2.0 - 1.0 for n in _stream(seed, dims)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [_float32(v / norm) for v in raw]


def byte_vector(seed: str, length: int) -> list[int]:
    """Signed bytes, as `text_embedding_bytes`/`text_embedding_bits` carry them."""
    return [(n % 256) - 128 for n in _stream(seed, length)]


def sparse_tokens(text: str) -> dict[str, float]:
    """ELSER-like token weights: the input's words plus two expansions each, never empty."""
    words = _WORD.findall(text.lower()) or ["empty"]
    weights: dict[str, float] = {}
    for word in words[:64]:
        for token, scale in ((word, 1.0), (word[:4] or word, 0.5), (f"{word}s", 0.25)):
            (n,) = _stream(f"sparse:{token}", 1)
            weight = _float32(scale * (0.5 + n / 2**32))
            weights[token] = max(weights.get(token, 0.0), weight)
    return weights


def relevance(query: str, document: str) -> float:
    """A score in (0, 1): shared words count most, a hash breaks ties."""
    q, d = set(_WORD.findall(query.lower())), set(_WORD.findall(document.lower()))
    overlap = len(q & d) / (len(q) or 1)
    (n,) = _stream(f"rerank:{query}\x00{document}", 1)
    return _float32(0.05 + 0.8 * overlap + 0.1 * (n / 2**32))


def rerank(
    query: str, documents: list[str], top_n: int | None, return_documents: bool
) -> list[dict[str, Any]]:
    """Every input ranked, best first (ties by index), cut to `top_n`."""
    ranked = sorted(
        ((i, relevance(query, doc)) for i, doc in enumerate(documents)),
        key=lambda item: (-item[1], item[0]),
    )
    if top_n is not None:
        ranked = ranked[:top_n]
    out = []
    for index, score in ranked:
        item: dict[str, Any] = {"index": index, "relevance_score": score}
        if return_documents:
            item["text"] = documents[index]
        out.append(item)
    return out


def completion(service: str, model: str, text: str) -> str:
    """A short, non-empty answer naming who "wrote" it."""
    snippet = " ".join(text.split())[:120] or "(empty)"
    return f"[{service}:{model}] You asked: {snippet}"


def model_dimensions(model: str, table: dict[str, int]) -> int:
    """The vector length a model returns: from `table` (exact, then prefix), else one of a
    few common sizes chosen by a hash of the name."""
    if model in table:
        return table[model]
    for prefix, dims in table.items():
        if model.startswith(prefix):
            return dims
    (n,) = _stream(f"dims:{model}", 1)
    return (384, 512, 768, 1024)[n % 4]
