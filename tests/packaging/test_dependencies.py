"""Honest dependencies: every third-party module the package imports is declared, and every
declared runtime dependency is imported by the package (the tests' oracle, deepdiff, lives in
the test extra)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "reconciler"


def imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def third_party(modules: set[str]) -> set[str]:
    return {m for m in modules if m not in sys.stdlib_module_names and m != "reconciler"}


def declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    groups = {"runtime": [Requirement(r) for r in project["dependencies"]]}
    for extra, requirements in project["optional-dependencies"].items():
        groups[extra] = [Requirement(r) for r in requirements]
    return groups


def normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_every_imported_third_party_module_is_a_declared_runtime_dependency() -> None:
    runtime = {normalized(r.name) for r in declared()["runtime"]}
    providers = packages_distributions()
    missing = {
        module: providers.get(module, ["?"])
        for module in third_party(imported_top_level_modules())
        if not runtime.intersection(normalized(d) for d in providers.get(module, [module]))
    }
    assert missing == {}


def test_every_declared_runtime_dependency_is_imported() -> None:
    providers = packages_distributions()
    imported = {
        normalized(dist)
        for module in third_party(imported_top_level_modules())
        for dist in providers.get(module, [module])
    }
    unused = [r.name for r in declared()["runtime"] if normalized(r.name) not in imported]
    assert unused == []


def test_click_is_not_imported_directly() -> None:
    # typer >= 0.26 bundles its own click: the package names typer's classes instead
    assert "click" not in imported_top_level_modules()


def test_the_diff_oracle_is_a_test_dependency_only() -> None:
    groups = declared()
    assert "deepdiff" not in {r.name for r in groups["runtime"]}
    assert "deepdiff" in {r.name for r in groups["test"]}
    assert "deepdiff" not in imported_top_level_modules()
