"""manifest.py: YAML to plain data with a source map; hostile YAML becomes diagnostics."""

from __future__ import annotations

import copy
import math
import pickle
import time

import pytest

from reconciler.checks import check_document
from reconciler.manifest import desired_endpoint, json_path, parse
from reconciler.model import KeyRotation
from reconciler.schema_compile import LONG_MAX, LONG_MIN, WideInt
from reconciler.secrets import SecretRef
from reconciler.sources import SourceFile

MANIFEST = """\
inference_id: emb
task_type: text_embedding
service: openai
service_settings:
  api_key: ${OPENAI_KEY}
  model_id: text-embedding-3-small
  rate_limit:
    requests_per_minute: 10
reconcile:
  protect: true
  key_rotation: recreate
  smoke:
    input: hello
"""


def _parse(text: str):
    return parse(SourceFile("m.yaml", text))


def test_source_map_points_at_values_and_keys() -> None:
    (doc,) = _parse(MANIFEST).documents
    path = ("service_settings", "rate_limit", "requests_per_minute")
    assert str(doc.source_map.locate(path)) == "m.yaml:8:26"
    assert str(doc.source_map.locate(path, key=True)) == "m.yaml:8:5"
    assert str(doc.source_map.locate(("service_settings", "nope"))) == "m.yaml:5:3"


def test_json_path_renders_keys_and_indexes() -> None:
    assert json_path(()) == "$"
    assert json_path(("a", 0, "b")) == "$.a[0].b"


def test_several_documents_per_file_keep_their_own_lines() -> None:
    result = _parse("a: 1\n---\nb: 2\n")
    assert [d.data for d in result.documents] == [{"a": 1}, {"b": 2}]
    assert str(result.documents[1].location) == "m.yaml:3:1"


def test_duplicate_keys_are_refused_not_silently_resolved() -> None:
    (problem,) = _parse("a: 1\nb:\n  c: 1\n  c: 2\n").diagnostics
    assert problem.rule == "yaml.duplicate-key"
    assert (problem.line, problem.column, problem.path) == (4, 3, "$.b.c")
    assert "line 3" in problem.message


def test_syntax_error_is_located() -> None:
    (problem,) = _parse("a: [1, 2\nb: 3\n").diagnostics
    assert problem.rule == "yaml.syntax"
    assert problem.line == 2


def test_empty_file_and_comment_only_file_are_errors() -> None:
    for text in ("", "# nothing here\n"):
        (problem,) = _parse(text).diagnostics
        assert problem.rule == "manifest.empty-file"


def test_billion_laughs_is_bounded_in_time() -> None:
    bomb = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 10):
        bomb += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    started = time.process_time()
    result = _parse(bomb)
    assert time.process_time() - started < 5
    assert [d.rule for d in result.diagnostics] == ["yaml.too-large"]


def test_deep_flow_nesting_does_not_crash_the_parser() -> None:
    (problem,) = _parse("[" * 200_000).diagnostics
    assert problem.rule == "yaml.depth"


def test_deep_block_nesting_is_refused() -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n"
    (problem,) = _parse(text).diagnostics
    assert problem.rule == "yaml.depth"


def test_merge_keys_and_aliases_are_expanded() -> None:
    (doc,) = _parse("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n").documents
    assert doc.data["m"] == {"x": 1, "y": 3}


def test_custom_tags_are_refused() -> None:
    (problem,) = _parse("a: !!python/object:os.system ls\n").diagnostics
    assert problem.rule == "yaml.tag"


def test_timestamps_stay_strings_as_json_would_carry_them() -> None:
    (doc,) = _parse("user: 2024-01-01\n").documents
    assert doc.data == {"user": "2024-01-01"}


def test_desired_endpoint_strips_key_path_parameters_and_options() -> None:
    (doc,) = _parse(MANIFEST).documents
    desired = desired_endpoint(doc)
    assert desired.inference_id == "emb"
    assert desired.task_type == "text_embedding"
    assert desired.api_key == SecretRef("OPENAI_KEY")
    assert "api_key" not in desired.body["service_settings"]
    assert set(desired.body) == {"service", "service_settings"}
    assert desired.options.protect is True
    assert desired.options.key_rotation is KeyRotation.RECREATE
    assert desired.options.smoke_input == "hello"
    assert str(desired.origin) == "m.yaml:1:15"


# --- integers beyond 64 bits ------------------------------------------------------------------


