"""Conformance of the sandbox to what each Elasticsearch release does, patch release by patch
release, where a fix or a feature landed in a patch release or changed between minors.

Each test names its upstream evidence (elastic/elasticsearch unless noted) and runs on the
releases concerned and on one release on each side of every boundary. The releases come from
the changelog bundles (`docs/release-notes/changelog-bundles/<version>.yml`) and the 8.x release
notes (`docs/reference/release-notes/<version>.asciidoc`); see `reconciler/sandbox/es/versions.py`.

| Behaviour | Releases | Evidence |
|---|---|---|
| `_update` drops `chunking_settings` (reads back word/250/100) | 8.17–9.1, 9.2.0–9.2.5, 9.3.0 | #139574; fixed by #141687 (9.2.6), #141682 (9.3.1), #140003 (9.4.0) |
| a no-op `_update` still rewrites (and so resets) | 8.17.0 only | `TransportUpdateInferenceModelAction` (8.17.0 copy: no early return) |
| no validation call on `_update`: a bad key is stored | 8.17–9.3 | #122356; #140003 (9.4.0) |
| rate_limit / organization_id / max_input_tokens updatable | 9.5+ | #147465 |
| `chunking_settings` replaceable on `_update` | 9.5+ | #149723 |
| unknown service/task settings keys refused on `_update` | 9.5+ | #149430 |
| `timeout` query parameter on `_update` | 9.5+ | elastic/elasticsearch-specification `UpdateInferenceRequest` |
| `max_chunk_size` capped at 300 (word, sentence, recursive) | up to 9.1 | #133718 (9.2.0) |
| `_update` without a task type anywhere: 400 | 8.17.2+ (earlier: the path error) | `ServiceUtils.resolveTaskType`; #121231 (8.17.2) |
| PUT refuses ids used by incompatible semantic_text mappings (and hangs without dimensions/similarity) | 8.19.7+, 9.1.7+, 9.2.1+, 9.3+ | #137055; backports #137587, #137584, #137583 |
| empty `service_settings`/`task_settings` on `_update` count as absent | all | `UpdateInferenceModelAction.Request.getContentAsSettings` |
| `master_timeout` accepted on `_update` | all | `RestUpdateInferenceModelAction` (`RestUtils.getMasterNodeTimeout`) |
| URL/body task type conflict reported before the 404 lookup | all | `ServiceUtils.resolveTaskType` at the top of `masterOperation` |
"""

# Exact error texts stay on one line each, so they can be grepped for.
# ruff: noqa: E501

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from reconciler.sandbox import DEFAULT_ES_VERSION, SandboxApp
from reconciler.sandbox.es.chunking import OLD_DEFAULT_SETTINGS
from reconciler.sandbox.es.versions import EsVersion, capabilities
from tests.sandbox._es import KEY, chat_body, client_for, emb_body, error_of, put, put_emb

pytestmark = pytest.mark.anyio

WORD_120 = {"strategy": "word", "max_chunk_size": 120, "overlap": 40}
EMB_UPDATE = "/_inference/text_embedding/e/_update"
MISSING_TASK_TYPE = "model is missing required setting [task_type]"


def _calls(app: SandboxApp) -> int:
    return len(app.upstream_log.entries())


