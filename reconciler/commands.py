"""What each server command does, between the flags (cli.py) and the use cases (pipeline.py).

Each `run_*` takes a frozen command value and the environment, runs the use case in an event
loop, renders its result once, and returns the exit code.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import typer

from reconciler.connect import Connection, open_ports
from reconciler.errors import ExitCode, ManifestError, UsageError
from reconciler.model import Action, Plan
from reconciler.pipeline import ManifestSet, PlanResult, compute_plan, load_manifests
from reconciler.planner import PlanOptions
from reconciler.render.diagnostics import as_text, skipped_lines
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
    allow_empty: bool = False


def valid_manifests(paths: list[str], *, allow_empty: bool = False) -> ManifestSet:
    """The manifests, or a ManifestError after printing every problem (nothing is sent).

    A set with no document is such a problem unless `allow_empty`. The files the walk skipped
    are noted on stderr (`skipped: path (reason)`) either way.
    """
    manifests = load_manifests(paths, allow_empty=allow_empty)
    if not manifests.valid:
        text = as_text(
            manifests.diagnostics,
            documents=len(manifests.documents),
            files=manifests.files,
            skipped=manifests.skipped,
        )
        typer.echo(text, nl=False, err=True)
        raise ManifestError(manifests.diagnostics)
    if manifests.skipped:
        typer.echo("\n".join(skipped_lines(manifests.skipped)), err=True)
    return manifests


def run_plan(command: PlanCommand, env: Mapping[str, str]) -> int:
    manifests = valid_manifests(command.paths, allow_empty=command.allow_empty)
    result = asyncio.run(_plan(command, manifests, env))
    typer.echo(render_plan(result, command), nl=False, color=command.colour or None)
    _summarize_plan(result, env)
    if command.out:
        save_plan(command.out, result, command.paths)
    if command.detailed_exitcode and not result.plan.in_sync:
        return ExitCode.CHANGES
    return ExitCode.OK


async def _plan(command: PlanCommand, manifests: ManifestSet, env: Mapping[str, str]) -> PlanResult:
    async with open_ports(command.connection, env) as ports:
        return await compute_plan(manifests, ports, command.options)


def _summarize_plan(result: PlanResult, env: Mapping[str, str]) -> None:
    """The plan as markdown in the GitHub Actions job summary, when there is one."""
    from reconciler.ci_reports import STEP_SUMMARY, append_step_summary
    from reconciler.render.plan_markdown import render

    if env.get(STEP_SUMMARY):
        append_step_summary(env, render(plan_to_dict(result.plan)))


def render_plan(result: PlanResult, command: PlanCommand) -> str:
    model = plan_to_dict(result.plan)
    if command.output_format == "json":
        model = plan_to_dict(result.plan, result.advisories)
        return json.dumps(model, indent=2) + "\n"
    if command.output_format == "markdown":
        from reconciler.render.plan_markdown import render

        return render(model)
    from reconciler.render.plan_text import render as render_text

    return render_text(model, colour=command.colour, show_unchanged=command.show_unchanged)


def save_plan(path: str, result: PlanResult, paths: list[str]) -> None:
    from reconciler import saved_plan

    nonce = saved_plan.new_nonce()
    saved = saved_plan.SavedPlan(
        plan=result.plan,
        nonce=nonce,
        manifests_digest=saved_plan.manifests_digest(result.desired, nonce),
        live_digest=saved_plan.live_digest(result.live, result.state.records),
        paths=tuple(paths),
    )
    saved_plan.write(path, saved)


# --- apply ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplyCommand:
    paths: list[str]
    connection: Connection
    options: PlanOptions
    concurrency: int = 4
    plan_file: str | None = None
    lock_timeout: float = 0.0
    smoke: str = "changed"
    yes: bool = False
    interactive: bool = False
    output_format: str = "text"
    colour: bool = False
    allow_empty: bool = False
    junit: str | None = None
    detailed_exitcode: bool = False


def run_apply(command: ApplyCommand, env: Mapping[str, str]) -> int:
    from reconciler.render import apply_report

    saved = _saved(command.plan_file)
    paths = command.paths or (list(saved.paths) if saved is not None else [])
    if not paths:
        raise UsageError(
            f"the saved plan {command.plan_file} records no manifest paths: give them"
            if saved is not None
            else "apply needs the manifest paths (PATH...), or a saved plan (--plan FILE)"
        )
    manifests = valid_manifests(paths, allow_empty=command.allow_empty)
    report = asyncio.run(_apply(command, manifests, env, saved))
    model = apply_report.report_to_dict(report)
    if command.output_format == "json":
        typer.echo(apply_report.as_json(model), nl=False)
    elif command.output_format == "markdown":
        typer.echo(apply_report.as_markdown(model), nl=False)
    else:
        typer.echo(apply_report.as_text(model), nl=False, color=command.colour or None)
    _report_apply_to_ci(command, model, env)
    if not report.ok:
        return ExitCode.ERROR
    changed = any(result["status"] == "ok" for result in model["results"])
    return ExitCode.CHANGES if command.detailed_exitcode and changed else ExitCode.OK


def _report_apply_to_ci(command: ApplyCommand, model: Any, env: Mapping[str, str]) -> None:
    from reconciler.ci_reports import append_step_summary, write_apply_junit
    from reconciler.render import apply_report

    if command.junit:
        write_apply_junit(command.junit, model)
    append_step_summary(env, apply_report.as_markdown(model))


async def _apply(
    command: ApplyCommand, manifests: ManifestSet, env: Mapping[str, str], saved: Any
) -> Any:
    from reconciler.executor import ApplySettings
    from reconciler.pipeline import ApplyRequest, apply_changes

    progress = _Progress(command)
    request = ApplyRequest(
        options=command.options,
        settings=ApplySettings(
            owner=command.options.owner,
            concurrency=command.concurrency,
            allow_disruptive=command.options.allow_disruptive,
            commit=current_commit(env),
        ),
        saved=saved,
        lock_timeout=command.lock_timeout,
        smoke=command.smoke,
        confirm=partial(_confirm, command, progress),
        progress=progress,
    )
    async with open_ports(command.connection, env) as ports:
        return await apply_changes(manifests, ports, request)


def _saved(path: str | None) -> Any:
    if path is None:
        return None
    from reconciler import saved_plan

    return saved_plan.read(path)


def _confirm(command: ApplyCommand, progress: _Progress, plan: Plan) -> bool:
    """Show the plan; on a terminal, ask before anything destructive unless --yes."""
    from reconciler.render.plan_text import render

    progress.total = sum(1 for c in plan.changes if c.action is not Action.NOOP)
    model = plan_to_dict(plan)
    stream_err = command.output_format != "text"
    text = render(model, colour=command.colour)
    typer.echo(text, nl=False, err=stream_err, color=command.colour or None)
    destructive = [c for c in plan.changes if c.action in (Action.REPLACE, Action.DELETE)]
    if not destructive or command.yes or not command.interactive:
        return True
    names = ", ".join(f"{c.action.value} {c.inference_id}" for c in destructive)
    return typer.confirm(f"Apply destructive changes ({names})?", default=False)


class _Progress:
    """Plain progress lines as endpoints finish (stderr when stdout carries JSON)."""

    def __init__(self, command: ApplyCommand) -> None:
        self._err = command.output_format != "text"
        self._bar = command.interactive and command.output_format == "text"
        self._done = 0
        self.total = 0

    def __call__(self, outcome: Any) -> None:
        from reconciler.render.apply_report import outcome_to_dict, progress_line, started_line

        if outcome.status == "started":
            typer.echo(started_line(outcome_to_dict(outcome)), err=self._err)
            return
        self._done += 1
        total = max(self.total, self._done)
        line = progress_line(outcome_to_dict(outcome), self._done, total, bar=self._bar)
        typer.echo(line, err=self._err)


def current_commit(env: Mapping[str, str]) -> str | None:
    """The commit being applied: $GIT_COMMIT, $GITHUB_SHA, else `git rev-parse HEAD`."""
    for name in ("GIT_COMMIT", "GITHUB_SHA"):
        if env.get(name):
            return env[name]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


# --- smoke, unlock -----------------------------------------------------------------------------


def run_smoke(
    paths: list[str],
    connection: Connection,
    output_format: str,
    env: Mapping[str, str],
    junit: str | None = None,
) -> int:
    from reconciler.ci_reports import append_step_summary, write_smoke_junit
    from reconciler.pipeline import smoke_manifests
    from reconciler.render import apply_report

    manifests = valid_manifests(paths, allow_empty=True)  # reads only: nothing to prune

    async def smoke() -> list[Any]:
        async with open_ports(connection, env) as ports:
            return await smoke_manifests(manifests, ports)

    results = [apply_report.smoke_to_dict(r) for r in asyncio.run(smoke())]
    if output_format == "json":
        payload = {"format_version": 1, "ok": all(r["ok"] for r in results), "smoke": results}
        typer.echo(json.dumps(payload, indent=2))
    elif output_format == "github":
        origins = {d.inference_id: d.origin for d in manifests.desired()}
        typer.echo(apply_report.smoke_github(results, origins), nl=False)
    else:
        typer.echo("\n".join(apply_report.smoke_lines(results)) or "no endpoints to test")
    if junit:
        write_smoke_junit(junit, results)
    append_step_summary(env, apply_report.smoke_markdown(results))
    return ExitCode.OK if all(r["ok"] for r in results) else ExitCode.ERROR


def run_unlock(connection: Connection, lock_id: str, env: Mapping[str, str]) -> int:
    async def unlock() -> Any:
        async with open_ports(connection, env) as ports:
            return await ports.store.force_unlock(lock_id)

    removed = asyncio.run(unlock())
    if removed is None:
        typer.echo("no lock was held")
    else:
        typer.echo(f"removed the lock held by {removed.describe()}")
    return ExitCode.OK