def test_integers_in_the_long_range_are_plain_ints() -> None:
    text = "a: 9223372036854775807\nb: -9223372036854775808\nc: 0x7fffffffffffffff\nd: 0o777\n"
    (doc,) = _parse(text).documents
    assert doc.data == {"a": LONG_MAX, "b": LONG_MIN, "c": LONG_MAX, "d": 511}
    assert all(type(v) is int for v in doc.data.values())


def test_integers_beyond_the_long_range_keep_their_text() -> None:
    text = (
        "a: 9223372036854775808\nb: -9223372036854775809\nc: 99999999999999999999999999999999\n"
        "d: 0x10000000000000000\ne: 0o" + "7" * 30 + "\n"
    )
    (doc,) = _parse(text).documents
    data = doc.data
    assert all(isinstance(v, WideInt) for v in data.values())
    assert data["a"] == LONG_MAX + 1 and data["b"] == LONG_MIN - 1 and data["d"] > LONG_MAX
    assert str(data["a"]) == "9223372036854775808" and str(data["b"]) == "-9223372036854775809"
    assert str(data["c"]) == "99999999999999999999999999999999"
    assert str(data["d"]) == "0x10000000000000000"


def test_an_integer_python_cannot_convert_is_not_a_crash() -> None:
    # 5000 digits is over Python's int_max_str_digits (4300): int() raises ValueError
    (doc,) = _parse("a: " + "9" * 5000 + "\n").documents
    assert isinstance(doc.data["a"], WideInt)
    assert str(doc.data["a"]) == "99999999999999999999... (5000 characters)"
    (doc,) = _parse("a: -" + "9" * 5000 + "\n").documents
    assert doc.data["a"] < LONG_MIN


def test_huge_hex_literals_are_not_converted_and_sexagesimal_is_text() -> None:
    started = time.process_time()
    text = "a: 0x" + "f" * 1_000_000 + "\nb: 1" + ":59" * 300_000 + "\n"
    (doc,) = _parse(text).documents
    assert time.process_time() - started < 5
    assert isinstance(doc.data["a"], WideInt)
    assert doc.data["b"] == "1" + ":59" * 300_000  # YAML 1.2 has no base-60 numbers


def test_zero_padding_does_not_make_a_small_integer_wide() -> None:
    (doc,) = _parse("a: 0x" + "0" * 500 + "ff\nb: " + "0" * 500 + "10\n").documents
    assert doc.data == {"a": 255, "b": 10}


def test_wide_ints_survive_copy_and_pickle() -> None:
    (doc,) = _parse("a: -99999999999999999999999\n").documents
    for twin in (copy.deepcopy(doc.data["a"]), pickle.loads(pickle.dumps(doc.data["a"]))):
        assert isinstance(twin, WideInt) and twin == doc.data["a"]
        assert str(twin) == "-99999999999999999999999"


def test_a_wide_integer_is_a_located_schema_error() -> None:
    text = MANIFEST.replace("requests_per_minute: 10", "requests_per_minute: 1" + "0" * 30)
    (doc,) = _parse(text).documents
    (problem,) = check_document(doc)
    assert (str(problem.location), problem.rule) == ("m.yaml:8:26", "schema.range")
    assert problem.path == "$.service_settings.rate_limit.requests_per_minute"
    assert problem.message.endswith("got 1" + "0" * 30)


# --- YAML 1.2 core schema, as editors and JSON Schema tools read it ---------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("Yes", "Yes"),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("1_024", "1_024"),
        ("0b101", "0b101"),
        ("1:30", "1:30"),
        ("0o17", 15),
        ("0x1F", 31),
        ("010", 10),
        ("+12", 12),
        ("-0", 0),
        ("128.0", 128.0),
        ("1e3", 1000.0),
        ("~", None),
        ("null", None),
        ("", None),
        ("2026-12-04", "2026-12-04"),
    ],
)
def test_plain_scalars_resolve_by_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    (doc,) = _parse(f"a: {text}\n").documents
    assert doc.data["a"] == value and type(doc.data["a"]) is type(value)


@pytest.mark.parametrize(("text", "sign"), [(".inf", 1), ("-.Inf", -1), ("+.INF", 1)])
def test_infinities(text: str, sign: int) -> None:
    (doc,) = _parse(f"a: {text}\n").documents
    assert doc.data["a"] == sign * math.inf


def test_nan() -> None:
    (doc,) = _parse("a: .NaN\n").documents
    assert math.isnan(doc.data["a"])
