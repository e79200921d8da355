"""Read the seed API documents (`tests/data/seeds`, two copies of the ES `openai` service page
https://www.elastic.co/guide/en/elasticsearch/reference/current/infer-service-openai.html) into
facts the schema tests can check.

Two formats: the Markdown doc (fields as "`name`" then ":   (Required, type) text", nesting by
indentation, `task_settings` per task type in `{dropdown}` blocks) and the older plain-text
doc (fields as "name" then "(Required, type) text", no indentation: an object whose text says
"These settings are specific to" opens a section the following fields belong to). Both yield
`DocField`s; `facts()` reads defaults, ranges and restrictions out of their text, and
`examples()` the request bodies of the documented examples (console, Python and JavaScript).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "data" / "seeds"

_MD_NAME = re.compile(r"^(\s*)`<?([a-z_]+)>?`\s*$")
_MD_SPEC = re.compile(r"^\s*:\s+\((Required|Optional|optional), (\w+)\)\s*(.*)$")
_MD_DROPDOWN = re.compile(r"^\s*::::\{dropdown\} `task_settings` for the `(\w+)` task type")
_TXT_NAME = re.compile(r"^<?([a-z_]+)>?$")
_TXT_SPEC = re.compile(r"^\((Required|Optional|optional), (\w+)\)\s*(.*)$")
_TXT_TASK = re.compile(r"^task_settings for the (\w+) task type$")
_SNIPPET_KEY = re.compile(r'"(\w+)":\s*<<(\w+)>>')


@dataclass
class DocField:
    """One documented field: where, whether required, its type and its prose."""

    path: tuple[str, ...]
    required: bool
    type: str
    text: str = ""
    task_types: set[str] = field(default_factory=set)  # empty: every task type
    section: str = "body"  # "path" for path parameters


@dataclass
class Facts:
    """What a field's prose says beyond type and requiredness."""

    default: object = None
    task_defaults: dict[str, int] = field(default_factory=dict)
    maximum: int | None = None
    strategy_minimums: dict[str, int] = field(default_factory=dict)
    only_for_strategy: str | None = None
    either: list[str] = field(default_factory=list)
    at_most_half_of: str | None = None
    const: str | None = None
    listed: list[str] = field(default_factory=list)


def seed_files() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))


def is_markdown(text: str) -> bool:
    return text.lstrip().startswith("---")


def parse(path: Path) -> list[DocField]:
    text = path.read_text(encoding="utf-8")
    fields = _parse_markdown(text) if is_markdown(text) else _parse_text(text)
    return fields + _snippet_fields(fields)


# --- Markdown -------------------------------------------------------------------------------


def _parse_markdown(text: str) -> list[DocField]:
    lines = text.splitlines()
    fields: list[DocField] = []
    stack: list[tuple[int, str]] = []
    section, task = "path", ""
    for i, line in enumerate(lines):
        section = _md_section(line, section)
        dropdown = _MD_DROPDOWN.match(line)
        if dropdown or line.strip() == "::::":
            task = dropdown.group(1) if dropdown else ""
        name = _MD_NAME.match(line)
        spec = _MD_SPEC.match(lines[i + 1]) if name and i + 1 < len(lines) else None
        if not (name and spec):
            if fields and section != "end":
                fields[-1].text += "\n" + line
            continue
        indent = len(name.group(1))
        stack = [(d, n) for d, n in stack if d < indent]
        path = (*(n for _, n in stack), name.group(2))
        stack.append((indent, name.group(2)))
        fields.append(_field(path, spec, {task} if task else set(), section))
    return fields


def _md_section(line: str, current: str) -> str:
    if "api-path-parms-title" in line:
        return "path"
    if "api-request-body-title" in line:
        return "body"
    if line.startswith("## ") and "example" in line.lower():
        return "end"
    return current


def _field(path: tuple[str, ...], spec: re.Match[str], tasks: set[str], section: str) -> DocField:
    required = spec.group(1) == "Required"
    return DocField(path, required, spec.group(2), spec.group(3), tasks, section)


# --- plain text -----------------------------------------------------------------------------


