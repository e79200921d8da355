"""export's pure part: which server defaults a manifest leaves out, and that adopt still holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.connect import Connection
from reconciler.defaults import DEFAULT_CHUNKING, LEGACY_CHUNKING, separators_for
from reconciler.export import (
    FALLBACK_SCHEMA_REF,
    ExportCommand,
    _schema_ref,
    as_stream,
    export_endpoints,
    manifest_for,
)
from reconciler.model import LiveEndpoint

COMMAND = ExportCommand(connection=Connection())


def embedding(model: str = "text-embedding-3-small", **extra: Any) -> LiveEndpoint:
    settings = {
        "model_id": model,
        "similarity": "dot_product",
        "dimensions": 1536,
        "rate_limit": {"requests_per_minute": 3000},
    }
    settings.update(extra.pop("settings", {}))
    body = {"service": "openai", "service_settings": settings, **extra}
    body.setdefault("chunking_settings", dict(DEFAULT_CHUNKING))
    return LiveEndpoint("emb", "text_embedding", "openai", body)


def test_every_server_default_is_left_out() -> None:
    assert manifest_for(embedding(), (9, 1), COMMAND) == {
        "inference_id": "emb",
        "task_type": "text_embedding",
        "service": "openai",
        "service_settings": {"api_key": "${OPENAI_API_KEY}", "model_id": "text-embedding-3-small"},
    }


def test_dimensions_are_kept_unless_they_are_the_models_default() -> None:
    custom = manifest_for(embedding(settings={"dimensions": 64}), (9, 1), COMMAND)
    assert custom["service_settings"]["dimensions"] == 64
    unknown = embedding("my-finetune", settings={"dimensions": 1536})
    assert manifest_for(unknown, (9, 1), COMMAND)["service_settings"]["dimensions"] == 1536


def test_legacy_chunking_stays_explicit() -> None:
    legacy = embedding(chunking_settings=dict(LEGACY_CHUNKING))
    assert manifest_for(legacy, (9, 1), COMMAND)["chunking_settings"] == dict(LEGACY_CHUNKING)


def test_recursive_separators_become_their_group() -> None:
    chunking = {
        "strategy": "recursive",
        "max_chunk_size": 100,
        "separators": separators_for("plaintext"),
    }
    exported = manifest_for(embedding(chunking_settings=chunking), (9, 1), COMMAND)
    assert exported["chunking_settings"] == {
        "strategy": "recursive",
        "max_chunk_size": 100,
        "separator_group": "plaintext",
    }
    own = {**chunking, "separators": ["\n\n", "\n"]}
    assert (
        manifest_for(embedding(chunking_settings=own), (9, 1), COMMAND)["chunking_settings"] == own
    )


def test_an_omission_the_adopt_comparison_would_see_is_not_made() -> None:
    """Before 8.15 the server fills no rate limit, so a stored one is the user's: keep it."""
    endpoint = LiveEndpoint(
        "comp",
        "completion",
        "openai",
        {
            "service": "openai",
            "service_settings": {"model_id": "m", "rate_limit": {"requests_per_minute": 500}},
        },
    )
    assert manifest_for(endpoint, (8, 14), COMMAND)["service_settings"]["rate_limit"] == {
        "requests_per_minute": 500
    }
    assert "rate_limit" not in manifest_for(endpoint, (8, 15), COMMAND)["service_settings"]


def test_the_key_variable_and_key_order() -> None:
    command = ExportCommand(connection=Connection(), key_var="TEAM_KEY")
    exported = manifest_for(embedding(task_settings={"user": "u"}), (9, 1), command)
    assert list(exported) == [
        "inference_id",
        "task_type",
        "service",
        "service_settings",
        "task_settings",
    ]
    assert list(exported["service_settings"]) == ["api_key", "model_id"]
    assert exported["service_settings"]["api_key"] == "${TEAM_KEY}"


def test_other_services_are_noted_and_preconfigured_ones_counted() -> None:
    foreign = LiveEndpoint("mistral-1", "completion", "mistral", {"service": "mistral"})
    dotted = LiveEndpoint(
        ".elser", "sparse_embedding", "elasticsearch", {"service": "elasticsearch"}
    )
    exported = export_endpoints([foreign, dotted, embedding()], (9, 1), COMMAND)
    assert list(exported.manifests) == ["emb"]
    assert any("skipped mistral-1: service 'mistral'" in note for note in exported.notes)
    assert any("1 preconfigured endpoint(s) (.elser)" in note for note in exported.notes)
    stream = as_stream(exported, "x.json")
    assert stream.startswith("# yaml-language-server: $schema=x.json\n")
    assert [d["inference_id"] for d in yaml.safe_load_all(stream)] == ["emb"]


def test_the_schema_reference_is_found_above_the_folder(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "manifest.schema.json").write_text("{}")
    assert _schema_ref(COMMAND, tmp_path / "infra" / "endpoints") == (
        "../../schemas/manifest.schema.json"
    )
    assert _schema_ref(COMMAND, tmp_path) == "schemas/manifest.schema.json"


def test_without_a_schema_nearby_the_examples_layout_is_assumed(tmp_path: Path) -> None:
    assert _schema_ref(COMMAND, tmp_path / "m") == FALLBACK_SCHEMA_REF
    given = ExportCommand(connection=Connection(), schema_ref="https://example.test/s.json")
    assert _schema_ref(given, tmp_path) == "https://example.test/s.json"
