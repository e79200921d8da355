"""reconciler.services.spec_extract: the line-based reader of the specification's TypeScript,
on small snippets; and, where the specification copies are at hand, that the committed fact
table and example copies are exactly what the extractor produces from them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.services import spec_extract as se

REPO = Path(__file__).resolve().parents[2]
SPEC_ROOT = Path(
    os.environ.get(
        "RECONCILER_SPEC_ROOT", REPO.parent / "shared" / "spec" / "elasticsearch-specification"
    )
)
EXAMPLES = REPO / "tests" / "data" / "spec_examples"
HEADER = """/*
 * Licensed to Elasticsearch B.V. under one or more contributor
 * license agreements.
 */
"""

TYPES = (
    HEADER
    + """
import { integer } from '@_types/Numeric'

export class FooServiceSettings {
  /**
   * A valid API key.
   * The get inference endpoint API does not retrieve your API key.
   */
  api_key: string
  /**
   * For a `text_embedding` task, the number of dimensions.
   * @server_default 128
   */
  dimensions?: integer
  /**
   * Only for the `rerank` task type.
   * Defaults to `false`.
   * @availability stack stability=experimental visibility=public
   */
  return_documents?: boolean
  headers?: Dictionary<string, string>
  scopes?: Array<string>
  rate_limit?: RateLimitSetting
  kind?: FooKind
  parameter?: FooParameter
}

export enum FooKind {
  float,
  'int-8'
}

export enum FooTaskType {
  text_embedding,
  rerank
}

export enum FooServiceType {
  foo
}

export type FooParameter = string | integer | boolean

/**
 * A free map on PUT.
 */
export class FooOpenTaskSettings
  implements FooTaskSettings
{
  [key: string]: unknown
}

export type FooDetail =
  | FooKind
  | FooTaskType

export class RateLimitSetting {
  /**
   * The number of requests allowed per minute.
   * By default, the number of requests allowed per minute is set by each service as follows:
   *
   * * `foo` service: `1000`
   * * `bar` service and task type `text_embedding`: `3000`
   * * `bar` service and task types `completion` or `chat_completion`: `500`
   */
  requests_per_minute?: integer
}
"""
)

REQUEST = (
    HEADER
    + """
/**
 * Create a Foo inference endpoint.
 * @rest_spec_name inference.put_foo
 * @availability stack since=8.14.0 stability=stable visibility=public
 */
