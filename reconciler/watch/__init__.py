"""`reconcile watch`: the apply pipeline again on every manifest save and every `--interval`.

Nothing here decides or writes by itself: each cycle is `load_manifests` → `apply_changes`
(plan, execute, smoke the changed endpoints), exactly what `reconcile apply` runs.

* **Triggers.** `watchfiles.awatch` on the manifest folders (the parent folder of a file
  argument, so an editor's rename-over save is seen); a save is taken once the files have been
  quiet for `debounce_ms` (100 ms: notifications are looked at every 100 ms, so a save is
  handled 100-200 ms after its last write). A timer re-plans against live every `interval` s.
  Triggers that arrive during a cycle are merged into the next one; cycles never overlap.
* **Broken input changes nothing.** Any diagnostic (a half-written or emptied file, a YAML
  error, a schema error) is printed with the `validate` text renderer and the cycle stops
  before planning, so it can never plan a delete. So is a set left with no manifest document
  at all (every file removed or skipped: `manifest.empty-set`, the rule `apply` applies),
  unless `--allow-empty`. When a save makes manifests *disappear* and `--prune` is on, the
  watcher waits `SETTLE_S` and goes on only if the files are still the same (an editor that
  moves the old file aside before writing the new one). Files left out (hidden, not
  .yaml/.yml, not a regular file) are noted as `skipped:` lines whenever that list changes.
* **Drift.** With healing (the default) every cycle applies the whole plan, so an
  out-of-band change is undone within one interval. With `--no-heal` a change marked `drift`
  (live differs from what reconciler last applied, or was deleted outside it) is reported and
  left alone, unless the save being handled edited that endpoint's manifest; the other
  changes still apply (a saved plan, filtered: apply checks it is not stale).
* **One watcher per state store.** The watcher takes the state lock (the one apply takes) at
  start and holds it for its lifetime, renewing a short lease (`LEASE_S`, renewed every
  `RENEW_S`), rather than taking it per cycle: two writers with different manifests, a
  watcher and a CI apply or two watchers, would otherwise undo each other's work on every
  cycle. A second watcher or an apply waits `--lock-timeout`, then fails naming the holder
  (`… running `watch` …`). A killed watcher strands the lock for at most one lease;
  `reconcile unlock` clears it at once. A watcher that finds its lock gone stops (exit 1).
* **Back-off.** A change the server did not take (its read-back differed: state keeps a
  `not_taken` marker with a count, and the plan names it, reason `not-taken`) is not retried on
  every drift check: after the n-th failure the next try waits `interval × 2^(n-1)` from the
  last one, at most `BACKOFF_CAP_S`, per endpoint. A save that edits the endpoint's manifest
  retries it at once (so does any other change of what the plan asks for: it is then another
  change). Held changes are listed once per cycle that prints (`held back: …`).
* **Stopping.** Ctrl-C (or SIGTERM) cancels the cycle in flight, releases the lock and exits
  130. Server errors during a cycle are printed and the watcher carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.connect import Connection, open_ports
from reconciler.errors import ExitCode, ReconcilerError, UsageError
from reconciler.model import Action, Plan, PlannedChange, Reason, StateRecord
from reconciler.pipeline import ApplyRequest, ManifestSet, Ports, apply_changes, load_manifests
from reconciler.planner import PlanOptions
from reconciler.state import open_state_store
from reconciler.watch.files import DEBOUNCE_MS, Kind, Trigger, merge, settled, watch_files
from reconciler.watch.lines import (
    Log,
    Progress,
    change_lines,
    invalid_report,
    plan_summary,
    result_line,
    skipped_report,
)
from reconciler.watch.lock import LEASE_S, HeldLock, LockLostError, keep_lease

if TYPE_CHECKING:
    from reconciler.lock import Lease
    from reconciler.pipeline import ApplyReport, PlanResult
    from reconciler.saved_plan import SavedPlan

BACKOFF_CAP_S = 3600.0
"""The longest wait before a change the server keeps not taking is tried again (or the
interval, when that is longer)."""


@dataclass(frozen=True, slots=True)
class Held:
    """A change left out of this cycle: the server did not take it `count` times in a row."""

    change: PlannedChange
    count: int
    due: datetime


@dataclass(frozen=True, slots=True)
class WatchCommand:
    """What `reconcile watch` was asked to do (plain values; the CLI builds it)."""

    paths: list[str]
    connection: Connection
    options: PlanOptions = field(default_factory=PlanOptions)
    interval: float = 60.0
    heal: bool = True
    lock_timeout: float = 0.0
    concurrency: int = 4
    smoke: str = "changed"
    debounce_ms: int = DEBOUNCE_MS
    allow_empty: bool = False


def run_watch(command: WatchCommand, env: Mapping[str, str], log: Log | None = None) -> int:
    """Watch until interrupted: 130 on Ctrl-C/SIGTERM; a fatal error raises (exit 1)."""
    log = log or Log()
    _check_paths(command.paths)
    try:
        asyncio.run(watch(command, env, log))
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("stopped; the state lock was released")
        return ExitCode.INTERRUPTED
    return ExitCode.OK


async def watch(command: WatchCommand, env: Mapping[str, str], log: Log) -> None:
    """Hold the lock, run a first cycle, then one per save and per interval, forever."""
    _stop_on_sigterm()
    async with open_ports(command.connection, env) as base:
        store = open_state_store(command.connection.state, base.client, lease=LEASE_S)
        async with store.lock(command="watch", timeout=command.lock_timeout) as lease:
            held = HeldLock(store, lease)
            log(_banner(command, held, lease))
            watcher = Watcher(command, replace(base, store=held), log)
            try:
                await _serve(command, watcher, lease)
            except BaseExceptionGroup as group:
                raise _first_error(group) from None


async def _serve(command: WatchCommand, watcher: Watcher, lease: Lease) -> None:
    triggers: asyncio.Queue[Trigger] = asyncio.Queue()
    triggers.put_nowait(Trigger(Kind.START))
    async with asyncio.TaskGroup() as group:
        group.create_task(keep_lease(lease, watcher.log))
        group.create_task(watch_files(command.paths, triggers, command.debounce_ms))
        group.create_task(watcher.serve(triggers))


class Watcher:
    """Runs one cycle per trigger; remembers the last valid manifests to tell edits apart."""

    def __init__(self, command: WatchCommand, ports: Ports, log: Log) -> None:
        self.command, self.ports, self.log = command, ports, log
        self._seen: dict[str, object] | None = None
        self._invalid: str | None = None  # the problems last printed
        self._skipped: str | None = None  # the skipped-files notes last printed
        self._idle: str | None = None  # what the last drift check with nothing to do printed
        self._muted = False  # this cycle repeats the last idle check: print nothing
        self._left: tuple[PlannedChange, ...] = ()  # drift this cycle leaves alone (--no-heal)
        self._held: tuple[Held, ...] = ()  # changes this cycle backs off from
        self._edited: set[str] = set()  # ids whose manifest this cycle's save edited

    async def serve(self, triggers: asyncio.Queue[Trigger]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            try:
                timeout = max(0.0, deadline - loop.time())
                trigger = await asyncio.wait_for(triggers.get(), timeout)
            except TimeoutError:
                trigger = Trigger(Kind.CHECK)
            await self.cycle(merge(trigger, triggers))
            deadline = loop.time() + self.command.interval

    async def cycle(self, trigger: Trigger) -> None:
        """One validate → plan → apply → smoke pass; errors are printed, never fatal."""
        started = time.perf_counter()
        self._muted, self._left, self._held = False, (), ()
        if trigger.files:
            self.log(f"changed: {', '.join(trigger.files)}")
        try:
            await self._cycle(trigger, started)
        except LockLostError:
            raise
        except ReconcilerError as error:
            self.log(
                f"error: {error}\nnothing more was changed; retrying on the next save or check"
            )

    async def _cycle(self, trigger: Trigger, started: float) -> None:
        manifests = load_manifests(self.command.paths, allow_empty=self.command.allow_empty)
        if not manifests.valid:
            problems = invalid_report(manifests)  # with the skipped-files notes
            if trigger.kind is not Kind.CHECK or problems != self._invalid:
                self.log(problems)  # a drift check does not repeat the same problems
            self._invalid, self._skipped = problems, None
            return
        self._invalid = None
        notes = skipped_report(manifests)
        if notes and notes != self._skipped:
            self.log(notes)  # once, and again when the list changes
        self._skipped = notes
        edited, vanished = self._edits(manifests)
        pruning = vanished and self.command.options.prune and trigger.kind is Kind.SAVE
        if pruning and not await settled(self.command.paths):
            self.log("files still changing; waiting for the next save")
            return
        self._seen = signatures(manifests)
        self._edited = edited
        heal = self.command.heal
        report = await self._apply(trigger, manifests, None if heal else edited)
        summary = result_line(report, time.perf_counter() - started) if report else ""
        if summary:
            self.say(summary)

    def _edits(self, manifests: ManifestSet) -> tuple[set[str], set[str]]:
        """Ids whose manifest changed since the last valid load, and ids that disappeared."""
        now = signatures(manifests)
        if self._seen is None:
            return set(), set()
        edited = {i for i in now.keys() | self._seen.keys() if now.get(i) != self._seen.get(i)}
        return edited, self._seen.keys() - now.keys()

    async def _apply(
        self, trigger: Trigger, manifests: ManifestSet, edited: set[str] | None
    ) -> ApplyReport | None:
        """The apply use case; with `edited` (no-heal), drift elsewhere is left alone."""
        saved = None
        if edited is not None:
            saved = await self._without_drift(trigger, manifests, edited)
            if saved is None:
                return None
        request = self._request(trigger, saved)
        return await apply_changes(manifests, self.ports, request)

    async def _without_drift(
        self, trigger: Trigger, manifests: ManifestSet, edited: set[str]
    ) -> SavedPlan | None:
        from reconciler import saved_plan
        from reconciler.pipeline import compute_plan

        planned = await compute_plan(manifests, self.ports, self.command.options)
        kept, self._left = split_drift(planned.plan, edited)
        if not kept.has_changes:
            self.announce(trigger, kept)
            return None
        nonce = saved_plan.new_nonce()
        return saved_plan.SavedPlan(
            plan=kept,
            nonce=nonce,
            manifests_digest=saved_plan.manifests_digest(planned.desired, nonce),
            live_digest=saved_plan.live_digest(planned.live, planned.state.records),
        )

    def announce(self, trigger: Trigger, plan: Plan) -> None:
        """The plan summary, one line per change and per drift left alone; a drift check
        with nothing to do that repeats the last one prints nothing (nor its results)."""
        aside = self._left or self._held
        head = "nothing to apply" if aside and not plan.has_changes else plan_summary(plan)
        lines = [f"{trigger.kind}: {head}", *change_lines(plan)]
        lines += [
            f"  drift left alone (--no-heal): {c.inference_id}: {c.reason}" for c in self._left
        ]
        lines += [held_line(item) for item in self._held]
        text = "\n".join(lines)
        idle = trigger.kind is Kind.CHECK and not plan.has_changes
        self._muted = idle and text == self._idle
        self._idle = text if idle else None
        self.say(text)

    def say(self, text: str) -> None:
        if not self._muted:
            self.log(text)

    def _request(self, trigger: Trigger, saved: SavedPlan | None) -> ApplyRequest:
        from reconciler.executor import ApplySettings

        progress = Progress(self.say)

        def confirm(plan: Plan) -> bool:
            self.announce(trigger, plan)
            progress.total = sum(1 for c in plan.changes if c.action is not Action.NOOP)
            return True

        settings = ApplySettings(
            owner=self.command.options.owner,
            concurrency=self.command.concurrency,
            allow_disruptive=self.command.options.allow_disruptive,
            commit=None,  # local edits, not a commit: state records no commit for them
        )
        return ApplyRequest(
            options=self.command.options,
            settings=settings,
            saved=saved,
            smoke=self.command.smoke,
            confirm=confirm,
            progress=progress,
            hold=self.hold,
        )

    def hold(self, planned: PlanResult, plan: Plan) -> Plan:
        """The plan without the changes this cycle backs off from (`backed_off`)."""
        kept, self._held = backed_off(
            plan,
            planned.state.records,
            now=self.ports.now(),
            interval=self.command.interval,
            edited=self._edited,
        )
        return replace(plan, changes=kept)


def _banner(command: WatchCommand, held: HeldLock, lease: Lease) -> str:
    mode = "heal" if command.heal else "report only (--no-heal)"
    prune = ", prune" if command.options.prune else ""
    return (
        f"watching {' '.join(command.paths)}; drift check every {command.interval:g} s: {mode}"
        f"{prune}; holding the state lock of {held.name} (lock id {lease.info.id}); "
        "Ctrl-C stops"
    )


# --- pure helpers -------------------------------------------------------------------------


def signatures(manifests: ManifestSet) -> dict[str, object]:
    """Per id, what the manifest asks for (not where it sits in the file)."""
    return {
        d.inference_id: (
            d.task_type,
            d.body,
            sorted((p, str(r)) for p, r in d.secrets.items()),
            d.options,
        )
        for d in manifests.desired()
    }


def backoff_delay(count: int, interval: float) -> float:
    """Seconds from the last failure to the next try: the interval, doubled per failure after
    the first, capped at `BACKOFF_CAP_S` (or the interval, if longer)."""
    return min(max(BACKOFF_CAP_S, interval), interval * 2 ** max(0, count - 1))


def backed_off(
    plan: Plan,
    records: Mapping[str, StateRecord],
    *,
    now: datetime,
    interval: float,
    edited: set[str],
) -> tuple[tuple[PlannedChange, ...], tuple[Held, ...]]:
    """(the changes to run, those held back): a change the server did not take before (reason
    `not-taken`) waits `backoff_delay` from its last failure, unless its manifest was edited."""
    kept: list[PlannedChange] = []
    held: list[Held] = []
    for change in plan.changes:
        record = records.get(change.inference_id)
        failed = record.not_taken if record is not None else None
        due = _due(failed.at, backoff_delay(failed.count, interval)) if failed else None
        waiting = change.code is Reason.NOT_TAKEN and change.inference_id not in edited
        if failed is not None and due is not None and waiting and now < due:
            held.append(Held(change, failed.count, due))
        else:
            kept.append(change)
    return tuple(kept), tuple(held)


def held_line(item: Held) -> str:
    times = "once" if item.count == 1 else f"{item.count} times"
    return (
        f"  held back: {item.change.inference_id}: not taken by the server {times}; next try"
        f" at {item.due.isoformat(timespec='seconds')} or on a save of its manifest"
    )


def _due(at: str, delay: float) -> datetime | None:
    try:
        return datetime.fromisoformat(at) + timedelta(seconds=delay)
    except ValueError:
        return None


def split_drift(plan: Plan, edited: set[str]) -> tuple[Plan, tuple[PlannedChange, ...]]:
    """(the plan without drift on endpoints not edited, the drifted changes left out)."""
    left = tuple(c for c in plan.changes if c.drift and c.inference_id not in edited)
    kept = tuple(c for c in plan.changes if c not in left)
    return replace(plan, changes=kept), left


def _check_paths(paths: Sequence[str]) -> None:
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise UsageError(f"cannot watch {', '.join(missing)}: no such file or directory")


# --- the edges: files, lease, signals ----------------------------------------------------


def _stop_on_sigterm() -> None:
    """SIGTERM stops the watcher like Ctrl-C (main thread only; elsewhere nothing to do)."""
    task = asyncio.current_task()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def _first_error(group: BaseExceptionGroup) -> BaseException:  # type: ignore[type-arg]
    """The error to report from a task group: ours first, then anything else."""
    flat: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        item = stack.pop()
        if isinstance(item, BaseExceptionGroup):
            stack.extend(item.exceptions)
        else:
            flat.append(item)
    for kind in (LockLostError, ReconcilerError, KeyboardInterrupt, Exception):
        found = next((e for e in flat if isinstance(e, kind)), None)
        if found is not None:
            return found
    return flat[0]
