"""Every full-tier service through the CLI against a sandbox process, on two releases.

Per service (the cases in `_services_support`): create (plan shows create, apply, then
`plan --detailed-exitcode` exits 0), each in-place change (an update on 9.5.0; on 9.1.7 only
what the 8.17–9.4 update API takes, and never an embedding endpoint, whose `_update` resets its
chunking there: elastic/elasticsearch#139574), a replace, the rotation of every secret shape
(plan names each rotated path as sensitive, the provider then accepts only the new secret and
the smoke test proves it is the one stored), export then plan with an empty state (only
`adopt`), and prune.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e._services_support import (
    CASES,
    FULL_TIER,
    RELEASES,
    Case,
    Change,
    LoggedSandbox,
    Manifest,
    enable_eis,
    logged_sandbox,
    rotated,
    write,
)
from tests.e2e.conftest import Cli, make_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=RELEASES)
def sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoggedSandbox]:
    release = str(request.param)
    with logged_sandbox(tmp_path_factory.mktemp(f"sandbox-{release}"), release) as process:
        enable_eis(process.url)
        yield process


@pytest.fixture
def release(sandbox: LoggedSandbox) -> str:
    return sandbox.release


class Run:
    """One service's lifecycle: its manifest folder, its state file, the CLI."""

    def __init__(self, cli: Cli, case: Case, inference_id: str, tmp_path: Path) -> None:
        self.cli, self.case, self.inference_id = cli, case, inference_id
        self.folder = tmp_path / "manifests"
        self.state = f"file:{tmp_path / 'state.json'}"
        self.manifest: Manifest = case.named(inference_id)

    @classmethod
    def of(
        cls,
        prefix: str,
        service: str,
        sandbox: LoggedSandbox,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
    ) -> Run:
        """`service`'s case on the sandbox's release, as `<prefix>-<service>-<release>`, with
        the case's secrets in the CLI's environment."""
        case = CASES[service].on(sandbox.release)
        inference_id = f"{prefix}-{service}-{sandbox.release.replace('.', '-')}"
        cli = make_cli(sandbox.url, capsys, tmp_path, **case.env)
        return cls(cli, case, inference_id, tmp_path)

    def flags(self, *more: str) -> list[str]:
        return ["--target", self.cli.url, "--state", self.state, *more]

    def write(self) -> None:
        write(self.folder, self.manifest)

    def plan(self, *more: str) -> dict[str, Any]:
        code, out, err = self.cli("plan", str(self.folder), "--format", "json", *self.flags(*more))
        assert code == 0, out + err
        return json.loads(out)

    def change(self, *more: str) -> dict[str, Any]:
        plan = self.plan(*more)
        changes = [c for c in plan["changes"] if c["inference_id"] == self.inference_id]
        assert len(changes) == 1, plan
        return changes[0]

    def apply(self, *more: str) -> None:
        code, out, err = self.cli("apply", str(self.folder), "--yes", *self.flags(*more))
        assert code == 0, out + err

    def in_sync(self, *more: str) -> None:
        code, out, err = self.cli(
            "plan", str(self.folder), "--detailed-exitcode", *self.flags(*more)
        )
        assert code == 0, f"plan after apply is not clean (exit {code}):\n{out}{err}"

    def live(self) -> httpx.Response:
        with self.cli.es() as es:
            return es.get(f"/_inference/{self.inference_id}")

    def smoke(self) -> None:
        code, out, err = self.cli("smoke", str(self.folder), "--target", self.cli.url)
        assert code == 0, out + err


def key_ring(service: str) -> str:
    """The sandbox's admin route for the keys `service`'s provider accepts."""
    return "/_sandbox/openai/keys" if service == "openai" else f"/_sandbox/keys/{service}"


def changed_paths(change: dict[str, Any]) -> set[str]:
    return {f["path"] for f in change["fields"]}


def drive(run: Run, step: Change, release: str) -> None:
    """One manifest change: plan chooses the expected action, apply makes it, plan is clean."""
    step.mutate(run.manifest)
    run.write()
    change = run.change()
    expected = step.action[release]
    assert change["action"] == expected, (step.what, change)
    assert step.path in changed_paths(change) | set(change.get("replace_paths") or []), (
        step.what,
        change,
    )
    run.apply()
    run.in_sync()


