"""Shared by the per-service end-to-end tests: one sandbox process per release whose output is
kept in files, the CLI run in-process against it, and one lifecycle case per full-tier service.

The cases are written from upstream facts, not read from `reconciler.services.registry` (the
tests are an independent check of it):

* what `_update` may change per release: elastic/elasticsearch PR #114457
  (`TransportUpdateInferenceModelAction`, 8.17: task_settings; in-cluster services also
  `num_allocations`), PRs #147465 / #149723 / #149628 (9.5: per-service `updateServiceSettings`,
  `chunking_settings` replaced, secrets rotated per type, the AWS keys as a pair), PR #140082
  (`GoogleVertexAiEmbeddingsServiceSettings.updateServiceSettings`: `max_batch_size`);
* `_update` resets `chunking_settings` of an embedding endpoint before 9.2.6
  (elastic/elasticsearch#139574), so on 9.1.7 an in-place change of a `text_embedding`
  endpoint is a replace;
* `ElasticsearchInternalServiceSettings` (`[num_threads] cannot be updated`): a replace.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.fixtures.sandbox import REPO_ROOT, START_TIMEOUT_S, sandbox_args

NEW = "9.5.0"
"""The first release whose update API changes per-service settings and chunking (PR #149723)."""
OLD = "9.1.7"
"""A release before the chunking-reset fix (#139574, fixed in 9.2.6): embedding updates replace."""
RELEASES = (NEW, OLD)

Manifest = dict[str, Any]
Mutation = Callable[[Manifest], None]


# -- a sandbox process whose output is kept ------------------------------------------------


@dataclass
class LoggedSandbox:
    """`python -m reconciler.sandbox` with stdout/stderr written to files (read them with
    `output()`)."""

    url: str
    release: str
    proc: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def logged_sandbox(folder: Path, es_version: str, *extra: str) -> Iterator[LoggedSandbox]:
    folder.mkdir(parents=True, exist_ok=True)
    out_path, err_path = folder / "sandbox.out", folder / "sandbox.err"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    args = sandbox_args(es_version=es_version, extra_args=extra)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env)
    sandbox = LoggedSandbox("", es_version, proc, out_path, err_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            first = out_path.read_text().split("\n", 1)
            if len(first) == 2 and first[0].startswith("Sandbox listening on "):
                sandbox.url = first[0].removeprefix("Sandbox listening on ").strip()
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"sandbox did not start: {sandbox.output()}")
        yield sandbox
    finally:
        sandbox.stop()


def enable_eis(url: str) -> None:
    """Authorize the sandbox cluster for the Elastic Inference Service (EIS authorizes per
    cluster: without it the `elastic` service offers no task type)."""
    with httpx.Client(base_url=url, timeout=30) as es:
        es.put("/_sandbox/eis", json={"enabled": True}).raise_for_status()


# -- manifests -------------------------------------------------------------------------------


def dump(manifest: Manifest) -> str:
    return yaml.safe_dump(manifest, sort_keys=False)


def write(folder: Path, manifest: Manifest) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{manifest['inference_id']}.yaml"
    path.write_text(dump(manifest))
    return path


def setting(section: str, key: str, value: Any) -> Mutation:
    def mutate(manifest: Manifest) -> None:
        node = manifest.setdefault(section, {})
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value

    return mutate


@dataclass(frozen=True)
class Change:
    """A manifest change and the action plan must choose for it on each release."""

    what: str
    mutate: Mutation
    action: dict[str, str]
    path: str


@dataclass(frozen=True)
class Rotation:
    """Environment variables given new values together, and the secret paths plan names."""

    variables: tuple[str, ...]
    paths: tuple[str, ...]
    action: dict[str, str]


