"""Developer tool: read the Elasticsearch API specification and write `spec_facts.json`.

    python -m reconciler.services.spec_extract SPEC_ROOT [--out reconciler/services/spec_facts.json]
    python -m reconciler.services.spec_extract SPEC_ROOT --check

SPEC_ROOT holds one copy of github.com/elastic/elasticsearch-specification per release branch
(`SPEC_ROOT/<branch>/specification/...`) and a `COMMITS` file (`<branch> <commit> <date>` per
line). For every branch, this reads `specification/inference/put_<service>/Put*Request.ts` (the
PUT body of each service: its task-type enum and its settings classes) and the declarations of
`specification/inference/_types/*.ts`, and writes one compact table: per service its task types
and the first branch each appears in; its `service_settings` and `task_settings` fields with
type, requiredness, enum values, `@server_default`, the sentences of the doc text that mention a
default, the task types the doc text scopes the field to, the doc text, and the first branch
each field appears in (and how its type or requiredness changed since); the shared classes
(`RateLimitSetting`, `AdaptiveAllocations`, ...); the per-service rate-limit defaults listed in
`RateLimitSetting`'s doc; and the commit of every branch.

The TypeScript is read line by line (the specification is written in a regular subset: one
declaration per `export`, one field per line, doc comments in `/** ... */`), not compiled.
The table is committed; the schema generator (`reconciler.schema.gen`) reads it, so neither the
generator nor the tests need the specification itself. The specification is licensed under the
Apache License 2.0 by Elasticsearch B.V.; the table records that and keeps the doc text as
written upstream.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
REPOSITORY = "elastic/elasticsearch-specification"
LICENCE = "Apache-2.0"
NOTICE = (
    "Facts and doc text extracted from the Elasticsearch API specification "
    "(https://github.com/elastic/elasticsearch-specification), Copyright Elasticsearch B.V., "
    "licensed under the Apache License, Version 2.0; reformatted into this table (modified) by "
    "`python -m reconciler.services.spec_extract`."
)
INFERENCE = "specification/inference"
TYPES_DIR = f"{INFERENCE}/_types"
DEFAULT_OUT = Path(__file__).resolve().parent / "spec_facts.json"
PRIMITIVES = {
    "string": "string",
    "Id": "string",
    "integer": "integer",
    "long": "long",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "UserDefinedValue": "any",
    "unknown": "any",
}
SHARED_CLASSES = ("InferenceChunkingSettings", "RateLimitSetting")
TASK_WORD = r"`([a-z_]+)`"

# --- reading TypeScript declarations -------------------------------------------------------


@dataclass
class Member:
    """One field of a class/interface (or one member of an enum)."""

    name: str
    type: str = ""
    optional: bool = False
    doc: str = ""
    tags: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Decl:
    """One exported declaration: `class`, `interface`, `enum` or `type`."""

    kind: str
    name: str
    file: str
    members: list[Member] = field(default_factory=list)
    alias: str = ""
    doc: str = ""
    tags: dict[str, list[str]] = field(default_factory=dict)
    open_map: bool = False  # `[key: string]: unknown`


_DECL = re.compile(r"^export (class|interface|enum|type) (\w+)")
_FIELD = re.compile(r"^\s+(\w+|'[^']+')(\?)?:\s*(.+?)\s*$")
_ENUM_MEMBER = re.compile(r"^\s+(\w+|'[^']+')\s*(?:=\s*[^,]+)?,?\s*$")
_OPEN_MAP = re.compile(r"^\s+\[\w+: string\]: unknown\s*$")


class DocComments:
    """The `/** ... */` comment lines before a declaration or member: `take` consumes comment
    lines; `pending` is the last complete comment, for the next declaration to claim."""

    def __init__(self) -> None:
        self.open: list[str] | None = None
        self.pending: list[str] = []

    def take(self, line: str, stripped: str) -> bool:
        if self.open is not None:
            self.open.append(line)
            if stripped.endswith("*/"):
                self.pending, self.open = self.open, None
            return True
        if stripped.startswith("/**"):
            self.open = [line]
            if stripped.endswith("*/") and len(stripped) > 4:
                self.pending, self.open = self.open, None
            return True
        return False


def parse_doc(lines: Sequence[str]) -> tuple[str, dict[str, list[str]]]:
    """The text and `@tags` of one `/** ... */` comment, given its lines."""
    text: list[str] = []
    tags: dict[str, list[str]] = {}
    for raw in lines:
        line = raw.strip()
        line = line.removeprefix("/**").removesuffix("*/").strip()
        if line.startswith("*"):
            line = line[1:]
            line = line[1:] if line.startswith(" ") else line
        else:
            line = line.strip()
        stripped = line.strip()
        if stripped.startswith("@"):
            name, _, value = stripped[1:].partition(" ")
            tags.setdefault(name, []).append(value.strip())
            continue
        text.append(line.rstrip())
    while text and not text[0].strip():
        text.pop(0)
    while text and not text[-1].strip():
        text.pop()
    joined = "\n".join(text)
    return re.sub(r"\n{3,}", "\n\n", joined), tags


def read_declarations(text: str, file: str) -> dict[str, Decl]:
    """Every top-level `export` declaration of one `.ts` file."""
    decls: dict[str, Decl] = {}
    lines = text.splitlines()
    comments = DocComments()
    current: Decl | None = None
    depth = 0
    opened = False
    for line in lines:
        stripped = line.strip()
        if current is not None and current.kind == "type":
            # a multi-line alias: `export type X =` then `| A` lines
            if stripped.startswith("|") or (not current.alias and stripped):
                current.alias = f"{current.alias} {stripped}".strip().lstrip("| ")
                continue
            current = None
        if comments.take(line, stripped):
            continue
        if current is None:
            match = _DECL.match(line)
            if not match:
                if stripped and not stripped.startswith("//"):
                    comments.pending = []
                continue
            kind, name = match.groups()
            text_doc, tags = parse_doc(comments.pending)
            comments.pending = []
            current = Decl(kind, name, file, doc=text_doc, tags=tags)
            decls[name] = current
            if kind == "type":
                current.alias = line.split("=", 1)[1].strip() if "=" in line else ""
                if current.alias:
                    current = None
                continue
            opened = "{" in line
            depth = line.count("{") - line.count("}")
            if opened and depth <= 0:
                current = None
            continue
        if not opened:  # `implements X` then `{` on a later line
            if "{" in line:
                opened = True
                depth = line.count("{") - line.count("}")
            continue
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            current = None
            continue
        text_doc, tags = parse_doc(comments.pending)
        comments.pending = []
        if current.kind == "enum":
            match = _ENUM_MEMBER.match(line)
            if match:
                current.members.append(Member(match.group(1).strip("'"), doc=text_doc, tags=tags))
            continue
        if _OPEN_MAP.match(line):
            current.open_map = True
            continue
        match = _FIELD.match(line)
        if match and depth == 1:
            name, optional, type_text = match.groups()
            current.members.append(
                Member(name.strip("'"), type_text, bool(optional), text_doc, tags)
            )
    return decls


@dataclass
class Request:
    """What one `Put*Request.ts` says: the task-type enum, the body members, availability."""

    file: str
    task_type: str
    body: dict[str, Member]
    stack_since: str | None


_BLOCK = re.compile(r"^\s+(\w+)(\?)?:\s*\{\s*$")


def read_request(text: str, file: str) -> Request | None:
    """The `path_parts.task_type` and `body` of a PUT request interface, or None."""
    lines = text.splitlines()
    since = None
    for line in lines:
        match = re.search(r"@availability stack since=(\S+)", line)
        if match:
            since = match.group(1)
            break
    stack: list[str] = []
    comments = DocComments()
    task_type = None
    body: dict[str, Member] = {}
    inside = False
    for line in lines:
        stripped = line.strip()
        if comments.take(line, stripped):
            continue
        if line.startswith("export interface Request"):
            inside = True
            continue
        if not inside:
            continue
        block = _BLOCK.match(line)
        if block:
            stack.append(block.group(1))
            comments.pending = []
            continue
        if stripped in ("}", "},") and stack:
            stack.pop()
            continue
        match = _FIELD.match(line)
        if match and stack:
            name, optional, type_text = match.groups()
            text_doc, tags = parse_doc(comments.pending)
            comments.pending = []
            if stack[-1] == "path_parts" and name == "task_type":
                task_type = type_text
            elif stack[-1] == "body":
                body[name] = Member(name, type_text, bool(optional), text_doc, tags)
    if task_type is None or "service" not in body:
        return None
    return Request(file, task_type, body, since)


# --- one branch -----------------------------------------------------------------------------


@dataclass
class Branch:
    name: str
    commit: str
    date: str
    decls: dict[str, Decl]
    requests: dict[str, Request]  # service name -> request


def read_branch(root: Path, name: str, commit: str, date: str) -> Branch:
    base = root / name
    decls: dict[str, Decl] = {}
    for path in sorted((base / TYPES_DIR).glob("*.ts")):
        rel = path.relative_to(base).as_posix()
        decls.update(read_declarations(path.read_text(encoding="utf-8"), rel))
    requests: dict[str, Request] = {}
    for path in sorted((base / INFERENCE).glob("put_*/Put*Request.ts")):
        rel = path.relative_to(base).as_posix()
        request = read_request(path.read_text(encoding="utf-8"), rel)
        if request is None:
            continue
        service_enum = decls.get(request.body["service"].type)
        if service_enum is None or len(service_enum.members) != 1:
            continue
        requests[service_enum.members[0].name] = request
    return Branch(name, commit, date, decls, requests)


def read_commits(root: Path) -> list[tuple[str, str, str]]:
    """`(branch, commit, date)` per line of `COMMITS`, in file order (oldest branch first)."""
    rows = []
    for line in (root / "COMMITS").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            rows.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return rows


# --- types ----------------------------------------------------------------------------------


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def resolve_type(text: str, decls: Mapping[str, Decl], seen: frozenset[str] = frozenset()) -> Any:
    """A TypeScript type as table data: a primitive's name, or a dict with `kind`."""
    text = text.strip()
    if "|" in text:
        options = _split_top(text, "|")
        if len(options) > 1:
            return {"kind": "union", "of": [resolve_type(o, decls, seen) for o in options]}
    if text.endswith("[]"):
        return {"kind": "array", "items": resolve_type(text[:-2], decls, seen)}
    generic = re.fullmatch(r"(\w+)<(.+)>", text)
    if generic:
        outer, inner = generic.groups()
        args = _split_top(inner, ",")
        if outer == "Array":
            return {"kind": "array", "items": resolve_type(args[0], decls, seen)}
        if outer == "Dictionary" and len(args) == 2:
            return {
                "kind": "map",
                "key": resolve_type(args[0], decls, seen),
                "value": resolve_type(args[1], decls, seen),
            }
        return {"kind": "unknown", "ts": text}
    if text in PRIMITIVES:
        return PRIMITIVES[text]
    decl = decls.get(text)
    if decl is None:
        return {"kind": "unknown", "ts": text}
    if decl.kind == "enum":
        return {"kind": "enum", "name": text, "values": [m.name for m in decl.members]}
    if decl.kind == "type":
        if text in seen:
            return {"kind": "unknown", "ts": text}
        inner_type = resolve_type(decl.alias, decls, seen | {text})
        if isinstance(inner_type, dict):
            return {**inner_type, "alias": text}
        return inner_type
    return {"kind": "object", "class": text}


