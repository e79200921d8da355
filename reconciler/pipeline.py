"""The use cases — validate, plan, apply, smoke — over injected ports; shared by CLI and watch.

This module wires the pure core to the edges (files, HTTP, state, environment, clock). It
decides nothing itself: the planner decides, the executor executes, the renderers render.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from reconciler.advisories import Advisory, advisories_for
from reconciler.checks import check_documents
from reconciler.defaults import capabilities
from reconciler.errors import NotFoundError, UsageError
from reconciler.manifest import Document, desired_endpoint, parse, unmanaged_message
from reconciler.model import DesiredEndpoint, Diagnostic, InUse, LiveEndpoint, Location, Plan
from reconciler.planner import PlanOptions, needs_in_use, plan
from reconciler.render.advisories import advisory_line, wants_github
from reconciler.secrets import Secret, fingerprints, resolve
from reconciler.sources import Skipped, read_sources

if TYPE_CHECKING:
    from reconciler.client import EsClient
    from reconciler.executor import ApplyOutcome, ApplySettings, EndpointOutcome
    from reconciler.saved_plan import SavedPlan
    from reconciler.smoke import SmokeResult
    from reconciler.state import StateSnapshot, StateStore


@dataclass(frozen=True, slots=True)
class ManifestSet:
    """Everything read from the manifest paths, with every problem found in it."""

    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: int
    skipped: tuple[Skipped, ...] = ()  # what the walk left out, and why (notes, not problems)

    @property
    def valid(self) -> bool:
        """No error (a WARNING, such as a deprecated service, does not make a set invalid)."""
        return not any(d.severity == "error" for d in self.diagnostics)

    def desired(self) -> list[DesiredEndpoint]:
        """The endpoints declared; only meaningful when the set is valid."""
        self.require_managed()
        return [desired_endpoint(document) for document in self.documents]

    def require_managed(self) -> None:
        """A UsageError naming, at file:line:column, every document whose service `plan` and
        `apply` do not manage yet (validate accepts every service; see the registry)."""
        found = [message for message in map(unmanaged_message, self.documents) if message]
        if found:
            lines = "\n".join(f"  {message}" for message in found)
            raise UsageError(f"services validated but not yet managed by plan/apply:\n{lines}")


def load_manifests(paths: Sequence[str], *, allow_empty: bool = True) -> ManifestSet:
    """Read, parse and validate every manifest under `paths`; never raises for bad input.

    With `allow_empty=False` (what validate, plan, apply and watch pass unless --allow-empty)
    a set with no document at all is a problem, `manifest.empty-set`: planned with `--prune`,
    it would delete every owned endpoint.
    """
    read = read_sources(paths)
    documents: list[Document] = []
    problems: list[Diagnostic] = list(read.diagnostics)
    for source in read.files:
        parsed = parse(source)
        documents.extend(parsed.documents)
        problems.extend(parsed.diagnostics)
    problems.extend(check_documents(documents))
    if not documents and not problems and not allow_empty:
        problems.append(empty_set(paths, read.skipped))
    return ManifestSet(tuple(documents), tuple(problems), len(read.files), read.skipped)


def empty_set(paths: Sequence[str], skipped: Sequence[Skipped]) -> Diagnostic:
    """The refusal of a set with no document, naming the paths and how many files were skipped
    (a file that holds no document is already a `manifest.empty-file` problem)."""
    count = len(skipped)
    found = f"{count} file{'s' if count != 1 else ''} skipped" if count else "no .yaml/.yml file"
    message = (
        f"no manifest document in {', '.join(paths)} ({found}); an empty set is refused because, "
        "with --prune, it would delete every owned endpoint: pass --allow-empty if it is meant "
        "to be empty"
    )
    return Diagnostic(Location(paths[0] if paths else "."), "$", message, "manifest.empty-set")


# --- plan ---------------------------------------------------------------------------------------


def warn_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class WarnOnce:
    """Says each distinct warning once per run (watch re-plans every interval with the same
    ports: an advisory is repeated only when its text changes, e.g. the days left)."""

    def __init__(self, say: Callable[[str], None] = warn_on_stderr) -> None:
        self._say = say
        self._said: set[str] = set()

    def __call__(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self._say(message)


@dataclass(frozen=True, slots=True)
class Ports:
    """The edges a use case talks to, injected so that tests and watch can swap them.

    `warn` takes the advisories a plan gives (`reconciler.advisories`): on stderr by default,
    each once per run, like the plain-http warning."""

    client: EsClient
    store: StateStore
    env: Mapping[str, str]
    now: Callable[[], datetime]
    warn: Callable[[str], None] = field(default_factory=WarnOnce)


@dataclass(frozen=True, slots=True)
class PlanResult:
    """A plan and the facts it was computed from (the executor and saved plans need them)."""

    plan: Plan
    desired: tuple[DesiredEndpoint, ...]
    live: tuple[LiveEndpoint, ...]
    state: StateSnapshot
    fingerprints: Mapping[str, Mapping[str, str]]
    """Per inference_id, each secret's fingerprint by dotted path (`secrets.fingerprints`)."""
    advisories: tuple[Advisory, ...] = ()
    """Warnings that never fail the plan (`reconciler.advisories`), already given to
    `Ports.warn`."""


