"""What each server command does, between the flags (cli.py) and the use cases (pipeline.py).

Each `run_*` takes a frozen command value and the environment, runs the use case in an event
loop, renders its result once, and returns the exit code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass

import typer

from reconciler.connect import Connection, open_ports
from reconciler.errors import ExitCode, ManifestError
from reconciler.pipeline import ManifestSet, PlanResult, compute_plan, load_manifests
from reconciler.planner import PlanOptions
from reconciler.render.diagnostics import as_text
from reconciler.render.plan_json import plan_to_dict


@dataclass(frozen=True, slots=True)
class PlanCommand:
    paths: list[str]
    connection: Connection
    options: PlanOptions
    output_format: str = "text"
    out: str | None = None
    detailed_exitcode: bool = False
    show_unchanged: bool = False
    colour: bool = False


def valid_manifests(paths: list[str]) -> ManifestSet:
    """The manifests, or a ManifestError after printing every problem (nothing is sent)."""
    manifests = load_manifests(paths)
    if not manifests.valid:
        text = as_text(
            manifests.diagnostics, documents=len(manifests.documents), files=manifests.files
        )
        typer.echo(text, nl=False, err=True)
        raise ManifestError(manifests.diagnostics)
    return manifests


def run_plan(command: PlanCommand, env: Mapping[str, str]) -> int:
    manifests = valid_manifests(command.paths)
    result = asyncio.run(_plan(command, manifests, env))
    typer.echo(render_plan(result, command), nl=False)
    if command.out:
        save_plan(command.out, result)
    if command.detailed_exitcode and result.plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


async def _plan(command: PlanCommand, manifests: ManifestSet, env: Mapping[str, str]) -> PlanResult:
    async with open_ports(command.connection, env) as ports:
        return await compute_plan(manifests, ports, command.options)


def render_plan(result: PlanResult, command: PlanCommand) -> str:
    model = plan_to_dict(result.plan)
    if command.output_format == "json":
        return json.dumps(model, indent=2) + "\n"
    if command.output_format == "markdown":
        from reconciler.render.plan_markdown import render

        return render(model)
    from reconciler.render.plan_text import render as render_text

    return render_text(model, colour=command.colour, show_unchanged=command.show_unchanged)


def save_plan(path: str, result: PlanResult) -> None:
    from reconciler import saved_plan

    nonce = saved_plan.new_nonce()
    saved = saved_plan.SavedPlan(
        plan=result.plan,
        nonce=nonce,
        manifests_digest=saved_plan.manifests_digest(result.desired, nonce),
        live_digest=saved_plan.live_digest(result.live, result.state.records),
    )
    saved_plan.write(path, saved)