@pytest.mark.parametrize("service", FULL_TIER)
def test_service_lifecycle(
    service: str,
    sandbox: LoggedSandbox,
    release: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    run = Run.of("life", service, sandbox, capsys, tmp_path)
    case, cli, inference_id = run.case, run.cli, run.inference_id

    # create
    run.write()
    change = run.change()
    assert change["action"] == "create", change
    code, out, err = cli("plan", str(run.folder), "--detailed-exitcode", *run.flags())
    assert code == 2, out + err
    run.apply()
    run.in_sync()
    assert run.live().status_code == 200

    # in place, then a replace
    for step in case.updates:
        drive(run, step, release)
    assert case.replace is not None
    drive(run, case.replace, release)

    # every secret shape rotated: the provider accepts only the new secret from now on
    for rotation in case.rotations:
        new = {name: rotated(cli.env[name]) for name in rotation.variables}
        cli.env.update(new)
        change = run.change()
        assert change["action"] == rotation.action[release], change
        sensitive = {f["path"] for f in change["fields"] if f["sensitive"]}
        assert sensitive == changed_paths(change) == set(rotation.paths), change
        for f in change["fields"]:
            if f["sensitive"]:
                assert f["before"] in (None, "(sensitive)") and f["after"] == "(sensitive)", f
        with cli.es() as es:
            es.put(key_ring(service), json={"valid": sorted(new.values())}).raise_for_status()
        try:
            run.apply()
            run.in_sync()
            run.smoke()
        finally:
            with cli.es() as es:
                es.put(key_ring(service), json={"valid": None}).raise_for_status()

    # prune: the manifest is gone
    (run.folder / f"{inference_id}.yaml").unlink()
    change = run.change("--prune", "--allow-empty")
    assert change["action"] == "delete", change
    run.apply("--prune", "--allow-empty")
    assert run.live().status_code == 404
    run.in_sync("--prune", "--allow-empty")


@pytest.mark.parametrize("service", FULL_TIER)
def test_export_then_plan_with_an_empty_state_adopts(
    service: str,
    sandbox: LoggedSandbox,
    release: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Export the live endpoint, then plan the exported manifest with an EMPTY state: its one
    change is `adopt` (nothing to update or replace), each secret a `${<SERVICE>_<FIELD>}`."""
    run = Run.of("export", service, sandbox, capsys, tmp_path)
    case, cli, inference_id = run.case, run.cli, run.inference_id
    run.write()
    run.apply()

    # export, then plan the exported manifest with an empty state: adopt only
    exported = tmp_path / "exported"
    code, out, err = cli("export", "--out", str(exported), "--target", cli.url)
    assert code == 0, out + err
    document = yaml.safe_load((exported / f"{inference_id}.yaml").read_text())
    adopt_env = dict(cli.env)
    for path, var in case.export_vars.items():
        section, key = path.split(".")
        assert document[section][key] == f"${{{var}}}", document
        adopt_env[var] = cli.env[case.manifest[section][key][2:-1]]
    empty_state = f"file:{tmp_path / 'empty-state.json'}"
    adopter = make_cli(cli.url, capsys, tmp_path, **adopt_env)
    code, out, err = adopter(
        "plan",
        str(exported / f"{inference_id}.yaml"),
        "--format",
        "json",
        "--target",
        cli.url,
        "--state",
        empty_state,
    )
    assert code == 0, out + err
    actions = {c["inference_id"]: c["action"] for c in json.loads(out)["changes"]}
    assert actions == {inference_id: "adopt"}, out


SERVER_DEFAULTS = {
    "elasticsearch-rerank-return-documents": {
        "task_type": "rerank",
        "service": "elasticsearch",
        "service_settings": {"model_id": ".rerank-v1", "num_threads": 1, "num_allocations": 1},
    },
    "elastic-sparse-rate-limit": {
        "task_type": "sparse_embedding",
        "service": "elastic",
        "service_settings": {"model_id": "elser_model_2"},
    },
}
"""Manifests that leave a setting to the server where the core and the sandbox once disagreed
on what GET answers, each now a filled fact of the service's descriptor with its upstream
evidence: elasticsearch rerank echoes `return_documents: true`
(elastic/elasticsearch …/services/elasticsearch/CustomElandRerankTaskSettings.java,
defaultsFromMap), and EIS sparse_embedding echoes no rate limit
(ElasticInferenceServiceSparseEmbeddingsServiceSettings: RateLimitSettings.DISABLED_INSTANCE)."""


@pytest.mark.parametrize("name", list(SERVER_DEFAULTS))
def test_a_server_default_left_out_of_the_manifest_stays_in_sync(
    name: str,
    sandbox: LoggedSandbox,
    release: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    inference_id = f"{name}-{release.replace('.', '-')}"
    cli = make_cli(sandbox.url, capsys, tmp_path)
    folder = tmp_path / "manifests"
    write(folder, {"inference_id": inference_id, **SERVER_DEFAULTS[name]})
    state = f"file:{tmp_path / 'state.json'}"
    code, out, err = cli("apply", str(folder), "--yes", "--target", cli.url, "--state", state)
    assert code == 0, out + err
    code, out, err = cli(
        "plan", str(folder), "--detailed-exitcode", "--target", cli.url, "--state", state
    )
    assert code == 0, out + err