def resolve_keys(manifests: ManifestSet, env: Mapping[str, str]) -> list[DesiredEndpoint]:
    """Desired endpoints with every secret path resolved; every missing variable named at once,
    each at the file:line:column of its reference."""
    resolved, missing = [], []
    for document, desired in zip(manifests.documents, manifests.desired(), strict=True):
        secrets: dict[tuple[str, ...], Secret] = {}
        for path, ref in sorted(desired.secrets.items()):
            secret = ref if isinstance(ref, Secret) else resolve(ref, env)
            if secret is not None:
                secrets[path] = secret
            elif not isinstance(ref, Secret):
                where = document.source_map.locate(path)
                missing.append(f"  {where}: environment variable {ref.name} is not set or empty")
        if len(secrets) == len(desired.secrets):
            resolved.append(replace(desired, secrets=secrets))
    if missing:
        raise UsageError("cannot resolve API keys:\n" + "\n".join(missing))
    return resolved


async def compute_plan(manifests: ManifestSet, ports: Ports, options: PlanOptions) -> PlanResult:
    """Read the server and the state (a constant number of requests), then decide.

    Only replaces and deletes cost one more request each: the delete dry run that lists the
    indexes and pipelines using the endpoint.
    """
    return await plan_endpoints(resolve_keys(manifests, ports.env), ports, options)


async def plan_endpoints(
    desired: Sequence[DesiredEndpoint], ports: Ports, options: PlanOptions
) -> PlanResult:
    """`compute_plan` of endpoints whose secrets are resolved already (every path a `Secret`)."""
    ports.client.remember(*(secret for d in desired for secret in d.resolved_secrets()))
    info = await ports.client.info()
    live, services = await asyncio.gather(ports.client.list_endpoints(), ports.client.services())
    advisories = tuple(advisories_for(desired, live, services, ports.now().date()))
    github = wants_github(ports.env)
    for advisory in advisories:
        ports.warn(advisory_line(advisory, github=github))
    snapshot = await ports.store.read()
    fingerprints = _fingerprints(desired, snapshot.salt)
    caps = capabilities(info.label)
    decide = partial(
        plan,
        desired=desired,
        desired_fingerprints=fingerprints,
        live=live,
        state=list(snapshot.records.values()),
        capabilities=caps,
        options=options,
        created_at=ports.now().isoformat(timespec="seconds"),
    )
    first = decide(in_use={})
    in_use = await _in_use(ports.client, first, live)
    final = decide(in_use=in_use) if in_use else first
    return PlanResult(final, tuple(desired), tuple(live), snapshot, fingerprints, advisories)


def _fingerprints(
    desired: Sequence[DesiredEndpoint], salt: str | None
) -> dict[str, dict[str, str]]:
    """Salted fingerprints of every secret, per endpoint and dotted path; with no salt yet the
    store is empty and nothing compares."""
    if salt is None:
        return {}
    return {d.inference_id: fingerprints(d.secrets, salt) for d in desired}


async def _in_use(client: EsClient, first: Plan, live: Sequence[LiveEndpoint]) -> dict[str, InUse]:
    """Delete dry runs for the replace and delete candidates, under their live task type
    (a manifest that changes the task type must not ask under the new one: 400)."""
    ids = set(needs_in_use(first))
    task_types = {e.inference_id: e.task_type for e in live}
    targets = [(task_types[i], i) for i in sorted(ids) if i in task_types]
    answers = await asyncio.gather(*(_probe(client, *target) for target in targets))
    return {inference_id: used for (_, inference_id), used in zip(targets, answers, strict=True)}


