"""A canary in every secret path of every full-tier service, through every command.

Each secret path gets its own long, unique canary (`canary-<service>-<field>-<tail>`; the
Google service account is a JSON document holding its canary), and a second set rotates them
all. validate (text, json, github), plan (text, json, markdown; `--out` saved plan), apply of
the saved plan, the rotation (plan in every format, apply with a JUnit report and a job
summary), smoke, and export (folder and stdout) run against a sandbox process with
`RECONCILE_LOG=debug` and the sandbox at debug level. No canary, nor its base64, nor any 8+
character fragment of its unique tail, may appear in anything they print or log, the saved
plan, the state document, the exported files, the reports, what the sandbox's GET answers, or
the sandbox process's own output.

Secret paths (elastic/elasticsearch, `x-pack/plugin/inference/.../services/`):
`DefaultSecretSettings` (`api_key`: openai, cohere), `AzureOpenAiSecretSettings` (`api_key`,
`entra_id`; OAuth2 `client_secret`, one type per endpoint since PR #149628),
`AwsSecretSettings` (`access_key`, `secret_key`: amazonbedrock), `GoogleVertexAiSecretSettings`
(`service_account_json`). `elasticsearch`, `elser` and `elastic` have no secret: they run here
too, so a secret-free manifest beside the others changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FRAGMENT, windows
from tests.e2e._services_support import (
    NEW,
    LoggedSandbox,
    enable_eis,
    logged_sandbox,
    write,
)
from tests.e2e.conftest import make_cli

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Secret:
    """One secret path of one manifest and the variable that holds its canary."""

    inference_id: str
    service: str
    field: str
    variable: str

    def canary(self, generation: int) -> str:
        seed = f"{self.inference_id}.{self.field}.{generation}".encode()
        tail = base64.b32encode(hashlib.sha256(seed).digest()).decode().rstrip("=").lower()
        prefix = "sk-" if self.service == "openai" else ""
        return f"{prefix}canary-{self.service}-{self.field}-{tail}"

    def value(self, generation: int) -> str:
        """What the variable holds: the canary, or (vertex) a service account holding it."""
        canary = self.canary(generation)
        if self.field != "service_account_json":
            return canary
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "leak-project",
                "private_key_id": canary,
                "private_key": f"-----BEGIN PRIVATE KEY-----\n{canary}\n-----END-----\n",
            }
        )


def _manifest(
    inference_id: str, task_type: str, service: str, settings: dict[str, Any]
) -> dict[str, Any]:
    return {
        "inference_id": inference_id,
        "task_type": task_type,
        "service": service,
        "service_settings": settings,
    }


SECRETS = (
    Secret("leak-openai", "openai", "api_key", "CANARY_OPENAI_API_KEY"),
    Secret("leak-azure-key", "azureopenai", "api_key", "CANARY_AZURE_API_KEY"),
    Secret("leak-azure-entra", "azureopenai", "entra_id", "CANARY_AZURE_ENTRA_ID"),
    Secret("leak-azure-oauth", "azureopenai", "client_secret", "CANARY_AZURE_CLIENT_SECRET"),
    Secret("leak-cohere", "cohere", "api_key", "CANARY_COHERE_API_KEY"),
    Secret("leak-bedrock", "amazonbedrock", "access_key", "CANARY_AWS_ACCESS_KEY"),
    Secret("leak-bedrock", "amazonbedrock", "secret_key", "CANARY_AWS_SECRET_KEY"),
    Secret("leak-vertex", "googlevertexai", "service_account_json", "CANARY_VERTEX_JSON"),
)


def _ref(inference_id: str, field: str) -> str:
    (secret,) = [s for s in SECRETS if s.inference_id == inference_id and s.field == field]
    return f"${{{secret.variable}}}"


OAUTH = "leak-azure-oauth"
AZURE = {
    "resource_name": "leak-resource",
    "deployment_id": "gpt-4o-mini",
    "api_version": "2024-10-21",
}

MANIFESTS = (
    _manifest(
        "leak-openai",
        "text_embedding",
        "openai",
        {"api_key": _ref("leak-openai", "api_key"), "model_id": "text-embedding-3-small"},
    ),
    _manifest(
        "leak-azure-key",
        "completion",
        "azureopenai",
        {"api_key": _ref("leak-azure-key", "api_key"), **AZURE},
    ),
    _manifest(
        "leak-azure-entra",
        "completion",
        "azureopenai",
        {"entra_id": _ref("leak-azure-entra", "entra_id"), **AZURE},
    ),
    _manifest(
        "leak-azure-oauth",
        "completion",
        "azureopenai",
        {
            "client_secret": _ref("leak-azure-oauth", "client_secret"),
            "client_id": "leak-client",
            "tenant_id": "leak-tenant",
            "scopes": ["https://cognitiveservices.azure.com/.default"],
            **AZURE,
        },
    ),
    _manifest(
        "leak-cohere",
        "rerank",
        "cohere",
        {"api_key": _ref("leak-cohere", "api_key"), "model_id": "rerank-v3.5"},
    ),
    _manifest(
        "leak-bedrock",
        "text_embedding",
        "amazonbedrock",
        {
            "access_key": _ref("leak-bedrock", "access_key"),
            "secret_key": _ref("leak-bedrock", "secret_key"),
            "region": "us-east-1",
            "provider": "amazontitan",
            "model": "amazon.titan-embed-text-v2:0",
        },
    ),
    _manifest(
        "leak-vertex",
        "text_embedding",
        "googlevertexai",
        {
            "service_account_json": _ref("leak-vertex", "service_account_json"),
            "model_id": "text-embedding-005",
            "location": "us-central1",
            "project_id": "leak-project",
        },
    ),
    _manifest(
        "leak-elasticsearch",
        "rerank",
        "elasticsearch",
        {"model_id": ".rerank-v1", "num_threads": 1, "num_allocations": 1},
    )
    | {"task_settings": {"return_documents": True}},
    _manifest("leak-elastic", "chat_completion", "elastic", {"model_id": "rainbow-sprinkles"}),
)


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode().rstrip("=")


def fragments(secret: Secret, generation: int) -> set[str]:
    """Every 8-character piece reaching into the canary's unique tail (the `canary-<service>-`
    prefix alone names a service, which output legitimately does), the canary's base64 and,
    for a document, the whole value's base64."""
    canary = secret.canary(generation)
    tail_start = canary.rindex("-") + 1
    found = windows(canary, start=tail_start - FRAGMENT + 1) | windows(b64(canary))
    value = secret.value(generation)
    if value != canary:
        found |= windows(b64(value)) | {value}
    return found


