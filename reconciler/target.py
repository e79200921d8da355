"""Where the Elasticsearch server is and how to authenticate: flags and environment → `Target`.

A pure function of the environment mapping and the flags (nothing here reads `os.environ`).
The URL comes from `--target`, else `ES_URL`, else `ELASTICSEARCH_URL`, else
`ELASTIC_CLOUD_ID`. Credentials come from `ES_API_KEY` / `ELASTICSEARCH_API_KEY` (sent as
`Authorization: ApiKey <value>`, the value already base64 `id:key` as Kibana gives it), else
`ES_USERNAME` + `ES_PASSWORD` (basic auth), else from `user:password@` in the URL (a raw
`id:key` API key is accepted too and encoded). Every credential is held as a `Secret`; only the
HTTP client reveals it, at the moment of a request. `Target.secrets()` lists every form of them
the client must scrub from server text; `plain_http_warning` says when they would travel
unencrypted.
"""

from __future__ import annotations

import binascii
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from reconciler.errors import UsageError
from reconciler.secrets import Secret, api_key_secrets, basic_auth_secret, encode_api_key

URL_VARIABLES = ("ES_URL", "ELASTICSEARCH_URL")
API_KEY_VARIABLES = ("ES_API_KEY", "ELASTICSEARCH_API_KEY")
USERNAME_VARIABLES = ("ES_USERNAME", "ELASTICSEARCH_USERNAME")
PASSWORD_VARIABLES = ("ES_PASSWORD", "ELASTICSEARCH_PASSWORD")
CA_CERT_VARIABLES = ("ES_CA_CERT", "ELASTICSEARCH_CA_CERT")
"""The `ELASTICSEARCH_*` names are those of Elastic's Terraform provider
(elastic/terraform-provider-elasticstack, `ELASTICSEARCH_USERNAME` / `_PASSWORD` /
`_ENDPOINTS` / `_API_KEY`); `ES_*` are ours and win when both are set."""
CLOUD_ID_VARIABLE = "ELASTIC_CLOUD_ID"

NO_TARGET_MESSAGE = (
    "no Elasticsearch target configured. Set one of:\n"
    "  --target https://host:9200      (a flag on the command)\n"
    "  ES_URL=https://host:9200        (or ELASTICSEARCH_URL, or ELASTIC_CLOUD_ID)\n"
    "  --sandbox                       (an ephemeral local sandbox, nothing to set up)\n"
    "and credentials with ES_API_KEY=<base64 id:key> or ES_USERNAME + ES_PASSWORD."
)


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved server address with its credentials (printing it never shows a secret)."""

    url: str
    api_key: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    ca_cert: str | None = None
    insecure: bool = False

    def secrets(self) -> list[Secret]:
        """Every credential this target holds, in every form it travels or could be echoed
        in, for redacting server text: the API key with its decoded `id:key` and `key` half,
        the password with the `Basic` header value (base64 `user:password`)."""
        found = api_key_secrets(self.api_key.reveal()) if self.api_key is not None else []
        if self.password is not None:
            found.append(self.password)
            if self.username is not None:
                found.append(basic_auth_secret(self.username, self.password))
        return found

    @property
    def auth_kind(self) -> str:
        """`api_key`, `basic` or `none`: safe to print."""
        if self.api_key is not None:
            return "api_key"
        return "basic" if self.username is not None else "none"


def resolve_target(
    env: Mapping[str, str],
    *,
    target: str | None = None,
    ca_cert: str | None = None,
    insecure: bool = False,
) -> Target:
    """The target the flags and environment name, or a `UsageError` saying how to set one."""
    raw_url = target or _first(env, URL_VARIABLES)
    if raw_url is None and env.get(CLOUD_ID_VARIABLE):
        raw_url = cloud_id_to_url(env[CLOUD_ID_VARIABLE])
    if raw_url is None:
        raise UsageError(NO_TARGET_MESSAGE)
    url, url_user, url_password = _split_credentials(raw_url)
    api_key, username, password = _credentials(env, url_user, url_password)
    ca_cert = ca_cert or _first(env, CA_CERT_VARIABLES)
    return Target(url, api_key, username, password, ca_cert, insecure)


def plain_http_warning(target: Target) -> str | None:
    """The warning to print when credentials would cross the network unencrypted: an
    `http://` target that is not loopback (127.0.0.0/8, ::1, `localhost`) with basic or API-key
    auth. None otherwise."""
    parts = urlsplit(target.url)
    if target.auth_kind == "none" or parts.scheme != "http" or is_loopback(parts.hostname):
        return None
    return (
        f"warning: sending Elasticsearch credentials over plain http to {parts.netloc}"
        " (not encrypted); use https"
    )


def is_loopback(host: str | None) -> bool:
    """Whether a URL's host is this machine: `localhost`, 127.0.0.0/8, ::1 (an IPv4-mapped
    loopback too). Decided from the name alone, never by resolving it."""
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def cloud_id_to_url(cloud_id: str) -> str:
    """`name:base64(host[:port]$es_uuid$kibana_uuid)` → `https://es_uuid.host:port`.

    The same parsing as elastic-transport-python's `client_utils.parse_cloud_id`: the part
    before the first `:` is the cluster name; the rest decodes to `$`-separated parts; the
    host may carry a port (default 443); the Elasticsearch host is `<es_uuid>.<host>`.
    """
    _name, _, encoded = cloud_id.partition(":")
    try:
        parts = binascii.a2b_base64(encoded.encode("ascii")).decode("ascii").split("$")
        host, port = _host_port(parts[0])
        es_uuid = parts[1] if len(parts) > 1 else ""
    except (ValueError, UnicodeError):
        raise UsageError(f"{CLOUD_ID_VARIABLE} is not a valid Elastic Cloud ID") from None
    if not host or not es_uuid:
        raise UsageError(f"{CLOUD_ID_VARIABLE} does not name an Elasticsearch host")
    return f"https://{es_uuid}.{host}:{port}"


def _host_port(parent: str) -> tuple[str, int]:
    if ":" in parent:
        host, _, port = parent.rpartition(":")
        return host, int(port)
    return parent, 443


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((env[n] for n in names if env.get(n)), None)


def _split_credentials(raw_url: str) -> tuple[str, str | None, str | None]:
    """Validate the URL and move any `user:password@` out of it, so it never gets printed."""
    parts = urlsplit(raw_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            "the target must be a URL with a scheme and a host, such as "
            "https://localhost:9200 (check --target / ES_URL)"
        )
    netloc = parts.netloc.rpartition("@")[2]
    url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return url, user, password


def _credentials(
    env: Mapping[str, str], url_user: str | None, url_password: str | None
) -> tuple[Secret | None, str | None, Secret | None]:
    api_key = _first(env, API_KEY_VARIABLES)
    if api_key:
        return Secret(encode_api_key(api_key)), None, None
    username = _first(env, USERNAME_VARIABLES) or url_user
    password = _first(env, PASSWORD_VARIABLES) or url_password
    if bool(username) != bool(password):
        raise UsageError(
            "basic auth needs both a user name (ES_USERNAME or ELASTICSEARCH_USERNAME) and a"
            " password (ES_PASSWORD or ELASTICSEARCH_PASSWORD); one is missing"
        )
    if username and password:
        return None, username, Secret(password)
    return None, None, None