async def _probe(client: EsClient, task_type: str, inference_id: str) -> InUse:
    try:
        return await client.in_use(task_type, inference_id)
    except NotFoundError:
        return InUse()


# --- apply --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What apply planned, what each endpoint's change did, and what the smoke tests saw."""

    plan: Plan
    outcome: ApplyOutcome
    smoke: tuple[SmokeResult, ...]

    @property
    def ok(self) -> bool:
        return self.outcome.ok and all(result.ok for result in self.smoke)


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    options: PlanOptions
    settings: ApplySettings
    saved: SavedPlan | None = None
    lock_timeout: float = 0.0
    smoke: str = "changed"  # changed | all | none
    confirm: Callable[[Plan], bool] = lambda plan: True
    progress: Callable[[EndpointOutcome], None] | None = None
    hold: Callable[[PlanResult, Plan], Plan] | None = None
    """Leaves changes out of the plan about to run, seeing what it was computed from (watch's
    back-off from changes the server keeps not taking); None runs the plan whole."""


async def apply_changes(manifests: ManifestSet, ports: Ports, request: ApplyRequest) -> ApplyReport:
    """Plan (or take the saved plan), execute it under the state lock, then smoke-test."""
    from reconciler.executor import execute, remove_stray_probes

    manifests.require_managed()  # before the lock: nothing is sent for such a set
    async with ports.store.lock(command="apply", timeout=request.lock_timeout):
        planned = await compute_plan(manifests, ports, request.options)
        # the probes on the server now, even with a saved plan: these are the ones removed
        chosen = replace(
            _chosen_plan(planned, request.saved), stray_probes=planned.plan.stray_probes
        )
        if request.hold is not None:
            chosen = request.hold(planned, chosen)
        if not request.confirm(chosen):
            raise UsageError("apply cancelled: nothing was changed")
        # holding the lock, no other apply runs: every probe was left by one that was stopped
        await remove_stray_probes(ports.client, planned.live)
        outcome = await execute(
            chosen,
            desired={d.inference_id: d for d in planned.desired},
            client=ports.client,
            store=ports.store,
            salt=planned.state.salt or await ports.store.salt(),  # read with the plan
            settings=request.settings,
            now=ports.now,
            progress=request.progress,
            records=planned.state.records,  # a replace marks its record before the delete
        )
    smoke = await _smoke(ports, planned, outcome, request)
    return ApplyReport(chosen, outcome, tuple(smoke))


def _chosen_plan(planned: PlanResult, saved: SavedPlan | None) -> Plan:
    """The plan to execute: computed now, or the saved one if its world has not moved on."""
    if saved is None:
        return planned.plan
    from reconciler import saved_plan

    if saved_plan.manifests_digest(planned.desired, saved.nonce) != saved.manifests_digest:
        raise UsageError("the saved plan is stale: the manifests or their keys changed since")
    live = saved_plan.live_digest(planned.live, planned.state.records)
    if live != saved.live_digest:
        raise UsageError("the saved plan is stale: the server or the state changed since")
    return saved.plan


async def _smoke(
    ports: Ports,
    planned: PlanResult,
    outcome: ApplyOutcome,
    request: ApplyRequest,
) -> list[SmokeResult]:
    if request.smoke == "none":
        return []
    changed = {o.inference_id for o in outcome.outcomes if o.status == "ok"}
    chosen = [d for d in planned.desired if request.smoke == "all" or d.inference_id in changed]
    return await smoke_endpoints(ports, chosen, concurrency=request.settings.concurrency)


async def smoke_endpoints(
    ports: Ports,
    desired: Sequence[DesiredEndpoint],
    *,
    concurrency: int = 4,
) -> list[SmokeResult]:
    """Run the smoke inference against each endpoint as it is now on the server."""
    from reconciler.smoke import smoke_test

    if not desired:
        return []
    live = {e.inference_id: e for e in await ports.client.list_endpoints()}
    pairs = [(d, live.get(d.inference_id)) for d in desired]
    return await smoke_test(ports.client, pairs, concurrency=concurrency)


async def smoke_manifests(manifests: ManifestSet, ports: Ports) -> list[SmokeResult]:
    """`reconcile smoke`: every declared endpoint, as it is on the server now."""
    desired = resolve_keys(manifests, ports.env)
    return await smoke_endpoints(ports, desired)