def referenced_classes(type_data: Any) -> list[str]:
    if not isinstance(type_data, dict):
        return []
    kind = type_data.get("kind")
    if kind == "object":
        return [type_data["class"]]
    if kind == "array":
        return referenced_classes(type_data["items"])
    if kind == "map":
        return referenced_classes(type_data["key"]) + referenced_classes(type_data["value"])
    if kind == "union":
        return [c for option in type_data["of"] for c in referenced_classes(option)]
    return []


# --- prose ----------------------------------------------------------------------------------

_SCOPE_LEAD = re.compile(
    r"^(?:For|Only for|Only applicable (?:for|to)|Applies only to|Available only for)"
    r"\s+(?:a |an |the )?((?:`[a-z_]+`(?:\s*,\s*|\s*,?\s*(?:or|and)\s*)?)+)\s*task"
)
_SCOPE_ANYWHERE = re.compile(
    r"(?:^|\n|\. )(?:Only for|Only applicable (?:for|to)|Applies only to|Available only for)"
    r"\s+(?:a |an |the )?((?:`[a-z_]+`(?:\s*,\s*|\s*,?\s*(?:or|and)\s*)?)+)\s*task"
)


def task_scope(doc: str) -> tuple[list[str], str] | None:
    """The task types a field's doc text restricts it to, and the sentence that says so.

    Recognises a first sentence of the form "For a `text_embedding` task, ..." / "For
    `completion` and `chat_completion` tasks, ..." and a sentence anywhere of the form "Only
    for the `rerank` task type." / "Applies only to ..." / "Available only for ...".
    """
    flat = doc.replace("\n", " ") if doc else ""
    match = _SCOPE_LEAD.match(flat) or _SCOPE_ANYWHERE.search(doc or "")
    if not match:
        return None
    names = re.findall(TASK_WORD, match.group(1))
    start = match.start(1)
    sentence_start = (
        max(flat.rfind(". ", 0, start) + 2, 0) if flat.rfind(". ", 0, start) >= 0 else 0
    )
    end = flat.find(". ", match.end())
    sentence = flat[sentence_start : end + 1 if end >= 0 else len(flat)].strip()
    return names, sentence


