"""Every install line in the repository installs this project, never a namesake.

`reconciler` and `reconcile` on the public package index are unrelated projects: a CI runner
that installed one of them would hold the cluster's and the providers' keys while running a
stranger's code. Each `pip install` found in the README, the examples, the benchmarks' README
and CI scripts must name our distribution (or this checkout); the workflows' requirement is
resolved by pip itself, with the repository URL pointed at this checkout."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTION = "es-inference-reconciler"
PROJECT_URL = "https://github.com/es-inference-reconciler/es-inference-reconciler"
WORKFLOWS = sorted((REPO / "examples" / "ci").rglob("*.yml"))
PLACES = [
    REPO / "README.md",
    REPO / "bench" / "README.md",
    REPO / ".ci" / "run",
    *sorted((REPO / "examples").rglob("*.md")),
    *WORKFLOWS,
    *sorted((REPO / "examples").rglob("*.gitlab-ci.yml")),
]
THIS_CHECKOUT = {".", "-e", "-e .", "'.[test]'", ".[test]", "dist/*.whl", '"$RECONCILER"'}
INSTALL = re.compile(r"pip install(?P<args>[^\n#`|&;]*)")


def install_lines() -> list[tuple[str, str]]:
    found = []
    for place in PLACES:
        if place.exists():
            for line in place.read_text().splitlines():
                if line.lstrip().startswith("#"):
                    continue  # a comment about installing, not an install
                for match in INSTALL.finditer(line):
                    found.append((place.relative_to(REPO).as_posix(), match["args"].strip()))
    return found


def targets(args: str) -> list[str]:
    """The requirements an install line names (options and their values left out)."""
    words, chosen, skip = shlex.split(args), [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("-c", "-r", "--constraint", "--wheel-dir", "-w"):
            skip = True
        elif not word.startswith("-"):
            chosen.append(word)
    return chosen


def test_there_are_install_lines_to_check() -> None:
    places = {place for place, _ in install_lines()}
    assert "README.md" in places
    assert any(place.endswith(".yml") for place in places)


@pytest.mark.parametrize(("place", "args"), install_lines(), ids=lambda v: str(v)[:60])
def test_each_install_line_names_this_project(place: str, args: str) -> None:
    for requirement in targets(args):
        ours = (
            requirement.startswith(".")
            or requirement in THIS_CHECKOUT
            or requirement.endswith(".whl")
            or requirement.startswith("$")
            or requirement == "pip"  # upgrading the installer itself
            or requirement.split("@")[0].strip().split("[")[0] == DISTRIBUTION
        )
        assert ours, f"{place}: `pip install {args}` does not install {DISTRIBUTION}"


def test_the_workflows_requirement_resolves_to_this_project(tmp_path: Path) -> None:
    requirements = set()
    for workflow in WORKFLOWS:
        env = (yaml.safe_load(workflow.read_text()) or {}).get("env") or {}
        if "RECONCILER" in env:
            requirements.add(env["RECONCILER"])
    (requirement,) = requirements  # one and the same in every workflow
    name, _, url = requirement.partition(" @ ")
    assert name == DISTRIBUTION and url.startswith(f"git+{PROJECT_URL}@")
    local = f"{DISTRIBUTION} @ file://{REPO}"  # the repository URL, pointed at this checkout
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--no-deps"]
    subprocess.run([*command, "--report", str(report), local], check=True, timeout=300)
    (item,) = json.loads(report.read_text())["install"]
    assert item["metadata"]["name"] == DISTRIBUTION
