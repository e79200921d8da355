"""`reconcile export` of every full-tier service through the CLI, from canned GET bodies served
by a fake Elasticsearch (`fake_es`): the `${VAR}` naming rule, azureopenai's auth choice,
dynamic values left out, preconfigured endpoints counted, generic-tier ones skipped, every
exported manifest valid, and no secret anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.export import secret_variable
from tests.e2e.fake_es import FakeEs, cli_runner, endpoints

pytestmark = pytest.mark.e2e

CANARY = "canary-secret-export-0123456789"

LIVE: list[dict[str, Any]] = [
    {
        "inference_id": "cohere-rerank",
        "task_type": "rerank",
        "service": "cohere",
        "service_settings": {
            "model_id": "rerank-v3.5",
            "rate_limit": {"requests_per_minute": 10000},
        },
    },
    {
        "inference_id": "bedrock-embed",
        "task_type": "text_embedding",
        "service": "amazonbedrock",
        "service_settings": {
            "region": "us-east-1",
            "model": "amazon.titan-embed-text-v2:0",
            "provider": "AMAZONTITAN",
            "dimensions": 1024,
            "similarity": "cosine",
            "rate_limit": {"requests_per_minute": 240},
        },
        "chunking_settings": {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1},
    },
    {
        "inference_id": "vertex-embed",
        "task_type": "text_embedding",
        "service": "googlevertexai",
        "service_settings": {
            "model_id": "text-embedding-005",
            "location": "us-central1",
            "project_id": "my-project",
            "dimensions": 256,
            "similarity": "dot_product",
            "rate_limit": {"requests_per_minute": 30000},
        },
    },
    {
        "inference_id": "azure-key",
        "task_type": "completion",
        "service": "azureopenai",
        "service_settings": {
            "resource_name": "res",
            "deployment_id": "gpt",
            "api_version": "2024-02-01",
            "rate_limit": {"requests_per_minute": 120},
        },
    },
    {
        "inference_id": "elser-adaptive",
        "task_type": "sparse_embedding",
        "service": "elasticsearch",
        "service_settings": {
            "model_id": ".elser_model_2",
            "num_threads": 1,
            "num_allocations": 3,
            "adaptive_allocations": {"enabled": True, "min_number_of_allocations": 1},
        },
    },
    {
        "inference_id": "eis-sparse",
        "task_type": "sparse_embedding",
        "service": "elastic",
        "service_settings": {"model_id": "elser_model_2"},
        "metadata": {"heuristics": {"status": "ga", "end_of_life_date": "2030-01-01"}},
    },
    {
        "inference_id": "mistral-chat",
        "task_type": "completion",
        "service": "mistral",
        "service_settings": {"model": "mistral-small"},
    },
    {
        "inference_id": ".elser-2-elasticsearch",
        "task_type": "sparse_embedding",
        "service": "elasticsearch",
        "service_settings": {"model_id": ".elser_model_2", "num_allocations": 1, "num_threads": 1},
    },
]


@pytest.fixture
def export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    FakeEs({"GET /_inference/_all": endpoints(*LIVE)}).install(monkeypatch)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ES_URL": "http://127.0.0.1:9200",
        "ES_API_KEY": CANARY,
    }
    invoke = cli_runner(capsys, env)

    def run(*args: str) -> tuple[int, dict[str, Any], str, str]:
        folder = tmp_path / "out"
        code, out, err = invoke("export", "--out", str(folder), *args)
        files = {p.stem: yaml.safe_load(p.read_text()) for p in folder.glob("*.yaml")}
        return code, files, out, err

    return run, invoke, tmp_path


def test_the_naming_rule() -> None:
    assert secret_variable("cohere", "api_key") == "COHERE_API_KEY"
    assert secret_variable("amazonbedrock", "secret_key") == "AMAZONBEDROCK_SECRET_KEY"
    assert secret_variable("alibabacloud-ai-search", "api_key") == "ALIBABACLOUD_AI_SEARCH_API_KEY"
    assert secret_variable("custom", "secret_parameters", "x-key") == (
        "CUSTOM_SECRET_PARAMETERS_X_KEY"
    )


def test_every_managed_service_is_exported_with_a_variable_per_secret(export: Any) -> None:
    run, _, _ = export
    code, files, _, err = run()
    assert code == 0, err
    assert sorted(files) == [
        "azure-key",
        "bedrock-embed",
        "cohere-rerank",
        "eis-sparse",
        "elser-adaptive",
        "vertex-embed",
    ]
    settings = {name: doc["service_settings"] for name, doc in files.items()}
    assert settings["cohere-rerank"] == {"api_key": "${COHERE_API_KEY}", "model_id": "rerank-v3.5"}
    assert settings["bedrock-embed"]["access_key"] == "${AMAZONBEDROCK_ACCESS_KEY}"
    assert settings["bedrock-embed"]["secret_key"] == "${AMAZONBEDROCK_SECRET_KEY}"
    assert settings["vertex-embed"]["service_account_json"] == (
        "${GOOGLEVERTEXAI_SERVICE_ACCOUNT_JSON}"
    )
    assert settings["azure-key"]["api_key"] == "${AZUREOPENAI_API_KEY}"
    assert not {"entra_id", "client_secret"} & set(settings["azure-key"])
    for name in ("elser-adaptive", "eis-sparse"):  # no secret
        assert not any(str(v).startswith("${") for v in settings[name].values())
    assert "skipped mistral-chat: service 'mistral' (plan/apply do not manage it yet)" in err
    assert "skipped 1 preconfigured endpoint(s) (.elser-2-elasticsearch)" in err


def test_defaults_dynamic_and_read_only_values_are_left_out(export: Any) -> None:
    run, _, _ = export
    _, files, _, _ = run()
    assert "rate_limit" not in files["cohere-rerank"]["service_settings"]  # 10000, the default
    assert "num_allocations" not in files["elser-adaptive"]["service_settings"]  # adaptive
    assert files["elser-adaptive"]["service_settings"]["adaptive_allocations"]["enabled"] is True
    assert "metadata" not in files["eis-sparse"]  # written by EIS
    bedrock = files["bedrock-embed"]
    assert bedrock["service_settings"]["provider"] == "amazontitan"  # as the schema spells it
    assert "chunking_settings" not in bedrock  # the default
    assert files["vertex-embed"]["service_settings"]["dimensions"] == 256  # explicit is kept


def test_every_exported_manifest_validates(export: Any) -> None:
    run, invoke, tmp_path = export
    run()
    code, _, err = invoke("validate", str(tmp_path / "out"))
    assert code == 0, err


def test_azureopenai_auth_is_chosen_and_said(export: Any) -> None:
    run, _, _ = export
    code, files, _, err = run("--azureopenai-auth", "entra_id")
    assert code == 0
    assert files["azure-key"]["service_settings"]["entra_id"] == "${AZUREOPENAI_ENTRA_ID}"
    assert "azure-key: wrote service_settings.entra_id" in err
    code, _, _, err = run("--azureopenai-auth", "bogus")
    assert code == 1 and "--azureopenai-auth" in err


def test_preconfigured_endpoints_only_on_request_and_no_secret_anywhere(export: Any) -> None:
    run, invoke, tmp_path = export
    code, _files, _, err = run("--include-preconfigured")
    assert code == 0
    text = (tmp_path / "out" / ".elser-2-elasticsearch.yaml").read_text()
    assert all(line.startswith("#") for line in text.splitlines())
    code, out, err2 = invoke("export")
    assert code == 0
    everything = [out, err, err2, *(p.read_text() for p in (tmp_path / "out").iterdir())]
    assert all(CANARY not in piece for piece in everything)
