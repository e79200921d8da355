"""Target resolution: flags and environment → URL and credentials, cloud ids, clear errors."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from reconciler.cli import run
from reconciler.errors import ExitCode, UsageError
from reconciler.secrets import Secret
from reconciler.target import (
    Target,
    cloud_id_to_url,
    is_loopback,
    plain_http_warning,
    resolve_target,
)


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
    with pytest.raises(UsageError, match=r"ES_USERNAME.*ES_PASSWORD.*one is missing"):
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


# -- every form of the credentials, for redaction ----------------------------------------------

ES_PAIR = "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"
ES_ENCODED = base64.b64encode(ES_PAIR.encode()).decode()


@pytest.mark.parametrize("given", [ES_ENCODED, ES_PAIR])
def test_an_api_key_is_sent_encoded_and_redacted_in_every_form(given: str) -> None:
    target = resolve_target({"ES_URL": "https://h", "ES_API_KEY": given})
    assert target.api_key == Secret(ES_ENCODED)
    forms = [s.reveal() for s in target.secrets()]
    assert forms == [ES_ENCODED, ES_PAIR, ES_PAIR.partition(":")[2]]


def test_basic_auth_redacts_the_password_and_the_header_value() -> None:
    target = resolve_target({"ES_URL": "https://h", "ES_USERNAME": "elastic", "ES_PASSWORD": "pw"})
    header = base64.b64encode(b"elastic:pw").decode()
    assert target.secrets() == [Secret("pw"), Secret(header)]


# -- plain http ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("192.0.2.10", False),
        ("::ffff:10.0.0.1", False),
        ("es.internal", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io", False),
        (None, False),
        ("", False),
    ],
)
def test_is_loopback_decides_from_the_name_alone(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("url", "env", "warned"),
    [
        ("http://es.internal:9200", {"ES_API_KEY": ES_ENCODED}, True),
        ("http://10.0.0.5:9200", {"ES_USERNAME": "u", "ES_PASSWORD": "p"}, True),
        ("http://u:p@[2001:db8::1]:9200", {}, True),
        ("https://es.internal:9200", {"ES_API_KEY": ES_ENCODED}, False),
        ("http://es.internal:9200", {}, False),
        ("http://localhost:9200", {"ES_API_KEY": ES_ENCODED}, False),
        ("http://127.0.0.1:9200", {"ES_USERNAME": "u", "ES_PASSWORD": "p"}, False),
        ("http://[::1]:9200", {"ES_API_KEY": ES_ENCODED}, False),
    ],
)
def test_plain_http_credentials_to_a_remote_host_are_warned_about(
    url: str, env: dict[str, str], warned: bool
) -> None:
    warning = plain_http_warning(resolve_target(env, target=url))
    if not warned:
        assert warning is None
        return
    host = url.removeprefix("http://").rpartition("@")[2]
    assert warning == (
        f"warning: sending Elasticsearch credentials over plain http to {host}"
        " (not encrypted); use https"
    )


def test_the_warning_never_shows_a_credential(canary_key: str) -> None:
    target = resolve_target({}, target=f"http://elastic:{canary_key}@es.internal:9200")
    assert canary_key not in (plain_http_warning(target) or "")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any name lookup or connection fails the test: these runs must not leave the machine."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


MANIFEST = (
    "inference_id: emb\ntask_type: text_embedding\nservice: openai\n"
    "service_settings:\n  api_key: ${OPENAI_API_KEY}\n  model_id: text-embedding-3-small\n"
)


@pytest.mark.usefixtures("clean_env", "no_network")
@pytest.mark.parametrize(
    ("url", "warned"),
    [("http://192.0.2.10:9200", True), ("http://127.0.0.1:9", False), ("https://h:9", False)],
)
def test_the_cli_warns_once_before_sending_anything(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    warned: bool,
) -> None:
    """`plan` resolves the target, then stops at the unset OPENAI_API_KEY before its first
    request: the warning comes before anything is sent (and nothing is: `no_network`)."""
    (tmp_path / "emb.yaml").write_text(MANIFEST)
    monkeypatch.setenv("ES_USERNAME", "elastic")
    monkeypatch.setenv("ES_PASSWORD", "hunter2-password")
    code = run(["plan", str(tmp_path), "--target", url])
    err = capsys.readouterr().err
    assert code == ExitCode.ERROR, err
    assert "OPENAI_API_KEY" in err
    assert err.count("sending Elasticsearch credentials over plain http") == (1 if warned else 0)
    if warned:
        assert err.startswith("warning: sending Elasticsearch credentials over plain http to ")
        assert "192.0.2.10:9200 (not encrypted); use https" in err
    assert "hunter2" not in err


def test_the_elastic_providers_credential_names_are_read() -> None:
    env = {
        "ES_URL": "https://es.example:9200",
        "ELASTICSEARCH_USERNAME": "elastic",
        "ELASTICSEARCH_PASSWORD": "pw-from-elastic-names",
    }
    target = resolve_target(env)
    assert (target.username, target.auth_kind) == ("elastic", "basic")
    assert target.password is not None and target.password.reveal() == "pw-from-elastic-names"
    # our own names win when both are set
    target = resolve_target({**env, "ES_USERNAME": "ours", "ES_PASSWORD": "ours-pw"})
    assert target.username == "ours"


def test_a_half_given_basic_auth_names_both_spellings() -> None:
    with pytest.raises(UsageError, match="ELASTICSEARCH_PASSWORD"):
        resolve_target({"ES_URL": "https://h:9200", "ELASTICSEARCH_USERNAME": "elastic"})


def test_the_ca_certificate_comes_from_the_environment_unless_the_flag_names_one() -> None:
    env = {"ES_URL": "https://h:9200", "ELASTICSEARCH_CA_CERT": "/etc/ca/elastic.pem"}
    assert resolve_target(env).ca_cert == "/etc/ca/elastic.pem"
    assert resolve_target({**env, "ES_CA_CERT": "/ours.pem"}).ca_cert == "/ours.pem"
    assert resolve_target(env, ca_cert="/flag.pem").ca_cert == "/flag.pem"
