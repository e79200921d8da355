"""Conformance of the `elasticsearch` service (and `elser`): deployments, allocations,
`_update` ownership, delete and inference. Sources (elastic/elasticsearch):
`x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/services/elasticsearch/
ElasticsearchInternalService.java` and `ElasticsearchInternalServiceSettings.java`, the QA test
`CreateFromDeploymentIT` (messages quoted verbatim there), PRs #114457, #114750, #115233,
#137127 (issue), #126805/#129003."""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.es.chunking import DEFAULT_SETTINGS
from tests.sandbox._es import client_for, error_of
from tests.sandbox._services import get_one, put_ok, update

pytestmark = pytest.mark.anyio


def es(**settings: Any) -> dict[str, Any]:
    return {"service": "elasticsearch", "service_settings": settings}


async def _deploy(client: httpx.AsyncClient, deployment_id: str, model_id: str) -> None:
    """A deployment started through the trained models API (not by an endpoint)."""
    body = {"model_id": model_id, "num_threads": 1, "num_allocations": 1}
    response = await client.put(f"/_sandbox/ml/deployments/{deployment_id}", json=body)
    assert response.status_code == 200, response.text


async def test_put_fills_platform_model_id_and_starts_a_deployment_named_after_the_endpoint() -> (
    None
):
    """`selectDefaultModelVariantBasedOnClusterArchitecture`;
    `ElasticsearchInternalModel.getStartTrainedModelDeploymentActionRequest` (deployment id =
    inference id); `CreateFromDeploymentIT.testUpdateWhenInferenceEndpointCreatesDeployment`
    (GET shape `{num_allocations, num_threads, model_id}`)."""
    async with client_for() as (_app, client):
        got = await put_ok(client, "sp", "sparse_embedding", es(num_allocations=1, num_threads=1))
        assert got == {
            "inference_id": "sp", "task_type": "sparse_embedding", "service": "elasticsearch",
            "service_settings": {"num_allocations": 1, "num_threads": 1,
                                 "model_id": ".elser_model_2_linux-x86_64"},
            "chunking_settings": DEFAULT_SETTINGS,
        }  # fmt: skip
        te = await put_ok(client, "te", "text_embedding", es(num_allocations=1, num_threads=2))
        assert te["service_settings"]["model_id"] == ".multilingual-e5-small_linux-x86_64"
        rr = await put_ok(client, "rr", "rerank", es(num_allocations=1, num_threads=1))
        assert rr["service_settings"]["model_id"] == ".rerank-v1"
        assert rr["task_settings"] == {"return_documents": True}
        deployments = (await client.get("/_sandbox/ml/deployments")).json()["deployments"]
        assert [(d["deployment_id"], d["owner"]) for d in deployments] == [
            ("rr", "rr"), ("sp", "sp"), ("te", "te"),
        ]  # fmt: skip


async def test_put_validation_num_threads_and_allocations() -> None:
    """`extractRequiredPositiveInteger(num_threads)`; `missingOneOfSettingsErrorMsg`;
    `StartTrainedModelDeploymentAction.Request.validate` (power of 2 ≤ 32)."""
    async with client_for() as (_app, client):
        response = await client.put("/_inference/sparse_embedding/x", json=es(num_allocations=1))
        assert error_of(response)[2] == (
            "Validation Failed: 1: [service_settings] does not contain the required setting [num_threads];"
        )
        response = await client.put("/_inference/sparse_embedding/x", json=es(num_threads=1))
        assert error_of(response)[2] == (
            "Validation Failed: 1: [service_settings] does not contain one of the required settings [num_allocations, adaptive_allocations];"
        )
        response = await client.put(
            "/_inference/sparse_embedding/x", json=es(num_threads=3, num_allocations=1)
        )
        assert error_of(response) == (
            400, "action_request_validation_exception",
            "Validation Failed: 1: [threads_per_allocation] must be a power of 2 less than or equal to 32;",
        )  # fmt: skip