@dataclass(frozen=True)
class Case:
    """One full-tier service: a manifest, its secrets, and the changes to drive through it."""

    service: str
    manifest: Manifest
    env: dict[str, str] = field(default_factory=dict)
    updates: tuple[Change, ...] = ()
    replace: Change | None = None
    rotations: tuple[Rotation, ...] = ()
    export_vars: dict[str, str] = field(default_factory=dict)
    """The `${VAR}` export names per secret path: `<SERVICE>_<FIELD>` (openai: OPENAI_API_KEY)."""
    older: Case | None = None
    """The case to run on the older release instead, where this one's task type is missing."""

    def on(self, release: str) -> Case:
        return self.older if release == OLD and self.older is not None else self

    def named(self, inference_id: str) -> Manifest:
        manifest = copy.deepcopy(self.manifest)
        return {"inference_id": inference_id, **manifest}


BOTH_UPDATE = {NEW: "update", OLD: "update"}
BOTH_REPLACE = {NEW: "replace", OLD: "replace"}
UPDATE_NEW_ONLY = {NEW: "update", OLD: "replace"}
"""In place on 9.5 (per-service settings, chunking: PRs #147465, #149723), a replace on 9.1.7
(before 9.5 only task_settings and secrets update; an embedding endpoint's update resets
its chunking there, elastic/elasticsearch#139574)."""


def _rotate(*pairs: tuple[str, str], action: dict[str, str]) -> Rotation:
    return Rotation(tuple(v for v, _ in pairs), tuple(p for _, p in pairs), action)


