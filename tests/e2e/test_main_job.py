"""The README's main job through the CLI against a sandbox process: validate every example,
apply an example of every fully supported service (`examples/*.yaml` for openai and
`examples/services/`, with the demo values of `examples/sandbox.env`, as the README's command
does), each smoke-tested, then a plan that finds the cluster in sync. Part of the `newest`
subset `.ci/run` also runs against the newest release of every dependency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import run
from reconciler.services.registry import MANAGED
from tests.e2e.conftest import Cli
from tests.fixtures.sandbox import start_sandbox_process

pytestmark = [pytest.mark.e2e, pytest.mark.newest]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def demo_env() -> dict[str, str]:
    """`examples/sandbox.env`: one NAME=value per line, as `env $(cat …)` reads it."""
    pairs = (line.split("=", 1) for line in (EXAMPLES / "sandbox.env").read_text().split())
    return dict(pairs)  # type: ignore[arg-type]


def demo_set() -> list[str]:
    return [str(p) for p in sorted(EXAMPLES.glob("*.yaml"))] + [str(EXAMPLES / "services")]


def test_the_demo_covers_every_fully_supported_service() -> None:
    services = {
        line.split(":", 1)[1].strip()
        for path in [*EXAMPLES.glob("*.yaml"), *(EXAMPLES / "services").glob("*.yaml")]
        for line in path.read_text().splitlines()
        if line.startswith("service:")
    }
    # `elser` is the deprecated alias of `elasticsearch` (elastic/elasticsearch PR #113216):
    # its example would only teach a deprecation warning
    assert services == set(MANAGED) - {"elser"}


@pytest.fixture
def eis_cli(cli: Cli) -> Iterator[Cli]:
    """The README's `reconcile sandbox --eis`: a cluster authorized for EIS (Elastic Cloud)."""
    with start_sandbox_process(extra_args=["--eis"]) as process:
        cli.env["ES_URL"] = process.url
        yield cli


def test_validate_apply_then_plan_in_sync(eis_cli: Cli) -> None:
    cli = eis_cli
    cli.env.update(demo_env())
    code, out, err = cli("validate", str(EXAMPLES))
    assert code == 0, out + err
    examples = demo_set()
    count = len(list(EXAMPLES.glob("*.yaml"))) + len(list((EXAMPLES / "services").glob("*.yaml")))
    code, out, err = cli("apply", *examples, "--yes", "--detailed-exitcode")
    assert code == 2, out + err  # created, and every smoke test passed
    assert f"Smoke tests: {count} of {count} passed." in out
    # in-cluster creates start a model deployment: said before they finish
    assert "… create elser-sparse: starting a model deployment" in out
    code, out, err = cli("plan", *examples, "--detailed-exitcode")
    assert code == 0, out + err
    assert "0 to create" in out and "0 blocked" in out


def test_the_readme_one_command_demo_runs_as_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's main-job line, word for word (its `env $(cat …)` and its globs done here),
    in process with `--sandbox`: every example applied and smoke-tested."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    prefix = "env $(cat examples/sandbox.env) reconcile "
    (line,) = [item for item in readme.splitlines() if item.startswith(prefix)]
    words = line.removeprefix(prefix).split()
    args: list[str] = []
    for word in words:
        matches = sorted(EXAMPLES.parent.glob(word)) if "*" in word else []
        args += [str(m) for m in matches] or [str(EXAMPLES.parent / word) if "/" in word else word]
    for name, value in demo_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ES_URL", raising=False)
    assert run(args) == 0
    out = capsys.readouterr().out
    count = len(list(EXAMPLES.glob("*.yaml"))) + len(list((EXAMPLES / "services").glob("*.yaml")))
    assert f"Smoke tests: {count} of {count} passed." in out
