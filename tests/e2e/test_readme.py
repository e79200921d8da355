"""The README stays true: its manifest example validates, and every command it lists exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.cli import run

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_manifest_example_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    assert blocks
    for i, block in enumerate(blocks):
        (tmp_path / f"readme-{i}.yaml").write_text(block)
    assert run(["validate", str(tmp_path)]) == 0, capsys.readouterr().out


def test_every_command_in_the_readme_exists_with_its_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = re.findall(r"^\| `reconcile (\w+) ([^`]*)`", README, flags=re.M)
    assert {name for name, _ in rows} >= {"validate", "plan", "apply", "watch", "export"}
    for name, usage in rows:
        assert run([name, "--help"]) == 0
        text = capsys.readouterr().out
        for flag in re.findall(r"--[a-z][a-z-]+", usage):
            assert flag in text, f"`reconcile {name}` has no {flag}"