async def _put_emb_chunked(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await put(
        client, "e", {**emb_body(), "chunking_settings": WORD_120}, "text_embedding"
    )
    assert response.status_code == 200, response.text
    assert response.json()["chunking_settings"] == WORD_120
    return dict(response.json())


async def _get(client: httpx.AsyncClient, inference_id: str = "e") -> dict[str, Any]:
    return dict((await client.get(f"/_inference/{inference_id}")).json()["endpoints"][0])


# ======================================================================================
# The default release
# ======================================================================================


def test_default_release_has_the_es_137055_mapping_check() -> None:
    """The default is the first 9.1 patch release with the PUT mappings check (#137584 in the
    9.1.7 changelog bundle): it behaves like every later release there, and like every 9.1
    release on `_update`."""
    caps = capabilities(EsVersion.parse(DEFAULT_ES_VERSION))
    assert DEFAULT_ES_VERSION == "9.1.7"
    assert caps.mapping_compatibility_check
    assert caps.update_resets_chunking and not caps.update_validates


# ======================================================================================
# `_update` resets chunking_settings (#139574) until 9.2.6 / 9.3.1 / 9.4.0
# ======================================================================================


@pytest.mark.parametrize(
    ("version", "resets"),
    [
        ("8.17.1", True),
        ("8.18.0", True),
        ("8.19.7", True),
        ("9.0.8", True),
        ("9.1.0", True),
        ("9.1.10", True),
        ("9.2.0", True),
        ("9.2.5", True),
        ("9.2.6", False),
        ("9.3.0", True),
        ("9.3.1", False),
        ("9.4.0", False),
        ("9.5.0", False),
    ],
)
async def test_update_resets_chunking_before_es_139574_fix(version: str, resets: bool) -> None:
    """The pre-fix `combineExistingModelWithNewSettings` builds
    `new ModelConfigurations(id, taskType, service, serviceSettings, taskSettings)`: the stored
    endpoint loses `chunking_settings` and reads back with `ChunkingSettingsBuilder`'s
    `OLD_DEFAULT_SETTINGS` (#139574). #141687 (9.2.6), #141682 (9.3.1) and #140003 (9.4.0)
    carry the existing chunking settings over; 8.19 and 9.1 got no backport."""
    async with client_for(es_version=version) as (_app, client):
        await _put_emb_chunked(client)
        response = await client.put(EMB_UPDATE, json={"task_settings": {"user": "bob"}})
        assert response.status_code == 200, response.text
        expected = OLD_DEFAULT_SETTINGS if resets else WORD_120
        assert response.json()["chunking_settings"] == expected
        endpoint = await _get(client)
        assert endpoint["chunking_settings"] == expected
        assert endpoint["task_settings"] == {"user": "bob"}


async def test_update_resets_chunking_before_es_139574_fix_only_for_text_embedding() -> None:
    """A completion endpoint has no chunking settings to lose."""
    async with client_for(es_version="9.1.7") as (_app, client):
        await put(client, "c", chat_body(), "completion")
        response = await client.put(
            "/_inference/completion/c/_update", json={"task_settings": {"user": "u"}}
        )
        assert "chunking_settings" not in response.json()
        assert "chunking_settings" not in await _get(client, "c")


@pytest.mark.parametrize(
    ("version", "rewrites"),
    [("8.17.0", True), ("8.17.1", False), ("9.1.7", False), ("9.4.0", False)],
)
async def test_update_noop_rewrites_on_8_17_0_transport_update_action(
    version: str, rewrites: bool
) -> None:
    """The 8.17.0 `TransportUpdateInferenceModelAction` calls
    `modelRegistry.updateModelTransaction` even when nothing changed, so a no-op update also
    drops `chunking_settings` (#139574); later copies return early when the merged model equals
    the stored one (`if (mergedParsedModel.equals(existingParsedModel))`)."""
    async with client_for(es_version=version) as (_app, client):
        before = await _put_emb_chunked(client)
        response = await client.put(EMB_UPDATE, json={"service_settings": {"api_key": KEY}})
        assert response.status_code == 200, response.text
        expected = OLD_DEFAULT_SETTINGS if rewrites else WORD_120
        assert (await _get(client))["chunking_settings"] == expected
        if not rewrites:
            assert response.json() == before


# ======================================================================================
# No validation call on `_update` before #140003 (9.4.0)
# ======================================================================================


@pytest.mark.parametrize(
    ("version", "validates"),
    [("8.17.2", False), ("9.1.7", False), ("9.3.8", False), ("9.4.0", True), ("9.5.0", True)],
)
async def test_update_stores_unvalidated_key_before_es_140003(
    version: str, validates: bool
) -> None:
    """Before #140003 (9.4.0 changelog bundle) `_update` goes straight to
    `modelRegistry.updateModelTransaction`: a key the upstream refuses is stored with 200 and
    inference fails later (#122356). From 9.4 the update runs `ModelValidatorBuilder` first."""
    async with client_for(es_version=version) as (app, client):
        before = await put_emb(client, "e")
        calls = _calls(app)
        response = await client.put(
            EMB_UPDATE, json={"service_settings": {"api_key": "not-a-valid-key"}}
        )
        if validates:
            assert error_of(response)[:2] == (400, "status_exception")
            assert error_of(response)[2].startswith(
                "Could not complete inference endpoint creation"
            )
            assert _calls(app) == calls + 1
            assert (await client.post("/_inference/e", json={"input": "x"})).status_code == 200
            return
        assert response.status_code == 200, response.text
        assert _calls(app) == calls
        assert (await _get(client))["service_settings"] == before["service_settings"]
        failed = await client.post("/_inference/e", json={"input": "x"})
        status, _type, reason = error_of(failed)
        assert status == 401
        assert reason.startswith(
            "Received an authentication error status code for request from inference entity id [e]"
        )


# ======================================================================================
# 9.5 update semantics (#147465, #149723, #149430, spec `timeout`)
# ======================================================================================


@pytest.mark.parametrize(("version", "updatable"), [("9.4.8", False), ("9.5.0", True)])
async def test_update_service_settings_updatable_from_es_147465(
    version: str, updatable: bool
) -> None:
    """`OpenAiEmbeddingsServiceSettings.updateServiceSettings` (#147465) takes
    `organization_id`, `max_input_tokens` and `rate_limit`; before it
    `ServiceSettings.updateServiceSettings` returns `this` and they are silently ignored."""
    async with client_for(es_version=version) as (_app, client):
        before = await put_emb(client, "e")
        update = {
            "api_key": KEY,
            "rate_limit": {"requests_per_minute": 42},
            "organization_id": "org-1",
            "max_input_tokens": 512,
        }
        response = await client.put(EMB_UPDATE, json={"service_settings": update})
        assert response.status_code == 200, response.text
        settings = (await _get(client))["service_settings"]
        if not updatable:
            assert settings == before["service_settings"]
            return
        assert settings["rate_limit"] == {"requests_per_minute": 42}
        assert settings["organization_id"] == "org-1"
        assert settings["max_input_tokens"] == 512
        assert list(settings) == [
            "model_id",
            "organization_id",
            "similarity",
            "dimensions",
            "max_input_tokens",
            "rate_limit",
        ]


async def test_update_service_settings_updatable_from_es_147465_keeps_what_is_not_sent() -> None:
    async with client_for(es_version="9.5.0") as (_app, client):
        await put(
            client, "c", chat_body(organization_id="org-0", max_input_tokens=100), "completion"
        )
        update = {"api_key": KEY, "rate_limit": {"requests_per_minute": 7}}
        response = await client.put(
            "/_inference/completion/c/_update", json={"service_settings": update}
        )
        assert response.json()["service_settings"] == {
            "model_id": "gpt-4o-mini",
            "organization_id": "org-0",
            "max_input_tokens": 100,
            "rate_limit": {"requests_per_minute": 7},
        }
        bad = await client.put(
            "/_inference/completion/c/_update",
            json={"service_settings": {"api_key": KEY, "max_input_tokens": 0}},
        )
        assert error_of(bad) == (
            400,
            "validation_exception",
            "Validation Failed: 1: [service_settings] Invalid value [0]. [max_input_tokens] must be a positive integer;",
        )


@pytest.mark.parametrize("version", ["9.4.8", "9.5.0"])
async def test_update_replaces_chunking_from_es_149723(version: str) -> None:
    """#149723 adds `chunking_settings` to `UpdateInferenceModelAction.Request` and replaces the
    stored object whole (`ChunkingSettingsBuilder.fromMap`); before it the key is one of the
    fields that "cannot be updated"."""
    new = {"strategy": "sentence", "max_chunk_size": 100, "sentence_overlap": 0}
    async with client_for(es_version=version) as (_app, client):
        await _put_emb_chunked(client)
        response = await client.put(EMB_UPDATE, json={"chunking_settings": new})
        if version == "9.4.8":
            assert error_of(response) == (
                400,
                "status_exception",
                "Request contained fields which cannot be updated, remove these fields and try again [{chunking_settings={strategy=sentence, max_chunk_size=100, sentence_overlap=0}}]",
            )
            assert (await _get(client))["chunking_settings"] == WORD_120
            return
        assert response.status_code == 200, response.text
        assert response.json()["chunking_settings"] == new
        assert (await _get(client))["chunking_settings"] == new
        invalid = await client.put(EMB_UPDATE, json={"chunking_settings": {"strategy": "word"}})
        assert error_of(invalid)[0] == 400
        assert (await _get(client))["chunking_settings"] == new


@pytest.mark.parametrize(("version", "refused"), [("9.4.8", False), ("9.5.0", True)])
@pytest.mark.parametrize(
    ("body", "leftover"),
    [
        ({"task_settings": {"user": "u", "bogus": "x"}}, "{bogus=x}"),
        (
            {"service_settings": {"api_key": KEY, "model_id": "text-embedding-3-large"}},
            "{model_id=text-embedding-3-large}",
        ),
        (
            {"service_settings": {"api_key": KEY, "dimensions": 8, "url": "http://x"}},
            "{dimensions=8, url=http://x}",
        ),
    ],
)
async def test_update_rejects_unknown_settings_from_es_149430(
    version: str, refused: bool, body: dict[str, Any], leftover: str
) -> None:
    """#149430 `validateConsumedUpdateSettings`: what the update parsers leave in the maps is
    refused with `throwIfNotEmptyMap`'s message; before it, it is silently ignored."""
    async with client_for(es_version=version) as (_app, client):
        before = await put_emb(client, "e")
        response = await client.put(EMB_UPDATE, json=body)
        if refused:
            assert error_of(response) == (
                400,
                "status_exception",
                f"Model configuration contains settings [{leftover}] unknown to the [openai] service",
            )
            assert await _get(client) == before
        else:
            assert response.status_code == 200, response.text
            assert response.json()["service_settings"] == before["service_settings"]


@pytest.mark.parametrize(("version", "accepted"), [("9.4.8", False), ("9.5.0", True)])
async def test_update_timeout_parameter_from_spec_9_5(version: str, accepted: bool) -> None:
    """elastic/elasticsearch-specification `UpdateInferenceRequest`: `timeout`
    `@availability stack since=9.5.0`; older servers refuse the unknown parameter
    (`BaseRestHandler`)."""
    async with client_for(es_version=version) as (_app, client):
        await put_emb(client, "e")
        response = await client.put(
            f"{EMB_UPDATE}?timeout=10s", json={"task_settings": {"user": "u"}}
        )
        if accepted:
            assert response.status_code == 200, response.text
            bad = await client.put(
                f"{EMB_UPDATE}?timeout=ten", json={"task_settings": {"user": "v"}}
            )
            assert error_of(bad)[:2] == (400, "parse_exception")
        else:
            assert error_of(response)[2].startswith(
                "request [/_inference/text_embedding/e/_update] contains unrecognized parameter: [timeout]"
            )


# ======================================================================================
# `max_chunk_size` upper bound removed for every strategy by #133718 (9.2)
# ======================================================================================


@pytest.mark.parametrize(
    "chunking",
    [
        {"strategy": "word", "max_chunk_size": 400, "overlap": 100},
        {"strategy": "sentence", "max_chunk_size": 400, "sentence_overlap": 1},
        {"strategy": "recursive", "max_chunk_size": 400, "separators": ["\n"]},
    ],
    ids=["word", "sentence", "recursive"],
)
@pytest.mark.parametrize(
    ("version", "capped"), [("9.1.10", True), ("9.2.0", False), ("9.5.0", False)]
)
async def test_chunking_max_chunk_size_cap_removed_by_es_133718(
    chunking: dict[str, Any], version: str, capped: bool
) -> None:
    """#133718 "Remove upper limit for chunking settings": `WordBoundaryChunkingSettings`,
    `SentenceBoundaryChunkingSettings` and `RecursiveChunkingSettings` all keep only their
    lower bound from 9.2 on."""
    async with client_for(es_version=version) as (_app, client):
        response = await put(
            client, "e", {**emb_body(), "chunking_settings": chunking}, "text_embedding"
        )
        if capped:
            assert error_of(response) == (
                400,
                "validation_exception",
                "Validation Failed: 1: [chunking_settings] Invalid value [400.0]. [max_chunk_size] must be a less than or equal to [300.0];",
            )
        else:
            assert response.status_code == 200, response.text
            assert response.json()["chunking_settings"]["max_chunk_size"] == 400


# ======================================================================================
# `_update` with no task type anywhere (`ServiceUtils.resolveTaskType`)
# ======================================================================================


@pytest.mark.parametrize("version", ["8.17.2", "9.1.7", "9.5.0"])
async def test_update_without_task_type_is_refused_by_resolve_task_type(version: str) -> None:
    """`masterOperation` starts with `resolveTaskType(request.getTaskType(), bodyTaskType)`:
    with `ANY` from the URL and no body task type it throws
    `model is missing required setting [task_type]`, before the endpoint is looked up."""
    async with client_for(es_version=version) as (_app, client):
        before = await put_emb(client, "e")
        response = await client.put("/_inference/e/_update", json={"task_settings": {"user": "u"}})
        assert error_of(response) == (400, "status_exception", MISSING_TASK_TYPE)
        missing = await client.put(
            "/_inference/nope/_update", json={"task_settings": {"user": "u"}}
        )
        assert error_of(missing) == (400, "status_exception", MISSING_TASK_TYPE)
        assert await _get(client) == before
        in_body = {"task_type": "text_embedding", "task_settings": {"user": "u"}}
        assert (await client.put("/_inference/e/_update", json=in_body)).status_code == 200


async def test_update_without_task_type_in_path_before_es_121231() -> None:
    """8.17.1, the last release before #121231 (8.17.2 release notes): the REST handler
    refuses `_inference/{id}/_update` before any task type resolution."""
    async with client_for(es_version="8.17.1") as (_app, client):
        await put_emb(client, "e")
        body = {"task_type": "text_embedding", "task_settings": {"user": "u"}}
        response = await client.put("/_inference/e/_update", json=body)
        assert error_of(response)[2] == "Inference ID must be provided in the path"


# ======================================================================================
# PUT check against semantic_text mappings (#137055 and its backports)
# ======================================================================================


async def _referenced_then_deleted(client: httpx.AsyncClient) -> None:
    await put_emb(client, "e", dimensions=64)
    mappings = {"properties": {"body": {"type": "semantic_text", "inference_id": "e"}}}
    assert (await client.put("/docs", json={"mappings": mappings})).status_code == 200
    assert (await client.post("/docs/_doc?refresh=true", json={"body": "hello"})).status_code == 201
    assert (await client.delete("/_inference/e?force=true")).status_code == 200


MAPPING_CHECK_RELEASES = [
    ("8.18.8", False),
    ("8.19.6", False),
    ("8.19.7", True),
    ("9.0.8", False),
    ("9.1.0", False),
    ("9.1.6", False),
    ("9.1.7", True),
    ("9.2.0", False),
    ("9.2.1", True),
    ("9.3.0", True),
    ("9.5.0", True),
]


@pytest.mark.parametrize(("version", "checked"), MAPPING_CHECK_RELEASES)
async def test_put_mapping_check_from_es_137055_backports(version: str, checked: bool) -> None:
    """#137055 "Do not create inference endpoint if ID is used in existing mappings" shipped in
    8.19.7 (#137587), 9.1.7 (#137584), 9.2.1 (#137583) and 9.3.0: from those releases a
    re-create with other dimensions is refused (`findIndicesWithIncompatibleMappings`);
    earlier patches of those minors, 9.0 and 8.18 accept it."""
    async with client_for(es_version=version) as (_app, client):
        await _referenced_then_deleted(client)
        body = emb_body(dimensions=32, similarity="dot_product")
        response = await put(client, "e", body, "text_embedding")
        if checked:
            status, _type, reason = error_of(response)
            assert status == 400
            assert reason.startswith(
                "Inference endpoint [e] could not be created because the inference_id is being used in mappings with incompatible settings for indices: [docs]."
            )
        else:
            assert response.status_code == 200, response.text


@pytest.mark.parametrize(("version", "checked"), MAPPING_CHECK_RELEASES)
async def test_put_mapping_check_hang_from_es_137055_backports(version: str, checked: bool) -> None:
    """With the check, an openai text_embedding request without `dimensions` and `similarity`
    makes `new MinimalServiceSettings(model)` throw on the `inference_utility` pool and the PUT
    is never answered; without it the same request is validated and created."""
    async with client_for(es_version=version) as (_app, client):
        await _referenced_then_deleted(client)
        request = put(client, "e", emb_body(), "text_embedding")
        if checked:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(request, 0.3)
        else:
            response = await asyncio.wait_for(request, 5.0)
            assert response.status_code == 200, response.text


# ======================================================================================
# Small `_update` rules on every release with the update API
# ======================================================================================


@pytest.mark.parametrize("version", ["8.17.2", "9.1.7", "9.4.0", "9.5.0"])
@pytest.mark.parametrize(
    "body",
    [
        {"service_settings": {}},
        {"task_settings": {}},
        {"service_settings": {}, "task_settings": {}},
    ],
)
async def test_update_empty_settings_objects_are_absent_in_get_content_as_settings(
    version: str, body: dict[str, Any]
) -> None:
    """`getContentAsSettings`: `serviceSettings.isEmpty() == false ? … : null` (the same for
    task settings), so `{}` is not a request for `api_key`: the update is a no-op."""
    async with client_for(es_version=version) as (app, client):
        before = await _put_emb_chunked(client)
        calls = _calls(app)
        response = await client.put(EMB_UPDATE, json=body)
        assert response.status_code == 200, response.text
        assert response.json() == before
        assert await _get(client) == before
        assert _calls(app) == calls


@pytest.mark.parametrize("version", ["8.17.0", "8.17.2", "9.1.7", "9.5.0"])
async def test_update_master_timeout_consumed_by_rest_update_action(version: str) -> None:
    """`RestUpdateInferenceModelAction` reads `RestUtils.getMasterNodeTimeout(restRequest)`."""
    async with client_for(es_version=version) as (_app, client):
        await put_emb(client, "e")
        response = await client.put(
            f"{EMB_UPDATE}?master_timeout=30s", json={"task_settings": {"user": "u"}}
        )
        assert response.status_code == 200, response.text
        bad = await client.put(
            f"{EMB_UPDATE}?master_timeout=soon", json={"task_settings": {"user": "v"}}
        )
        assert error_of(bad)[:2] == (400, "parse_exception")


@pytest.mark.parametrize("version", ["8.17.2", "9.1.7", "9.5.0"])
async def test_update_task_type_conflict_from_resolve_task_type_before_lookup(version: str) -> None:
    """`ServiceUtils.resolveTaskType` runs before `checkEndpointExists`: a URL/body conflict is
    its own message, for an existing id and for an unknown one alike; a stored-type mismatch is
    `validateResolvedTaskType`'s."""
    conflict = "Cannot resolve conflicting task_type parameter in the request URL [completion] and the request body [text_embedding]"
    async with client_for(es_version=version) as (_app, client):
        await put_emb(client, "e")
        body = {"task_type": "text_embedding", "task_settings": {"user": "u"}}
        for inference_id in ("e", "nope"):
            response = await client.put(f"/_inference/completion/{inference_id}/_update", json=body)
            assert error_of(response) == (400, "status_exception", conflict)
        mismatch = await client.put(
            "/_inference/completion/e/_update", json={"task_settings": {"user": "u"}}
        )
        assert (
            error_of(mismatch)[2] == "Task type must match the task type of the existing endpoint"
        )
        unknown = await client.put(
            "/_inference/text_embedding/nope/_update", json={"task_settings": {"user": "u"}}
        )
        assert error_of(unknown)[:2] == (404, "resource_not_found_exception")
