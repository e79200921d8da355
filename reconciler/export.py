"""`reconcile export`: one manifest per live `openai` endpoint, so a team can adopt a cluster.

Export then plan shows only `adopt` lines: that is checked per endpoint here, not hoped for.
Each manifest starts from the live endpoint in canonical form (`normalize_live`), then leaves
out what the server would fill in anyway, one candidate at a time, and keeps an omission only
if the planner's own adopt comparison (`diff.compare`, no last-applied) still finds nothing to
change. The candidates:

* `rate_limit.requests_per_minute` equal to the task type's default (3000 / 500);
* `similarity: dot_product` on text_embedding (what the validation call stores when unset);
* `dimensions` equal to the model's default length. A GET cannot tell whether a user set
  `dimensions` (the server keeps `dimensions_set_by_user` to itself), so any other value is
  kept, also for models whose default we do not know: explicit is safe, leaving it out is not;
* chunking equal to the default (sentence/250/1), `sentence_overlap: 1` of a sentence
  strategy, and `separators` that are a predefined group (written as `separator_group`).

Decisions: the api_key is always `${VAR}` (`--key-var`, default `OPENAI_API_KEY`): it cannot
be read back, and apply's adopt assumes it is the one the endpoint uses. Endpoints of other
services are skipped with a note (the schemas cover `openai` only, and reconciler never
manages them). Preconfigured `.…` endpoints belong to the server and are skipped; with
`--include-preconfigured` each is written *commented out* for reference: a hidden file
`<id>.yaml` (the id starts with a dot, and `validate`/`plan` skip hidden files when walking a
folder), or a comment block at the end of the stdout stream. Without `--out` the manifests
go to stdout as one multi-document YAML stream; notes go to stderr.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.connect import Connection, open_ports
from reconciler.defaults import (
    DEFAULT_CHUNKING,
    DEFAULT_SIMILARITY,
    RATE_LIMIT_RPM,
    SENTENCE_OVERLAP,
    SEPARATOR_GROUPS,
    SERVICE,
    Release,
    model_dimensions,
    parse_release,
)
from reconciler.diff import compare, normalize_desired, normalize_live, uses_legacy_chunking
from reconciler.errors import ExitCode, UsageError
from reconciler.lock import atomic_write
from reconciler.model import API_KEY, LiveEndpoint
from reconciler.secrets import SecretPath
from reconciler.services.openai_fields import SCHEMA_HOME

Spec = dict[str, Any]
SCHEMA_FILE = Path("schemas") / "manifest.schema.json"
FALLBACK_SCHEMA_REF = SCHEMA_HOME + "manifest.schema.json"
"""The published manifest schema, for a folder with no `schemas/manifest.schema.json` above
it (a repository of the user's own, where `../schemas/…` would point at nothing)."""
ORDER = ("inference_id", "task_type", "service", "service_settings", "task_settings")
SETTINGS_ORDER = ("api_key", "model_id", "url", "organization_id", "dimensions", "similarity")


@dataclass(frozen=True, slots=True)
class ExportCommand:
    """What `reconcile export` was asked to do (plain values; the CLI builds it)."""

    connection: Connection
    out: str | None = None
    include_preconfigured: bool = False
    key_var: str = "OPENAI_API_KEY"
    schema_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Exported:
    """What export found: manifests to write, commented-out references, and notes."""

    manifests: dict[str, str]  # inference_id -> YAML document text (no modeline)
    references: dict[str, str]  # preconfigured inference_id -> commented-out text
    notes: tuple[str, ...]


def run_export(
    command: ExportCommand,
    env: Mapping[str, str],
    out: Callable[[str], None] | None = None,
    err: Callable[[str], None] | None = None,
) -> int:
    """Read every endpoint, write the manifests (files or stdout); exit 0, or raise."""
    out = out or _printer(False)
    err = err or _printer(True)
    if not command.key_var.isidentifier():
        raise UsageError(f"--key-var {command.key_var!r} is not an environment variable name")
    live, version = asyncio.run(_read(command.connection, env))
    exported = export_endpoints(live, parse_release(version), command)
    for note in exported.notes:
        err(note)
    if command.out is None:
        out(as_stream(exported, _schema_ref(command, Path.cwd())))
    else:
        for line in write_files(exported, Path(command.out), _schema_ref(command, command.out)):
            err(line)
    return ExitCode.OK


async def _read(connection: Connection, env: Mapping[str, str]) -> tuple[list[LiveEndpoint], str]:
    async with open_ports(connection, env) as ports:
        info = await ports.client.info()
        return await ports.client.list_endpoints(), info.label


# --- the pure part ---------------------------------------------------------------------------


def export_endpoints(
    live: Sequence[LiveEndpoint], release: Release, command: ExportCommand
) -> Exported:
    """Every live endpoint as a manifest, a reference or a note, sorted by id."""
    manifests, references, notes = {}, {}, []
    for endpoint in sorted(live, key=lambda e: e.inference_id):
        if endpoint.preconfigured:
            if command.include_preconfigured:
                references[endpoint.inference_id] = reference_text(endpoint)
        elif endpoint.service != SERVICE:
            notes.append(
                f"skipped {endpoint.inference_id}: service {endpoint.service!r} "
                "(reconciler manages only openai endpoints)"
            )
        else:
            manifests[endpoint.inference_id] = dump(manifest_for(endpoint, release, command))
    skipped = [e.inference_id for e in live if e.preconfigured]
    if skipped and not command.include_preconfigured:
        notes.append(
            f"skipped {len(skipped)} preconfigured endpoint(s) ({', '.join(sorted(skipped))}); "
            "--include-preconfigured lists them, commented out"
        )
    if not manifests:
        notes.append("no openai endpoints on the server: nothing to export")
    return Exported(manifests, references, tuple(notes))


def manifest_for(endpoint: LiveEndpoint, release: Release, command: ExportCommand) -> Spec:
    """The manifest that adopts this endpoint unchanged, server defaults left out."""
    live = normalize_live(endpoint.body, task_type=endpoint.task_type)
    spec = live
    for omit in OMISSIONS:
        candidate = omit(spec)
        if candidate is not None and _adopts(candidate, live, release):
            spec = candidate
    return _ordered(endpoint.inference_id, spec, {API_KEY: command.key_var})


def _adopts(spec: Spec, live: Spec, release: Release) -> bool:
    """Whether planning this manifest against the live endpoint finds nothing to change."""
    legacy = uses_legacy_chunking(spec, None, live)
    desired = normalize_desired(
        spec, task_type=spec["task_type"], release=release, legacy_chunking=legacy
    )
    return not compare(desired, live, None).changes


def _without(spec: Spec, section: str, key: str, value: Any) -> Spec | None:
    """A copy without `section.key` when it holds `value`; None when it does not."""
    part = spec.get(section)
    if not isinstance(part, dict) or key not in part or part[key] != value:
        return None
    rest = {k: v for k, v in part.items() if k != key}
    copy = {k: v for k, v in spec.items() if k != section}
    return {**copy, section: rest} if rest or section == "service_settings" else copy


def _default_rate_limit(spec: Spec) -> Spec | None:
    rpm = RATE_LIMIT_RPM.get(spec["task_type"])
    return _without(spec, "service_settings", "rate_limit", {"requests_per_minute": rpm})


def _default_similarity(spec: Spec) -> Spec | None:
    if spec["task_type"] != "text_embedding":
        return None
    return _without(spec, "service_settings", "similarity", DEFAULT_SIMILARITY)


def _default_dimensions(spec: Spec) -> Spec | None:
    default = model_dimensions(spec.get("service_settings", {}).get("model_id"))
    return None if default is None else _without(spec, "service_settings", "dimensions", default)


def _default_chunking(spec: Spec) -> Spec | None:
    if spec.get("chunking_settings") != dict(DEFAULT_CHUNKING):
        return None
    return {k: v for k, v in spec.items() if k != "chunking_settings"}


def _default_overlap(spec: Spec) -> Spec | None:
    if spec.get("chunking_settings", {}).get("strategy") != "sentence":
        return None
    return _without(spec, "chunking_settings", "sentence_overlap", SENTENCE_OVERLAP)


def _separator_group(spec: Spec) -> Spec | None:
    chunking = spec.get("chunking_settings")
    if not isinstance(chunking, dict) or chunking.get("strategy") != "recursive":
        return None
    separators = chunking.get("separators")
    group = next((g for g, s in SEPARATOR_GROUPS.items() if list(s) == separators), None)
    if group is None:
        return None
    rest = {k: v for k, v in chunking.items() if k != "separators"}
    return {**spec, "chunking_settings": {**rest, "separator_group": group}}


OMISSIONS: tuple[Callable[[Spec], Spec | None], ...] = (
    _default_rate_limit,
    _default_similarity,
    _default_dimensions,
    _default_chunking,
    _default_overlap,
    _separator_group,
)
"""Server defaults to leave out, each kept only if the adopt comparison still matches."""


def _ordered(inference_id: str, spec: Spec, references: Mapping[SecretPath, str]) -> Spec:
    """Keys in the order the README writes them, a `${VAR}` reference at each secret path
    (`references`: path → variable name; for openai, `service_settings.api_key`), first in
    its section. No secret is ever read back: each variable must hold what the endpoint uses.

    TODO: with V's service registry, other services' declared secret paths (e.g. both AWS keys
    of amazonbedrock, one variable each) come from there; export covers openai only today."""
    document: Spec = {**spec, "inference_id": inference_id}
    for path, name in sorted(references.items()):
        document = _put_first(document, path, "${" + name + "}")
    settings = _sorted_keys(document.get("service_settings", {}), SETTINGS_ORDER)
    return _sorted_keys({**document, "service_settings": settings}, ORDER)


def _put_first(node: Spec, path: SecretPath, value: str) -> Spec:
    """A copy of node with value at path, each new key first in its mapping."""
    head, rest = path[0], path[1:]
    if not rest:
        return {head: value, **{k: v for k, v in node.items() if k != head}}
    child = node.get(head)
    return {**node, head: _put_first(child if isinstance(child, dict) else {}, rest, value)}


def _sorted_keys(mapping: Spec, first: Sequence[str]) -> Spec:
    rank = {key: index for index, key in enumerate(first)}
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: (rank.get(k, len(rank)), 0))}