@pytest.mark.parametrize(("version", "stored"), [("9.1.7", True), ("9.5.0", False)])
async def test_both_allocation_kinds_refused_per_release_es_137127(
    version: str, stored: bool
) -> None:
    """Before 9.5 the deployment start refuses ("[number_of_allocations] cannot be set if
    adaptive allocations is enabled") after the endpoint was stored (elastic/elasticsearch
    #137127, open); the newest `ElasticsearchInternalServiceSettings` refuses while parsing."""
    body = es(num_threads=1, num_allocations=2, adaptive_allocations={"enabled": True})
    async with client_for(es_version=version) as (_app, client):
        response = await client.put("/_inference/sparse_embedding/both", json=body)
        assert response.status_code == 400
        expected = (
            "[number_of_allocations] cannot be set if adaptive allocations is enabled"
            if stored
            else "[num_allocations] cannot be set if [adaptive_allocations] is set"
        )
        assert expected in error_of(response)[2]
        assert ((await client.get("/_inference/both")).status_code == 200) is stored


async def test_adaptive_allocations_num_allocations_is_live_and_moves_by_itself_pr_115233() -> None:
    """PR #115233: `"num_allocations": 3, <-- this field is dynamic` (from deployment stats)."""
    adaptive = {"enabled": True, "min_number_of_allocations": 1, "max_number_of_allocations": 4}
    async with client_for() as (_app, client):
        await put_ok(
            client, "ad", "sparse_embedding", es(num_threads=1, adaptive_allocations=adaptive)
        )
        seen = [
            (await get_one(client, "ad"))["service_settings"]["num_allocations"] for _ in range(5)
        ]
        assert all(1 <= n <= 4 for n in seen) and len(set(seen)) > 1
        assert (await get_one(client, "ad"))["service_settings"]["adaptive_allocations"] == adaptive
        pinned = await client.post(
            "/_sandbox/ml/deployments/ad/_allocations", json={"num_allocations": 3}
        )
        assert pinned.status_code == 200
        assert (await get_one(client, "ad"))["service_settings"]["num_allocations"] == 3


async def test_deployment_id_attaches_and_copies_settings_CreateFromDeploymentIT() -> None:
    """`CreateFromDeploymentIT.testAttachToDeployment`/`testModelIdDoesNotMatch`/
    `testDeploymentDoesNotExist`/`testCreateInferenceUsingSameDeploymentId`."""
    async with client_for() as (_app, client):
        await _deploy(client, "dep", "my_model")
        got = await put_ok(client, "on-dep", "sparse_embedding", es(deployment_id="dep"))
        assert got["service_settings"] == {
            "num_allocations": 1, "num_threads": 1, "model_id": "my_model", "deployment_id": "dep",
        }  # fmt: skip
        wrong = await client.put(
            "/_inference/sparse_embedding/x", json=es(deployment_id="dep", model_id="other")
        )
        assert error_of(wrong)[2] == (
            "Deployment [dep] uses model [my_model] which does not match the model [other] in the request."
        )
        missing = await client.put("/_inference/sparse_embedding/x", json=es(deployment_id="nope"))
        assert "Cannot find deployment [nope]" in error_of(missing)[2]
        same = await client.put(
            "/_inference/sparse_embedding/dep", json=es(num_threads=1, num_allocations=1)
        )
        assert error_of(same)[2] == (
            "Inference endpoint IDs must be unique. Requested inference endpoint ID [dep] matches existing trained model ID(s) but must not."
        )
        # The trained models API changes it; the attached endpoint's GET follows.
        await client.post("/_sandbox/ml/deployments/dep/_allocations", json={"num_allocations": 2})
        assert (await get_one(client, "on-dep"))["service_settings"]["num_allocations"] == 2


async def test_update_only_on_a_deployment_the_endpoint_created_409() -> None:
    """`CreateFromDeploymentIT.testNumAllocationsIsUpdated` (INFERENCE_CAN_ONLY_UPDATE_MODELS_IT_CREATED),
    `testCannotUpdateAnotherInferenceEndpointsCreatedDeployment`
    (INFERENCE_REFERENCE_CANNOT_UPDATE_ANOTHER_ENDPOINT), `testUpdateWhenInferenceEndpointCreatesDeployment`."""
    async with client_for() as (_app, client):
        await _deploy(client, "ml-dep", "m")
        await put_ok(client, "via-ml", "sparse_embedding", es(deployment_id="ml-dep"))
        response = await update(
            client, "via-ml", "sparse_embedding", {"service_settings": {"num_allocations": 2}}
        )
        assert error_of(response) == (
            409, "status_exception",
            "Cannot update inference endpoint [via-ml] using model deployment [ml-dep]. The model deployment must be updated through the trained models API.",
        )  # fmt: skip
        await put_ok(client, "first", "sparse_embedding", es(num_threads=1, num_allocations=1))
        await put_ok(client, "second", "sparse_embedding", es(deployment_id="first"))
        response = await update(
            client, "second", "sparse_embedding", {"service_settings": {"num_allocations": 2}}
        )
        assert error_of(response) == (
            409, "status_exception",
            "Cannot update inference endpoint [second] for model deployment [first] as it was created by another inference endpoint. The model can only be updated using inference endpoint id [first].",
        )  # fmt: skip
        ok = await update(
            client, "first", "sparse_embedding", {"service_settings": {"num_allocations": 2}}
        )
        assert ok.json()["service_settings"] == {
            "num_allocations": 2, "num_threads": 1, "model_id": ".elser_model_2_linux-x86_64",
        }  # fmt: skip
        assert (await get_one(client, "second"))["service_settings"]["num_allocations"] == 2
        refused = await client.post(
            "/_sandbox/ml/deployments/first/_allocations", json={"num_allocations": 5}
        )
        assert refused.status_code == 409
        assert "This model deployment must be updated through the inference API." in refused.text