def default_sentences(doc: str) -> list[str]:
    """The doc lines that state a default in prose ("Defaults to ...", "By default, ...")."""
    found = []
    for line in doc.splitlines():
        text = line.strip().lstrip("*-").strip()
        if re.search(r"\bdefault", text, re.IGNORECASE) and len(text) < 400:
            found.append(text)
    return found


_RPM = re.compile(
    r"^\*\s+`([\w-]+)` service(?: and task types? ((?:`\w+`(?:\s*(?:,|or|and)\s*)?)+))?:\s*`(\d+)`"
)


def rate_limit_defaults(decls: Mapping[str, Decl]) -> list[dict[str, Any]]:
    """The per-service requests-per-minute defaults listed in `RateLimitSetting`'s field doc."""
    decl = decls.get("RateLimitSetting")
    if decl is None:
        return []
    rows = []
    for member in decl.members:
        for line in member.doc.splitlines():
            match = _RPM.match(line.strip())
            if match:
                service, tasks, value = match.groups()
                row: dict[str, Any] = {"service": service, "requests_per_minute": int(value)}
                if tasks:
                    row["task_types"] = re.findall(r"`(\w+)`", tasks)
                rows.append(row)
    return rows


# --- the table ------------------------------------------------------------------------------


def _field_facts(member: Member, decls: Mapping[str, Decl]) -> dict[str, Any]:
    facts: dict[str, Any] = {"type": resolve_type(member.type, decls)}
    facts["required"] = not member.optional
    if member.tags.get("server_default"):
        facts["server_default"] = member.tags["server_default"][0]
    prose = default_sentences(member.doc)
    if prose:
        facts["default_prose"] = prose
    scope = task_scope(member.doc)
    if scope:
        facts["task_scope"], facts["task_scope_text"] = scope
    for value in member.tags.get("availability", []):
        match = re.search(r"stability=(\w+)", value)
        if match and match.group(1) != "stable":
            facts["stability"] = match.group(1)
            break
    facts["doc"] = member.doc
    return facts


