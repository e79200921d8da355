"""Where the contract suite (and a replay) sends its requests, and with which credentials.

The credentials come from the variables the reconciler reads (`reconciler/target.py`):
`ES_API_KEY` / `ELASTICSEARCH_API_KEY` (the base64 `id:key` Kibana shows, or the raw `id:key`),
else `ES_USERNAME` + `ES_PASSWORD` / `ELASTICSEARCH_USERNAME` + `ELASTICSEARCH_PASSWORD`.
`--es-ca-cert` (or `ES_CA_CERT` / `ELASTICSEARCH_CA_CERT`) names a CA bundle for https.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class Connection:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    ca_cert: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    """Every form of the credentials, by name, for scrubbing recordings."""

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=self.ca_cert) if self.ca_cert else True

    @property
    def auth_kind(self) -> str:
        scheme = self.headers.get("Authorization", "").partition(" ")[0]
        return {"ApiKey": "api_key", "Basic": "basic"}.get(scheme, "none")


def connection(
    url: str, ca_cert: str | None = None, env: Mapping[str, str] | None = None
) -> Connection:
    env = os.environ if env is None else env
    ca_cert = ca_cert or _first(env, "ES_CA_CERT", "ELASTICSEARCH_CA_CERT")
    api_key = _first(env, "ES_API_KEY", "ELASTICSEARCH_API_KEY")
    if api_key:
        encoded = base64.b64encode(api_key.encode()).decode() if ":" in api_key else api_key
        secrets = {"es_api_key": encoded}
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            decoded = ""
        if ":" in decoded:
            secrets["es_api_key_id_key"] = decoded
            secrets["es_api_key_secret"] = decoded.partition(":")[2]
        return Connection(url, {"Authorization": f"ApiKey {encoded}"}, ca_cert, secrets)
    username = _first(env, "ES_USERNAME", "ELASTICSEARCH_USERNAME")
    password = _first(env, "ES_PASSWORD", "ELASTICSEARCH_PASSWORD")
    if username and password:
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        secrets = {"es_password": password, "es_basic_auth": basic}
        return Connection(url, {"Authorization": f"Basic {basic}"}, ca_cert, secrets)
    return Connection(url, {}, ca_cert, {})