@pytest.mark.parametrize("version", ["9.1.7", "9.5.0"])
async def test_update_allocations_per_release(version: str) -> None:
    """8.17–9.4 (PR #114457): `num_allocations` only, `num_threads` and adaptive ignored;
    9.5 (`ElasticsearchInternalServiceSettings.Update`): adaptive too, switching nulls the
    other, `num_threads` → "[num_threads] cannot be updated", both → refused."""
    async with client_for(es_version=version) as (_app, client):
        await put_ok(client, "e", "sparse_embedding", es(num_threads=1, num_allocations=1))
        adaptive = {"enabled": True, "min_number_of_allocations": 2, "max_number_of_allocations": 2}
        got = await update(
            client,
            "e",
            "sparse_embedding",
            {"service_settings": {"adaptive_allocations": adaptive}},
        )
        threads = await update(
            client, "e", "sparse_embedding", {"service_settings": {"num_threads": 4}}
        )
        both = await update(client, "e", "sparse_embedding",
                            {"service_settings": {"num_allocations": 1, "adaptive_allocations": adaptive}})  # fmt: skip
        settings = (await get_one(client, "e"))["service_settings"]
        if version == "9.1.7":
            assert (
                got.status_code == 200
                and "adaptive_allocations" not in got.json()["service_settings"]
            )
            assert threads.status_code == 200 and settings["num_threads"] == 1
            assert both.status_code == 200 and settings["num_allocations"] == 1
        else:
            assert got.json()["service_settings"] == {
                "num_allocations": 2, "num_threads": 1, "model_id": ".elser_model_2_linux-x86_64",
                "adaptive_allocations": adaptive,
            }  # fmt: skip
            assert error_of(threads) == (400, "parse_exception", "[num_threads] cannot be updated")
            assert (
                "[num_allocations] cannot be set if [adaptive_allocations] is set"
                in error_of(both)[2]
            )
            fixed = await update(
                client, "e", "sparse_embedding", {"service_settings": {"num_allocations": 3}}
            )
            assert "adaptive_allocations" not in fixed.json()["service_settings"]


async def test_default_endpoints_cannot_be_updated_or_deleted() -> None:
    """`UpdateInferenceModelAction.Request.validate` checks the id (`MlStrings.isValidId`)
    before the transport's "Default endpoint [x] cannot be updated" (newest
    `TransportUpdateInferenceModelAction`), so over REST a `.` id answers the id error;
    `TransportDeleteInferenceEndpointAction`: reserved endpoints are not deleted."""
    async with client_for() as (_app, client):
        response = await update(client, ".elser-2-elasticsearch", "sparse_embedding",
                                {"service_settings": {"num_allocations": 2}})  # fmt: skip
        assert error_of(response)[:2] == (400, "action_request_validation_exception")
        assert "Invalid inference_id; '.elser-2-elasticsearch'" in error_of(response)[2]
        deleted = await client.delete("/_inference/.elser-2-elasticsearch")
        assert deleted.status_code == 400


