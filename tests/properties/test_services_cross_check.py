"""Every fully supported service, cross-checked: the core's model of the server (each service's
descriptor in `reconciler/services/registry.py`: filled defaults, rewrites, dynamic and hidden
paths, what `_update` changes per release) against the sandbox's (`reconciler/sandbox/es/
services/`, written apart from the registry, from the same upstream sources).

For every (service, task type) the emulated server offers on a release (its
`GET _inference/_services`), manifests drawn at random are applied and the next plan must be a
no-op; then each change a team makes (a task setting, the rate limit, the model, a chunking
setting, every secret, the allocations of an in-cluster deployment) is applied and the next plan
must be a no-op again. Where the two models disagree (the planner updates in place what the
server ignores, compares a value the server rewrites or fills, misses what it hides), a plan
after apply shows it and this test fails: the loop of review §1.4 cannot hide for any service.

Releases: one on each side of every boundary the sources name (no update API before 8.17.0,
elastic/elasticsearch PR #114457; EIS and chat_completion from 8.18; chunking reset on update
until 9.2.6 (9.2.5 resets, 9.2.6 and 9.3.1 keep), #139574; validation on update from 9.4.0,
#140003; service settings and chunking in place from 9.5.0, #147465, #149723).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.client import EsClient
from reconciler.executor import ApplySettings
from reconciler.model import Action
from reconciler.pipeline import ApplyRequest, Ports, apply_changes, compute_plan, load_manifests
from reconciler.planner import PlanOptions
from reconciler.services.registry import MANAGED, SERVICES
from reconciler.state import FileStateStore
from reconciler.target import Target
from tests.fixtures.sandbox import make_sandbox_app

RELEASES = (
    "8.16.6",
    "8.17.0",
    "8.18.8",
    "8.19.7",
    "9.1.7",
    "9.2.5",
    "9.2.6",
    "9.3.1",
    "9.4.0",
    "9.5.0",
)

Body = dict[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _optional(draw: Draw, body: Body, key: str, values: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        body[key] = draw(values)


RPM = st.integers(1, 20_000).map(lambda n: {"requests_per_minute": n})
CHUNKING = st.sampled_from(
    (
        {"strategy": "word", "max_chunk_size": 120, "overlap": 40},
        {"strategy": "sentence", "max_chunk_size": 200, "sentence_overlap": 0},
        {"strategy": "sentence", "max_chunk_size": 250},
    )
)


@dataclass(frozen=True)
class Kind:
    """A (service, task type) with what a team may write for it and the changes it makes."""

    service: str
    task_type: str
    secrets: dict[str, str]
    """Secret field (under service_settings) → environment variable."""
    required: Body
    optional: Callable[[Draw, Body, Body], None] = lambda draw, settings, task: None
    changes: tuple[tuple[str, tuple[str, ...], Any], ...] = ()
    """(name, path, new value) of each change; a secret's rotation is added for every secret."""
    chunks: bool = False
    env: dict[str, str] = field(default_factory=dict)


