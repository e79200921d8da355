"""Request bodies and HTTP helpers for the per-service conformance tests (every service other
than openai). Canary secrets: one per secret path; none may ever appear in a response or log."""

from __future__ import annotations

from typing import Any

import httpx

CANARY = {
    "azureopenai.api_key": "CANARY-azure-api-key-7f3a",
    "azureopenai.entra_id": "CANARY-azure-entra-id-91bc",
    "cohere.api_key": "CANARY-cohere-api-key-5d2e",
    "amazonbedrock.access_key": "CANARY-aws-access-key-0a1b",
    "amazonbedrock.secret_key": "CANARY-aws-secret-key-c3d4",
    "googlevertexai.service_account_json": '{"private_key": "CANARY-vertex-sa-json-e5f6"}',
    "mistral.api_key": "CANARY-mistral-api-key-1234",
    "amazon_sagemaker.access_key": "CANARY-sagemaker-access-5678",
    "amazon_sagemaker.secret_key": "CANARY-sagemaker-secret-9abc",
    "custom.secret_parameters": "CANARY-custom-secret-param-def0",
}


def azure(task_type: str = "text_embedding", **extra: Any) -> dict[str, Any]:
    settings = {
        "resource_name": "res",
        "deployment_id": "text-embedding-3-small" if task_type == "text_embedding" else "gpt-4o",
        "api_version": "2024-02-01",
        "api_key": CANARY["azureopenai.api_key"],
        **extra,
    }
    return {"service": "azureopenai", "service_settings": settings}


def cohere(task_type: str = "text_embedding", **extra: Any) -> dict[str, Any]:
    model = {"text_embedding": "embed-english-v3.0", "rerank": "rerank-v3.5"}.get(
        task_type, "command-r"
    )
    settings = {"model_id": model, "api_key": CANARY["cohere.api_key"], **extra}
    return {"service": "cohere", "service_settings": settings}


def bedrock(task_type: str = "text_embedding", **extra: Any) -> dict[str, Any]:
    embedding = task_type == "text_embedding"
    settings = {
        "region": "us-east-1",
        "model": "amazon.titan-embed-text-v2:0" if embedding else "anthropic.claude-3-haiku",
        "provider": "amazontitan" if embedding else "anthropic",
        "access_key": CANARY["amazonbedrock.access_key"],
        "secret_key": CANARY["amazonbedrock.secret_key"],
        **extra,
    }
    return {"service": "amazonbedrock", "service_settings": settings}


def vertex(task_type: str = "text_embedding", **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "project_id": "proj",
        "service_account_json": CANARY["googlevertexai.service_account_json"],
    }
    if task_type == "rerank":
        settings["model_id"] = "semantic-ranker-512"
    else:
        settings["location"] = "us-central1"
        settings["model_id"] = (
            "text-embedding-004" if task_type == "text_embedding" else "gemini-2.0-flash"
        )
    return {"service": "googlevertexai", "service_settings": {**settings, **extra}}


BODIES = {
    "azureopenai": azure,
    "cohere": cohere,
    "amazonbedrock": bedrock,
    "googlevertexai": vertex,
}


async def put_ok(
    client: httpx.AsyncClient, inference_id: str, task_type: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.put(f"/_inference/{task_type}/{inference_id}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def get_one(client: httpx.AsyncClient, inference_id: str) -> dict[str, Any]:
    response = await client.get(f"/_inference/{inference_id}")
    assert response.status_code == 200, response.text
    return dict(response.json()["endpoints"][0])


async def update(
    client: httpx.AsyncClient, inference_id: str, task_type: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(f"/_inference/{task_type}/{inference_id}/_update", json=body)


def assert_no_canary(text: str) -> None:
    for path, canary in CANARY.items():
        needle = canary.split('"')[-2] if canary.startswith("{") else canary
        assert needle not in text, f"the secret of {path} leaked"