def dump(document: Spec) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def reference_text(endpoint: LiveEndpoint) -> str:
    """A preconfigured endpoint, commented out: for reading, never for applying."""
    body = {"inference_id": endpoint.inference_id, "task_type": endpoint.task_type}
    body.update(endpoint.body)
    lines = [
        f"# {endpoint.inference_id}: preconfigured by Elasticsearch (service "
        f"{endpoint.service}); reconciler never manages it. For reference only.",
    ]
    lines += [f"# {line}" if line else "#" for line in dump(body).splitlines()]
    return "\n".join(lines) + "\n"


def modeline(schema_ref: str) -> str:
    return f"# yaml-language-server: $schema={schema_ref}\n{KEY_NOTE}"


KEY_NOTE = (
    "# Exported by `reconcile export`. An api_key cannot be read back: the ${VAR} below must\n"
    "# hold the key the endpoint already uses (adopting it assumes so).\n"
)


def as_stream(exported: Exported, schema_ref: str) -> str:
    """All manifests as one multi-document stream; references as trailing comments."""
    documents = "---\n".join(exported.manifests.values())
    return modeline(schema_ref) + documents + "".join(exported.references.values())


# --- files ----------------------------------------------------------------------------------


def write_files(exported: Exported, folder: Path, schema_ref: str) -> list[str]:
    """`<id>.yaml` per endpoint, written atomically; one line per file saying what happened."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {i: modeline(schema_ref) + t for i, t in exported.manifests.items()}
    texts.update(exported.references)
    return [_write(folder / f"{inference_id}.yaml", text) for inference_id, text in texts.items()]


def _write(path: Path, text: str) -> str:
    before = path.read_text(encoding="utf-8") if path.exists() else None
    if before == text:
        return f"unchanged {path}"
    atomic_write(path, text)
    return f"{'updated' if before is not None else 'wrote'} {path}"


def _schema_ref(command: ExportCommand, folder: Path | str) -> str:
    """`--schema-ref`, else the nearest `schemas/manifest.schema.json` above the folder."""
    if command.schema_ref:
        return command.schema_ref
    start = Path(folder).resolve()
    for parent in (start, *start.parents):
        if (parent / SCHEMA_FILE).is_file():
            return Path(os.path.relpath(parent / SCHEMA_FILE, start)).as_posix()
    return FALLBACK_SCHEMA_REF


def _printer(stderr: bool) -> Callable[[str], None]:
    import sys

    stream = sys.stderr if stderr else sys.stdout

    def emit(text: str) -> None:
        print(text, end="" if text.endswith("\n") else "\n", file=stream, flush=True)

    return emit
