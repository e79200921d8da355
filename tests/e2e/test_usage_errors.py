"""Every class of usage error on every command exits 1 with click's usage line and the token
named, never 3 ("internal error"): exit 2 means "changes present" to CI and 3 means a bug.

Runs in-process through `reconciler.cli.run` (the entry point's code path) and needs no server:
a usage error is found before anything is read. `.ci/run` runs this file against the pinned
dependencies and again against the newest releases (typer >= 0.26 bundles its own click)."""

from __future__ import annotations

import pytest

from reconciler.cli import run

pytestmark = pytest.mark.newest

COMMANDS = ("validate", "plan", "apply", "smoke", "unlock", "watch", "export", "schema", "sandbox")
WITH_PATHS = ("validate", "plan", "apply", "smoke", "watch")


def reconcile(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_usage_error(code: int, output: str, command: str | None, token: str) -> None:
    assert code == 1, output
    assert "internal error" not in output and "Traceback" not in output
    usage = f"Usage: reconcile {command}" if command else "Usage: reconcile"
    assert usage in output
    assert token in output


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option(capsys: pytest.CaptureFixture[str], command: str) -> None:
    args = [command, "x"] if command in WITH_PATHS else [command]
    code, output = reconcile(capsys, *args, "--bogus-option")
    assert_usage_error(code, output, command, "No such option: --bogus-option")


@pytest.mark.parametrize("command", WITH_PATHS)
def test_a_missing_path(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, output = reconcile(capsys, command)
    # apply may take its paths from a saved plan instead (--plan FILE)
    expected = "'PATH...': give the manifest paths" if command == "apply" else "Missing argument"
    assert_usage_error(code, output, command, expected)


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("validate", "--format", "bogus"),
        ("plan", "--format", "bogus"),
        ("apply", "--format", "bogus"),
        ("smoke", "--format", "bogus"),
        ("plan", "--key-rotation", "bogus"),
        ("apply", "--key-rotation", "bogus"),
        ("watch", "--key-rotation", "bogus"),
        ("apply", "--smoke", "bogus"),
        ("watch", "--smoke", "bogus"),
        ("plan", "--color", "bogus"),
        ("apply", "--color", "bogus"),
        ("schema", "--task-type", "sparse"),
        ("sandbox", "--es-version", "bogus"),
    ],
)
def test_a_value_not_among_the_choices(
    capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    args = [command, "x"] if command in WITH_PATHS else [command]
    code, output = reconcile(capsys, *args, option, value)
    assert_usage_error(code, output, command, f"Invalid value for '{option}'")
    assert value in output


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("apply", "--concurrency", "abc"),
        ("apply", "--concurrency", "0"),
        ("apply", "--concurrency", "100000"),
        ("watch", "--concurrency", "-1"),
        ("apply", "--lock-timeout", "abc"),
        ("apply", "--lock-timeout", "-5"),
        ("watch", "--interval", "0"),
        ("watch", "--interval", "soon"),
        ("sandbox", "--port", "abc"),
        ("sandbox", "--port", "-5"),
        ("sandbox", "--latency-ms", "-1"),
    ],
)
def test_a_number_of_the_wrong_form_or_range(
    capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    args = [command, "x"] if command in WITH_PATHS else [command]
    code, output = reconcile(capsys, *args, option, value)
    assert_usage_error(code, output, command, f"Invalid value for '{option}'")


@pytest.mark.parametrize("command", ("unlock", "export", "schema", "sandbox"))
def test_an_extra_argument(capsys: pytest.CaptureFixture[str], command: str) -> None:
    args = [command, "a", "b"] if command == "unlock" else [command, "surplus"]
    code, output = reconcile(capsys, *args)
    assert_usage_error(code, output, command, "Got unexpected extra argument")


@pytest.mark.parametrize("option", ["--format", "--state", "--target", "--lock-timeout"])
def test_an_option_without_its_value(capsys: pytest.CaptureFixture[str], option: str) -> None:
    code, output = reconcile(capsys, "apply", "x", option)
    assert_usage_error(code, output, "apply", f"Option '{option}' requires an argument")


def test_an_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = reconcile(capsys, "bogus")
    assert_usage_error(code, output, None, "No such command 'bogus'")


@pytest.mark.parametrize("flag", ["-V", "--bogus"])
def test_an_unknown_top_level_option(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    code, output = reconcile(capsys, flag)
    assert_usage_error(code, output, None, f"No such option: {flag}")


def test_reconcile_alone_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = reconcile(capsys)
    assert code == 1
    assert "Usage: reconcile" in output
    for command in COMMANDS:
        assert command in output


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_0(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, output = reconcile(capsys, command, "--help")
    assert code == 0
    assert f"Usage: reconcile {command}" in output
