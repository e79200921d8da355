"""secrets.py: references, the self-redacting Secret, fingerprints that never reveal a key."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest

from reconciler.secrets import (
    REDACTED,
    Secret,
    SecretRef,
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