FRAGMENTS = {f for s in SECRETS for g in (1, 2) for f in fragments(s, g)}


def leaks(text: str) -> list[str]:
    return sorted(f for f in FRAGMENTS if f in text)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedSandbox]:
    folder = tmp_path_factory.mktemp("leak-sandbox")
    with logged_sandbox(folder, NEW, "--log-level", "debug") as process:
        enable_eis(process.url)
        yield process


def test_no_canary_fragment_leaves_any_command(
    sandbox: LoggedSandbox,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    folder, oauth = tmp_path / "manifests", tmp_path / "oauth"
    for manifest in MANIFESTS:
        write(oauth if manifest["inference_id"] == OAUTH else folder, manifest)
    state_file = tmp_path / "state.json"
    saved = tmp_path / "saved.plan"
    junit = tmp_path / "junit.xml"
    summary = tmp_path / "summary.md"
    exported = tmp_path / "exported"
    env = {s.variable: s.value(1) for s in SECRETS}
    cli = make_cli(
        sandbox.url,
        capsys,
        tmp_path,
        RECONCILE_LOG="debug",
        GITHUB_STEP_SUMMARY=str(summary),
        **env,
    )
    target = ["--target", sandbox.url, "--state", f"file:{state_file}"]
    oauth_state, oauth_saved = tmp_path / "oauth-state.json", tmp_path / "oauth.plan"
    oauth_target = ["--target", sandbox.url, "--state", f"file:{oauth_state}"]
    files: dict[str, str] = {}

    def ok(*args: str, codes: tuple[int, ...] = (0,)) -> str:
        code, out, err = cli(*args)
        assert code in codes, f"{args}: exit {code}\n{out}{err}"
        return out + err

    for fmt in ("text", "json", "github"):
        ok("validate", str(folder), "--format", fmt)
    for fmt in ("text", "json", "markdown"):
        ok("plan", str(folder), "--format", fmt, *target)
    ok("plan", str(folder), "--out", str(saved), *target)
    saved_first = saved.read_text()
    ok("apply", "--plan", str(saved), "--yes", *target)
    ok("plan", str(folder), "--detailed-exitcode", *target)

    # every secret rotated to a second canary
    cli.env.update({s.variable: s.value(2) for s in SECRETS})
    for fmt in ("text", "json", "markdown"):
        out = ok("plan", str(folder), "--format", fmt, *target)
        assert "sensitive" in out, out
    ok("plan", str(folder), "--out", str(saved), *target)
    saved_second = saved.read_text()
    ok("apply", str(folder), "--yes", "--format", "json", "--junit", str(junit), *target)
    ok("plan", str(folder), "--detailed-exitcode", *target)
    ok("smoke", str(folder), "--target", sandbox.url, "--format", "json")
    # Azure OAuth2 (`client_secret`): the release that first takes it is not established
    # (elastic/elasticsearch-specification `AzureOpenAIServiceSettings` documents it on main;
    # `AzureOpenAiSecretSettings` of earlier releases knows only api_key and entra_id), so the
    # server may refuse it: refused or not, no fragment of it may leave.
    for generation in (1, 2):
        cli.env.update(
            {s.variable: s.value(generation) for s in SECRETS if s.inference_id == OAUTH}
        )
        for fmt in ("text", "json", "github"):
            ok("validate", str(oauth), "--format", fmt)
        for fmt in ("text", "json", "markdown"):
            ok("plan", str(oauth), "--format", fmt, *oauth_target)
        ok("plan", str(oauth), "--out", str(oauth_saved), *oauth_target)
        files[f"oauth saved plan {generation}"] = oauth_saved.read_text()
        ok("apply", str(oauth), "--yes", *oauth_target, codes=(0, 1))

    ok("export", "--out", str(exported), "--target", sandbox.url)
    ok("export", "--target", sandbox.url)

    with cli.es() as es:
        live = es.get("/_inference/_all").text
        rings = [es.get(f"/_sandbox/keys/{s.service}").text for s in SECRETS]
        rings.append(es.get("/_sandbox/openai/keys").text)

    files |= {
        "oauth state": oauth_state.read_text() if oauth_state.exists() else "",
        "saved plan (before rotation)": saved_first,
        "saved plan (rotation)": saved_second,
        "state": state_file.read_text(),
        "junit": junit.read_text(),
        "job summary": summary.read_text(),
        **{f"export {p.name}": p.read_text() for p in sorted(exported.iterdir())},
    }
    assert len(files) > 5 and any(p.startswith("export leak-") for p in files)
    seen = {
        "cli output": "\n".join(cli.transcript),
        "cli log": caplog.text,
        "GET _inference/_all": live,
        "key rings": "\n".join(rings),
        "sandbox process output": sandbox.output(),
        **files,
    }
    assert {name: leaks(text) for name, text in seen.items() if leaks(text)} == {}
    # the canaries did reach the server: every endpoint exists and answered its smoke test
    ids = {m["inference_id"] for m in MANIFESTS} - {OAUTH}
    assert {e["inference_id"] for e in json.loads(live)["endpoints"]} >= ids
