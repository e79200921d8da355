"""What a user installs: our own distribution name, the licence text, the schemas, the command,
and nothing that points outside the repository it was built from."""

from __future__ import annotations

import re
from email.parser import Parser
from pathlib import Path

DISTRIBUTION = "es-inference-reconciler"


def metadata(wheel_files: dict[str, bytes]) -> dict[str, list[str]]:
    (name,) = [n for n in wheel_files if n.endswith(".dist-info/METADATA")]
    message = Parser().parsestr(wheel_files[name].decode())
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    return fields


def test_the_wheel_is_our_distribution(wheel: Path, wheel_files: dict[str, bytes]) -> None:
    assert wheel.name.startswith("es_inference_reconciler-")
    fields = metadata(wheel_files)
    assert fields["Name"] == [DISTRIBUTION]
    assert fields["License-Expression"] == ["Apache-2.0"]
    assert "License" not in fields  # the deprecated free-text field is not used
    urls = dict(value.split(", ", 1) for value in fields["Project-URL"])
    assert {"Homepage", "Source", "Issues"} <= urls.keys()
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in fields["Classifier"])
    assert fields["Requires-Python"] == [">=3.11"]


def test_the_wheel_ships_the_licence_text(wheel_files: dict[str, bytes]) -> None:
    licences = [n for n in wheel_files if re.search(r"\.dist-info/licenses/LICENSE$", n)]
    assert licences, sorted(wheel_files)
    text = wheel_files[licences[0]].decode()
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_the_wheel_has_the_command_and_the_schemas(wheel_files: dict[str, bytes]) -> None:
    (entry_points,) = [n for n in wheel_files if n.endswith(".dist-info/entry_points.txt")]
    assert "reconcile = reconciler.cli:main" in wheel_files[entry_points].decode()
    assert "reconciler/schemas/manifest.schema.json" in wheel_files
    assert "reconciler/py.typed" in wheel_files


def test_runtime_requirements_leave_out_the_test_oracle(wheel_files: dict[str, bytes]) -> None:
    requires = metadata(wheel_files)["Requires-Dist"]
    runtime = [r for r in requires if "extra ==" not in r]
    assert not any(r.startswith("deepdiff") for r in runtime)
    assert any(r.startswith("deepdiff") and 'extra == "test"' in r for r in requires)


OUTSIDE = re.compile(
    r"\.\./shared|shared/(reference|seeds|reviews|spec)|DESIGN\.md|§\s*\d"
    r"|\b(reference|ref\.?)\s+\d+(\.\d+)*\b|gitops-anchors|fidelity-audit|style-anchors"
    r"|elasticsearch-(inference-api|services)\.md|seeds/"
)
"""Pointers into documents that live beside our repository, never inside a clone of it."""


def test_nothing_in_the_wheel_points_outside_the_repository(
    wheel_files: dict[str, bytes],
) -> None:
    offenders = [
        name
        for name, data in wheel_files.items()
        if not name.endswith(".dist-info/RECORD")
        and OUTSIDE.search(data.decode("utf-8", "replace"))
    ]
    assert offenders == []


REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("README.md", "ARCHITECTURE.md", "LICENSE", "schemas", "examples", "reconciler", "bench")


def test_nothing_in_the_repository_points_outside_it() -> None:
    """The README, the docs, the schemas, the examples, the package and the benchmarks; a
    clone has none of the documents beside the repository that they once cited."""
    offenders = []
    for top in SHIPPED:
        root = REPO / top
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix in (".pyc", ".whl") or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [
                f"{path.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
                for m in OUTSIDE.finditer(text)
            ]
    assert offenders == []
