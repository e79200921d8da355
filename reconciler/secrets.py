"""API keys: `${VAR}` references, the self-redacting `Secret` type, salted fingerprints.

A manifest never holds a key, only a reference such as `${OPENAI_API_KEY}`. The environment
is passed in (this module never reads it). A resolved key is a `Secret`: `str()`, `repr()`,
f-strings and `json.dumps(default=str)` all print `(sensitive)`; only `reveal()` gives the
value, and only the HTTP client calls it, at the moment of the request.

Text that a server sends back (errors above all) may quote a secret anyway, whole or in part,
raw or encoded. `Redactor` scrubs every known secret from such text: the raw value, its
base64 (standard and urlsafe, padded or not, and at any alignment inside a longer base64
string), its percent-encoding, and any run of `FRAGMENT` (8) or more consecutive characters of
any of those. Secrets shorter than `FRAGMENT` are scrubbed as exact matches only (a 3-letter
password's 8-character fragments do not exist, and its 2-letter pieces are ordinary text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

REDACTED = "(sensitive)"
FRAGMENT = 8
"""Any run of this many consecutive characters of a secret (or of an encoding of it) is
scrubbed; shorter secrets are scrubbed as exact matches only."""
PUBLIC_KEY_PREFIXES = ("sk-proj-", "sk-svcacct-", "sk-admin-")
"""OpenAI key prefixes that name a kind of key, not a key: text showing only them (such as
OpenAI's own masked `sk-proj-****…abcd`) is left alone; a fragment reaching past them is not."""
REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
"""A whole-string reference: `${NAME}` where NAME is a POSIX environment variable name."""

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1  # ~16 MiB, tens of ms: slow on purpose


SecretPath = tuple[str, ...]
"""Where a secret sits in a manifest document or request body: `("service_settings", "api_key")`."""

ANY_KEY = "*"
"""In a declared secret path, the last step `*` stands for every key of the map there
(`("service_settings", "secret_parameters", "*")`: each secret parameter of `custom`)."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """An unresolved `${NAME}` reference to an environment variable."""

    name: str

    def __str__(self) -> str:
        return "${" + self.name + "}"


class Secret:
    """A secret value that refuses to be printed.

    `public_prefix` says how many leading characters are not secret on their own (the `id:`
    of an Elasticsearch API key's `id:key`): fragments lying wholly inside them are not
    scrubbed; the whole value and every fragment reaching past them are.
    """

    __slots__ = ("_public", "_value")

    def __init__(self, value: str, *, public_prefix: int = 0) -> None:
        self._value = value
        self._public = max(0, min(public_prefix, len(value)))

    def reveal(self) -> str:
        """The raw value: for the HTTP client's request and for fingerprinting only."""
        return self._value

    @property
    def public_prefix(self) -> int:
        return self._public

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret) or self._public != other._public:
            return False
        # bytes: `compare_digest` refuses str with non-ASCII characters (a password may have)
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value, self._public))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled or copied out of the process")


def parse_reference(value: object) -> SecretRef | None:
    """The reference a manifest value makes, or None if it is not exactly `${NAME}`."""
    if not isinstance(value, str):
        return None
    match = REFERENCE.fullmatch(value)
    return SecretRef(match.group(1)) if match else None


def secret_references(
    document: Mapping[str, object], declared: Iterable[SecretPath]
) -> dict[SecretPath, SecretRef]:
    """The reference at each declared secret path the document fills in, by concrete path.

    A declared path ending in `ANY_KEY`, or holding a map (`custom`'s
    `service_settings.secret_parameters`), yields one entry per key of that map. For a
    validated document only (validation refuses a secret that is not exactly `${NAME}`):
    anything else at a declared path raises `ValueError`, never a value in a message."""
    found: dict[SecretPath, SecretRef] = {}
    for pattern in declared:
        for path, value in _expand(document, tuple(pattern)):
            if isinstance(value, Mapping):
                found.update(secret_references(document, [(*path, ANY_KEY)]))
                continue
            reference = parse_reference(value)
            if reference is None:
                where = ".".join(path)
                raise ValueError(f"{where} is not a ${{NAME}} reference (validate first)")
            found[path] = reference
    return found