async def test_delete_stops_only_the_deployment_it_created_and_not_while_shared() -> None:
    """ES PR #129090 (delete stops the endpoint's deployment); `CreateFromDeploymentIT`: "Cannot
    stop deployment [x] as it is used by inference endpoint [y]"."""
    async with client_for() as (_app, client):
        await put_ok(client, "solo", "sparse_embedding", es(num_threads=1, num_allocations=1))
        await put_ok(client, "owner", "sparse_embedding", es(num_threads=1, num_allocations=1))
        await put_ok(client, "rider", "sparse_embedding", es(deployment_id="owner"))
        assert (await client.delete("/_inference/solo")).status_code == 200
        assert (await client.delete("/_inference/owner")).status_code == 200
        ids = [
            d["deployment_id"]
            for d in (await client.get("/_sandbox/ml/deployments")).json()["deployments"]
        ]
        assert ids == ["owner"]  # still used by `rider`
        result = await client.post("/_inference/rider", json={"input": "x"})
        assert result.status_code == 200


async def test_put_timeout_while_the_deployment_starts() -> None:
    """ES PRs #126805/#129003: the PUT `timeout` covers the deployment start (9.1+: `timeout`)."""
    async with client_for(es_version="9.1.7") as (_app, client):
        await client.put("/_sandbox/ml/latency", json={"ms": 200})
        response = await client.put("/_inference/sparse_embedding/slow?timeout=50ms",
                                    json=es(num_threads=1, num_allocations=1))  # fmt: skip
        assert error_of(response) == (
            408, "status_exception",
            "Timed out after [50ms] waiting for model deployment to start. Use the trained model stats API to track the state of the deployment and try again once it has started.",
        )  # fmt: skip
        assert (await client.get("/_inference/slow")).status_code == 404
        ok = await client.put("/_inference/sparse_embedding/slow?timeout=5s",
                              json=es(num_threads=1, num_allocations=1))  # fmt: skip
        assert ok.status_code == 200


async def test_inference_shapes_sparse_e5_and_rerank() -> None:
    """`SparseEmbeddingResults`, `TextEmbeddingFloatResults` (e5-small: 384), `RankedDocsResults`
    (`return_documents` default true)."""
    async with client_for() as (_app, client):
        sparse = (
            await client.post("/_inference/.elser-2-elasticsearch", json={"input": ["hello world"]})
        ).json()
        (item,) = sparse["sparse_embedding"]
        assert item["is_truncated"] is False and item["embedding"]
        assert all(isinstance(w, float) and w > 0 for w in item["embedding"].values())
        e5 = (
            await client.post(
                "/_inference/.multilingual-e5-small-elasticsearch", json={"input": "x"}
            )
        ).json()
        assert len(e5["text_embedding"][0]["embedding"]) == 384
        rr = await client.post(
            "/_inference/.rerank-v1-elasticsearch", json={"input": ["a", "b"], "query": "b"}
        )
        ranked = rr.json()["rerank"]
        assert {r["index"] for r in ranked} == {0, 1} and "text" in ranked[0]


async def test_elser_alias_sparse_only_es_113216() -> None:
    """ES PR #113216: `elser` is a deprecated alias of `elasticsearch`, sparse_embedding only."""
    async with client_for() as (_app, client):
        got = await put_ok(client, "old", "sparse_embedding",
                           {"service": "elser", "service_settings": {"num_threads": 1, "num_allocations": 1}})  # fmt: skip
        assert got["service"] == "elser"
        assert got["service_settings"]["model_id"] == ".elser_model_2_linux-x86_64"
        response = await client.put("/_inference/text_embedding/x",
                                    json={"service": "elser", "service_settings": {"num_threads": 1, "num_allocations": 1}})  # fmt: skip
        assert (
            error_of(response)[2]
            == "The [elser] service does not support task type [text_embedding]"
        )


async def test_deployments_survive_a_restart_with_data_dir(tmp_path: Any) -> None:
    """A restarted node recovers the deployments its endpoints created (the endpoint still owns
    its deployment: `_update` goes through, no 409)."""
    async with client_for(data_dir=tmp_path) as (_app, client):
        await put_ok(client, "kept", "sparse_embedding", es(num_threads=1, num_allocations=1))
    async with client_for(data_dir=tmp_path) as (_app, client):
        assert (await get_one(client, "kept"))["service_settings"]["num_allocations"] == 1
        response = await update(
            client, "kept", "sparse_embedding", {"service_settings": {"num_allocations": 2}}
        )
        assert response.status_code == 200, response.text
        assert (await get_one(client, "kept"))["service_settings"]["num_allocations"] == 2


def test_cli_eis_flag() -> None:
    from reconciler.sandbox.__main__ import parser

    assert parser().parse_args([]).eis is False
    assert parser().parse_args(["--eis"]).eis is True
