"""Target resolution: flags and environment → URL and credentials, cloud ids, clear errors."""

from __future__ import annotations

import base64

import pytest

from reconciler.errors import UsageError
from reconciler.secrets import Secret
from reconciler.target import Target, cloud_id_to_url, resolve_target


def cloud_id(decoded: str, name: str = "my-deployment") -> str:
    return f"{name}:{base64.b64encode(decoded.encode()).decode()}"


def test_flag_wins_over_environment() -> None:
    env = {"ES_URL": "https://env:9200"}
    assert resolve_target(env, target="https://flag:9200").url == "https://flag:9200"


@pytest.mark.parametrize("name", ["ES_URL", "ELASTICSEARCH_URL"])
def test_url_from_environment(name: str) -> None:
    assert resolve_target({name: "http://localhost:9200/"}).url == "http://localhost:9200"


def test_es_url_wins_over_elasticsearch_url_and_cloud_id() -> None:
    env = {
        "ES_URL": "https://a:9200",
        "ELASTICSEARCH_URL": "https://b:9200",
        "ELASTIC_CLOUD_ID": cloud_id("host$es$kb"),
    }
    assert resolve_target(env).url == "https://a:9200"


def test_cloud_id_decodes_like_elastic_transport() -> None:
    decoded = "us-central1.gcp.cloud.es.io$abc123$def456"
    assert cloud_id_to_url(cloud_id(decoded)) == "https://abc123.us-central1.gcp.cloud.es.io:443"


def test_cloud_id_with_port_and_no_kibana() -> None:
    assert cloud_id_to_url(cloud_id("example.com:9243$es1")) == "https://es1.example.com:9243"


def test_cloud_id_from_environment() -> None:
    target = resolve_target({"ELASTIC_CLOUD_ID": cloud_id("host.io$es$kb")})
    assert target.url == "https://es.host.io:443"


@pytest.mark.parametrize(
    "value",
    ["name:!!!notbase64", cloud_id("host.io"), cloud_id("$es$kb"), cloud_id("host:notaport$es")],
)
def test_bad_cloud_id_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="ELASTIC_CLOUD_ID"):
        cloud_id_to_url(value)


def test_no_target_says_how_to_set_one() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_target({})
    message = str(caught.value)
    for hint in ("--target", "ES_URL", "--sandbox", "ES_API_KEY"):
        assert hint in message


@pytest.mark.parametrize("url", ["localhost:9200", "ftp://host", "https://", "just words"])
def test_url_needs_scheme_and_host(url: str) -> None:
    with pytest.raises(UsageError, match="scheme and a host"):
        resolve_target({}, target=url)


@pytest.mark.parametrize("name", ["ES_API_KEY", "ELASTICSEARCH_API_KEY"])
def test_api_key_auth(name: str) -> None:
    target = resolve_target({"ES_URL": "https://h:9200", name: "aWQ6a2V5"})
    assert target.api_key == Secret("aWQ6a2V5")
    assert target.auth_kind == "api_key"


def test_api_key_wins_over_basic() -> None:
    env = {"ES_URL": "https://h", "ES_API_KEY": "k", "ES_USERNAME": "u", "ES_PASSWORD": "p"}
    target = resolve_target(env)
    assert target.auth_kind == "api_key"
    assert target.username is None


def test_basic_auth() -> None:
    target = resolve_target({"ES_URL": "https://h", "ES_USERNAME": "elastic", "ES_PASSWORD": "pw"})
    assert (target.username, target.password) == ("elastic", Secret("pw"))
    assert target.auth_kind == "basic"


@pytest.mark.parametrize("env", [{"ES_USERNAME": "u"}, {"ES_PASSWORD": "p"}])
def test_half_basic_auth_is_a_usage_error(env: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="ES_USERNAME and ES_PASSWORD"):
        resolve_target({"ES_URL": "https://h", **env})


def test_credentials_in_url_move_out_of_it() -> None:
    target = resolve_target({}, target="https://elastic:s%40cret@h:9200/prefix/")
    assert target.url == "https://h:9200/prefix"
    assert target.username == "elastic"
    assert target.password == Secret("s@cret")


def test_no_credentials_is_allowed() -> None:
    assert resolve_target({"ES_URL": "http://localhost:9200"}).auth_kind == "none"


def test_tls_flags_are_kept_and_insecure_is_off_by_default() -> None:
    assert resolve_target({"ES_URL": "https://h"}).insecure is False
    target = resolve_target({"ES_URL": "https://h"}, ca_cert="/ca.pem", insecure=True)
    assert (target.ca_cert, target.insecure) == ("/ca.pem", True)


def test_printing_a_target_never_shows_a_secret(canary_key: str) -> None:
    target = Target("https://h", api_key=Secret(canary_key), password=Secret(canary_key))
    assert canary_key not in repr(target)
    assert canary_key not in str(target)
    assert target.secrets() == [Secret(canary_key), Secret(canary_key)]
