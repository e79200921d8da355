"""What kubectl, terraform and gh taught users to expect of a CLI: shell completion, colour
that follows NO_COLOR / FORCE_COLOR / TERM=dumb and `--color always` when piped, and a --help
that lists the environment variables each command reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import run, wants_colour
from tests.e2e.conftest import Cli, completion, write_manifest

pytestmark = pytest.mark.newest

ESC = "\x1b["


def reconcile_process(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed entry point as a shell would run it (stdout is a pipe, not a terminal)."""
    command = [sys.executable, "-m", "reconciler", *args]
    full = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=60)


def test_completion_script_for_bash() -> None:
    result = reconcile_process("--show-completion", "bash", env={})
    assert result.returncode == 0, result.stderr
    assert "_reconcile_completion" in result.stdout
    assert "complete " in result.stdout


def test_completion_of_commands_and_options() -> None:
    words = {
        "_RECONCILE_COMPLETE": "complete_bash",
        "COMP_WORDS": "reconcile pl",
        "COMP_CWORD": "1",
    }
    assert reconcile_process(env=words).stdout.split() == ["plan"]
    words = {**words, "COMP_WORDS": "reconcile apply --lock", "COMP_CWORD": "2"}
    assert "--lock-timeout" in reconcile_process(env=words).stdout.split()


@pytest.mark.parametrize(
    ("choice", "env", "tty", "expected"),
    [
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "0"}, False, False),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ],
)
def test_colour_conventions(choice: str, env: dict[str, str], tty: bool, expected: bool) -> None:
    assert wants_colour(choice, env, tty) is expected


@pytest.mark.e2e
def test_colour_reaches_a_pipe_when_forced(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_manifest(folder, "c", completion("c"))
    env = {k: v for k, v in cli.env.items() if k != "HOME"}
    plain = reconcile_process("plan", str(folder), env=env)
    assert plain.returncode == 0, plain.stderr
    assert ESC not in plain.stdout
    forced = reconcile_process("plan", str(folder), "--color", "always", env=env)
    assert ESC in forced.stdout
    by_env = reconcile_process("plan", str(folder), env={**env, "FORCE_COLOR": "1"})
    assert ESC in by_env.stdout
    dumb = reconcile_process("plan", str(folder), env={**env, "FORCE_COLOR": "", "TERM": "dumb"})
    assert ESC not in dumb.stdout


SERVER_VARIABLES = (
    "ES_URL",
    "ELASTICSEARCH_URL",
    "ELASTIC_CLOUD_ID",
    "ES_API_KEY",
    "ELASTICSEARCH_API_KEY",
    "ES_USERNAME",
    "ES_PASSWORD",
    "ELASTICSEARCH_USERNAME",
    "ELASTICSEARCH_PASSWORD",
    "ES_CA_CERT",
    "RECONCILE_OWNER",
    "RECONCILE_LOG",
)


@pytest.mark.parametrize("command", ["plan", "apply", "smoke", "unlock", "watch", "export"])
def test_help_lists_the_environment_variables(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert run([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # help is wrapped to the terminal
    for name in SERVER_VARIABLES:
        assert name in text, name
