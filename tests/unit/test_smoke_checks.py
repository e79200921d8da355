"""The pure smoke checks: what counts as a working endpoint, per task type."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.model import DesiredEndpoint, LiveEndpoint, Location, Options
from reconciler.responses import InferenceOutput
from reconciler.secrets import Secret
from reconciler.smoke import (
    DEFAULT_INPUT,
    check,
    check_chat,
    check_completion,
    check_embedding,
    expected_dimensions,
    request_for,
)


def _desired(settings: dict[str, Any] | None = None, **options: Any) -> DesiredEndpoint:
    body = {"service": "openai", "service_settings": {"model_id": "m", **(settings or {})}}
    return DesiredEndpoint(
        inference_id="e",
        task_type="text_embedding",
        body=body,
        api_key=Secret("sk-x"),
        options=Options(**options),
        origin=Location("e.yaml"),
    )


def _live(dimensions: int | None) -> LiveEndpoint:
    settings = {} if dimensions is None else {"dimensions": dimensions}
    return LiveEndpoint("e", "text_embedding", "openai", {"service_settings": settings})


def _vectors(*sizes: int) -> InferenceOutput:
    return InferenceOutput("text_embedding", embeddings=tuple((0.1,) * n for n in sizes))


# --- text_embedding -------------------------------------------------------------------------


def test_embedding_of_the_declared_dimensions_passes() -> None:
    assert check_embedding(_vectors(64), 64) == (True, "1 vector of 64 dimensions")


def test_embedding_of_other_dimensions_fails() -> None:
    assert check_embedding(_vectors(32), 64) == (False, "expected vectors of 64 dimensions, got 32")


def test_embeddings_of_mixed_lengths_fail() -> None:
    assert check_embedding(_vectors(64, 32), 64) == (
        False,
        "expected vectors of 64 dimensions, got 32, 64",
    )


def test_no_embedding_fails() -> None:
    assert check_embedding(_vectors(), 64) == (False, "no embedding returned")


def test_an_empty_vector_fails_even_without_declared_dimensions() -> None:
    assert check_embedding(_vectors(0), None) == (False, "an empty embedding returned")


def test_unknown_dimensions_accept_any_length() -> None:
    assert check_embedding(_vectors(7, 7), None) == (True, "2 vectors of 7 dimensions")


# --- completion and chat_completion ---------------------------------------------------------


def test_a_completion_with_text_passes() -> None:
    output = InferenceOutput("completion", text="hello")
    assert check_completion(output) == (True, "a completion of 5 characters")


@pytest.mark.parametrize("text", ["", "  \n"])
def test_an_empty_completion_fails(text: str) -> None:
    assert check_completion(InferenceOutput("completion", text=text)) == (
        False,
        "an empty completion returned",
    )


def test_a_stream_with_content_passes() -> None:
    output = InferenceOutput("chat_completion", text="hi there", chunks=3)
    assert check_chat(output) == (True, "streamed 3 chunks, 8 characters")


def test_a_stream_without_content_fails() -> None:
    output = InferenceOutput("chat_completion", text="", chunks=1)
    assert check_chat(output) == (False, "the stream carried no content (1 chunk)")


def test_check_dispatches_on_the_task_type() -> None:
    assert check("text_embedding", _vectors(3), 4)[0] is False
    assert check("completion", InferenceOutput("completion", text="x"), None)[0] is True
    assert check("chat_completion", InferenceOutput("chat_completion"), None)[0] is False


# --- expectations ---------------------------------------------------------------------------


def test_declared_dimensions_come_from_the_manifest_first() -> None:
    assert expected_dimensions(_desired({"dimensions": 64}), _live(128)) == 64


def test_then_from_the_server() -> None:
    assert expected_dimensions(_desired(), _live(128)) == 128


def test_then_from_the_model_default() -> None:
    desired = _desired({"model_id": "text-embedding-3-large"})
    assert expected_dimensions(desired, _live(None)) == 3072
    assert expected_dimensions(desired, None) == 3072


def test_an_unknown_model_without_dimensions_expects_none() -> None:
    assert expected_dimensions(_desired(), None) is None


def test_the_input_is_the_manifests_or_the_default() -> None:
    assert request_for(_desired(smoke_input="ping")).input == "ping"
    assert request_for(_desired()).input == DEFAULT_INPUT