def _signature(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": facts["type"], "required": facts["required"]}


def _class_facts(
    history: Sequence[tuple[str, Decl | None, Mapping[str, Decl]]],
) -> dict[str, Any]:
    """One class across branches: the newest shape, plus when each field appeared/changed."""
    present = [(b, d, all_decls) for b, d, all_decls in history if d is not None]
    branch, newest, _ = present[-1]
    fields: dict[str, Any] = {}
    seen: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for branch_name, decl, all_decls in present:
        assert decl is not None
        names = {m.name for m in decl.members}
        for member in decl.members:
            facts = _field_facts(member, all_decls)
            signature = _signature(facts)
            if member.name not in seen:
                order.append(member.name)
                entry: dict[str, Any] = {"first_branch": branch_name, "_first": signature}
                fields[member.name] = entry
            else:
                entry = fields[member.name]
                if signature != seen[member.name]:
                    changes = entry.setdefault("changes", {})
                    if not changes:  # what it was where it first appeared
                        changes[entry["first_branch"]] = dict(entry["_first"])
                    changes[branch_name] = {
                        k: v for k, v in signature.items() if seen[member.name][k] != v
                    }
            seen[member.name] = signature
            entry["_latest"] = (branch_name, facts)
        for gone in set(seen) - names:
            fields[gone].setdefault("_missing", []).append(branch_name)
    result: dict[str, Any] = {"class": newest.name, "file": newest.file}
    if newest.open_map:
        result["open_map"] = True
    out_fields: dict[str, Any] = {}
    for name in order:
        entry = fields.pop(name)
        last_branch, facts = entry.pop("_latest")
        missing = entry.pop("_missing", [])
        entry.pop("_first")
        row = {**facts}
        row["first_branch"] = entry["first_branch"]
        if "changes" in entry:
            row["changes"] = entry["changes"]
        if last_branch != branch:
            row["last_branch"] = last_branch
        elif missing:
            row["absent_in"] = sorted(set(missing), key=[b for b, _, _ in history].index)
        doc = row.pop("doc")
        row["doc"] = doc
        out_fields[name] = row
    result["fields"] = out_fields
    return result


def extract(root: Path) -> dict[str, Any]:
    """The whole table from a folder of specification copies (see the module docstring)."""
    commits = read_commits(root)
    branches = [read_branch(root, name, commit, date) for name, commit, date in commits]
    names = [b.name for b in branches]
    services: dict[str, Any] = {}
    service_names = sorted({s for b in branches for s in b.requests})
    classes_needed: set[str] = set(SHARED_CLASSES)
    for service in service_names:
        present = [b for b in branches if service in b.requests]
        newest = present[-1]
        request = newest.requests[service]
        task_types: dict[str, str] = {}
        for branch in present:
            enum = branch.decls.get(branch.requests[service].task_type)
            for member in enum.members if enum else []:
                task_types.setdefault(member.name, branch.name)
        latest_enum = newest.decls.get(request.task_type)
        current = [m.name for m in latest_enum.members] if latest_enum else []
        entry: dict[str, Any] = {
            "request": request.file,
            "stack_since": request.stack_since,
            "first_branch": present[0].name,
            "branches": [b.name for b in present],
            "task_type_enum": request.task_type,
            "task_types": {t: task_types[t] for t in current},
        }
        dropped = {t: b for t, b in task_types.items() if t not in current}
        if dropped:
            entry["task_types_dropped"] = dropped
        chunking = request.body.get("chunking_settings")
        body: dict[str, Any] = {
            "chunking_settings": (
                {"doc": chunking.doc, **_chunking_scope(chunking.doc)} if chunking else None
            ),
            "task_settings": "task_settings" in request.body,
        }
        entry["body"] = body
        for part in ("service_settings", "task_settings"):
            history = []
            for branch in branches:
                req = branch.requests.get(service)
                body_member = req.body.get(part) if req else None
                decl = branch.decls.get(body_member.type) if body_member else None
                history.append((branch.name, decl, branch.decls))
            if any(d is not None for _, d, _ in history):
                facts = _class_facts(history)
                entry[part] = facts
                for row in facts["fields"].values():
                    classes_needed.update(referenced_classes(row["type"]))
            else:
                entry[part] = None
        services[service] = entry
    classes = _shared_classes(branches, classes_needed)
    newest = branches[-1]
    return {
        "format": FORMAT,
        "generator": "python -m reconciler.services.spec_extract <specification copies>",
        "source": {"repository": REPOSITORY, "licence": LICENCE, "notice": NOTICE},
        "branches": [{"name": b.name, "commit": b.commit, "date": b.date} for b in branches],
        "latest": names[-1],
        "services": services,
        "classes": classes,
        "rate_limit_defaults": {
            "file": newest.decls["RateLimitSetting"].file
            if "RateLimitSetting" in newest.decls
            else None,
            "rows": rate_limit_defaults(newest.decls),
        },
    }


def _chunking_scope(doc: str) -> dict[str, Any]:
    match = re.search(r"Applies only to the ((?:`[a-z_]+`(?:\s*(?:,|or|and)\s*)?)+) task", doc)
    if not match:
        return {}
    return {"task_scope": re.findall(TASK_WORD, match.group(1))}


def _shared_classes(branches: Sequence[Branch], needed: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    queue = sorted(set(needed))
    while queue:
        name = queue.pop(0)
        if name in out:
            continue
        history = [(b.name, b.decls.get(name), b.decls) for b in branches]
        if not any(d is not None and d.kind in ("class", "interface") for _, d, _ in history):
            continue
        facts = _class_facts(history)
        out[name] = facts
        for row in facts["fields"].values():
            queue.extend(c for c in referenced_classes(row["type"]) if c not in out)
    return dict(sorted(out.items()))


EXAMPLE_HEADER = """\
# Copied from {repository}@{commit}
#   {path}
# Copyright Elasticsearch B.V., licensed under the Apache License, Version 2.0
# (http://www.apache.org/licenses/LICENSE-2.0). Unmodified below this header.
"""


def example_copies(root: Path, branch: str | None = None) -> dict[str, str]:
    """Upstream's request examples of every service (`put_*/examples/request/*.yaml` of the
    newest branch), as `<service>/<file>` → text with a header naming the source and licence."""
    commits = read_commits(root)
    name, commit, _ = next((row for row in commits if row[0] == branch), commits[-1])
    base = root / name
    decls: dict[str, Decl] = {}
    for path in sorted((base / TYPES_DIR).glob("*.ts")):
        decls.update(read_declarations(path.read_text(encoding="utf-8"), path.name))
    copies: dict[str, str] = {}
    for request_file in sorted((base / INFERENCE).glob("put_*/Put*Request.ts")):
        request = read_request(request_file.read_text(encoding="utf-8"), request_file.name)
        service_enum = decls.get(request.body["service"].type) if request else None
        if service_enum is None or len(service_enum.members) != 1:
            continue
        service = service_enum.members[0].name
        for example in sorted(request_file.parent.glob("examples/request/*.yaml")):
            rel = example.relative_to(base).as_posix()
            header = EXAMPLE_HEADER.format(repository=REPOSITORY, commit=commit, path=rel)
            copies[f"{service}/{example.name}"] = header + example.read_text(encoding="utf-8")
    return copies


def write_examples(root: Path, out: Path) -> list[str]:
    """Write `example_copies` under `out`; return the names written."""
    written = []
    for name, text in example_copies(root).items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(name)
    return written


def render(table: Mapping[str, Any]) -> str:
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.services.spec_extract", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("root", type=Path, help="folder of specification copies with COMMITS")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument(
        "--examples",
        type=Path,
        default=None,
        help="also copy upstream's request examples here (tests/data/spec_examples)",
    )
    args = parser.parse_args(argv)
    if args.examples is not None and not args.check:
        for name in write_examples(args.root, args.examples):
            print(f"wrote {args.examples / name}")
    text = render(extract(args.root))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date; run `python -m reconciler.services.spec_extract`")
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
