"""secrets.py: references, the self-redacting Secret, fingerprints that never reveal a key."""

from __future__ import annotations

import base64
import copy
import json
import logging
import pickle
import random
import string
from urllib.parse import quote

import pytest

from reconciler.secrets import (
    FRAGMENT,
    REDACTED,
    Redactor,
    Secret,
    SecretRef,
    api_key_secrets,
    basic_auth_secret,
    encode_api_key,
    fingerprint,
    parse_reference,
    redact_text,
    resolve,
)


def test_secret_never_prints_its_value(canary_key: str, caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(canary_key)
    logging.getLogger("test").warning("key is %s / %r", secret, secret)
    rendered = [str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret:>40}"]
    rendered.append(json.dumps({"k": secret}, default=str))
    rendered.append(repr({"nested": [secret]}))
    assert all(canary_key not in text for text in [*rendered, caplog.text])
    assert REDACTED in str(secret)


def test_secret_refuses_to_be_pickled(canary_key: str) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(canary_key))
    with pytest.raises(TypeError):
        copy.deepcopy(Secret(canary_key))


def test_reveal_and_equality(canary_key: str) -> None:
    assert Secret(canary_key).reveal() == canary_key
    assert Secret(canary_key) == Secret(canary_key)
    assert Secret(canary_key) != Secret("sk-other")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${OPENAI_API_KEY}", SecretRef("OPENAI_API_KEY")),
        ("${_x1}", SecretRef("_x1")),
        ("sk-literal", None),
        ("${1BAD}", None),
        ("prefix ${A}", None),
        ("$OPENAI", None),
        (42, None),
    ],
)
def test_parse_reference(value: object, expected: SecretRef | None) -> None:
    assert parse_reference(value) == expected


def test_resolve_reads_only_the_mapping_it_is_given(canary_key: str) -> None:
    assert resolve(SecretRef("K"), {"K": canary_key}) == Secret(canary_key)
    assert resolve(SecretRef("K"), {}) is None
    assert resolve(SecretRef("K"), {"K": ""}) is None


def test_fingerprint_is_salted_stable_and_free_of_the_key(canary_key: str) -> None:
    first = fingerprint(Secret(canary_key), "salt-a")
    assert first == fingerprint(Secret(canary_key), "salt-a")
    assert first != fingerprint(Secret(canary_key), "salt-b")
    assert first != fingerprint(Secret(canary_key + "x"), "salt-a")
    assert canary_key not in first and first.startswith("scrypt:")


def test_redact_text_removes_every_known_secret(canary_key: str) -> None:
    text = f"upstream said: Incorrect API key provided: {canary_key}."
    assert canary_key not in redact_text(text, [Secret(canary_key)])


# -- fragments and encodings -------------------------------------------------------------------

ES_ID, ES_KEY = "VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw"
"""An Elasticsearch API key as `POST /_security/api_key` returns it: a 20-character id, a
22-character key; Kibana shows base64 `id:key`."""
ES_PAIR = f"{ES_ID}:{ES_KEY}"
ES_ENCODED = base64.b64encode(ES_PAIR.encode()).decode()


def scrub(text: str, *secrets: Secret) -> str:
    return redact_text(text, list(secrets))


def windows(value: str, size: int = FRAGMENT) -> list[str]:
    return [value[i : i + size] for i in range(len(value) - size + 1)]


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 8), (0, 20), (10, 18), (15, 30), (-10, None), (-8, None), (3, -3)],
    ids=["first-8", "first-20", "middle-8", "middle-15", "last-10", "last-8", "all-but-ends"],
)
def test_a_fragment_of_8_or_more_characters_is_scrubbed(
    canary_key: str, start: int, end: int | None
) -> None:
    fragment = canary_key[start:end]
    text = f"upstream said: key ending in {fragment} was revoked"
    redacted = scrub(text, Secret(canary_key))
    assert redacted == f"upstream said: key ending in {REDACTED} was revoked"


def test_every_window_of_a_key_is_scrubbed_alone(canary_key: str) -> None:
    for window in windows(canary_key):
        assert window not in scrub(f"x {window} y", Secret(canary_key))


def test_a_piece_shorter_than_8_characters_is_left(canary_key: str) -> None:
    text = f"key ending in {canary_key[-7:]}, starting {canary_key[:7]}"
    assert scrub(text, Secret(canary_key)) == text


def test_fragments_touching_or_overlapping_become_one_mark(canary_key: str) -> None:
    text = f"[{canary_key[:12]}{canary_key[20:32]}] [{canary_key}{canary_key}]"
    assert scrub(text, Secret(canary_key)) == f"[{REDACTED}] [{REDACTED}]"


