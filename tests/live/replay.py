"""Replay a recording of the contract suite against another target and compare the answers.

    python -m tests.live.replay RECORDING --target URL [--es-ca-cert CA] [--upstream-host H]
    python -m tests.live.replay RECORDING --sandbox [VERSION]   # a sandbox in process, at the
                                                                # recording's release by default

Every recorded request is sent again, in order, with this run's upstream and keys put back in
place of `{{upstream}}` and `<redacted:NAME>`; each answer is scrubbed the same way as when
recording and compared with the recorded one, exchange by exchange: the status, then the body,
value by value, except what `IGNORED` lists. Each difference is printed with where it is: the
exchange number, the test that sent it, the request, the JSON path, expected (recorded) and got.
Exit status: 0 no difference, 1 differences, 2 the replay could not run.

Credentials for `--target` come from the same variables as the suite's (`target.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.live.harness import Keys
from tests.live.recording import Exchange, LiveClient, Recorder, Scrubber, read_recording
from tests.live.target import connection
from tests.live.upstream import start_upstream

EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2
ABSENT = "(absent)"

# -- what is not compared --------------------------------------------------------------------


@dataclass(frozen=True)
class Ignore:
    """Where a value legitimately differs between two targets (or two runs), and how it is
    compared instead: `ignore` (not at all), `length` (a list's length only) or `suite-only`
    (a listing, restricted to the entries the recorded run created, in inference_id order)."""

    request: str
    """A regular expression matched against `METHOD /path` of the exchange."""
    path: str
    """A JSON path: `$.a.b`, `[*]` for any list index, `$..key` for `key` at any depth."""
    mode: str
    why: str


IGNORED: tuple[Ignore, ...] = (
    Ignore(r"GET /", "$.name", "ignore", "the node name: chosen per node"),
    Ignore(r"GET /", "$.cluster_name", "ignore", "the cluster name: chosen per cluster"),
    Ignore(r"GET /", "$.cluster_uuid", "ignore", "uuid generated when the cluster forms"),
    Ignore(r"GET /", "$.version.build_hash", "ignore", "build hash: the commit of the build"),
    Ignore(r"GET /", "$.version.build_date", "ignore", "timestamp of the build"),
    Ignore(r"GET /", "$.version.build_type", "ignore", "docker, tar, deb...: the packaging"),
    Ignore(r".*", "$..index_uuid", "ignore", "uuid generated per index"),
    Ignore(r".*", "$..uuid", "ignore", "generated uuids"),
    Ignore(r".*", "$..timestamp", "ignore", "timestamps"),
    Ignore(r".*", "$..@timestamp", "ignore", "timestamps"),
    Ignore(r".*", "$..took", "ignore", "elapsed milliseconds"),
    Ignore(
        r"POST /_inference/.*",
        "$.text_embedding[*].embedding",
        "length",
        "vector values: how a float is printed differs (Java Float.toString, Python repr); "
        "the length (the dimensions) is compared",
    ),
    Ignore(
        r"GET /_inference(/_all|/[^/]+/_all|/\*|/[^/]+/\*)?",
        "$.endpoints",
        "suite-only",
        "entries the recorded run did not create: the default endpoints a release ships "
        "(.elser-2-elasticsearch, ...) and other users' endpoints on a shared cluster",
    ),
)
"""The explicit ignore list of the comparison. Everything else is compared: statuses, error
types and reasons, every key present or absent, every other value. Secrets never reach the
comparison (both sides are scrubbed to the same placeholders) and the upstream's address is
`{{upstream}}` on both sides."""


def _path_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    rest = pattern[1:]  # after "$"
    while rest:
        if rest.startswith(".."):
            out += r"(?:\.[^.\[]+|\[\d+\])*\."
            rest = rest[2:]
        elif rest.startswith("[*]"):
            out += r"\[\d+\]"
            rest = rest[3:]
        else:
            out += re.escape(rest[0])
            rest = rest[1:]
    return re.compile(r"\$" + out)


@dataclass(frozen=True)
class _Rule:
    ignore: Ignore
    path: re.Pattern[str]


def rules_for(label: str, ignored: Sequence[Ignore] = IGNORED) -> list[_Rule]:
    return [
        _Rule(rule, _path_regex(rule.path)) for rule in ignored if re.fullmatch(rule.request, label)
    ]


# -- the comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    exchange: int
    test: str
    request: str
    path: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"  {self.path}: expected {_show(self.expected)}, got {_show(self.got)}"


def _show(value: Any) -> str:
    if value is ABSENT:
        return ABSENT
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass
class _Walk:
    rules: list[_Rule]
    id_prefix: str
    found: list[tuple[str, Any, Any]] = field(default_factory=list)

    def mode(self, path: str) -> str | None:
        for rule in self.rules:
            if rule.path.fullmatch(path):
                return rule.ignore.mode
        return None

    def compare(self, path: str, expected: Any, got: Any) -> None:
        mode = self.mode(path)
        if mode == "ignore":
            return
        if mode == "length" and isinstance(expected, list) and isinstance(got, list):
            if len(expected) != len(got):
                self.found.append((f"{path} (length)", len(expected), len(got)))
            return
        if mode == "suite-only" and isinstance(expected, list) and isinstance(got, list):
            expected, got = self.suite_only(expected), self.suite_only(got)
            ids = [self._id(e) for e in expected], [self._id(g) for g in got]
            if ids[0] != ids[1]:
                self.found.append((f"{path} (inference_ids)", ids[0], ids[1]))
                return
        if isinstance(expected, dict) and isinstance(got, dict):
            for key in expected:
                if key in got:
                    self.compare(f"{path}.{key}", expected[key], got[key])
                elif self.mode(f"{path}.{key}") != "ignore":
                    self.found.append((f"{path}.{key}", expected[key], ABSENT))
            for key in got:
                if key not in expected and self.mode(f"{path}.{key}") != "ignore":
                    self.found.append((f"{path}.{key}", ABSENT, got[key]))
            return
        if isinstance(expected, list) and isinstance(got, list):
            if len(expected) != len(got):
                self.found.append((f"{path} (length)", len(expected), len(got)))
            for index, (a, b) in enumerate(zip(expected, got, strict=False)):
                self.compare(f"{path}[{index}]", a, b)
            return
        if not _same_scalar(expected, got):
            self.found.append((path, expected, got))

    def suite_only(self, entries: list[Any]) -> list[Any]:
        mine = [e for e in entries if self._id(e).startswith(self.id_prefix)]
        return sorted(mine, key=self._id)

    @staticmethod
    def _id(entry: Any) -> str:
        return str(entry.get("inference_id", "")) if isinstance(entry, dict) else ""


def _same_scalar(expected: Any, got: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(got, numbers):
        return expected == got
    return type(expected) is type(got) and expected == got


def compare_exchange(
    recorded: Exchange,
    status: int,
    body: Any,
    text: str | None = None,
    *,
    id_prefix: str = "",
    ignored: Sequence[Ignore] = IGNORED,
) -> list[Difference]:
    """The differences between a recorded answer and a new one (both already scrubbed). When
    the statuses differ, the two bodies are reported whole rather than key by key."""
    walk = _Walk(rules_for(recorded.label, ignored), id_prefix)
    expected = recorded.response if recorded.response is not None else recorded.response_text
    got = body if body is not None else text
    if recorded.status != status:
        walk.found += [("status", recorded.status, status), ("$", expected, got)]
    else:
        walk.compare("$", expected, got)
    return [
        Difference(recorded.number, recorded.test, recorded.label, path, expected, got)
        for path, expected, got in walk.found
    ]


# -- the replay --------------------------------------------------------------------------------


@dataclass
class Report:
    recording: dict[str, Any]
    target_version: str
    exchanges: int
    differences: list[Difference]

    @property
    def same(self) -> bool:
        return not self.differences

    def lines(self, limit: int | None = None) -> Iterator[str]:
        recorded = self.recording.get("es_version", "?")
        kind = self.recording.get("target", "?")
        yield (
            f"replayed {self.exchanges} exchanges recorded against {kind} {recorded} "
            f"on a target reporting {self.target_version}"
        )
        current: int | None = None
        for shown, difference in enumerate(self.differences):
            if limit is not None and shown >= limit:
                yield f"... and {len(self.differences) - shown} more differences"
                break
            if difference.exchange != current:
                current = difference.exchange
                yield f"exchange {difference.exchange} [{difference.test}] {difference.request}"
            yield str(difference)
        exchanges = len({d.exchange for d in self.differences})
        yield (
            "no differences"
            if self.same
            else f"{len(self.differences)} differences in {exchanges} of {self.exchanges} exchanges"
        )

    def markdown(self) -> str:
        title = (
            f"### Replay of {self.recording.get('target', '?')} "
            f"{self.recording.get('es_version', '?')} against {self.target_version}\n\n"
        )
        if self.same:
            return title + f"No differences in {self.exchanges} exchanges.\n"
        rows = ["| exchange | request | path | expected | got |", "|---|---|---|---|---|"]
        for d in self.differences:
            cells = [str(d.exchange), d.request, d.path, _show(d.expected), _show(d.got)]
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return title + "\n".join(rows) + "\n"


def replay(
    recording: Path | tuple[dict[str, Any], list[Exchange]],
    target_url: str,
    *,
    ca_cert: str | None = None,
    upstream_host: str = "127.0.0.1",
    upstream_bind: str | None = None,
    env: dict[str, str] | None = None,
    ignored: Sequence[Ignore] = IGNORED,
) -> Report:
    """Send every recorded request to `target_url` and compare the answers (the test helper)."""
    meta, exchanges = read_recording(recording) if isinstance(recording, Path) else recording
    keys = Keys.new()
    target = connection(target_url, ca_cert, env)
    with start_upstream([keys.good, keys.other], host=upstream_host, bind=upstream_bind) as up:
        scrubber = Scrubber({**keys.secrets(), **target.secrets}, up.url)
        client = LiveClient(
            target.url, Recorder(scrubber), headers=target.headers, verify=target.verify
        )
        try:
            root = client.http.get("/")
            version = _version_of(root)
            differences: list[Difference] = []
            for recorded in exchanges:
                client.recorder.test = recorded.test
                client.request(
                    recorded.method,
                    scrubber.restore(recorded.path),
                    params=scrubber.restore(recorded.query),
                    json=scrubber.restore(recorded.body),
                )
                got = client.recorder.exchanges[-1]
                differences += compare_exchange(
                    recorded,
                    got.status,
                    got.response,
                    got.response_text,
                    id_prefix=str(meta.get("id_prefix", "")),
                    ignored=ignored,
                )
        finally:
            client.close()
    return Report(meta, version, len(exchanges), differences)


def _version_of(response: httpx.Response) -> str:
    try:
        return str(response.json()["version"]["number"])
    except (ValueError, KeyError, TypeError):
        return f"unknown (GET / answered {response.status_code})"


@contextlib.contextmanager
def _sandbox(version: str) -> Iterator[str]:
    from tests.fixtures.sandbox import start_sandbox_thread

    with start_sandbox_thread(es_version=version) as sandbox:
        yield sandbox.url


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.live.replay",
        description="Replay a contract-suite recording against a target and compare the answers.",
    )
    p.add_argument("recording", type=Path, help="a JSON Lines recording (pytest --record)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--target", help="the Elasticsearch (or sandbox) URL to replay against")
    where.add_argument(
        "--sandbox",
        nargs="?",
        const="",
        metavar="VERSION",
        help="a sandbox in this process, at VERSION (default: the recording's release)",
    )
    p.add_argument("--es-ca-cert", help="CA bundle for an https target")
    p.add_argument(
        "--upstream-host",
        default="127.0.0.1",
        help="address by which the target reaches this process's upstream",
    )
    p.add_argument("--upstream-bind", help="address the upstream binds (default: from the host)")
    p.add_argument("--max-differences", type=int, default=200, help="print at most this many")
    p.add_argument("--markdown", type=Path, help="append a markdown report (e.g. the job summary)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        meta, exchanges = read_recording(args.recording)
    except (OSError, ValueError, KeyError) as error:
        print(f"replay: cannot read {args.recording}: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        with contextlib.ExitStack() as stack:
            if args.target:
                url = args.target
            else:
                version = args.sandbox or str(meta.get("es_version") or "")
                if not version:
                    print(
                        "replay: the recording names no release; give --sandbox VERSION",
                        file=sys.stderr,
                    )
                    return EXIT_ERROR
                url = stack.enter_context(_sandbox(version))
            report = replay(
                (meta, exchanges),
                url,
                ca_cert=args.es_ca_cert,
                upstream_host=args.upstream_host,
                upstream_bind=args.upstream_bind,
            )
    except (httpx.HTTPError, OSError, RuntimeError, ValueError) as error:
        print(f"replay: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR
    for line in report.lines(args.max_differences):
        print(line)
    if args.markdown:
        with args.markdown.open("a", encoding="utf-8") as out:
            out.write(report.markdown())
    return EXIT_SAME if report.same else EXIT_DIFFERENT


if __name__ == "__main__":
    sys.exit(main())
