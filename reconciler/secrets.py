"""API keys: `${VAR}` references, the self-redacting `Secret` type, salted fingerprints.

A manifest never holds a key, only a reference such as `${OPENAI_API_KEY}`. The environment
is passed in (this module never reads it). A resolved key is a `Secret`: `str()`, `repr()`,
f-strings and `json.dumps(default=str)` all print `(sensitive)`; only `reveal()` gives the
value, and only the HTTP client calls it, at the moment of the request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

REDACTED = "(sensitive)"
REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
"""A whole-string reference: `${NAME}` where NAME is a POSIX environment variable name."""

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1  # ~16 MiB, tens of ms: slow on purpose


@dataclass(frozen=True, slots=True)
class SecretRef:
    """An unresolved `${NAME}` reference to an environment variable."""

    name: str

    def __str__(self) -> str:
        return "${" + self.name + "}"


class Secret:
    """A secret value that refuses to be printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw value: for the HTTP client's request and for fingerprinting only."""
        return self._value

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled or copied out of the process")


def parse_reference(value: object) -> SecretRef | None:
    """The reference a manifest value makes, or None if it is not exactly `${NAME}`."""
    if not isinstance(value, str):
        return None
    match = REFERENCE.fullmatch(value)
    return SecretRef(match.group(1)) if match else None


def resolve(ref: SecretRef, env: Mapping[str, str]) -> Secret | None:
    """The secret the reference names, or None when the variable is unset or empty."""
    value = env.get(ref.name)
    return Secret(value) if value else None


def fingerprint(secret: Secret, salt: str) -> str:
    """A salted, slow hash of the key: proves whether it changed without storing it.

    Cached per distinct (key, salt), so a thousand endpoints sharing one key cost one
    derivation.
    """
    return _derive(secret.reveal(), salt)


@lru_cache(maxsize=1024)
def _derive(value: str, salt: str) -> str:
    digest = hashlib.scrypt(
        value.encode(), salt=salt.encode(), n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return "scrypt:" + digest.hex()


def redact_text(text: str, secrets: list[Secret]) -> str:
    """Replace every occurrence of any known secret in free text (e.g. a server error body)."""
    for secret in secrets:
        raw = secret.reveal()
        if raw:
            text = text.replace(raw, REDACTED)
    return text
