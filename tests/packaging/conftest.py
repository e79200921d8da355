"""The built wheel: given by `--wheel PATH` (CI builds it once), else built here once."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--wheel", default=None, help="a built wheel of this project to inspect")


@pytest.fixture(scope="session")
def wheel(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = request.config.getoption("--wheel")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out)]
    subprocess.run([*command, str(REPO)], check=True, timeout=300)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def wheel_files(wheel: Path) -> Iterator[dict[str, bytes]]:
    with zipfile.ZipFile(wheel) as archive:
        yield {name: archive.read(name) for name in archive.namelist()}
