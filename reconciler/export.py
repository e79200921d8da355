"""`reconcile export`: one manifest per live endpoint of every service plan/apply manage, so a
team can adopt a cluster.

Export then plan shows only `adopt` lines: that is checked per endpoint here, not hoped for.
Each manifest starts from the live endpoint in canonical form (`normalize_live`, which reads
the service from the body and drops the values that change by themselves), then leaves out what
the server would fill in anyway, one candidate at a time, and keeps an omission only if the
planner's own adopt comparison (`diff.compare`, no last-applied) still finds nothing more to
change. The candidates, from the service's descriptor in the registry
(`reconciler.services.registry`, `ServiceFacts.filled`):

* every value the service fills in when unset, where it is known (rate limits per task type,
  openai's and googlevertexai's `similarity: dot_product`, the default chunking);
* `dimensions` equal to the model's known default length. A GET cannot tell whether a user set
  `dimensions` (the server keeps `dimensions_set_by_user` to itself), so any other value is
  kept, also for models whose default we do not know: explicit is safe, leaving it out is not;
* `sentence_overlap: 1` of a sentence strategy, and `separators` that are a predefined group
  (written as `separator_group`).

Never exported: dynamic values (`ServiceFacts.dynamic`: EIS `metadata`, written by EIS;
`elasticsearch`/`elser` `num_allocations` while adaptive allocations are on or the deployment is
shared), and secrets, which GET never returns.

**Secrets: one `${VAR}` per secret path** (`secret_variable`): `<SERVICE>_<FIELD>`, upper case,
every character that is not a letter or digit written `_` (`COHERE_API_KEY`,
`AMAZONBEDROCK_ACCESS_KEY`, `AMAZONBEDROCK_SECRET_KEY`, `GOOGLEVERTEXAI_SERVICE_ACCOUNT_JSON`,
`AZUREOPENAI_API_KEY`, `ALIBABACLOUD_AI_SEARCH_API_KEY`); a map-valued secret gets one per key,
`<SERVICE>_<FIELD>_<KEY>` (custom `secret_parameters`: the keys cannot be read back, so they are
the `${…}` placeholders its url, headers and request use that are no task parameter, with a
note). openai keeps `--key-var` (default `OPENAI_API_KEY`, what the rule gives too). Endpoints
of one service share the variable: edit the manifests where they use different secrets.
**azureopenai's auth type cannot be read back**: an endpoint that shows OAuth2 settings
(`client_id`, `tenant_id`, `scopes`) gets `client_secret`; any other gets `api_key`, unless
`--azureopenai-auth entra_id` says it uses Microsoft Entra ID. Services with no secret
(`elasticsearch`, `elser`, `elastic`) get none.

Endpoints of a service plan/apply do not manage yet (the generic tier) are skipped with a note.
Preconfigured `.…` endpoints belong to the server and are skipped, with a note saying how many;
with `--include-preconfigured` each is written *commented out* for reference: a hidden file
`<id>.yaml` (the id starts with a dot, and `validate`/`plan` skip hidden files when walking a
folder), or a comment block at the end of the stdout stream. Without `--out` the manifests go to
stdout as one multi-document YAML stream; notes go to stderr.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.connect import Connection, open_ports
from reconciler.defaults import (
    DEFAULT_CHUNKING,
    SENTENCE_OVERLAP,
    SEPARATOR_GROUPS,
    SERVICE,
    Release,
    known_defaults,
    model_dimensions,
    parse_release,
)
from reconciler.diff import compare, normalize_desired, normalize_live, uses_legacy_chunking
from reconciler.errors import ExitCode, UsageError
from reconciler.lock import atomic_write
from reconciler.model import API_KEY, LiveEndpoint, get_path
from reconciler.normalize import thaw
from reconciler.secrets import SecretPath
from reconciler.services import registry
from reconciler.services.openai_fields import SCHEMA_HOME

Spec = dict[str, Any]
SCHEMA_FILE = Path("schemas") / "manifest.schema.json"
FALLBACK_SCHEMA_REF = SCHEMA_HOME + "manifest.schema.json"
"""The published manifest schema, for a folder with no `schemas/manifest.schema.json` above
it (a repository of the user's own, where `../schemas/…` would point at nothing)."""
ORDER = ("inference_id", "task_type", "service", "service_settings", "task_settings")
SETTINGS_ORDER = ("api_key", "model_id", "url", "organization_id", "dimensions", "similarity")


AZURE_AUTH_TYPES = ("api_key", "entra_id", "client_secret")
AZURE_OAUTH_SETTINGS = ("client_id", "tenant_id", "scopes")
"""azureopenai service settings only an OAuth2 (client_secret) endpoint has."""


@dataclass(frozen=True, slots=True)
class ExportCommand:
    """What `reconcile export` was asked to do (plain values; the CLI builds it)."""

    connection: Connection
    out: str | None = None
    include_preconfigured: bool = False
    key_var: str = "OPENAI_API_KEY"
    schema_ref: str | None = None
    azure_auth: str = "api_key"
    """The azureopenai secret to write for an endpoint without OAuth2 settings."""


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
    if command.azure_auth not in AZURE_AUTH_TYPES:
        choices = ", ".join(AZURE_AUTH_TYPES)
        raise UsageError(f"--azureopenai-auth {command.azure_auth!r} is not one of {choices}")
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
        service = registry.get(endpoint.service)
        if endpoint.preconfigured:
            if command.include_preconfigured:
                references[endpoint.inference_id] = reference_text(endpoint)
        elif service is None or not service.managed:
            why = "an unknown service" if service is None else "plan/apply do not manage it yet"
            notes.append(f"skipped {endpoint.inference_id}: service {endpoint.service!r} ({why})")
        else:
            spec, said = manifest_and_notes(endpoint, release, command)
            manifests[endpoint.inference_id] = dump(spec)
            notes.extend(said)
    skipped = [e.inference_id for e in live if e.preconfigured]
    if skipped and not command.include_preconfigured:
        notes.append(
            f"skipped {len(skipped)} preconfigured endpoint(s) ({', '.join(sorted(skipped))}); "
            "--include-preconfigured lists them, commented out"
        )
    if not manifests:
        notes.append("no endpoints to export on the server")
    return Exported(manifests, references, tuple(notes))


def manifest_for(endpoint: LiveEndpoint, release: Release, command: ExportCommand) -> Spec:
    """The manifest that adopts this endpoint unchanged, server defaults left out."""
    return manifest_and_notes(endpoint, release, command)[0]


def manifest_and_notes(
    endpoint: LiveEndpoint, release: Release, command: ExportCommand
) -> tuple[Spec, list[str]]:
    """The manifest (server defaults and dynamic values left out, a `${VAR}` at each secret
    path) and the notes it needs (a secret whose form had to be chosen; a difference plan
    will still show)."""
    spec = live = normalize_live(endpoint.body, task_type=endpoint.task_type)  # no dynamic value
    baseline = _changed(spec, live, release)
    for omit in omissions(spec, release):
        candidate = omit(spec)
        if candidate is not None and _changed(candidate, live, release) <= baseline:
            spec = candidate
    spec, dropped = fit_to_schema(spec)
    references, notes = secret_references(endpoint, spec, command)
    if dropped:
        notes.append(
            f"{endpoint.inference_id}: left out {', '.join(dropped)}, shown by GET but not "
            "accepted in a request (read-only)"
        )
    if baseline:
        notes.append(
            f"{endpoint.inference_id}: plan may still show a change of "
            f"{', '.join(sorted(baseline))} (reconciler cannot yet express the endpoint exactly)"
        )
    return _ordered(endpoint.inference_id, spec, references), notes


def _changed(spec: Spec, live: Spec, release: Release) -> frozenset[str]:
    """The paths planning this manifest against the live endpoint would change (adopt: none)."""
    try:
        legacy = uses_legacy_chunking(spec, None, live)
        desired = normalize_desired(
            spec, task_type=spec["task_type"], release=release, legacy_chunking=legacy
        )
        return frozenset(change.path for change in compare(desired, live, None).changes)
    except (KeyError, TypeError, ValueError):  # a body the core cannot read: keep everything
        return frozenset({"(unreadable)"})


def _adopts(spec: Spec, live: Spec, release: Release) -> bool:
    """Whether planning this manifest against the live endpoint finds nothing to change."""
    return not _changed(spec, live, release)


# --- what is never exported ------------------------------------------------------------------


def fit_to_schema(spec: Spec) -> tuple[Spec, list[str]]:
    """The spec as its (service, task type) schema accepts it: keys GET shows but a request
    refuses left out (read-only values such as EIS or bedrock `dimensions`/`similarity`,
    `elser` `model_id`), and enum values GET echoes in another case written as the schema
    spells them (bedrock `provider` `AMAZONTITAN` → `amazontitan`). The paths left out."""
    from reconciler.schema import schema_for

    try:
        schema = schema_for(str(spec.get("service")), str(spec.get("task_type")))
    except (KeyError, ValueError, OSError, UsageError):
        return spec, []
    dropped: list[str] = []
    fitted = _fit(spec, schema, (), dropped, top=True)
    return fitted, dropped


def _fit(node: Any, schema: Any, where: tuple[str, ...], dropped: list[str], top: bool) -> Any:
    if not isinstance(schema, Mapping):
        return node
    if isinstance(node, dict):
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return node
        closed = schema.get("additionalProperties") is False
        found = {}
        for key, value in node.items():
            if key in properties:
                found[key] = _fit(value, properties[key], (*where, key), dropped, False)
            elif closed and not top:
                dropped.append(".".join((*where, key)))
            else:
                found[key] = value
        return found
    enum = schema.get("enum")
    if isinstance(node, str) and isinstance(enum, list) and node not in enum:
        same = [e for e in enum if isinstance(e, str) and e.lower() == node.lower()]
        return same[0] if len(same) == 1 else node
    return node


# --- server defaults left out ----------------------------------------------------------------


def omissions(spec: Spec, release: Release) -> list[Callable[[Spec], Spec | None]]:
    """The candidates to leave out for this endpoint's service and task type, in order: every
    known filled value of its descriptor, the model's default dimensions, then the chunking
    details."""
    known = known_defaults(spec.get("service"), str(spec.get("task_type")), release)
    found = [_omit(".".join(path), value) for path, value in known]
    return [*found, _default_dimensions, _default_chunking, _default_overlap, _separator_group]


def _omit(path: str, value: Any) -> Callable[[Spec], Spec | None]:
    def omit(spec: Spec) -> Spec | None:
        return _drop(spec, path) if _get(spec, path) == thaw(value) else None

    return omit


def _get(spec: Spec, path: str) -> Any:
    return get_path(spec, tuple(path.split(".")))


def _drop(spec: Spec, path: str) -> Spec | None:
    """A copy without `path`, its emptied parents dropped too (never `service_settings`);
    None when the path is absent."""
    head, _, rest = path.partition(".")
    if head not in spec:
        return None
    if not rest:
        return {k: v for k, v in spec.items() if k != head}
    child = spec[head]
    if not isinstance(child, dict):
        return None
    smaller = _drop(child, rest)
    if smaller is None:
        return None
    if not smaller and head != "service_settings":
        return {k: v for k, v in spec.items() if k != head}
    return {**spec, head: smaller}


def _without(spec: Spec, section: str, key: str, value: Any) -> Spec | None:
    """A copy without `section.key` when it holds `value`; None when it does not."""
    part = spec.get(section)
    if not isinstance(part, dict) or key not in part or part[key] != value:
        return None
    rest = {k: v for k, v in part.items() if k != key}
    copy = {k: v for k, v in spec.items() if k != section}
    return {**copy, section: rest} if rest or section == "service_settings" else copy


def _default_dimensions(spec: Spec) -> Spec | None:
    model = spec.get("service_settings", {}).get("model_id")
    default = model_dimensions(model, str(spec.get("service", SERVICE)))
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


# --- secrets ---------------------------------------------------------------------------------


def secret_variable(service: str, field: str, key: str | None = None) -> str:
    """The variable export names for a secret: `<SERVICE>_<FIELD>` (`_<KEY>` for one key of a
    map-valued secret), upper case, every character but a letter or digit written `_`."""
    parts = [service, field] if key is None else [service, field, key]
    return re.sub(r"[^A-Za-z0-9]", "_", "_".join(parts)).upper()


PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")
BUILT_IN_PLACEHOLDERS = frozenset({"input", "query", "top_n", "return_documents", "input_type"})
"""The placeholders the custom service fills itself (elastic/elasticsearch
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/services/custom/`
`CustomRequestManager` and the request classes beside it): never secret parameters."""


def secret_references(
    endpoint: LiveEndpoint, spec: Spec, command: ExportCommand
) -> tuple[dict[SecretPath, str], list[str]]:
    """Per secret path of the endpoint's service, the variable its manifest names; and the
    notes for the secrets whose form had to be chosen."""
    if endpoint.service == SERVICE:
        return {API_KEY: command.key_var}, []
    service = registry.get(endpoint.service)
    if service is None:
        return {}, []
    references: dict[SecretPath, str] = {}
    notes: list[str] = []
    groups = {f.group for f in service.secrets if f.group == "azure-auth"}
    chosen = _azure_auth(spec, command) if groups else None
    for secret in service.secrets:
        if secret.group == "azure-auth" and secret.name != chosen:
            continue
        if secret.kind == "map":
            keys = _map_keys(spec)
            for key in keys:
                references[(*secret.parts, key)] = secret_variable(service.name, secret.name, key)
            notes.append(_map_note(endpoint.inference_id, secret.path, keys))
            continue
        references[secret.parts] = secret_variable(service.name, secret.name)
    if chosen is not None:
        notes.append(
            f"{endpoint.inference_id}: wrote service_settings.{chosen} (an azureopenai auth type "
            "cannot be read back: OAuth2 settings mean client_secret, else --azureopenai-auth, "
            "default api_key)"
        )
    return references, notes


def _azure_auth(spec: Spec, command: ExportCommand) -> str:
    settings = spec.get("service_settings")
    if isinstance(settings, dict) and any(k in settings for k in AZURE_OAUTH_SETTINGS):
        return "client_secret"
    return command.azure_auth


def _map_keys(spec: Spec) -> list[str]:
    """The keys a custom endpoint's secret map must have: the placeholders its service
    settings use that the service does not fill itself and no task parameter defines."""
    task = spec.get("task_settings")
    parameters = task.get("parameters") if isinstance(task, dict) else None
    given = set(parameters) if isinstance(parameters, dict) else set()
    text = yaml.safe_dump(spec.get("service_settings", {}))
    used = dict.fromkeys(PLACEHOLDER.findall(text))
    return [k for k in used if k not in BUILT_IN_PLACEHOLDERS and k not in given]


def _map_note(inference_id: str, path: str, keys: Sequence[str]) -> str:
    if not keys:
        return (
            f"{inference_id}: {path} cannot be read back and no ${{…}} placeholder names a key: "
            "add its keys by hand"
        )
    return (
        f"{inference_id}: {path} cannot be read back; its keys ({', '.join(keys)}) are the "
        "${…} placeholders its settings use: check them"
    )


def _ordered(inference_id: str, spec: Spec, references: Mapping[SecretPath, str]) -> Spec:
    """Keys in the order the README writes them, a `${VAR}` reference at each secret path
    (`references`: path → variable name; for openai, `service_settings.api_key`), first in
    its section. No secret is ever read back: each variable must hold what the endpoint uses
    (`secret_references`: every declared secret path of the service, one variable each)."""
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
    body.update({k: v for k, v in endpoint.body.items() if k != "metadata"})  # dynamic
    lines = [
        f"# {endpoint.inference_id}: preconfigured by Elasticsearch (service "
        f"{endpoint.service}); reconciler never manages it. For reference only.",
    ]
    lines += [f"# {line}" if line else "#" for line in dump(body).splitlines()]
    return "\n".join(lines) + "\n"


def modeline(schema_ref: str) -> str:
    return f"# yaml-language-server: $schema={schema_ref}\n{KEY_NOTE}"


KEY_NOTE = (
    "# Exported by `reconcile export`. Secrets cannot be read back: each ${VAR} below must\n"
    "# hold the secret the endpoint already uses (adopting it assumes so).\n"
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