def _parse_text(text: str) -> list[DocField]:
    lines = [line.strip() for line in text.splitlines()]
    fields: list[DocField] = []
    container: str | None = None
    section, task = "path", ""
    for i, line in enumerate(lines):
        section = _text_section(line, section)
        if section == "body" and line == "Request body":
            container = None
        heading = _TXT_TASK.match(line)
        task = heading.group(1) if heading else task
        name = _TXT_NAME.match(line)
        spec = _next_spec(lines, i) if name else None
        if not (name and spec):
            if fields and section != "end":
                fields[-1].text += "\n" + line
            continue
        path = (container, name.group(1)) if container else (name.group(1),)
        fields.append(_field(path, spec, {task} if task else set(), section))
        if spec.group(2) == "object" and "These settings are specific to" in _prose(lines, i):
            container = name.group(1)
            fields[-1].path = (name.group(1),)
    return fields


def _text_section(line: str, current: str) -> str:
    if line == "Path parameters":
        return "path"
    if line == "Request body":
        return "body"
    if line.endswith("service example"):
        return "end"
    return current


def _next_spec(lines: list[str], i: int) -> re.Match[str] | None:
    for line in lines[i + 1 : i + 3]:
        if line:
            return _TXT_SPEC.match(line)
    return None


def _prose(lines: list[str], i: int) -> str:
    """The text after field `i` up to the next field."""
    out = []
    for j in range(i + 1, len(lines)):
        if j > i + 2 and _TXT_NAME.match(lines[j]) and _next_spec(lines, j):
            break
        out.append(lines[j])
    return " ".join(out)


# --- fields only shown in snippets (rate_limit.requests_per_minute) -------------------------


def _snippet_fields(fields: list[DocField]) -> list[DocField]:
    extra = []
    for f in fields:
        for key, placeholder in _SNIPPET_KEY.findall(f.text):
            kind = "integer" if placeholder.startswith("number") else "string"
            extra.append(DocField((*f.path, key), False, kind, f.text, set(f.task_types)))
    return extra


# --- facts in the prose ---------------------------------------------------------------------


def facts(f: DocField) -> Facts:
    text = " ".join(f.text.split())
    out = Facts()
    default = re.search(r"Defaults to `?([^`\s]+?)`?\.?(?:\s|$)", text)
    if default and f.path[-1] != "rate_limit":
        out.default = int(default.group(1)) if default.group(1).isdigit() else default.group(1)
    out.task_defaults = {
        t: int(n) for t, n in re.findall(r"For `?(\w+)`? it is set to `?(\d+)", text)
    }
    high = re.search(r"cannot be higher than `(\d+)`", text)
    out.maximum = int(high.group(1)) if high else None
    out.strategy_minimums = {
        s: int(n) for n, s in re.findall(r"`(\d+)`\s+\(for `(\w+)` strategy\)", text)
    }
    only = re.search(r"Only for `(\w+)` chunking strategy", text)
    out.only_for_strategy = only.group(1) if only else None
    either = re.search(r"either `([^`]+)` or `([^`]+)`", text)
    out.either = list(either.groups()) if either else []
    half = re.search(r"cannot be higher than the half of `(\w+)`", text)
    out.at_most_half_of = half.group(1) if half else None
    const = re.search(r"In this case, `?(\w+)`?\.", text)
    out.const = const.group(1) if const else None
    out.listed = re.findall(r"[*•]\s+`?(\w+)`?[,.]", f.text)
    return out


# --- examples -------------------------------------------------------------------------------

_CONSOLE = re.compile(r"PUT _inference/(\w+)/([\w.-]+)\s*\n(\{.*?\n\})", re.S)
_PYTHON = re.compile(r"resp = client\.inference\.put\((.*?)\)\s*\nprint", re.S)
_JS = re.compile(r"await client\.inference\.put\((\{.*?\})\);", re.S)


@dataclass(frozen=True)
class Example:
    form: str
    task_type: str
    inference_id: str
    body: dict[str, object]


def examples(path: Path) -> list[Example]:
    text = path.read_text(encoding="utf-8")
    found = [Example("console", t, i, json.loads(b)) for t, i, b in _CONSOLE.findall(text)]
    found += [_python_example(call) for call in _PYTHON.findall(text)]
    found += [_js_example(obj) for obj in _JS.findall(text)]
    return found


def _python_example(arguments: str) -> Example:
    call = ast.parse(f"f({arguments})", mode="eval").body
    assert isinstance(call, ast.Call)
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    return Example(
        "python", kwargs["task_type"], kwargs["inference_id"], kwargs["inference_config"]
    )


def _js_example(obj: str) -> Example:
    quoted = re.sub(r"(?m)^(\s*)(\w+):", r'\1"\2":', obj)
    data = json.loads(re.sub(r",(\s*[}\]])", r"\1", quoted))
    return Example("javascript", data["task_type"], data["inference_id"], data["inference_config"])
