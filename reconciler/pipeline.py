"""The use cases — validate, plan, apply, smoke — over injected ports; shared by CLI and watch.

This module wires the pure core to the edges (files, HTTP, state, environment, clock). It
decides nothing itself: the planner decides, the executor executes, the renderers render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.checks import check_documents
from reconciler.manifest import Document, desired_endpoint, parse
from reconciler.model import DesiredEndpoint, Diagnostic
from reconciler.sources import read_sources


@dataclass(frozen=True, slots=True)
class ManifestSet:
    """Everything read from the manifest paths, with every problem found in it."""

    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: int

    @property
    def valid(self) -> bool:
        return not self.diagnostics

    def desired(self) -> list[DesiredEndpoint]:
        """The endpoints declared; only meaningful when the set is valid."""
        return [desired_endpoint(document) for document in self.documents]


def load_manifests(paths: Sequence[str]) -> ManifestSet:
    """Read, parse and validate every manifest under `paths`; never raises for bad input."""
    read = read_sources(paths)
    documents: list[Document] = []
    problems: list[Diagnostic] = list(read.diagnostics)
    for source in read.files:
        parsed = parse(source)
        documents.extend(parsed.documents)
        problems.extend(parsed.diagnostics)
    problems.extend(check_documents(documents))
    return ManifestSet(tuple(documents), tuple(problems), len(read.files))