def _openai(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    _optional(draw, task, "user", st.sampled_from(("alice", "team-search")))


def _azure(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    _optional(draw, task, "user", st.sampled_from(("alice", "team-search")))


def _cohere_embedding(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    kinds = ("float", "int8", "byte", "binary", "bit")
    _optional(draw, settings, "embedding_type", st.sampled_from(kinds))
    _optional(draw, task, "input_type", st.sampled_from(("ingest", "search")))
    _optional(draw, task, "truncate", st.sampled_from(("END", "NONE", "START")))


def _cohere_rerank(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    _optional(draw, task, "top_n", st.integers(1, 20))
    _optional(draw, task, "return_documents", st.booleans())


def _bedrock(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)


def _bedrock_completion(draw: Draw, settings: Body, task: Body) -> None:
    _bedrock(draw, settings, task)
    _optional(draw, task, "max_new_tokens", st.integers(1, 512))
    _optional(draw, task, "temperature", st.sampled_from((0.0, 0.5, 1.0)))


def _vertex_embedding(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    _optional(draw, settings, "dimensions", st.sampled_from((128, 256, 768)))
    _optional(draw, settings, "max_batch_size", st.integers(1, 250))
    _optional(draw, task, "auto_truncate", st.booleans())


def _vertex_rerank(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    _optional(draw, task, "top_n", st.integers(1, 20))


def _vertex_completion(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)
    _optional(draw, task, "max_tokens", st.integers(1, 512))


def _eis(draw: Draw, settings: Body, task: Body) -> None:
    _optional(draw, settings, "rate_limit", RPM)


def _in_cluster(draw: Draw, settings: Body, task: Body) -> None:
    if draw(st.booleans()):
        settings["num_allocations"] = draw(st.integers(1, 3))
    else:
        low = draw(st.integers(0, 2))
        settings["adaptive_allocations"] = {
            "enabled": True,
            "min_number_of_allocations": low,
            "max_number_of_allocations": low + draw(st.integers(1, 4)),
        }


def _in_cluster_rerank(draw: Draw, settings: Body, task: Body) -> None:
    _in_cluster(draw, settings, task)
    _optional(draw, task, "return_documents", st.booleans())


def completion_and_chat(kind: Kind) -> tuple[Kind, Kind]:
    """A completion kind and the chat_completion kind the service takes the same way."""
    return kind, dataclasses.replace(kind, task_type="chat_completion")


USER = ("task setting", ("task_settings", "user"), "changed-user")
RATE = ("rate limit", ("service_settings", "rate_limit"), {"requests_per_minute": 77})
FIXED = ("allocations", ("service_settings", "num_allocations"), 2)

KINDS: tuple[Kind, ...] = (
    Kind(
        "openai",
        "text_embedding",
        {"api_key": "OPENAI_API_KEY"},
        {"model_id": "text-embedding-3-small"},
        _openai,
        (USER, RATE, ("model", ("service_settings", "model_id"), "text-embedding-3-large")),
        chunks=True,
    ),
    *completion_and_chat(
        Kind(
            "openai",
            "completion",
            {"api_key": "OPENAI_API_KEY"},
            {"model_id": "gpt-4o-mini"},
            _openai,
            (USER, RATE),
        )
    ),
    Kind(
        "azureopenai",
        "text_embedding",
        {"api_key": "AZURE_OPENAI_API_KEY"},
        {"resource_name": "res", "deployment_id": "emb", "api_version": "2024-10-21"},
        _azure,
        (USER, RATE, ("deployment", ("service_settings", "deployment_id"), "emb-2")),
        chunks=True,
    ),
    *completion_and_chat(
        Kind(
            "azureopenai",
            "completion",
            {"api_key": "AZURE_OPENAI_API_KEY"},
            {"resource_name": "res", "deployment_id": "gpt", "api_version": "2024-10-21"},
            _azure,
            (USER, RATE),
        )
    ),
    Kind(
        "cohere",
        "text_embedding",
        {"api_key": "COHERE_API_KEY"},
        {"model_id": "embed-english-v3.0"},
        _cohere_embedding,
        (
            ("input type", ("task_settings", "input_type"), "search"),
            RATE,
            ("model", ("service_settings", "model_id"), "embed-english-light-v3.0"),
        ),
        chunks=True,
    ),
    Kind(
        "cohere",
        "rerank",
        {"api_key": "COHERE_API_KEY"},
        {"model_id": "rerank-v3.5"},
        _cohere_rerank,
        (("top_n", ("task_settings", "top_n"), 3), RATE),
    ),
    Kind(
        "cohere",
        "completion",
        {"api_key": "COHERE_API_KEY"},
        {"model_id": "command-r"},
        _eis,
        (RATE,),
    ),
    Kind(
        "amazonbedrock",
        "text_embedding",
        {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY"},
        {"region": "us-east-1", "provider": "amazontitan", "model": "amazon.titan-embed-text-v2:0"},
        _bedrock,
        (RATE,),
        chunks=True,
    ),
    *completion_and_chat(
        Kind(
            "amazonbedrock",
            "completion",
            {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY"},
            {"region": "us-east-1", "provider": "anthropic", "model": "anthropic.claude-3-haiku"},
            _bedrock_completion,
            (("max tokens", ("task_settings", "max_new_tokens"), 99), RATE),
        )
    ),
    Kind(
        "googlevertexai",
        "text_embedding",
        {"service_account_json": "GOOGLE_SERVICE_ACCOUNT_JSON"},
        {"model_id": "text-embedding-005", "location": "us-central1", "project_id": "p"},
        _vertex_embedding,
        (
            ("auto truncate", ("task_settings", "auto_truncate"), True),
            ("batch size", ("service_settings", "max_batch_size"), 17),
            RATE,
        ),
        chunks=True,
    ),
    Kind(
        "googlevertexai",
        "rerank",
        {"service_account_json": "GOOGLE_SERVICE_ACCOUNT_JSON"},
        {"model_id": "semantic-ranker-512", "project_id": "p"},
        _vertex_rerank,
        (("top_n", ("task_settings", "top_n"), 4), RATE),
    ),
    *completion_and_chat(
        Kind(
            "googlevertexai",
            "completion",
            {"service_account_json": "GOOGLE_SERVICE_ACCOUNT_JSON"},
            {"model_id": "gemini-2.0-flash", "location": "us-central1", "project_id": "p"},
            _vertex_completion,
            (("max tokens", ("task_settings", "max_tokens"), 64), RATE),
        )
    ),
    Kind(
        "elastic",
        "sparse_embedding",
        {},
        {"model_id": "elser_model_2"},
        # no rate_limit: `ElasticInferenceServiceSparseEmbeddingsServiceSettings` keeps
        # RateLimitSettings.DISABLED_INSTANCE and newer code refuses the field
        changes=(),
        chunks=True,
    ),
    Kind(
        "elastic",
        "chat_completion",
        {},
        {"model_id": "rainbow-sprinkles"},
        _eis,
        (RATE,),
    ),
    Kind(
        "elastic",
        "completion",
        {},
        {"model_id": "rainbow-sprinkles"},
        _eis,
        (RATE,),
    ),
    Kind(
        "elastic",
        "text_embedding",
        {},
        {"model_id": "jina-embeddings-v3"},
        changes=(("model", ("service_settings", "model_id"), "jina-embeddings-v5-text-small"),),
        chunks=True,
    ),
    Kind(
        "elastic",
        "embedding",
        {},
        {"model_id": "jina-embeddings-v5-omni-small"},
        changes=(),
        chunks=True,
    ),
    Kind(
        "elastic",
        "rerank",
        {},
        {"model_id": "rerank-v1"},
        changes=(),
    ),
    Kind(
        "elasticsearch",
        "sparse_embedding",
        {},
        {"model_id": ".elser_model_2_linux-x86_64", "num_threads": 1},
        _in_cluster,
        (FIXED, ("threads", ("service_settings", "num_threads"), 2)),
        chunks=True,
    ),
    Kind(
        "elasticsearch",
        "text_embedding",
        {},
        {"model_id": ".multilingual-e5-small_linux-x86_64", "num_threads": 1},
        _in_cluster,
        (FIXED,),
        chunks=True,
    ),
    Kind(
        "elasticsearch",
        "rerank",
        {},
        {"model_id": ".rerank-v1", "num_threads": 1},
        _in_cluster_rerank,
        (FIXED, ("return documents", ("task_settings", "return_documents"), False)),
    ),
    Kind(
        "elser",
        "sparse_embedding",
        {},
        {"num_threads": 1},
        _in_cluster,
        (FIXED,),
        chunks=True,
    ),
)


def test_every_managed_service_and_task_type_is_cross_checked() -> None:
    declared = {(name, task) for name in MANAGED for task in SERVICES[name].task_types}
    assert {(kind.service, kind.task_type) for kind in KINDS} == declared


KEYS = {
    "OPENAI_API_KEY": ("sk-cross-check-one-0123456789", "sk-cross-check-two-9876543210"),
    "AZURE_OPENAI_API_KEY": ("azure-cross-check-one-0123", "azure-cross-check-two-9876"),
    "COHERE_API_KEY": ("cohere-cross-check-one-0123", "cohere-cross-check-two-9876"),
    "AWS_ACCESS_KEY_ID": ("AKIACROSSCHECKONE0123", "AKIACROSSCHECKTWO9876"),
    "AWS_SECRET_ACCESS_KEY": ("aws-secret-cross-check-one", "aws-secret-cross-check-two"),
    "GOOGLE_SERVICE_ACCOUNT_JSON": (
        '{"type":"service_account","project_id":"p","private_key_id":"one"}',
        '{"type":"service_account","project_id":"p","private_key_id":"two"}',
    ),
}


@st.composite
def manifests(draw: st.DrawFn, kind: Kind) -> Body:
    settings: Body = copy.deepcopy(kind.required)
    settings |= {name: "${" + var + "}" for name, var in kind.secrets.items()}
    task: Body = {}
    kind.optional(draw, settings, task)
    body: Body = {
        "inference_id": "cross",
        "task_type": kind.task_type,
        "service": kind.service,
        "service_settings": settings,
    }
    if task:
        body["task_settings"] = task
    if kind.chunks and draw(st.booleans()):
        body["chunking_settings"] = draw(CHUNKING)
    return body


def _with(document: Body, path: tuple[str, ...], value: Any) -> Body:
    changed = copy.deepcopy(document)
    parent = changed
    for key in path[:-1]:
        parent = parent.setdefault(key, {})
    parent[path[-1]] = value
    if path == ("service_settings", "num_allocations"):
        parent.pop("adaptive_allocations", None)
    return changed


async def apply_and_plan(ports: Ports, folder: Path, document: Body) -> tuple[Any, list[Any]]:
    (folder / "m.yaml").write_text(json.dumps(document))
    manifests = load_manifests([str(folder / "m.yaml")])
    assert manifests.valid, manifests.diagnostics
    options = PlanOptions(allow_disruptive=True)
    request = ApplyRequest(options=options, settings=ApplySettings(), smoke="all")
    report = await apply_changes(manifests, ports, request)
    again = await compute_plan(manifests, ports, options)
    return report, [c for c in again.plan.changes if c.action is not Action.NOOP]


async def offered(transport: httpx.AsyncBaseTransport) -> dict[str, set[str]]:
    """The server's `GET _inference/_services`: service → task types on this release."""
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as raw:
        response = await raw.get("/_inference/_services")
    entries = response.json()
    entries = entries.get("services", entries) if isinstance(entries, dict) else entries
    return {entry["service"]: set(entry["task_types"]) for entry in entries}


async def cross_check(version: str, kind: Kind, document: Body, folder: Path) -> None:
    app = make_sandbox_app(es_version=version)
    transport = httpx.ASGITransport(app=app)
    if kind.task_type not in (await offered(transport)).get(kind.service, set()):
        await app.aclose()
        return
    async with EsClient(Target("http://sandbox"), transport=transport) as client:
        store = FileStateStore(str(folder / "state.json"))
        env = {var: KEYS[var][0] for var in kind.secrets.values()}
        ports = Ports(client, store, env, lambda: datetime.now(UTC))
        report, left = await apply_and_plan(ports, folder, document)
        assert report.ok, (version, "create", document, report.outcome, report.smoke)
        assert left == [], (version, "create", document, left)
        current = document
        chunking = {"strategy": "word", "max_chunk_size": 90, "overlap": 30}
        more = (("chunking", ("chunking_settings",), chunking),) if kind.chunks else ()
        for name, path, value in (*kind.changes, *more):
            current = _with(current, path, value)
            report, left = await apply_and_plan(ports, folder, current)
            assert report.ok, (version, name, current, report.outcome, report.smoke)
            assert left == [], (version, name, current, left)
        for var in kind.secrets.values():
            env[var] = KEYS[var][1]
            report, left = await apply_and_plan(ports, folder, current)
            assert report.ok, (version, f"rotate {var}", report.outcome)
            assert left == [], (version, f"rotate {var}", left)
    await app.aclose()


def test_every_kind_is_offered_on_the_newest_release() -> None:
    """The skip in `cross_check` (a task type the release does not offer) never empties it."""

    async def check() -> dict[str, set[str]]:
        app = make_sandbox_app(es_version=RELEASES[-1])
        found = await offered(httpx.ASGITransport(app=app))
        await app.aclose()
        return found

    found = asyncio.run(check())
    missing = [
        (k.service, k.task_type) for k in KINDS if k.task_type not in found.get(k.service, ())
    ]
    assert missing == []


CASES = [
    pytest.param(version, kind, id=f"{version}-{kind.service}-{kind.task_type}")
    for version in RELEASES
    for kind in KINDS
]


@pytest.mark.parametrize(("version", "kind"), CASES)
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_manifests_and_every_change_apply_then_plan_clean(
    version: str, kind: Kind, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    document = data.draw(manifests(kind))
    folder = tmp_path_factory.mktemp("cross")
    asyncio.run(cross_check(version, kind, document, folder))