export interface Request extends RequestBase {
  urls: [
    {
      path: '/_inference/{task_type}/{foo_inference_id}'
      methods: ['PUT']
    }
  ]
  path_parts: {
    /**
     * The type of the inference task that the model will perform.
     */
    task_type: FooTaskType
    foo_inference_id: Id
  }
  query_parameters: {
    timeout?: Duration
  }
  body: {
    /**
     * The chunking configuration object.
     * Applies only to the `text_embedding` task type.
     */
    chunking_settings?: InferenceChunkingSettings
    service: FooServiceType
    service_settings: FooServiceSettings
  }
}
"""
)


def test_doc_comments_give_text_and_tags() -> None:
    text, tags = se.parse_doc(
        ["  /**", "   * First line.", "   *", "   * @server_default 5", "   */"]
    )
    assert text == "First line."
    assert tags == {"server_default": ["5"]}


def test_declarations_fields_enums_aliases_and_open_maps() -> None:
    decls = se.read_declarations(TYPES, "_types/Foo.ts")
    settings = decls["FooServiceSettings"]
    assert [m.name for m in settings.members] == [
        "api_key",
        "dimensions",
        "return_documents",
        "headers",
        "scopes",
        "rate_limit",
        "kind",
        "parameter",
    ]
    dims = settings.members[1]
    assert (dims.type, dims.optional, dims.tags["server_default"]) == ("integer", True, ["128"])
    assert settings.members[0].optional is False
    assert [m.name for m in decls["FooKind"].members] == ["float", "int-8"]
    assert decls["FooParameter"].alias == "string | integer | boolean"
    assert decls["FooDetail"].alias == "FooKind | FooTaskType"
    assert decls["FooOpenTaskSettings"].open_map and not decls["FooOpenTaskSettings"].members
    assert decls["RateLimitSetting"].members[0].name == "requests_per_minute"


def test_types_resolve_to_table_data() -> None:
    decls = se.read_declarations(TYPES, "_types/Foo.ts")
    fields = {m.name: se.resolve_type(m.type, decls) for m in decls["FooServiceSettings"].members}
    assert fields["api_key"] == "string"
    assert fields["dimensions"] == "integer"
    assert fields["headers"] == {"kind": "map", "key": "string", "value": "string"}
    assert fields["scopes"] == {"kind": "array", "items": "string"}
    assert fields["rate_limit"] == {"kind": "object", "class": "RateLimitSetting"}
    assert fields["kind"] == {"kind": "enum", "name": "FooKind", "values": ["float", "int-8"]}
    assert fields["parameter"] == {
        "kind": "union",
        "of": ["string", "integer", "boolean"],
        "alias": "FooParameter",
    }
    assert se.resolve_type("Nope", decls) == {"kind": "unknown", "ts": "Nope"}


def test_request_body_task_type_and_availability() -> None:
    request = se.read_request(REQUEST, "put_foo/PutFooRequest.ts")
    assert request is not None
    assert request.task_type == "FooTaskType"
    assert request.stack_since == "8.14.0"
    assert list(request.body) == ["chunking_settings", "service", "service_settings"]
    assert "Applies only to the `text_embedding`" in request.body["chunking_settings"].doc
    assert (
        se.read_request(HEADER + "export interface Request extends RequestBase {\n}\n", "x") is None
    )


@pytest.mark.parametrize(
    ("doc", "scope"),
    [
        ("For a `text_embedding` task, the number of dimensions.", ["text_embedding"]),
        (
            "For `chat_completion` and `completion` tasks, it sets",
            ["chat_completion", "completion"],
        ),
        ("For a `completion` or`chat_completion` task, specify", ["completion", "chat_completion"]),
        ("The measure.\nOnly for the `rerank` task type.", ["rerank"]),
        ("Available only for the `rerank` task type using the reranker.", ["rerank"]),
        ("Only applicable for the `text_embedding` task type.\nMore.", ["text_embedding"]),
        ("The name of the model to use.", None),
        ("Required when `api` is `elastic` and task type is `text_embedding`.", None),
    ],
)
def test_task_scope_is_read_from_the_prose(doc: str, scope: list[str] | None) -> None:
    found = se.task_scope(doc)
    assert (found[0] if found else None) == scope
    if found:
        assert found[1] and found[1] in doc.replace("\n", " ")


def test_prose_defaults() -> None:
    doc = "The measure.\nDefaults to `dot_product`.\nBy default, the service uses 10.\nOther."
    assert se.default_sentences(doc) == [
        "Defaults to `dot_product`.",
        "By default, the service uses 10.",
    ]


def test_rate_limit_defaults_from_the_doc_list() -> None:
    decls = se.read_declarations(TYPES, "_types/Services.ts")
    assert se.rate_limit_defaults(decls) == [
        {"service": "foo", "requests_per_minute": 1000},
        {"service": "bar", "requests_per_minute": 3000, "task_types": ["text_embedding"]},
        {
            "service": "bar",
            "requests_per_minute": 500,
            "task_types": ["completion", "chat_completion"],
        },
    ]


def write_branch(root: Path, branch: str, types: str, request: str) -> None:
    base = root / branch / "specification" / "inference"
    (base / "_types").mkdir(parents=True)
    (base / "_types" / "CommonTypes.ts").write_text(types)
    (base / "put_foo" / "examples" / "request").mkdir(parents=True)
    (base / "put_foo" / "PutFooRequest.ts").write_text(request)
    (base / "put_foo" / "examples" / "request" / "PutFooRequestExample1.yaml").write_text(
        "summary: x\nmethod_request: 'PUT _inference/rerank/foo'\nvalue: '{}'\n"
    )


def test_a_table_over_two_branches(tmp_path: Path) -> None:
    old_types = TYPES.replace("  dimensions?: integer", "  dimensions: integer").replace(
        "  text_embedding,\n  rerank\n", "  text_embedding\n"
    )
    old_types = old_types.replace("  scopes?: Array<string>\n", "  legacy?: string\n")
    write_branch(tmp_path, "9.0", old_types, REQUEST)
    write_branch(tmp_path, "main", TYPES, REQUEST)
    (tmp_path / "COMMITS").write_text("9.0 aaaa 2026-01-01\nmain bbbb 2026-02-02\n")
    table = se.extract(tmp_path)
    assert table["branches"] == [
        {"name": "9.0", "commit": "aaaa", "date": "2026-01-01"},
        {"name": "main", "commit": "bbbb", "date": "2026-02-02"},
    ]
    assert table["source"]["licence"] == "Apache-2.0"
    foo = table["services"]["foo"]
    assert foo["task_types"] == {"text_embedding": "9.0", "rerank": "main"}
    assert foo["stack_since"] == "8.14.0"
    assert foo["body"]["chunking_settings"]["task_scope"] == ["text_embedding"]
    assert foo["task_settings"] is None
    fields = foo["service_settings"]["fields"]
    assert fields["dimensions"]["changes"] == {
        "9.0": {"type": "integer", "required": True},
        "main": {"required": False},
    }
    assert fields["dimensions"]["server_default"] == "128"
    assert fields["dimensions"]["task_scope"] == ["text_embedding"]
    assert fields["scopes"]["first_branch"] == "main"
    assert fields["legacy"]["last_branch"] == "9.0"
    assert fields["return_documents"]["stability"] == "experimental"
    assert fields["return_documents"]["default_prose"] == ["Defaults to `false`."]
    assert "RateLimitSetting" in table["classes"]
    assert table["rate_limit_defaults"]["rows"][0] == {
        "service": "foo",
        "requests_per_minute": 1000,
    }
    copies = se.example_copies(tmp_path)
    assert list(copies) == ["foo/PutFooRequestExample1.yaml"]
    assert copies["foo/PutFooRequestExample1.yaml"].startswith(
        "# Copied from elastic/elasticsearch-specification@bbbb\n"
        "#   specification/inference/put_foo/examples/request/PutFooRequestExample1.yaml\n"
    )


def test_check_mode_reports_a_stale_table(tmp_path: Path) -> None:
    write_branch(tmp_path, "main", TYPES, REQUEST)
    (tmp_path / "COMMITS").write_text("main bbbb 2026-02-02\n")
    out = tmp_path / "facts.json"
    assert se.main([str(tmp_path), "--out", str(out), "--check"]) == 1
    assert se.main([str(tmp_path), "--out", str(out)]) == 0
    assert se.main([str(tmp_path), "--out", str(out), "--check"]) == 0
    assert json.loads(out.read_text())["latest"] == "main"


# --- the committed table against the specification copies, where they exist ----------------

needs_spec = pytest.mark.skipif(
    not (SPEC_ROOT / "COMMITS").is_file(),
    reason=f"no specification copies at {SPEC_ROOT} (set RECONCILER_SPEC_ROOT); the committed "
    "table is checked only where they exist",
)


@needs_spec
def test_the_committed_table_is_what_the_extractor_produces() -> None:
    committed = se.DEFAULT_OUT.read_text(encoding="utf-8")
    assert committed == se.render(se.extract(SPEC_ROOT)), (
        "run `python -m reconciler.services.spec_extract <spec copies>`"
    )


@needs_spec
def test_the_copied_examples_are_upstream_s() -> None:
    copies = se.example_copies(SPEC_ROOT)
    committed = {
        p.relative_to(EXAMPLES).as_posix(): p.read_text(encoding="utf-8")
        for p in EXAMPLES.glob("*/*.yaml")
    }
    assert committed == copies


def test_the_committed_table_covers_every_service_and_its_commit() -> None:
    table = json.loads(se.DEFAULT_OUT.read_text(encoding="utf-8"))
    assert len(table["services"]) == 26
    assert sum(len(s["task_types"]) for s in table["services"].values()) == 77
    assert {b["name"] for b in table["branches"]} >= {"8.18", "9.4", "main"}
    assert all(len(b["commit"]) == 40 for b in table["branches"])
    assert table["source"] == {
        "repository": "elastic/elasticsearch-specification",
        "licence": "Apache-2.0",
        "notice": se.NOTICE,
    }
