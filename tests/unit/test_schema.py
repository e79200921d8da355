"""reconciler.schema: every documented rule, valid and invalid, with precise messages."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import schema
from reconciler.model import TASK_TYPES
from reconciler.schema import SchemaIssue, manifest_schema, schema_for, validate_document
from reconciler.schema_compile import UnsupportedKeywordError, compile_schema, java_uri_problem
from tests.conftest import CANARY_KEY

Doc = dict[Any, Any]
INT_MAX = 2_147_483_647  # Java Integer.MAX_VALUE
LONG = 9_223_372_036_854_775_807  # Java Long.MAX_VALUE


def make(task_type: object = "text_embedding", **top: Any) -> Doc:
    doc: Doc = {
        "inference_id": "openai-endpoint",
        "task_type": task_type,
        "service": "openai",
        "service_settings": {"api_key": "${OPENAI_API_KEY}", "model_id": "some-model"},
    }
    doc.update(top)
    return doc


def settings_(task_type: str = "text_embedding", **service_settings: Any) -> Doc:
    doc = make(task_type)
    doc["service_settings"].update(service_settings)
    return doc


def chunking(**keys: Any) -> Doc:
    return make(chunking_settings=keys)


def full_embedding() -> Doc:
    return make(
        service_settings={
            "api_key": "${OPENAI_API_KEY}",
            "model_id": "text-embedding-3-small",
            "dimensions": 128,
            "similarity": "cosine",
            "max_input_tokens": 8191,
            "organization_id": "org-1",
            "url": "https://api.openai.com/v1/embeddings",
            "rate_limit": {"requests_per_minute": 3000},
        },
        task_settings={"user": "search-team", "headers": {"X-Team": "search"}},
        chunking_settings={"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1},
        reconcile={
            "protect": True,
            "key_rotation": "recreate",
            "smoke": {"enabled": True, "input": "how big"},
        },
    )


def pairs(doc: object) -> list[tuple[tuple[str | int, ...], str]]:
    return [(i.path, i.rule) for i in validate_document(doc)]


def only(doc: object) -> SchemaIssue:
    issues = validate_document(doc)
    assert len(issues) == 1, issues
    return issues[0]


# --- valid documents ------------------------------------------------------------------------

VALID: list[tuple[str, Doc]] = [
    ("minimal text_embedding", make()),
    ("minimal completion", make("completion")),
    ("minimal chat_completion", make("chat_completion")),
    ("every field", full_embedding()),
    (
        "completion with every field it takes",
        settings_(
            "completion",
            url="http://x",
            max_input_tokens=1,
            organization_id="o",
            rate_limit={"requests_per_minute": 500},
        ),
    ),
    (
        "chat_completion task settings",
        make("chat_completion", task_settings={"user": "u", "headers": {}}),
    ),
    ("empty chunking settings", chunking()),
    ("sentence", chunking(strategy="sentence", max_chunk_size=20, sentence_overlap=0)),
    ("sentence without overlap", chunking(strategy="sentence", max_chunk_size=300)),
    ("word at the limit", chunking(strategy="word", max_chunk_size=100, overlap=50)),
    ("word, odd size", chunking(strategy="word", max_chunk_size=11, overlap=5)),
    ("none", chunking(strategy="none")),
    (
        "recursive, separators",
        chunking(strategy="recursive", max_chunk_size=10, separators=["\n\n", "\n"]),
    ),
    (
        "recursive, group",
        chunking(strategy="recursive", max_chunk_size=300, separator_group="markdown"),
    ),
    ("recursive, neither", chunking(strategy="recursive", max_chunk_size=200)),
    ("similarity l2_norm", settings_(similarity="l2_norm")),
    ("relative url (ES accepts it)", settings_(url="not-a-url")),
    ("inference_id with dots", make(inference_id="a.b-c_d9")),
    ("one-character inference_id", make(inference_id="a")),
    ("long inference_id", make(inference_id="a" * 300)),
    ("empty rate_limit", settings_(rate_limit={})),
    ("empty task settings", make(task_settings={})),
    ("empty reconcile block", make(reconcile={})),
    ("smoke disabled", make(reconcile={"smoke": {"enabled": False}})),
    ("api key variable with digits", settings_(api_key="${KEY_2}")),
    # bounds: the largest value of each field passes (one more fails: see INVALID)
    ("dimensions at the int maximum", settings_(dimensions=INT_MAX)),
    ("max_input_tokens at the int maximum", settings_(max_input_tokens=INT_MAX)),
    (
        "max_input_tokens at the int maximum, completion",
        settings_("completion", max_input_tokens=INT_MAX),
    ),
    (
        "requests_per_minute at the long maximum",
        settings_(rate_limit={"requests_per_minute": LONG}),
    ),
    ("inference_id at 506 (`model_` + id is 512 bytes)", make(inference_id="a" * 506)),
    ("model_id at 1024", settings_(model_id="m" * 1024)),
    ("organization_id at 1024", settings_(organization_id="o" * 1024)),
    ("url at 8192", settings_(url="https://h/" + "u" * 8182)),
    ("user at 1024", make(task_settings={"user": "u" * 1024})),
    (
        "header name at 1024 and value at 8192",
        make("chat_completion", task_settings={"headers": {"n" * 1024: "v" * 8192}}),
    ),
    (
        "separator at 1024",
        chunking(strategy="recursive", max_chunk_size=100, separators=["s" * 1024]),
    ),
    ("smoke input at 4096", make(reconcile={"smoke": {"input": "i" * 4096}})),
    ("api_key reference at 256", settings_(api_key="${" + "K" * 253 + "}")),
]


@pytest.mark.parametrize(("name", "doc"), VALID, ids=[n for n, _ in VALID])
def test_valid(name: str, doc: Doc) -> None:
    assert validate_document(doc) == []


# --- invalid documents: one rule each -------------------------------------------------------

Case = tuple[str, Doc, tuple[str | int, ...], str, str]

INVALID: list[Case] = [
    # required fields
    (
        "no inference_id",
        {k: v for k, v in make().items() if k != "inference_id"},
        (),
        "schema.required",
        "missing required field `inference_id`",
    ),
    (
        "no task_type",
        {k: v for k, v in make().items() if k != "task_type"},
        (),
        "schema.required",
        "`task_type`",
    ),
    (
        "no service",
        {k: v for k, v in make().items() if k != "service"},
        (),
        "schema.required",
        "`service`",
    ),
    (
        "no service_settings",
        {k: v for k, v in make().items() if k != "service_settings"},
        (),
        "schema.required",
        "`service_settings`",
    ),
    (
        "no api_key",
        make(service_settings={"model_id": "m"}),
        ("service_settings",),
        "schema.required",
        "`api_key` (a ${VAR} reference",
    ),
    (
        "no model_id",
        make(service_settings={"api_key": "${K}"}),
        ("service_settings",),
        "schema.required",
        "missing required field `model_id`",
    ),
    # api_key
    (
        "literal api_key",
        settings_(api_key="sk-123456"),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "must be a ${VAR} reference",
    ),
    (
        "unbraced reference",
        settings_(api_key="$OPENAI_API_KEY"),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "${VAR}",
    ),
    (
        "bad variable name",
        settings_(api_key="${1KEY}"),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "${VAR}",
    ),
    (
        "reference plus text",
        settings_(api_key="Bearer ${KEY}"),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "${VAR}",
    ),
    (
        "reference with newline",
        settings_(api_key="${KEY}\n"),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "${VAR}",
    ),
    (
        "empty api_key",
        settings_(api_key=""),
        ("service_settings", "api_key"),
        "schema.empty",
        "empty",
    ),
    (
        "numeric api_key",
        settings_(api_key=12345678),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "${VAR}",
    ),
    (
        "null api_key",
        settings_(api_key=None),
        ("service_settings", "api_key"),
        "schema.type",
        "got null",
    ),
    # model_id, organization_id
    (
        "empty model_id",
        settings_(model_id=""),
        ("service_settings", "model_id"),
        "schema.empty",
        "non-empty string",
    ),
    (
        "numeric model_id",
        settings_(model_id=5),
        ("service_settings", "model_id"),
        "schema.type",
        "expected a string, got an integer 5",
    ),
    (
        "empty organization_id",
        settings_(organization_id=""),
        ("service_settings", "organization_id"),
        "schema.empty",
        "non-empty",
    ),
    # dimensions
    (
        "dimensions 0",
        settings_(dimensions=0),
        ("service_settings", "dimensions"),
        "schema.range",
        "expected an integer from 1 to 2147483647, got 0",
    ),
    (
        "dimensions negative",
        settings_(dimensions=-3),
        ("service_settings", "dimensions"),
        "schema.range",
        "from 1 to 2147483647, got -3",
    ),
    (
        "dimensions string",
        settings_(dimensions="128"),
        ("service_settings", "dimensions"),
        "schema.type",
        "expected an integer, got a string '128'",
    ),
    (
        "dimensions float",
        settings_(dimensions=128.0),
        ("service_settings", "dimensions"),
        "schema.type",
        "expected an integer, got a number 128.0",
    ),
    (
        "dimensions boolean",
        settings_(dimensions=True),
        ("service_settings", "dimensions"),
        "schema.type",
        "expected an integer, got a boolean",
    ),
    (
        "dimensions on completion",
        settings_("completion", dimensions=128),
        ("service_settings", "dimensions"),
        "schema.task-type-key",
        "`dimensions` is only allowed for task_type `text_embedding`",
    ),
    (
        "dimensions on chat_completion",
        settings_("chat_completion", dimensions=128),
        ("service_settings", "dimensions"),
        "schema.task-type-key",
        "text_embedding",
    ),
    # similarity
    (
        "similarity unknown",
        settings_(similarity="cos"),
        ("service_settings", "similarity"),
        "schema.enum",
        "expected one of `cosine`, `dot_product`, `l2_norm`, got 'cos'",
    ),
    (
        "similarity upper case",
        settings_(similarity="DOT_PRODUCT"),
        ("service_settings", "similarity"),
        "schema.enum",
        "lower case (`dot_product`)",
    ),
    (
        "similarity typo",
        settings_(similarity="cosin"),
        ("service_settings", "similarity"),
        "schema.enum",
        "did you mean `cosine`?",
    ),
    (
        "similarity on completion",
        settings_("completion", similarity="cosine"),
        ("service_settings", "similarity"),
        "schema.task-type-key",
        "text_embedding",
    ),
    # max_input_tokens, url, rate_limit
    (
        "max_input_tokens 0",
        settings_(max_input_tokens=0),
        ("service_settings", "max_input_tokens"),
        "schema.range",
        "from 1 to 2147483647, got 0",
    ),
    (
        "url not a string",
        settings_(url=5),
        ("service_settings", "url"),
        "schema.type",
        "expected a string",
    ),
    (
        "url with a space",
        settings_(url="http://a b"),
        ("service_settings", "url"),
        "schema.format",
        "whitespace",
    ),
    (
        "url bad escape",
        settings_(url="http://a/%zz"),
        ("service_settings", "url"),
        "schema.format",
        "'%'",
    ),
    (
        "url without host",
        settings_(url="https://"),
        ("service_settings", "url"),
        "schema.format",
        "host",
    ),
    ("url empty", settings_(url=""), ("service_settings", "url"), "schema.empty", "non-empty"),
    (
        "rate limit 0",
        settings_(rate_limit={"requests_per_minute": 0}),
        ("service_settings", "rate_limit", "requests_per_minute"),
        "schema.range",
        "from 1 to 9223372036854775807, got 0",
    ),
    (
        "rate limit string",
        settings_(rate_limit={"requests_per_minute": "x"}),
        ("service_settings", "rate_limit", "requests_per_minute"),
        "schema.type",
        "integer",
    ),
    (
        "rate limit unknown key",
        settings_(rate_limit={"per_minute": 5}),
        ("service_settings", "rate_limit", "per_minute"),
        "schema.unknown-key",
        "unknown key `per_minute` (did you mean `requests_per_minute`?)",
    ),
    (
        "rate limit not a mapping",
        settings_(rate_limit=5),
        ("service_settings", "rate_limit"),
        "schema.type",
        "expected a mapping, got an integer 5",
    ),
    (
        "typo in service settings",
        settings_(dimension=5),
        ("service_settings", "dimension"),
        "schema.unknown-key",
        "unknown key `dimension` (did you mean `dimensions`?)",
    ),
    (
        "service_settings not a mapping",
        make(service_settings="x"),
        ("service_settings",),
        "schema.type",
        "expected a mapping",
    ),
    # task settings
    (
        "user empty",
        make(task_settings={"user": ""}),
        ("task_settings", "user"),
        "schema.empty",
        "non-empty",
    ),
    (
        "user number",
        make(task_settings={"user": 5}),
        ("task_settings", "user"),
        "schema.type",
        "string",
    ),
    (
        "unknown task setting",
        make(task_settings={"temperature": 0.2}),
        ("task_settings", "temperature"),
        "schema.unknown-key",
        "unknown key `temperature`",
    ),
    (
        "header value number",
        make(task_settings={"headers": {"X-Team": 5}}),
        ("task_settings", "headers", "X-Team"),
        "schema.type",
        "expected a string",
    ),
    (
        "headers not a mapping",
        make(task_settings={"headers": ["a"]}),
        ("task_settings", "headers"),
        "schema.type",
        "mapping",
    ),
    (
        "empty header name",
        make(task_settings={"headers": {"": "x"}}),
        ("task_settings", "headers"),
        "schema.key",
        "non-empty strings",
    ),
    ("task_settings null", make(task_settings=None), ("task_settings",), "schema.type", "got null"),
    # chunking: where and which strategy
    (
        "chunking on completion",
        make("completion", chunking_settings={"strategy": "sentence", "max_chunk_size": 250}),
        ("chunking_settings",),
        "schema.task-type-key",
        "`chunking_settings` is only allowed for task_type `text_embedding`",
    ),
    (
        "chunking on chat_completion",
        make("chat_completion", chunking_settings={}),
        ("chunking_settings",),
        "schema.task-type-key",
        "text_embedding",
    ),
    (
        "strategy missing",
        chunking(max_chunk_size=100),
        ("chunking_settings",),
        "schema.required",
        "Can't generate Chunker without ChunkingStrategy provided",
    ),
    (
        "strategy unknown",
        chunking(strategy="paragraph"),
        ("chunking_settings", "strategy"),
        "schema.enum",
        "`sentence`, `word`, `none`, `recursive`",
    ),
    (
        "strategy upper case",
        chunking(strategy="WORD", max_chunk_size=100, overlap=10),
        ("chunking_settings", "strategy"),
        "schema.enum",
        "lower case",
    ),
    (
        "chunking unknown key",
        chunking(strategy="none", size=5),
        ("chunking_settings", "size"),
        "schema.unknown-key",
        "unknown key `size`",
    ),
    # sentence
    (
        "sentence 19",
        chunking(strategy="sentence", max_chunk_size=19),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "expected an integer from 20 to 300, got 19 (chunking strategy `sentence`)",
    ),
    (
        "sentence 301",
        chunking(strategy="sentence", max_chunk_size=301),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "from 20 to 300, got 301",
    ),
    (
        "sentence no size",
        chunking(strategy="sentence"),
        ("chunking_settings",),
        "schema.required",
        "`max_chunk_size` is required for chunking strategy `sentence`",
    ),
    (
        "sentence_overlap 2",
        chunking(strategy="sentence", max_chunk_size=100, sentence_overlap=2),
        ("chunking_settings", "sentence_overlap"),
        "schema.enum",
        "expected `0` or `1`, got 2",
    ),
    (
        "sentence_overlap -1",
        chunking(strategy="sentence", max_chunk_size=100, sentence_overlap=-1),
        ("chunking_settings", "sentence_overlap"),
        "schema.enum",
        "`0` or `1`",
    ),
    (
        "overlap on sentence",
        chunking(strategy="sentence", max_chunk_size=100, overlap=10),
        ("chunking_settings", "overlap"),
        "schema.strategy-key",
        "`overlap` is only allowed for chunking strategy `word`, not `sentence`",
    ),
    # word
    (
        "word 9",
        chunking(strategy="word", max_chunk_size=9, overlap=1),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "from 10 to 300, got 9 (chunking strategy `word`)",
    ),
    (
        "word 301",
        chunking(strategy="word", max_chunk_size=301, overlap=1),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "from 10 to 300",
    ),
    (
        "word no overlap",
        chunking(strategy="word", max_chunk_size=100),
        ("chunking_settings",),
        "schema.required",
        "`overlap` is required for chunking strategy `word`",
    ),
    (
        "word no size",
        chunking(strategy="word", overlap=5),
        ("chunking_settings",),
        "schema.required",
        "`max_chunk_size` is required for chunking strategy `word`",
    ),
    (
        "word overlap 0",
        chunking(strategy="word", max_chunk_size=100, overlap=0),
        ("chunking_settings", "overlap"),
        "schema.range",
        "≥ 1, got 0",
    ),
    (
        "word overlap over half",
        chunking(strategy="word", max_chunk_size=100, overlap=60),
        ("chunking_settings", "overlap"),
        "rule.overlap-max",
        "`overlap` must be at most half of `max_chunk_size` (50), got 60",
    ),
    (
        "word overlap over half, odd",
        chunking(strategy="word", max_chunk_size=11, overlap=6),
        ("chunking_settings", "overlap"),
        "rule.overlap-max",
        "(5), got 6",
    ),
    (
        "sentence_overlap on word",
        chunking(strategy="word", max_chunk_size=100, overlap=10, sentence_overlap=1),
        ("chunking_settings", "sentence_overlap"),
        "schema.strategy-key",
        "only allowed for chunking strategy `sentence`, not `word`",
    ),
    # none
    (
        "none with a size",
        chunking(strategy="none", max_chunk_size=100),
        ("chunking_settings", "max_chunk_size"),
        "schema.strategy-key",
        "silently drops",
    ),
    (
        "none with separators",
        chunking(strategy="none", separators=["x"]),
        ("chunking_settings", "separators"),
        "schema.strategy-key",
        "`none` takes no other settings",
    ),
    # recursive
    (
        "recursive both",
        chunking(
            strategy="recursive", max_chunk_size=100, separators=["x"], separator_group="plaintext"
        ),
        ("chunking_settings",),
        "schema.exclusive",
        "give either `separators` or `separator_group`, not both",
    ),
    (
        "recursive empty separators",
        chunking(strategy="recursive", max_chunk_size=100, separators=[]),
        ("chunking_settings", "separators"),
        "schema.empty",
        "empty list of separators",
    ),
    (
        "recursive separator not a string",
        chunking(strategy="recursive", max_chunk_size=100, separators=[5]),
        ("chunking_settings", "separators", 0),
        "schema.type",
        "expected a string",
    ),
    (
        "recursive separators not a list",
        chunking(strategy="recursive", max_chunk_size=100, separators="x"),
        ("chunking_settings", "separators"),
        "schema.type",
        "expected a list",
    ),
    (
        "recursive bad group",
        chunking(strategy="recursive", max_chunk_size=100, separator_group="html"),
        ("chunking_settings", "separator_group"),
        "schema.enum",
        "`plaintext` or `markdown`",
    ),
    (
        "recursive 9",
        chunking(strategy="recursive", max_chunk_size=9),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "from 10 to 300",
    ),
    (
        "recursive no size",
        chunking(strategy="recursive"),
        ("chunking_settings",),
        "schema.required",
        "`max_chunk_size` is required for chunking strategy `recursive`",
    ),
    (
        "separators on word",
        chunking(strategy="word", max_chunk_size=100, overlap=1, separators=["x"]),
        ("chunking_settings", "separators"),
        "schema.strategy-key",
        "`recursive`",
    ),
    # inference_id, task_type, service
    (
        "inference_id upper case",
        make(inference_id="My-Id"),
        ("inference_id",),
        "schema.inference-id",
        "invalid inference_id 'My-Id': use lower-case letters",
    ),
    (
        "inference_id _all",
        make(inference_id="_all"),
        ("inference_id",),
        "schema.inference-id",
        "`_all` is reserved",
    ),
    (
        "inference_id leading dash",
        make(inference_id="-a"),
        ("inference_id",),
        "schema.inference-id",
        "starting and ending",
    ),
    (
        "inference_id trailing dot",
        make(inference_id="a."),
        ("inference_id",),
        "schema.inference-id",
        "starting and ending",
    ),
    (
        "inference_id leading dot",
        make(inference_id=".elser"),
        ("inference_id",),
        "schema.inference-id",
        "starting",
    ),
    (
        "inference_id trailing newline",
        make(inference_id="abc\n"),
        ("inference_id",),
        "schema.inference-id",
        "'abc\\n'",
    ),
    (
        "inference_id space",
        make(inference_id="a b"),
        ("inference_id",),
        "schema.inference-id",
        "lower-case",
    ),
    (
        "inference_id empty",
        make(inference_id=""),
        ("inference_id",),
        "schema.inference-id",
        "lower-case",
    ),
    (
        "inference_id number",
        make(inference_id=5),
        ("inference_id",),
        "schema.type",
        "expected a string, got an integer 5",
    ),
    (
        "task_type unknown",
        make(task_type="rerank"),
        ("task_type",),
        "schema.task-type",
        "unknown task_type 'rerank'; supported: text_embedding, completion, chat_completion",
    ),
    (
        "task_type upper case",
        make(task_type="COMPLETION"),
        ("task_type",),
        "schema.task-type",
        "lower case",
    ),
    (
        "task_type number",
        make(task_type=1),
        ("task_type",),
        "schema.task-type",
        "supported: text_embedding",
    ),
    (
        "service other",
        make(service="nope"),
        ("service",),
        "schema.service",
        "unknown service 'nope'; supported: ai21, alibabacloud-ai-search,",
    ),
    (
        "service upper case",
        make(service="OpenAI"),
        ("service",),
        "schema.service",
        "did you mean `openai`?",
    ),
    # unknown and misplaced keys
    (
        "unknown top-level key",
        make(metadata={"a": 1}),
        ("metadata",),
        "schema.unknown-key",
        "unknown key `metadata`",
    ),
    (
        "top-level typo",
        make(task_setting={}),
        ("task_setting",),
        "schema.unknown-key",
        "did you mean `task_settings`?",
    ),
    (
        "api_key at the top",
        {**make(), "api_key": "${K}"},
        ("api_key",),
        "schema.unknown-key",
        "it belongs under `service_settings`",
    ),
    ("non-string key", {**make(), 1: "x"}, ("1",), "schema.unknown-key", "unknown key `1`"),
    # bounds: one past the largest value of each field
    (
        "dimensions one past the int maximum",
        settings_(dimensions=INT_MAX + 1),
        ("service_settings", "dimensions"),
        "schema.range",
        "expected an integer from 1 to 2147483647 (Elasticsearch reads `dimensions` as a Java "
        "int), got 2147483648",
    ),
    (
        "dimensions beyond 64 bits",
        settings_(dimensions=10**32),
        ("service_settings", "dimensions"),
        "schema.range",
        "got 100000000000000000000000000000000",
    ),
    (
        "dimensions of 5000 digits",
        settings_(dimensions=10**5000),
        ("service_settings", "dimensions"),
        "schema.range",
        "got <about 5001 digits>",
    ),
    (
        "max_input_tokens one past the int maximum",
        settings_(max_input_tokens=INT_MAX + 1),
        ("service_settings", "max_input_tokens"),
        "schema.range",
        "from 1 to 2147483647 (Elasticsearch reads `max_input_tokens` as a Java int)",
    ),
    (
        "max_input_tokens one past the int maximum, chat_completion",
        settings_("chat_completion", max_input_tokens=INT_MAX + 1),
        ("service_settings", "max_input_tokens"),
        "schema.range",
        "got 2147483648",
    ),
    (
        "requests_per_minute one past the long maximum",
        settings_(rate_limit={"requests_per_minute": LONG + 1}),
        ("service_settings", "rate_limit", "requests_per_minute"),
        "schema.range",
        "expected an integer from 1 to 9223372036854775807 (Elasticsearch reads "
        "`requests_per_minute` as a Java long), got 9223372036854775808",
    ),
    (
        "sentence max_chunk_size beyond int: only the strategy's range is reported",
        chunking(strategy="sentence", max_chunk_size=INT_MAX + 1),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "expected an integer from 20 to 300, got 2147483648 (chunking strategy `sentence`)",
    ),
    (
        "word max_chunk_size far beyond int",
        chunking(strategy="word", max_chunk_size=-(10**40), overlap=1),
        ("chunking_settings", "max_chunk_size"),
        "schema.range",
        "from 10 to 300, got -1000000000000000000... (41 digits)",
    ),
    (
        "word overlap one past the int maximum",
        chunking(strategy="word", max_chunk_size=100, overlap=INT_MAX + 1),
        ("chunking_settings", "overlap"),
        "schema.range",
        "expected an integer ≤ 2147483647 (Elasticsearch reads `overlap` as a Java int), "
        "got 2147483648 (chunking strategy `word`)",
    ),
    (
        "sentence_overlap one past the int maximum",
        chunking(strategy="sentence", max_chunk_size=100, sentence_overlap=INT_MAX + 1),
        ("chunking_settings", "sentence_overlap"),
        "schema.enum",
        "expected `0` or `1`, got 2147483648",
    ),
    (
        "inference_id one past the limit",
        make(inference_id="a" * 507),
        ("inference_id",),
        "schema.too-long",
        "expected at most 506 characters, got 507 (Elasticsearch stores the endpoint as "
        "document `model_<inference_id>`, and a document id longer than 512 bytes is refused",
    ),
    (
        "inference_id of 1 MiB",
        make(inference_id="a" * 2**20),
        ("inference_id",),
        "schema.too-long",
        "expected at most 506 characters, got 1048576",
    ),
    (
        "model_id one past the limit",
        settings_(model_id="m" * 1025),
        ("service_settings", "model_id"),
        "schema.too-long",
        "expected at most 1024 characters, got 1025",
    ),
    (
        "model_id of 1 MiB",
        settings_(model_id="m" * 2**20),
        ("service_settings", "model_id"),
        "schema.too-long",
        "got 1048576",
    ),
    (
        "organization_id one past the limit",
        settings_(organization_id="o" * 1025),
        ("service_settings", "organization_id"),
        "schema.too-long",
        "at most 1024 characters, got 1025",
    ),
    (
        "url one past the limit",
        settings_(url="https://h/" + "u" * 8183),
        ("service_settings", "url"),
        "schema.too-long",
        "expected at most 8192 characters, got 8193",
    ),
    (
        "user one past the limit",
        make(task_settings={"user": "u" * 1025}),
        ("task_settings", "user"),
        "schema.too-long",
        "at most 1024 characters, got 1025",
    ),
    (
        "header value one past the limit",
        make("chat_completion", task_settings={"headers": {"X-Team": "v" * 8193}}),
        ("task_settings", "headers", "X-Team"),
        "schema.too-long",
        "expected at most 8192 characters, got 8193",
    ),
    (
        "header name one past the limit",
        make("chat_completion", task_settings={"headers": {"n" * 1025: "v"}}),
        ("task_settings", "headers"),
        "schema.too-long",
        "names here must be at most 1024 characters",
    ),
    (
        "separator one past the limit",
        chunking(strategy="recursive", max_chunk_size=100, separators=["\n", "s" * 1025]),
        ("chunking_settings", "separators", 1),
        "schema.too-long",
        "at most 1024 characters, got 1025",
    ),
    (
        "smoke input one past the limit",
        make(reconcile={"smoke": {"input": "i" * 4097}}),
        ("reconcile", "smoke", "input"),
        "schema.too-long",
        "at most 4096 characters, got 4097",
    ),
    (
        "api_key reference one past the limit",
        settings_(api_key="${" + "K" * 254 + "}"),
        ("service_settings", "api_key"),
        "schema.too-long",
        "api_key reference is too long: expected at most 256 characters, got 257",
    ),
    (
        "a long literal api_key is reported as a literal, not as long",
        settings_(api_key="sk-" + "x" * 300),
        ("service_settings", "api_key"),
        "secret.literal-api-key",
        "${VAR}",
    ),
    # reconcile block
    (
        "protect not a boolean",
        make(reconcile={"protect": "yes"}),
        ("reconcile", "protect"),
        "schema.type",
        "expected true or false, got a string 'yes'",
    ),
    (
        "key_rotation unknown",
        make(reconcile={"key_rotation": "rotate"}),
        ("reconcile", "key_rotation"),
        "schema.enum",
        "`auto`, `update`, `recreate`",
    ),
    (
        "smoke input empty",
        make(reconcile={"smoke": {"input": ""}}),
        ("reconcile", "smoke", "input"),
        "schema.empty",
        "non-empty",
    ),
    (
        "smoke enabled not a boolean",
        make(reconcile={"smoke": {"enabled": "no"}}),
        ("reconcile", "smoke", "enabled"),
        "schema.type",
        "true or false",
    ),
    (
        "smoke unknown key",
        make(reconcile={"smoke": {"text": "x"}}),
        ("reconcile", "smoke", "text"),
        "schema.unknown-key",
        "unknown key `text`",
    ),
    (
        "smoke as a boolean",
        make(reconcile={"smoke": False}),
        ("reconcile", "smoke"),
        "schema.type",
        "mapping",
    ),
    (
        "reconcile unknown key",
        make(reconcile={"protected": True}),
        ("reconcile", "protected"),
        "schema.unknown-key",
        "did you mean `protect`?",
    ),
]


@pytest.mark.parametrize(
    ("name", "doc", "path", "rule", "text"), INVALID, ids=[c[0] for c in INVALID]
)
def test_invalid(name: str, doc: Doc, path: tuple[str | int, ...], rule: str, text: str) -> None:
    issue = only(doc)
    assert (issue.path, issue.rule) == (path, rule)
    assert text in issue.message


@pytest.mark.parametrize("doc", [None, [], "text", 5, True], ids=repr)
def test_document_must_be_a_mapping(doc: object) -> None:
    issue = only(doc)
    assert (issue.path, issue.rule) == ((), "schema.type")
    assert "expected a mapping" in issue.message


def test_unknown_task_type_still_checks_the_rest() -> None:
    doc = make(task_type="rerank", service_settings={"api_key": "sk-x", "dimensions": 0})
    assert pairs(doc) == [
        (("service_settings",), "schema.required"),
        (("service_settings", "api_key"), "secret.literal-api-key"),
        (("service_settings", "dimensions"), "schema.range"),
        (("task_type",), "schema.task-type"),
    ]


# --- bounds -------------------------------------------------------------------------------


def test_a_java_type_bound_gives_way_to_a_stricter_rule_at_the_same_path() -> None:
    # 3e9 breaks both `≤ 2147483647` (the field) and `20–300` (sentence): one message, the latter
    issue = only(chunking(strategy="sentence", max_chunk_size=3_000_000_000))
    assert "from 20 to 300" in issue.message and "Java" not in issue.message
    # without a strategy there is nothing stricter: the Java bound is reported, and the missing
    # strategy at its own path
    assert pairs(chunking(max_chunk_size=3_000_000_000)) == [
        (("chunking_settings",), "schema.required"),
        (("chunking_settings", "max_chunk_size"), "schema.range"),
    ]


def test_no_did_you_mean_for_numbers() -> None:
    issue = only(chunking(strategy="sentence", max_chunk_size=100, sentence_overlap=2**31))
    assert "did you mean" not in issue.message


def test_overlap_beyond_int_is_a_range_error_not_an_overlap_error() -> None:
    # Elasticsearch refuses the type first ("cannot be converted to a [Integer]")
    doc = chunking(strategy="word", max_chunk_size=100, overlap=10**30)
    assert pairs(doc) == [(("chunking_settings", "overlap"), "schema.range")]


@pytest.mark.parametrize(
    "value", [10**5000, -(10**5000), 2**20000], ids=["1e5000", "-1e5000", "2^20000"]
)
def test_integers_of_any_size_anywhere_never_crash_and_are_not_echoed(value: int) -> None:
    doc = make(
        inference_id=value,
        service_settings={"api_key": "${K}", "model_id": value, "dimensions": value},
        task_settings={"headers": {"X": value}},
        chunking_settings={"strategy": "word", "max_chunk_size": value, "overlap": value},
        reconcile={"smoke": {"input": value}},
    )
    issues = validate_document(doc)
    assert len(issues) >= 6
    assert all(len(i.message) < 300 for i in issues), issues


def test_wide_ints_from_the_parser_show_the_text_written() -> None:
    from reconciler.schema_compile import WideInt

    issue = only(settings_(dimensions=WideInt("0x" + "f" * 30)))
    assert issue.message.endswith("got 0xffffffffffffffffffffffffffffff")
    issue = only(settings_(dimensions=WideInt("9" * 5000)))
    assert issue.message.endswith("got 99999999999999999999... (5000 characters)")
    assert only(settings_(dimensions=WideInt("-" + "9" * 30))).message.endswith("9" * 30)


def test_huge_strings_are_not_echoed() -> None:
    doc = make(inference_id="A" * 2**20, service_settings={"api_key": "${K}", "model_id": "m"})
    issues = validate_document(doc)
    assert {i.rule for i in issues} == {"schema.inference-id", "schema.too-long"}
    assert all(len(i.message) < 400 for i in issues), issues


def test_every_issue_is_reported_sorted_and_once() -> None:
    doc = make(
        "completion",
        inference_id="Bad",
        service="x",
        service_settings={"api_key": "k", "model_id": "", "dimensions": 0, "dimension": 1},
        task_settings={"user": ""},
        chunking_settings={"strategy": "word"},
        extra=1,
    )
    issues = validate_document(doc)
    assert [i.path for i in issues] == [
        ("chunking_settings",),
        ("extra",),
        ("inference_id",),
        ("service",),
        ("service_settings", "api_key"),
        ("service_settings", "dimension"),
        ("service_settings", "dimensions"),
        ("service_settings", "model_id"),
        ("task_settings", "user"),
    ]
    assert len(set(issues)) == len(issues)


def test_list_indices_sort_numerically() -> None:
    doc = chunking(strategy="recursive", max_chunk_size=100, separators=[1] * 12)
    assert [i.path[-1] for i in validate_document(doc)] == list(range(12))


def test_issues_are_frozen_values() -> None:
    issue = only(settings_(dimensions=0))
    with pytest.raises(AttributeError):
        issue.message = "x"  # type: ignore[misc]
    assert issue == SchemaIssue(issue.path, issue.message, issue.rule)


def test_input_is_not_modified() -> None:
    doc = full_embedding()
    doc["service_settings"]["dimensions"] = 0
    before = copy.deepcopy(doc)
    validate_document(doc)
    assert doc == before


# --- the api key never appears in a message -------------------------------------------------

CANARY_PLACES: list[Callable[[str], Doc]] = [
    lambda k: settings_(api_key=k),
    lambda k: settings_(api_key=k, dimensions=0, model_id=""),
    lambda k: settings_("completion", api_key=k, dimensions=1),
    lambda k: make(task_type="nope", service_settings={"api_key": k}),
    lambda k: settings_(api_key=[k]),
    lambda k: settings_(api_key={"value": k}),
    lambda k: settings_(**{"api-key": k}),
    lambda k: {**make(), "api_key": k},
    lambda k: settings_(api_key=k + "\n"),
    lambda k: settings_(api_key="${" + k + "}"),
    lambda k: make(service_settings={"api_key": k, "rate_limit": {"requests_per_minute": k}}),
]


@pytest.mark.parametrize("place", range(len(CANARY_PLACES)))
def test_api_key_never_echoed(place: int) -> None:
    issues = validate_document(CANARY_PLACES[place](CANARY_KEY))
    assert issues
    for issue in issues:
        for text in (issue.message, repr(issue), str(issue), json.dumps(issue.path)):
            assert CANARY_KEY not in text
            assert CANARY_KEY[:12] not in text


def test_literal_key_message_is_exact() -> None:
    issue = only(settings_(api_key=CANARY_KEY))
    assert issue.message == (
        "api_key must be a ${VAR} reference to an environment variable; "
        "literal keys must not be committed"
    )


# --- public helpers -------------------------------------------------------------------------


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_schema_for(task_type: str) -> None:
    found = schema_for("openai", task_type)
    assert found["properties"]["task_type"]["const"] == task_type
    found["properties"].clear()  # a copy: the cache is untouched
    assert schema_for("openai", task_type)["properties"]


@pytest.mark.parametrize(
    ("service", "task_type", "text"),
    [
        ("nope", "completion", "unsupported service 'nope'; supported: ai21, "),
        ("openai", "rerank", "text_embedding, completion, chat_completion"),
    ],
)
def test_schema_for_unsupported(service: str, task_type: str, text: str) -> None:
    with pytest.raises(ValueError, match=text):
        schema_for(service, task_type)


def test_manifest_schema_is_a_copy_of_the_envelope() -> None:
    envelope = manifest_schema()
    assert envelope["$id"].endswith("/schemas/manifest.schema.json")
    envelope.clear()
    assert manifest_schema()["allOf"]


def test_loads_from_the_checkout_when_package_data_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Missing:
        def joinpath(self, *parts: str) -> Missing:
            return self

        def read_text(self, encoding: str) -> str:
            raise FileNotFoundError

    monkeypatch.setattr(schema.resources, "files", lambda package: Missing())
    schema._load.cache_clear()
    try:
        assert schema._load("manifest.schema.json")["$id"].endswith("/schemas/manifest.schema.json")
    finally:
        schema._load.cache_clear()


def test_import_is_light() -> None:
    code = (
        "import sys, reconciler.schema as s\n"
        "heavy = {'jsonschema', 'httpx', 'typer', 'watchfiles'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "doc = {'inference_id': 'a', 'task_type': 'completion', 'service': 'openai',"
        " 'service_settings': {'api_key': '${K}', 'model_id': 'm'}}\n"
        "assert s.validate_document(doc) == []\n"
        "assert 'jsonschema' not in sys.modules, 'valid documents need no jsonschema'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_package_init_does_not_import_schema() -> None:
    code = "import sys, reconciler; assert 'reconciler.schema' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the fast path and the envelope agree with jsonschema -----------------------------------


def jsonschema_valid(doc: Doc, task_type: str) -> bool:
    # _tame: jsonschema writes the instance into its messages, which Python refuses for an int
    # of more than 4300 digits (validate_document tames the same way)
    return not list(schema._validator(task_type).iter_errors(schema._tame(doc)))


def envelope_valid(doc: object) -> bool:
    from jsonschema import validators

    per_task = schema._validator("completion")
    cls = validators.extend(type(per_task))  # same keywords, types and formats
    checker = cls(manifest_schema(), format_checker=per_task.format_checker)
    return checker.is_valid(schema._tame(doc))


CORPUS: list[Doc] = [d for _, d in VALID] + [c[1] for c in INVALID]


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_fast_path_agrees_with_jsonschema(index: int) -> None:
    doc = CORPUS[index]
    for task_type in TASK_TYPES:
        assert schema._is_valid(task_type)(doc) == jsonschema_valid(doc, task_type)


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_envelope_agrees_with_dispatch(index: int) -> None:
    doc = CORPUS[index]
    task_type = doc.get("task_type")
    if task_type in TASK_TYPES:
        assert envelope_valid(doc) == jsonschema_valid(doc, task_type)
    else:
        assert not envelope_valid(doc)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "",
            "x",
            "${K}",
            "sentence",
            "word",
            "none",
            "recursive",
            "cosine",
            "COSINE",
            "a b",
            "http://h",
            "https://",
            "%zz",
            "plaintext",
            "_all",
            "abc\n",
            "a" * 507,
            "x" * 1025,
        ]
    ),
    st.sampled_from([INT_MAX, INT_MAX + 1, LONG, LONG + 1, -LONG - 2, 10**40, 10**300]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["strategy", "max_chunk_size", "overlap", "user", "x", "requests_per_minute"]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)


EXTRA_KEYS = ["dimension", "overlap", "sentence_overlap", "separator_group", "headers", "x"]


def paths(doc: object, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [where] if where else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*where, key))
    return found


def mapping_paths(doc: Doc) -> list[tuple[Any, ...]]:
    return [()] + [p for p in paths(doc) if isinstance(get(doc, p), dict)]


def get(doc: Doc, where: tuple[Any, ...]) -> Any:
    node: Any = doc
    for key in where:
        node = node[key]
    return node


def mutate(doc: Doc, where: tuple[Any, ...], value: object, delete: bool) -> Doc:
    doc = copy.deepcopy(doc)
    parent = get(doc, where[:-1])
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    return doc


BASES = [
    full_embedding(),
    make("completion"),
    chunking(strategy="word", max_chunk_size=100, overlap=10),
    chunking(strategy="recursive", max_chunk_size=100, separators=["a"]),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fast_path_agrees_on_random_mutations(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(BASES))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "add":
        where = (
            *data.draw(st.sampled_from(mapping_paths(base))),
            data.draw(st.sampled_from(EXTRA_KEYS)),
        )
    else:
        where = data.draw(st.sampled_from(paths(base)))
    doc = mutate(base, where, data.draw(VALUES), delete=action == "delete")
    for task_type in TASK_TYPES:
        assert schema._is_valid(task_type)(doc) == jsonschema_valid(doc, task_type)
    issues = validate_document(doc)
    assert issues == sorted(issues, key=lambda i: (schema._path_key(i.path), i.rule, i.message))
    assert len(set(issues)) == len(issues)
    assert all(i.message and i.rule.split(".")[0] in ("schema", "rule", "secret") for i in issues)


# --- the compiler ---------------------------------------------------------------------------


def test_compiler_refuses_unknown_keywords() -> None:
    with pytest.raises(UnsupportedKeywordError):
        compile_schema({"type": "object", "patternProperties": {"^a": True}})
    with pytest.raises(UnsupportedKeywordError):
        compile_schema({"$ref": "#/x"})


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.openai.com/v1/embeddings", True),
        ("http://localhost:8080/v1", True),
        ("not-a-url", True),
        ("/relative/path", True),
        ("http://h/a%20b", True),
        ("http://h/a b", False),
        ("http://h/<x>", False),
        ("http://h/a%2", False),
        ("https://", False),
        (":nope", False),
        ("http://h/{x}", False),
    ],
)
def test_java_uri_approximation(url: str, ok: bool) -> None:
    assert (java_uri_problem(url) is None) == ok


KEYS = st.one_of(
    st.sampled_from(
        [
            "inference_id",
            "task_type",
            "service",
            "service_settings",
            "task_settings",
            "chunking_settings",
            "reconcile",
            "api_key",
        ]
    ),
    st.text(max_size=5),
    st.integers(),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6), st.sampled_from(BASES))
def test_never_crashes(top: dict[Any, Any], base: Doc) -> None:
    for doc in (top, {**base, **top}):
        for issue in validate_document(doc):
            assert isinstance(issue.path, tuple) and issue.message