def test_two_separate_fragments_are_two_marks(canary_key: str) -> None:
    text = f"{canary_key[:9]} and {canary_key[-9:]}"
    assert scrub(text, Secret(canary_key)) == f"{REDACTED} and {REDACTED}"


def b64_forms(value: str) -> dict[str, str]:
    raw = value.encode()
    return {
        "standard": base64.b64encode(raw).decode(),
        "standard-unpadded": base64.b64encode(raw).decode().rstrip("="),
        "urlsafe": base64.urlsafe_b64encode(raw).decode(),
        "urlsafe-unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


SYMBOLIC = "pa>>ss?word~~~1"
"""A password whose base64 holds `+` and `/`, so the urlsafe forms differ."""


@pytest.mark.parametrize("form", list(b64_forms(SYMBOLIC)))
def test_every_base64_form_is_scrubbed_whole_and_in_part(form: str) -> None:
    encoded = b64_forms(SYMBOLIC)[form]
    assert scrub(f"header [{encoded}]", Secret(SYMBOLIC)) == f"header [{REDACTED}]"
    assert scrub(f"header [{encoded[2:12]}]", Secret(SYMBOLIC)) == f"header [{REDACTED}]"


def test_the_standard_and_urlsafe_forms_differ_for_this_password() -> None:
    forms = b64_forms(SYMBOLIC)
    assert forms["standard"] != forms["urlsafe"]
    assert "+" in forms["standard"] or "/" in forms["standard"]


@pytest.mark.parametrize("user", ["elastic", "ab", "abc", "a-much-longer-user-name"])
def test_a_password_inside_any_basic_header_is_scrubbed(user: str) -> None:
    password = "hunter2-correct-horse"
    header = base64.b64encode(f"{user}:{password}".encode()).decode()
    redacted = scrub(f"Authorization: Basic {header}", Secret(password))
    assert header not in redacted
    assert REDACTED in redacted
    # what is left is at most the user's part and a character or two at the edges
    leftover = redacted.removeprefix("Authorization: Basic ").replace(REDACTED, "")
    assert len(leftover) <= len(base64.b64encode(f"{user}:".encode()).decode().rstrip("=")) + 3


def test_the_basic_header_value_is_scrubbed_in_part() -> None:
    header = basic_auth_secret("elastic", Secret("hunter2-correct-horse"))
    value = header.reveal()
    assert value == base64.b64encode(b"elastic:hunter2-correct-horse").decode()
    for window in windows(value):
        assert window not in scrub(f"({window})", header)


def test_a_percent_encoded_secret_is_scrubbed() -> None:
    password = "p@ss/w0rd:with spaces"
    text = f"https://elastic:{quote(password, safe='')}@host"
    assert scrub(text, Secret(password)) == f"https://elastic:{REDACTED}@host"


# -- Elasticsearch API keys -------------------------------------------------------------------


@pytest.mark.parametrize("given", [ES_ENCODED, ES_PAIR, f"  {ES_ENCODED}\n"])
def test_an_api_key_amounts_to_its_encoding_its_pair_and_its_key(given: str) -> None:
    found = api_key_secrets(given)
    assert [s.reveal() for s in found] == [ES_ENCODED, ES_PAIR, ES_KEY]
    assert found[1].public_prefix == len(ES_ID) + 1
    assert encode_api_key(given) == ES_ENCODED


def test_an_urlsafe_unpadded_api_key_is_decoded_too() -> None:
    given = base64.urlsafe_b64encode(ES_PAIR.encode()).decode().rstrip("=")
    assert [s.reveal() for s in api_key_secrets(given)][1:] == [ES_PAIR, ES_KEY]


@pytest.mark.parametrize(
    "text",
    [
        f"api key [{ES_PAIR}] is invalid",
        f"ApiKey {ES_ENCODED}",
        f"ApiKey {ES_ENCODED.rstrip('=')}",
        f"key {ES_KEY}",
        f"key ending {ES_KEY[-10:]}",
        f"encoded ending {ES_ENCODED[-12:]}",
        f"pair tail {ES_ID[-4:]}:{ES_KEY[:6]}",
        f"percent {quote(ES_PAIR, safe='')}",
    ],
)
def test_every_form_of_an_api_key_is_scrubbed(text: str) -> None:
    redacted = scrub(text, *api_key_secrets(ES_ENCODED))
    assert REDACTED in redacted
    for secret in (ES_KEY, ES_ENCODED.rstrip("=")):
        assert not any(window in redacted for window in windows(secret))


def test_the_api_key_id_alone_is_not_secret() -> None:
    text = f"api key id [{ES_ID}] was invalidated"
    assert scrub(text, *api_key_secrets(ES_ENCODED)) == text


def test_a_whole_pair_is_scrubbed_id_and_all() -> None:
    assert scrub(f"[{ES_PAIR}]", *api_key_secrets(ES_ENCODED)) == f"[{REDACTED}]"


def test_a_key_that_is_no_api_key_is_kept_as_given() -> None:
    assert api_key_secrets("not base64!") == [Secret("not base64!")]


def test_a_short_key_half_is_not_scrubbed_on_its_own() -> None:
    """`id:key` with a 3-letter key (tests only: real keys are 22 characters): scrubbing "key"
    everywhere would scrub ordinary words."""
    found = api_key_secrets(base64.b64encode(b"id:key").decode())
    assert [s.reveal() for s in found] == ["aWQ6a2V5", "id:key"]
    assert scrub("Incorrect API key provided", *found) == "Incorrect API key provided"


# -- short secrets, ordinary text --------------------------------------------------------------


def test_a_short_secret_is_scrubbed_exactly_only() -> None:
    secret = Secret("pw12345")
    assert scrub("password pw12345 rejected", secret) == f"password {REDACTED} rejected"
    assert scrub("password pw1234 rejected", secret) == "password pw1234 rejected"
    encoded = base64.b64encode(b"pw12345").decode()  # 12 characters: scrubbed when whole
    assert scrub(f"b64 {encoded}", secret) == f"b64 {REDACTED}"
    assert scrub(f"b64 {encoded[:8]}", secret) == f"b64 {encoded[:8]}"


def test_a_tiny_secret_does_not_scrub_its_base64_everywhere() -> None:
    assert scrub("YQ== YQ", Secret("a")) == "YQ== YQ"  # base64 of "a": 2-4 characters


def test_text_without_fragments_is_untouched(canary_key: str) -> None:
    text = (
        "PUT /_inference/text_embedding/emb: 400 status_exception: Incorrect API key provided:"
        " sk-local-****demo; model text-embedding-3-small; sk-cana; 7f3a9c1"
    )
    secrets = [Secret(canary_key), *api_key_secrets(ES_ENCODED), Secret("hunter2-horse")]
    assert scrub(text, *secrets) == text


def test_an_ordinary_word_matching_8_characters_of_a_secret_is_still_scrubbed() -> None:
    """Security first: `sk-local-demo` holds `sk-local`, so `sk-local` is scrubbed anywhere."""
    assert scrub("the sk-local demo", Secret("sk-local-demo")) == f"the {REDACTED} demo"


def test_an_openai_masked_key_keeps_its_public_prefix_and_last_four() -> None:
    key = "sk-proj-" + "Ab3dEf6hIj9lMn2pQr5tUv8xYz" + "4455"
    masked = key[:8] + "*" * (len(key) - 12) + key[-4:]
    assert scrub(f"Incorrect API key provided: {masked}.", Secret(key)) == (
        f"Incorrect API key provided: {masked}."
    )
    assert REDACTED in scrub(f"provided: {key[:12]}***", Secret(key))


def test_a_legacy_masked_key_loses_its_secret_head_but_keeps_the_last_four(
    canary_key: str,
) -> None:
    masked = canary_key[:8] + "*" * (len(canary_key) - 12) + canary_key[-4:]
    assert scrub(masked, Secret(canary_key)) == REDACTED + masked[8:]


def test_the_scanner_finds_what_a_naive_scan_finds(canary_key: str) -> None:
    secrets = [Secret(canary_key), *api_key_secrets(ES_ENCODED), Secret(SYMBOLIC)]
    redactor = Redactor(secrets)
    sources = [canary_key, ES_PAIR[len(ES_ID) - 6 :], ES_ENCODED, SYMBOLIC]
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_:=+/ "
    for _ in range(500):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        source = rng.choice(sources)
        a = rng.randrange(len(source) - FRAGMENT + 1)
        b = rng.randrange(a + FRAGMENT, len(source) + 1)
        at = rng.randrange(len(noise) + 1)
        text = noise[:at] + source[a:b] + noise[at:]
        redacted = redactor.redact(text)
        assert source[a:b] not in redacted, text
        assert REDACTED in redacted


def test_secrets_compare_by_value_and_public_prefix_even_with_non_ascii() -> None:
    assert Secret("pässwörd") == Secret("pässwörd")
    assert Secret("pässwörd") != Secret("passwort")
    assert Secret("id:key", public_prefix=3) != Secret("id:key")
    assert len({Secret("a"), Secret("a"), Secret("a", public_prefix=1)}) == 2
