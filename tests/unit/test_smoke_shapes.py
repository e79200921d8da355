"""Smoke checks per task type, on real answer bodies: each is the example the upstream projects
print (elastic/elasticsearch-specification `specification/inference/*/examples/response/`, and
the javadoc of elastic/elasticsearch `TextEmbeddingByteResults`/`TextEmbeddingBitResults`),
parsed by `responses.parse_inference` and judged by `smoke.check`, as `smoke_one` does.
No service appears anywhere: the check is chosen by task type alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.responses import parse_inference
from reconciler.smoke import (
    DEFAULT_DOCUMENTS,
    DEFAULT_INPUT,
    DEFAULT_QUERY,
    SmokeRequest,
    check,
    smoke_request,
)

# specification/inference/sparse_embedding/examples/response/SparseEmbeddingResponseExample1.yaml
SPARSE = """{
  "sparse_embedding": [
    {
      "is_truncated": false,
      "embedding": {
        "port": 2.1259406, "sky": 1.7073475, "color": 1.6922266, "dead": 1.6247464,
        "television": 1.3525393, "above": 1.2425821, "tuned": 1.1440028, "colors": 1.1218185,
        "tv": 1.0111054, "ports": 1.0067928, "poem": 1.0042328, "channel": 0.99471164,
        "tune": 0.96235967, "scene": 0.9020516
      }
    }
  ]
}"""

# specification/inference/rerank/examples/response/RerankResponseExample1.yaml (7 inputs; the
# example prints index and score as strings)
RERANK_ALL = """{
  "rerank": [
    {"index": "2", "relevance_score": "0.011597361", "text": "leia"},
    {"index": "0", "relevance_score": "0.006338922", "text": "luke"},
    {"index": "5", "relevance_score": "0.0016166499", "text": "star"},
    {"index": "4", "relevance_score": "0.0011695103", "text": "r2d2"},
    {"index": "1", "relevance_score": "5.614787E-4", "text": "like"},
    {"index": "6", "relevance_score": "3.7850367E-4", "text": "wars"},
    {"index": "3", "relevance_score": "1.2508839E-5", "text": "chewy"}
  ]
}"""

# specification/inference/rerank/examples/response/RerankResponseExample3.yaml (top_n: 3 of 7)
RERANK_TOP3 = """{
  "rerank": [
    {"index": 6, "relevance_score": 0.50955844, "text": "wars"},
    {"index": 5, "relevance_score": 0.084341794, "text": "star"},
    {"index": 3, "relevance_score": 0.004520818, "text": "chewy"}
  ]
}"""

# specification/inference/text_embedding/examples/response/TextEmbeddingResponseExample1.yaml
DENSE = """{
  "text_embedding": [
    {
      "embedding": [
        0.018569946, -0.036895752, 0.01486969, -0.0045204163, -0.04385376, 0.0075950623,
        0.04260254, -0.004005432, 0.007865906, 0.030792236, -0.050476074, 0.011795044,
        -0.011642456, -0.010070801
      ]
    }
  ]
}"""

# the javadoc of elastic/elasticsearch TextEmbeddingByteResults / TextEmbeddingBitResults
BYTES = '{"text_embedding_bytes": [{"embedding": [23]}, {"embedding": [-23]}]}'
BITS = '{"text_embedding_bits": [{"embedding": [23]}, {"embedding": [-23]}]}'

# specification/inference/embedding/examples/response/EmbeddingResponseExample1.yaml (abridged
# to two values per vector)
MULTIMODAL = '{"embeddings": [{"embedding": [-0.0189209, 0.0541992]}, {"embedding": [-7.7057E-4, 0.0246582]}]}'  # noqa: E501

# specification/inference/completion/examples/response/CompletionResponseExample1.yaml (abridged)
COMPLETION = '{"completion": [{"result": "Elasticsearch is a distributed search engine."}]}'


def judged(
    task_type: str,
    text: str,
    dimensions: int | None = None,
    inputs: int = 1,
    top_n: int | None = None,
) -> tuple[bool, str]:
    output = parse_inference(task_type, json.loads(text))
    return check(task_type, output, dimensions, inputs=inputs, top_n=top_n)


# --- sparse_embedding ------------------------------------------------------------------------


def test_the_documented_sparse_answer_passes() -> None:
    assert judged("sparse_embedding", SPARSE) == (True, "1 sparse vector of 14 tokens")


def test_an_empty_token_map_fails() -> None:
    body = '{"sparse_embedding": [{"is_truncated": false, "embedding": {}}]}'
    assert judged("sparse_embedding", body) == (
        False,
        "an empty sparse embedding returned (no token weights)",
    )


def test_no_sparse_result_fails() -> None:
    assert judged("sparse_embedding", '{"sparse_embedding": []}') == (
        False,
        "no sparse embedding returned",
    )


@pytest.mark.parametrize(
    ("weight", "why"),
    [('"high"', "is not a number"), ("NaN", "is not finite"), ("Infinity", "is not finite")],
)
def test_a_weight_that_is_not_a_finite_number_fails(weight: str, why: str) -> None:
    body = '{"sparse_embedding": [{"embedding": {"port": 1.0, "sky": WEIGHT}}]}'
    body = body.replace("WEIGHT", weight)
    ok, detail = judged("sparse_embedding", body)
    assert not ok and detail == f"the weight of token 'sky' {why}"


def test_a_truncated_input_is_noted_not_failed() -> None:
    body = '{"sparse_embedding": [{"is_truncated": true, "embedding": {"a": 0.5}}]}'
    assert judged("sparse_embedding", body) == (True, "1 sparse vector of 1 tokens, truncated")


def test_a_dense_answer_to_a_sparse_endpoint_fails() -> None:
    ok, detail = judged("sparse_embedding", DENSE)
    assert not ok and detail == "no sparse embedding returned"


# --- rerank ----------------------------------------------------------------------------------


def test_the_documented_ranking_of_every_input_passes() -> None:
    assert judged("rerank", RERANK_ALL, inputs=7) == (True, "ranked 7 inputs, top: input 2")


def test_a_ranking_that_leaves_inputs_out_fails_naming_them() -> None:
    assert judged("rerank", RERANK_TOP3, inputs=7) == (
        False,
        "input 0, 1, 2, 4 missing from the ranking",
    )


def test_the_documented_top_n_ranking_passes_when_the_endpoint_sets_top_n() -> None:
    # RerankResponseExample3.yaml is the answer of an endpoint with `top_n: 3`: the server
    # returns the best three only
    assert judged("rerank", RERANK_TOP3, inputs=7, top_n=3) == (
        True,
        "ranked the best 3 of 7 inputs, top: input 6",
    )
    assert judged("rerank", RERANK_TOP3, inputs=7, top_n=4) == (
        False,
        "3 inputs ranked, top_n is 4",
    )
    assert judged("rerank", RERANK_ALL, inputs=7, top_n=10)[0]  # top_n above the inputs: all


def test_an_input_ranked_twice_fails() -> None:
    twice = '{"index": 0, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.1}'
    body = '{"rerank": [' + twice + "]}"
    assert judged("rerank", body, inputs=2) == (False, "input 0 ranked more than once")


def test_an_index_beyond_the_inputs_fails() -> None:
    assert judged("rerank", RERANK_TOP3, inputs=3) == (
        False,
        "index 6 is out of range (3 inputs sent)",
    )


def test_a_score_that_is_not_finite_fails() -> None:
    body = '{"rerank": [{"index": 0, "relevance_score": NaN}]}'
    assert judged("rerank", body, inputs=1) == (
        False,
        "input 0 has a relevance_score that is not finite",
    )


@pytest.mark.parametrize(
    "entry",
    ['{"index": 0}', '{"relevance_score": 0.5}', '{"index": 0.5, "relevance_score": 1}', "7"],
)
def test_an_entry_without_index_and_score_fails(entry: str) -> None:
    ok, detail = judged("rerank", '{"rerank": [' + entry + "]}", inputs=1)
    assert not ok and "without a whole `index` and a `relevance_score`" in detail


def test_no_ranking_fails() -> None:
    assert judged("rerank", '{"rerank": []}', inputs=3) == (False, "no ranking returned")


# --- dense vectors: float, byte, bit ---------------------------------------------------------


def test_the_documented_float_vector_of_its_dimensions_passes() -> None:
    assert judged("text_embedding", DENSE, 14) == (True, "1 vector of 14 dimensions")
    assert judged("text_embedding", DENSE, 16) == (
        False,
        "expected vectors of 16 dimensions, got 14",
    )


def test_byte_vectors_count_one_dimension_per_value() -> None:
    assert judged("text_embedding", BYTES, 1) == (True, "2 byte vectors of 1 dimensions")
    assert judged("text_embedding", BYTES, 8)[0] is False


def test_bit_vectors_count_eight_dimensions_per_byte() -> None:
    assert judged("text_embedding", BITS, 8) == (True, "2 bit vectors of 8 dimensions")
    assert judged("text_embedding", BITS, 1) == (
        False,
        "expected bit vectors of 1 dimensions, got 8",
    )


def test_the_multimodal_embedding_task_reads_its_own_key() -> None:
    assert judged("embedding", MULTIMODAL, 2) == (True, "2 vectors of 2 dimensions")


def test_a_vector_with_something_else_than_numbers_fails() -> None:
    ok, detail = judged("text_embedding", '{"text_embedding": [{"embedding": [0.1, "x"]}]}')
    assert not ok and detail == "`text_embedding` holds an entry that is not a list of numbers"


def test_a_non_finite_value_fails() -> None:
    ok, detail = judged("text_embedding", '{"text_embedding": [{"embedding": [0.1, NaN]}]}', 2)
    assert (ok, detail) == (False, "an embedding holds a value that is not finite")


# --- completion, and answers of another shape --------------------------------------------------


def test_the_documented_completion_passes() -> None:
    assert judged("completion", COMPLETION) == (True, "a completion of 45 characters")


def test_an_answer_without_the_promised_key_fails_naming_what_came() -> None:
    assert judged("completion", '{"result": "x"}') == (
        False,
        "no completion result in the answer (keys: result)",
    )


def test_a_body_that_is_not_an_object_fails() -> None:
    output = parse_inference("completion", [])  # type: ignore[arg-type]
    assert check("completion", output, None) == (False, "the answer is not a JSON object")


# --- what is sent -----------------------------------------------------------------------------


def test_rerank_sends_the_manifests_query_and_documents() -> None:
    block: dict[str, Any] = {"query": "star wars", "input": ["luke", "leia"]}
    assert smoke_request("rerank", block) == SmokeRequest(("luke", "leia"), "star wars")
    assert smoke_request("rerank", {"input": "one"}) == SmokeRequest(("one",), DEFAULT_QUERY)


def test_rerank_defaults_to_three_documents_and_a_query() -> None:
    sent = smoke_request("rerank", None)
    assert sent == SmokeRequest(DEFAULT_DOCUMENTS, DEFAULT_QUERY)
    assert len(sent.inputs) == 3


def test_other_task_types_send_one_text_and_no_query() -> None:
    assert smoke_request("sparse_embedding", {"input": "hello"}) == SmokeRequest("hello")
    assert smoke_request("text_embedding", {}) == SmokeRequest(DEFAULT_INPUT)
    assert smoke_request("completion", {"input": "from options"}) == SmokeRequest("from options")
