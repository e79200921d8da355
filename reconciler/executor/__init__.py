"""Run a plan against the server: phases, concurrency, one outcome per endpoint.

The plan is a value: this module never re-plans and branches on `change.action` alone
(Terraform `Context.Apply`). Phases run in the planner's order — additions and in-place
changes (create, adopt, update) together, then replaces, then deletes — so a run that stops
midway has removed as little as possible. Before them all, the changes that complete a
replace an earlier apply was stopped in (reason `interrupted-replace`: a create of the
endpoint it had deleted, or the state write it had missed) run on their own, so an endpoint
that run left missing is back before anything else is touched. Inside a phase, endpoints run
in parallel under one semaphore; one endpoint's failure never stops the others: every error
becomes a failed outcome carrying the sanitized message. Retries live in the client
(temporary errors of idempotent calls, and `put_endpoint_safely` for creates); there is no
second retry layer, and running apply again converges. The caller holds the state lock
around `execute`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from reconciler.errors import ReconcilerError
from reconciler.executor import steps
from reconciler.executor.steps import ApplySettings, StepContext, StepFailed, remove_stray_probes
from reconciler.model import Action, DesiredEndpoint, Plan, PlannedChange, Reason, StateRecord
from reconciler.services.registry import IN_CLUSTER

if TYPE_CHECKING:
    from reconciler.client import EsClient
    from reconciler.state import StateStore

__all__ = ["ApplyOutcome", "ApplySettings", "EndpointOutcome", "execute", "remove_stray_probes"]

OK, FAILED, BLOCKED, SKIPPED = "ok", "failed", "blocked", "skipped"
STARTED = "started"
"""A progress-only status: a long step began (never an endpoint's outcome)."""

PHASES: tuple[frozenset[Action], ...] = (
    frozenset({Action.CREATE, Action.ADOPT, Action.UPDATE}),
    frozenset({Action.REPLACE}),
    frozenset({Action.DELETE}),
)
"""Execution phases, in order (the planner's `ORDER`); each waits for the one before."""

RESUMED = PHASES[0]
"""The actions of a change that completes an interrupted replace (create, adopt): they run
in a batch of their own before the phases."""

Progress = Callable[["EndpointOutcome"], None]
Step = Callable[[StepContext, PlannedChange, DesiredEndpoint], Awaitable[str]]

STEPS: Mapping[Action, Step] = {
    Action.CREATE: steps.create,
    Action.UPDATE: steps.update,
    Action.REPLACE: steps.replace,
    Action.ADOPT: steps.adopt,
}
"""The step of each action that needs the manifest (delete does not)."""


@dataclass(frozen=True, slots=True)
class EndpointOutcome:
    """What happened to one endpoint: `status` is ok, failed, blocked or skipped."""

    inference_id: str
    task_type: str
    action: Action
    status: str
    message: str
    duration_ms: float


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """Every endpoint's outcome, in plan order."""

    outcomes: tuple[EndpointOutcome, ...]

    @property
    def ok(self) -> bool:
        """No endpoint failed and none was blocked."""
        return not any(item.status in (FAILED, BLOCKED) for item in self.outcomes)

    def with_status(self, status: str) -> tuple[EndpointOutcome, ...]:
        return tuple(item for item in self.outcomes if item.status == status)


async def execute(
    plan: Plan,
    *,
    desired: Mapping[str, DesiredEndpoint],
    client: EsClient,
    store: StateStore,
    salt: str,
    settings: ApplySettings,
    now: Callable[[], datetime],
    progress: Progress | None = None,
    records: Mapping[str, StateRecord] | None = None,
) -> ApplyOutcome:
    """Execute every change of the plan; the result says, per endpoint, what happened.

    `records` are the state records the plan was made from (a replace marks its record
    before the delete); without them the steps read the store when they need one."""
    runner = _Runner(
        StepContext(client, store, salt, settings, now, records),
        desired,
        asyncio.Semaphore(max(1, settings.concurrency)),
        progress or _ignore,
    )
    done = runner.settle_unexecuted(plan.changes)
    for batch in batches(plan.changes):
        done.update(await runner.run_batch(batch))
    return ApplyOutcome(tuple(done[index] for index in sorted(done)))


def batches(changes: Sequence[PlannedChange]) -> list[list[tuple[int, PlannedChange]]]:
    """(index, change) batches in the order they run: interrupted replaces first, then
    `PHASES`. The reason code orders here; what each change does still follows its action."""
    indexed = list(enumerate(changes))
    resumed = [(i, c) for i, c in indexed if _resumes(c)]
    rest = [(i, c) for i, c in indexed if not _resumes(c)]
    return [resumed] + [[(i, c) for i, c in rest if c.action in phase] for phase in PHASES]


def _resumes(change: PlannedChange) -> bool:
    return change.action in RESUMED and change.code is Reason.INTERRUPTED_REPLACE


class _Runner:
    """Runs changes under the semaphore and turns each into an outcome."""

    def __init__(
        self,
        ctx: StepContext,
        desired: Mapping[str, DesiredEndpoint],
        limit: asyncio.Semaphore,
        progress: Progress,
    ) -> None:
        self.ctx, self.desired, self.limit, self.progress = ctx, desired, limit, progress
        # one redaction mechanism: the client's, taught every secret of the manifests
        ctx.client.remember(*(s for d in desired.values() for s in d.resolved_secrets()))

    def settle_unexecuted(self, changes: Sequence[PlannedChange]) -> dict[int, EndpointOutcome]:
        """Blocked changes fail the apply (reported); no-ops are skipped (not reported)."""
        found: dict[int, EndpointOutcome] = {}
        for index, change in enumerate(changes):
            if change.action is Action.BLOCKED:
                found[index] = self.report(_outcome(change, BLOCKED, change.reason, 0.0))
            elif change.action is Action.NOOP:
                found[index] = _outcome(change, SKIPPED, change.reason, 0.0)
        return found

    async def run_batch(
        self, batch: Sequence[tuple[int, PlannedChange]]
    ) -> dict[int, EndpointOutcome]:
        """Every change of the batch, in parallel up to the concurrency limit."""
        if not batch:
            return {}
        async with asyncio.TaskGroup() as group:
            tasks = {i: group.create_task(self.run(change)) for i, change in batch}
        return {i: task.result() for i, task in tasks.items()}

    async def run(self, change: PlannedChange) -> EndpointOutcome:
        async with self.limit:
            self.announce(change)
            started = time.perf_counter()
            status, message = await self.attempt(change)
            elapsed = (time.perf_counter() - started) * 1000
        return self.report(_outcome(change, status, message, elapsed))

    async def attempt(self, change: PlannedChange) -> tuple[str, str]:
        """(status, message); errors the tool knows become failed outcomes, sanitized."""
        try:
            return OK, await self.step(change)
        except ReconcilerError as error:
            return FAILED, self.ctx.client.redact(str(error))

    async def step(self, change: PlannedChange) -> str:
        if change.action is Action.DELETE:
            return await steps.delete(self.ctx, change)
        desired = self.desired.get(change.inference_id)
        if desired is None:
            raise StepFailed(f"no manifest given for {change.inference_id}")
        return await STEPS[change.action](self.ctx, change, desired)

    def announce(self, change: PlannedChange) -> None:
        """Say a step that starts a model deployment has begun: it may take minutes."""
        desired = self.desired.get(change.inference_id)
        in_cluster = desired is not None and desired.body.get("service") in IN_CLUSTER
        if in_cluster and change.action in (Action.CREATE, Action.REPLACE):
            assert desired is not None
            timeout = steps.put_timeout(self.ctx.settings, desired)
            why = "starting a model deployment (the model may be downloaded first;"
            why += f" timeout {timeout})"
            self.progress(_outcome(change, STARTED, why, 0.0))

    def report(self, outcome: EndpointOutcome) -> EndpointOutcome:
        self.progress(outcome)
        return outcome


def _outcome(change: PlannedChange, status: str, message: str, ms: float) -> EndpointOutcome:
    return EndpointOutcome(
        inference_id=change.inference_id,
        task_type=change.task_type,
        action=change.action,
        status=status,
        message=message,
        duration_ms=round(ms, 3),
    )


def _ignore(_outcome: EndpointOutcome) -> None:
    return None