def _expand(
    node: object, pattern: SecretPath, prefix: SecretPath = ()
) -> list[tuple[SecretPath, object]]:
    """(concrete path, value) for every place the pattern matches in node."""
    if not pattern:
        return [(prefix, node)]
    if not isinstance(node, Mapping):
        return []
    head, rest = pattern[0], pattern[1:]
    keys = sorted(node, key=str) if head == ANY_KEY else [head] if head in node else []
    return [found for key in keys for found in _expand(node[key], rest, (*prefix, str(key)))]


def fingerprints(secrets: Mapping[SecretPath, object], salt: str) -> dict[str, str]:
    """`fingerprint` of every resolved secret, by dotted path (what state records keep)."""
    return {
        ".".join(path): fingerprint(value, salt)
        for path, value in sorted(secrets.items())
        if isinstance(value, Secret)
    }


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


def api_key_secrets(value: str) -> list[Secret]:
    """Everything an Elasticsearch API key amounts to, for redaction.

    `value` is the key as given: base64 `id:key` as Kibana shows it, or the raw `id:key`.
    The result holds the encoded credential (what the `ApiKey` header carries), the decoded
    pair `id:key` (its `id:` is public: the id only names the key, Elasticsearch prints it in
    its own messages and people need it to tell keys apart) and the `key` half alone (if it is
    at least `FRAGMENT` long: real keys are 22 characters; a shorter half scrubbed on its own
    would scrub ordinary words).
    """
    value = value.strip()
    pair = value if ":" in value else _decode_pair(value)
    secrets = [Secret(encode_api_key(value))]
    if pair is not None and ":" in pair:
        key_id, _, key = pair.partition(":")
        secrets.append(Secret(pair, public_prefix=len(key_id) + 1))
        if len(key) >= FRAGMENT:
            secrets.append(Secret(key))
    return secrets


def encode_api_key(value: str) -> str:
    """The `ApiKey` header credential: base64 `id:key` (a raw `id:key` is encoded; base64
    never contains `:`, so the two forms cannot be confused)."""
    value = value.strip()
    return base64.b64encode(value.encode()).decode() if ":" in value else value


def basic_auth_secret(username: str, password: Secret) -> Secret:
    """The `Basic` header credential: base64 `user:password`."""
    raw = f"{username}:{password.reveal()}".encode()
    return Secret(base64.b64encode(raw).decode())


def _decode_pair(value: str) -> str | None:
    """`id:key` if the value is base64 (either alphabet, padded or not) of printable text."""
    padded = value + "=" * (-len(value) % 4)
    for altchars in (None, b"-_"):
        try:
            decoded = base64.b64decode(padded, altchars=altchars, validate=True).decode()
        except (binascii.Error, ValueError):
            continue
        key_id, colon, key = decoded.partition(":")
        if colon and key_id and key and decoded.isprintable():
            return decoded
    return None


