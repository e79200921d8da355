"""Optional authentication as the security plugin answers it: `Basic` users and `ApiKey`
credentials; anything else is 401 `security_exception` with `WWW-Authenticate`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from .errors import EsError

CHALLENGES = ('Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey")


@dataclass
class AuthConfig:
    users: dict[str, str] = field(default_factory=dict)
    api_keys: set[str] = field(default_factory=set)  # base64("id:key")

    @property
    def enabled(self) -> bool:
        return bool(self.users or self.api_keys)

    def add_api_key(self, value: str) -> str:
        """Accept `id:key` or the already encoded form; return the encoded credential."""
        encoded = encode_api_key(value) if ":" in value else value
        self.api_keys.add(encoded)
        return encoded

    def add_user(self, user_colon_password: str) -> None:
        user, _, password = user_colon_password.partition(":")
        self.users[user] = password


def encode_api_key(id_colon_key: str) -> str:
    return base64.b64encode(id_colon_key.encode()).decode()


def authenticate(config: AuthConfig, authorization: str | None, uri: str) -> None:
    """Raise the 401 Elasticsearch sends when the request does not authenticate."""
    if not config.enabled:
        return
    if not authorization:
        raise _unauthorized(f"missing authentication credentials for REST request [{uri}]")
    scheme, _, credential = authorization.partition(" ")
    scheme, credential = scheme.lower(), credential.strip()
    if scheme == "apikey" and credential in config.api_keys:
        return
    if scheme == "basic":
        user, password = _basic(credential)
        if user is not None and config.users.get(user) == password:
            return
        if user is not None:
            raise _unauthorized(f"unable to authenticate user [{user}] for REST request [{uri}]")
    raise _unauthorized(
        "unable to authenticate with provided credentials and anonymous access is not allowed "
        "for this request"
    )


def _basic(credential: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


def _unauthorized(reason: str) -> EsError:
    extra = {"header": {"WWW-Authenticate": list(CHALLENGES)}}
    error = EsError(401, "security_exception", reason, extra=extra)
    error.headers = {"WWW-Authenticate": ", ".join(CHALLENGES)}
    return error