CASES: dict[str, Case] = {
    case.service: case
    for case in (
        Case(
            "openai",
            {
                "task_type": "text_embedding",
                "service": "openai",
                "service_settings": {
                    "api_key": "${OPENAI_API_KEY}",
                    "model_id": "text-embedding-3-small",
                    "dimensions": 128,
                },
                "task_settings": {"user": "team-a"},
            },
            env={"OPENAI_API_KEY": "sk-services-e2e-openai-0001"},
            updates=(
                Change(
                    "task_settings.user",
                    setting("task_settings", "user", "team-b"),
                    UPDATE_NEW_ONLY,
                    "task_settings.user",
                ),
                Change(
                    "rate_limit (9.5, PR #147465)",
                    setting("service_settings", "rate_limit.requests_per_minute", 1200),
                    UPDATE_NEW_ONLY,
                    "service_settings.rate_limit.requests_per_minute",
                ),
            ),
            replace=Change(
                "dimensions",
                setting("service_settings", "dimensions", 256),
                BOTH_REPLACE,
                "service_settings.dimensions",
            ),
            rotations=(
                _rotate(("OPENAI_API_KEY", "service_settings.api_key"), action=UPDATE_NEW_ONLY),
            ),
            export_vars={"service_settings.api_key": "OPENAI_API_KEY"},
        ),
        Case(
            "elasticsearch",
            {
                "task_type": "rerank",
                "service": "elasticsearch",
                "service_settings": {
                    "model_id": ".rerank-v1",
                    "num_threads": 1,
                    "num_allocations": 1,
                },
                "task_settings": {"return_documents": True},
            },
            updates=(
                Change(
                    "num_allocations (PR #114457)",
                    setting("service_settings", "num_allocations", 2),
                    BOTH_UPDATE,
                    "service_settings.num_allocations",
                ),
                Change(
                    "task_settings.return_documents",
                    setting("task_settings", "return_documents", False),
                    BOTH_UPDATE,
                    "task_settings.return_documents",
                ),
            ),
            replace=Change(
                "num_threads ([num_threads] cannot be updated)",
                setting("service_settings", "num_threads", 2),
                BOTH_REPLACE,
                "service_settings.num_threads",
            ),
        ),
        Case(
            "elser",
            {
                "task_type": "sparse_embedding",
                "service": "elser",
                "service_settings": {"num_threads": 1, "num_allocations": 1},
            },
            updates=(
                Change(
                    "num_allocations (PR #114457: elasticsearch or elser; a sparse_embedding "
                    "endpoint has chunking, which _update resets before 9.2.6: #139574)",
                    setting("service_settings", "num_allocations", 2),
                    UPDATE_NEW_ONLY,
                    "service_settings.num_allocations",
                ),
            ),
            replace=Change(
                "num_threads",
                setting("service_settings", "num_threads", 2),
                BOTH_REPLACE,
                "service_settings.num_threads",
            ),
        ),
        Case(
            "elastic",
            {
                "task_type": "text_embedding",
                "service": "elastic",
                "service_settings": {"model_id": "jina-embeddings-v3"},
            },
            updates=(
                Change(
                    "chunking_settings (9.5, PR #149723)",
                    lambda m: m.__setitem__(
                        "chunking_settings",
                        {"strategy": "word", "max_chunk_size": 120, "overlap": 40},
                    ),
                    UPDATE_NEW_ONLY,
                    "chunking_settings.strategy",
                ),
            ),
            replace=Change(
                "model_id",
                setting("service_settings", "model_id", "jina-embeddings-v5-text-small"),
                BOTH_REPLACE,
                "service_settings.model_id",
            ),
            # EIS dense text embeddings come after 9.1 (elastic/elasticsearch transport version
            # ML_INFERENCE_ELASTIC_DENSE_TEXT_EMBEDDINGS_ADDED); an EIS chat endpoint has no
            # setting the 8.17-9.4 update API takes, so only the replace is driven there.
            older=Case(
                "elastic",
                {
                    "task_type": "chat_completion",
                    "service": "elastic",
                    "service_settings": {"model_id": "rainbow-sprinkles"},
                },
                replace=Change(
                    "rate_limit (not updatable before 9.5)",
                    setting("service_settings", "rate_limit.requests_per_minute", 100),
                    BOTH_REPLACE,
                    "service_settings.rate_limit.requests_per_minute",
                ),
            ),
        ),
        Case(
            "azureopenai",
            {
                "task_type": "completion",
                "service": "azureopenai",
                "service_settings": {
                    "api_key": "${AZURE_OPENAI_API_KEY}",
                    "resource_name": "my-resource",
                    "deployment_id": "gpt-4o-mini",
                    "api_version": "2024-10-21",
                },
                "task_settings": {"user": "team-a"},
            },
            env={"AZURE_OPENAI_API_KEY": "azure-services-e2e-key-0001"},
            updates=(
                Change(
                    "task_settings.user",
                    setting("task_settings", "user", "team-b"),
                    BOTH_UPDATE,
                    "task_settings.user",
                ),
                Change(
                    "rate_limit (9.5, updateCommonSettings)",
                    setting("service_settings", "rate_limit.requests_per_minute", 60),
                    UPDATE_NEW_ONLY,
                    "service_settings.rate_limit.requests_per_minute",
                ),
            ),
            replace=Change(
                "deployment_id",
                setting("service_settings", "deployment_id", "gpt-4o"),
                BOTH_REPLACE,
                "service_settings.deployment_id",
            ),
            rotations=(
                _rotate(("AZURE_OPENAI_API_KEY", "service_settings.api_key"), action=BOTH_UPDATE),
            ),
            export_vars={"service_settings.api_key": "AZUREOPENAI_API_KEY"},
        ),
        Case(
            "cohere",
            {
                "task_type": "rerank",
                "service": "cohere",
                "service_settings": {"api_key": "${COHERE_API_KEY}", "model_id": "rerank-v3.5"},
                "task_settings": {"top_n": 10, "return_documents": True},
            },
            env={"COHERE_API_KEY": "cohere-services-e2e-key-0001"},
            updates=(
                Change(
                    "task_settings.top_n",
                    setting("task_settings", "top_n", 5),
                    BOTH_UPDATE,
                    "task_settings.top_n",
                ),
                Change(
                    "rate_limit (9.5, CohereServiceSettings.updateServiceSettings)",
                    setting("service_settings", "rate_limit.requests_per_minute", 500),
                    UPDATE_NEW_ONLY,
                    "service_settings.rate_limit.requests_per_minute",
                ),
            ),
            replace=Change(
                "model_id",
                setting("service_settings", "model_id", "rerank-english-v3.0"),
                BOTH_REPLACE,
                "service_settings.model_id",
            ),
            rotations=(
                _rotate(("COHERE_API_KEY", "service_settings.api_key"), action=BOTH_UPDATE),
            ),
            export_vars={"service_settings.api_key": "COHERE_API_KEY"},
        ),
        Case(
            "amazonbedrock",
            {
                "task_type": "text_embedding",
                "service": "amazonbedrock",
                "service_settings": {
                    "access_key": "${AWS_ACCESS_KEY_ID}",
                    "secret_key": "${AWS_SECRET_ACCESS_KEY}",
                    "region": "us-east-1",
                    "provider": "amazontitan",
                    "model": "amazon.titan-embed-text-v2:0",
                },
                "chunking_settings": {"strategy": "word", "max_chunk_size": 200, "overlap": 50},
            },
            env={
                "AWS_ACCESS_KEY_ID": "AKIASERVICESE2E00001",
                "AWS_SECRET_ACCESS_KEY": "bedrock-services-e2e-secret-0001",
            },
            updates=(
                Change(
                    "chunking_settings (9.5, PR #149723)",
                    setting("chunking_settings", "max_chunk_size", 160),
                    UPDATE_NEW_ONLY,
                    "chunking_settings.max_chunk_size",
                ),
            ),
            replace=Change(
                "model",
                setting("service_settings", "model", "amazon.titan-embed-text-v1"),
                BOTH_REPLACE,
                "service_settings.model",
            ),
            rotations=(
                _rotate(
                    ("AWS_ACCESS_KEY_ID", "service_settings.access_key"),
                    ("AWS_SECRET_ACCESS_KEY", "service_settings.secret_key"),
                    action=UPDATE_NEW_ONLY,
                ),
            ),
            export_vars={
                "service_settings.access_key": "AMAZONBEDROCK_ACCESS_KEY",
                "service_settings.secret_key": "AMAZONBEDROCK_SECRET_KEY",
            },
        ),
        Case(
            "googlevertexai",
            {
                "task_type": "text_embedding",
                "service": "googlevertexai",
                "service_settings": {
                    "service_account_json": "${GOOGLE_SERVICE_ACCOUNT_JSON}",
                    "model_id": "text-embedding-005",
                    "location": "us-central1",
                    "project_id": "my-gcp-project",
                    "dimensions": 256,
                },
                "task_settings": {"auto_truncate": True},
            },
            env={
                "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(
                    {"type": "service_account", "private_key_id": "vertex-e2e-0001"}
                )
            },
            updates=(
                Change(
                    "task_settings.auto_truncate",
                    setting("task_settings", "auto_truncate", False),
                    UPDATE_NEW_ONLY,
                    "task_settings.auto_truncate",
                ),
                Change(
                    "max_batch_size (9.5, PR #140082)",
                    setting("service_settings", "max_batch_size", 100),
                    UPDATE_NEW_ONLY,
                    "service_settings.max_batch_size",
                ),
            ),
            replace=Change(
                "project_id",
                setting("service_settings", "project_id", "another-gcp-project"),
                BOTH_REPLACE,
                "service_settings.project_id",
            ),
            rotations=(
                _rotate(
                    ("GOOGLE_SERVICE_ACCOUNT_JSON", "service_settings.service_account_json"),
                    action=UPDATE_NEW_ONLY,
                ),
            ),
            export_vars={
                "service_settings.service_account_json": "GOOGLEVERTEXAI_SERVICE_ACCOUNT_JSON"
            },
        ),
    )
}
"""Every full-tier service (README "Tiers"), one case each."""

FULL_TIER = tuple(CASES)


def rotated(value: str) -> str:
    """A new secret of the same shape (vertex: still a JSON document)."""
    if value.startswith("{"):
        document = json.loads(value)
        document["private_key_id"] = document.get("private_key_id", "") + "-rotated"
        return json.dumps(document)
    return value + "-rotated"