class Redactor:
    """Scrubs a fixed set of secrets from free text, in every encoding and in part.

    Built once per set of secrets: every `FRAGMENT`-long window of every form of every
    secret (a few hundred per secret), and every `_GRAM`-long piece of those windows. Any
    window found in a text holds a piece starting at a multiple of `_GRAM`, so `redact` looks
    up one piece every `_GRAM` characters and checks the windows only around a hit: linear in
    the text whatever the number of secrets, about 10 µs for a clean 500-character message.
    Overlapping and adjacent hits merge into one `(sensitive)`.
    """

    __slots__ = ("_exact", "_grams", "_windows")

    def __init__(self, secrets: Iterable[Secret]) -> None:
        windows: set[str] = set()
        exact: set[str] = set()
        for secret in secrets:
            _register(secret, windows, exact)
        self._windows = frozenset(windows)
        self._grams = frozenset(w[i : i + _GRAM] for w in windows for i in range(_GRAM))
        self._exact = tuple(sorted(exact, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._windows or self._exact)

    def redact(self, text: str) -> str:
        spans = sorted(self._fragments(text) + self._exact_matches(text))
        if not spans:
            return text
        parts: list[str] = []
        done = 0
        for start, end in spans:
            if start > done or not parts:
                parts += [text[done:start], REDACTED]
            done = max(done, end)
        return "".join(parts) + text[done:]

    def _fragments(self, text: str) -> list[tuple[int, int]]:
        windows, grams, last = self._windows, self._grams, len(text) - FRAGMENT
        spans: list[tuple[int, int]] = []
        checked = -1  # windows starting at or before this position were looked up already
        for at in range(0, len(text) - _GRAM + 1, _GRAM):
            if text[at : at + _GRAM] in grams:
                for i in range(max(checked + 1, at - _GRAM), min(at, last) + 1):
                    if text[i : i + FRAGMENT] in windows:
                        spans.append((i, i + FRAGMENT))
                checked = min(at, last)
        return spans

    def _exact_matches(self, text: str) -> list[tuple[int, int]]:
        spans = []
        for form in self._exact:
            start = text.find(form)
            while start != -1:
                spans.append((start, start + len(form)))
                start = text.find(form, start + 1)
        return spans


_GRAM = FRAGMENT // 2


def _register(secret: Secret, windows: set[str], exact: set[str]) -> None:
    value = secret.reveal()
    if not value:
        return
    if len(value) < FRAGMENT:  # exact matches only, and its base64 if not itself short
        exact.add(value)
        exact.update(f for f in _base64(value.encode(), 0) if len(f) >= FRAGMENT)
        return
    public = max(secret.public_prefix, _known_prefix(value))
    exact.add(value)
    percent = quote(value, safe="")
    exact.add(percent)
    _add_windows(windows, value, public)
    _add_windows(windows, percent, len(quote(value[:public], safe="")))
    for offset in range(3):
        for encoded in _base64(value.encode(), offset):
            _add_windows(windows, encoded, 0)


def _known_prefix(value: str) -> int:
    return next((len(p) for p in PUBLIC_KEY_PREFIXES if value.startswith(p)), 0)


def _add_windows(windows: set[str], text: str, public: int) -> None:
    """Every `FRAGMENT`-long window of `text` reaching past its first `public` characters."""
    first = max(0, public - FRAGMENT + 1)
    windows.update(text[i : i + FRAGMENT] for i in range(first, len(text) - FRAGMENT + 1))


def _base64(raw: bytes, offset: int) -> set[str]:
    """The base64 of `raw` when it starts `offset` bytes into a longer base64 string.

    At offset 0, the whole encoding with and without padding; at offsets 1 and 2, only the
    characters made of `raw`'s bits alone (those shared with whatever surrounds it dropped),
    so that `raw` is found inside the base64 of any text holding it (`Basic user:password`).
    Standard and urlsafe alphabets both.
    """
    encoded = base64.b64encode(b"\0" * offset + raw).decode()
    if offset == 0:
        forms = {encoded, encoded.rstrip("=")}
    else:
        start, end = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        forms = {encoded[start:end]}
    return forms | {f.translate(_URLSAFE) for f in forms}


_URLSAFE = str.maketrans("+/", "-_")


def redact_text(text: str, secrets: Iterable[Secret]) -> str:
    """Scrub every known secret from free text (e.g. a server error body): see `Redactor`."""
    if not text:
        return text
    return _redactor(tuple(dict.fromkeys(secrets))).redact(text)  # one per distinct secret


@lru_cache(maxsize=32)
def _redactor(secrets: tuple[Secret, ...]) -> Redactor:
    return Redactor(secrets)
