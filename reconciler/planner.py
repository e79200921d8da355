"""Decide what apply must do for each endpoint: a pure function of desired, live, state, server.

`plan()` pairs manifests, live endpoints and state records by inference_id and runs one
decision cascade per id (kopf `detect_changing_cause` style: ordered early returns, one comment
per branch). Reasons explain, actions decide: the executor branches on `Action` alone.

Execution order (`ORDER`): create, adopt, update, replace, delete, then blocked and no-op (which
the executor skips; listed last for review); ties break on inference_id. Additions come before
anything destructive, and prunes come last (Argo CD `PruneLast`, `kubectl apply --prune`), so a
run that stops midway has removed as little as possible.

In-use facts come from `DELETE …?dry_run=true`. Run that only for the ids `needs_in_use(plan)`
names, then plan again with the answers: requests grow with the destructive changes, not with
the number of endpoints.

Live endpoints that no manifest declares and that state does not own are not ours: they get no
planned change at all (preconfigured `.…` endpoints included). Probe endpoints a stopped apply
left behind are listed apart (`Plan.stray_probes`): apply removes them under the state lock.

State records what the manifest says, not only what the server holds: a changed `reconcile:`
option that state records (`RECORDED_OPTIONS`) is a state write even when the server needs
none, and a replace an apply was stopped in (`StateRecord.pending`) is named and completed
first: re-created when the stop fell between its delete and its create, only recorded when the
new configuration had already reached the server.

What `_update` does differs per release (`defaults.UPDATE_FACTS`, read through `Capabilities`):
where it would reset an endpoint's chunking settings (elastic/elasticsearch#139574), a change
it could make is a replace instead, unless the user chose the update (`key_rotation: update`:
an update with a warning); in use and without consent, neither is free and the plan says what
each costs. A reset state records (`StateRecord.chunking_reset`) is shown, not acted on, so the
plan after that update is in sync. Where `_update` stores a key untried, the reason says the new
key is proven on a probe first. A change the server did not take before
(`StateRecord.not_taken`, matched by `diff.intent_digest`) is offered again, saying so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.defaults import (
    CHUNKING_RESET_ISSUE,
    UNVALIDATED_UPDATE_ISSUE,
    first_fixed,
    in_place,
    incompatible_paths,
    replace_paths,
    unsupported,
    update_note,
    update_resets_chunking,
)
from reconciler.diff import (
    API_KEY_PATH,
    Comparison,
    compare_endpoint,
    create_fields,
    intent_digest,
    normalize_desired,
    normalize_live,
    request_body,
    secret_changes,
    secret_label,
)
from reconciler.model import (
    JSON,
    PROBE_PREFIX,
    Action,
    Capabilities,
    ChunkingReset,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    InUse,
    KeyRotation,
    LiveEndpoint,
    NotTaken,
    Options,
    Plan,
    PlannedChange,
    Reason,
    StateRecord,
)
from reconciler.services.registry import MANAGED

ORDER: tuple[Action, ...] = (
    Action.CREATE,
    Action.ADOPT,
    Action.UPDATE,
    Action.REPLACE,
    Action.DELETE,
    Action.BLOCKED,
    Action.NOOP,
)
"""Execution order of actions (module docstring); ties break on inference_id."""

BREAKING_PATHS: frozenset[str] = frozenset(
    {
        "task_type",
        "service",
        "service_settings.model_id",
        "service_settings.dimensions",
        "service_settings.similarity",
        "service_settings.embedding_type",
    }
)
"""Replacing these under a `semantic_text` field breaks it: the stored vectors no longer match
(the mapping keeps task type, dimensions and similarity; another model means other vectors)."""

KEY_CHANGE = FieldChange(path=API_KEY_PATH, sensitive=True)
"""The api_key differs from the one last applied, rendered as "service_settings.api_key:
(sensitive) changed": what `diff.secret_changes` gives for that path (one per changed secret
path)."""

DRIFT = "changed outside reconciler"

RECORDED_OPTIONS: tuple[str, ...] = ("protect",)
"""The `reconcile:` options (`Options` fields) the state record keeps under the same name:
prune reads `protect` once the manifest is gone. The others (`key_rotation`, `smoke`,
`smoke_input`) are read from the manifest only while it exists, so state does not keep them."""

STOPPED = "apply was stopped between delete and create"


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Run-wide choices: whose state this is, and which risks the user accepted."""

    owner: str = "reconciler"
    prune: bool = False
    allow_disruptive: bool = False
    key_rotation: KeyRotation | None = None  # overrides every manifest's `key_rotation`


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything known about one inference_id."""

    inference_id: str
    desired: DesiredEndpoint | None
    live: LiveEndpoint | None
    record: StateRecord | None
    fingerprints: Mapping[str, str] | None
    """The manifest's secrets' fingerprints by dotted path; None: nothing to compare (no salt)."""
    in_use: InUse


def plan(
    *,
    desired: Sequence[DesiredEndpoint],
    desired_fingerprints: Mapping[str, Mapping[str, str]],
    live: Sequence[LiveEndpoint],
    state: Sequence[StateRecord],
    capabilities: Capabilities,
    in_use: Mapping[str, InUse],
    options: PlanOptions,
    created_at: str,
) -> Plan:
    """One planned change per endpoint that is declared or owned, in execution order.

    `desired_fingerprints` holds, per inference_id, the fingerprint of each of its secrets by
    dotted path (`pipeline`); an id missing from it compares no secret."""
    facts = gather(desired, desired_fingerprints, live, state, in_use)
    decided = (decide(item, caps=capabilities, options=options) for item in facts)
    changes = sorted((change for change in decided if change is not None), key=order_key)
    return Plan(
        tuple(changes),
        server_version=capabilities.version,
        created_at=created_at,
        stray_probes=stray_probes(live),
    )


def stray_probes(live: Iterable[LiveEndpoint]) -> tuple[str, ...]:
    """The probe endpoints on the server, sorted: no apply leaves one behind unless stopped."""
    return tuple(sorted(e.inference_id for e in live if e.inference_id.startswith(PROBE_PREFIX)))


def gather(
    desired: Iterable[DesiredEndpoint],
    fingerprints: Mapping[str, Mapping[str, str]],
    live: Iterable[LiveEndpoint],
    state: Iterable[StateRecord],
    in_use: Mapping[str, InUse],
) -> list[Facts]:
    """Pair the three sources by inference_id (manifests are unique per id: validated before)."""
    wanted = {item.inference_id: item for item in desired}
    records = {item.inference_id: item for item in state}
    found = {item.inference_id: item for item in live}
    ids = sorted(wanted.keys() | records.keys())
    return [
        Facts(
            id_,
            wanted.get(id_),
            found.get(id_),
            records.get(id_),
            fingerprints.get(id_),
            in_use.get(id_, InUse()),
        )
        for id_ in ids
    ]


def order_key(change: PlannedChange) -> tuple[int, bool, str]:
    """`ORDER`, and within an action what completes an interrupted replace first."""
    resumes = change.code is Reason.INTERRUPTED_REPLACE
    return ORDER.index(change.action), not resumes, change.inference_id


def needs_in_use(plan: Plan) -> tuple[str, ...]:
    """The ids whose replace or delete needs a `DELETE ?dry_run=true` before planning again."""
    destructive = (Action.REPLACE, Action.DELETE)
    return tuple(change.inference_id for change in plan.changes if change.action in destructive)


# --- the cascade ------------------------------------------------------------------------------


def decide(facts: Facts, *, caps: Capabilities, options: PlanOptions) -> PlannedChange | None:
    """The decision for one id: the first rule that applies wins."""
    desired, record = facts.desired, facts.record
    # no manifest declares it: only our own state record can lead anywhere (prune)
    if desired is None:
        return decide_orphan(facts, options=options)
    # another owner's state record: never fight over an endpoint
    if record is not None and record.owner != options.owner:
        why = f"managed by owner {record.owner!r} (state record); reconciler will not take it over"
        return _planned(facts, Action.BLOCKED, Reason.FOREIGN_OWNER, why)
    # the manifest uses something this server version does not have
    if problems := unsupported(desired.body, desired.task_type, caps.release):
        why = f"{'; '.join(problems)} (server is {caps.version})"
        return _planned(facts, Action.BLOCKED, Reason.UNSUPPORTED, why)
    # not on the server: create it (again, if state says reconciler had made it)
    if facts.live is None:
        return decide_create(facts, caps=caps)
    comparison = compare_endpoint(
        desired, facts.live, last_applied=_last_applied(record), release=caps.release
    )
    # on the server, unknown to state: adopt it, destroy nothing without consent
    if record is None:
        return decide_adopt(facts, comparison, caps=caps, options=options)
    return decide_managed(facts, comparison, caps=caps, options=options)


def decide_orphan(facts: Facts, *, options: PlanOptions) -> PlannedChange | None:
    """An id no manifest declares: delete it only if we own it and --prune was given."""
    record = facts.record
    # not ours (no state record, or another owner's): not part of the plan
    if record is None or record.owner != options.owner:
        return None
    # ours, but pruning was not asked for: show it, touch nothing
    if not options.prune:
        why = "no manifest declares it; run with prune to delete it"
        if record.pending is not None and facts.live is None:
            why = (
                f"no manifest declares it, and an interrupted replace left it missing from the"
                f" server ({STOPPED}); run with prune to remove its state record"
            )
        return _planned(facts, Action.NOOP, Reason.ORPHAN, why)
    # ours and already gone from the server: only the state record goes
    if facts.live is None:
        why = "no manifest declares it and it is gone from the server; its state record is removed"
        return _planned(facts, Action.DELETE, Reason.FORGET, why)
    why = "no manifest declares it (prune)"
    change = _planned(facts, Action.DELETE, Reason.PRUNE, why)
    # `protect: true` outlives its manifest: state remembers it (unlike Terraform's
    # prevent_destroy, which goes away with the block that held it)
    return guard(change, facts, options=options, protect=record.protect)


def decide_create(facts: Facts, *, caps: Capabilities) -> PlannedChange:
    """Not on the server: create it, as drift if reconciler had created it before."""
    assert facts.desired is not None
    spec = normalize_desired(
        facts.desired.body, task_type=facts.desired.task_type, release=caps.release
    )
    fields = create_fields(spec)
    # an apply was stopped after its replace deleted the endpoint: finish that replace
    if facts.record is not None and facts.record.pending is not None:
        why = f"interrupted replace of {facts.inference_id} ({STOPPED}); will be recreated"
        return _planned(
            facts, Action.CREATE, Reason.INTERRUPTED_REPLACE, why, spec=spec, fields=fields
        )
    # in state but gone: someone deleted it out of band
    if facts.record is not None:
        why = f"in state but missing from the server ({DRIFT}); creating it again"
        return _planned(
            facts, Action.CREATE, Reason.RECREATE_MISSING, why, spec=spec, fields=fields, drift=True
        )
    why = "declared in a manifest, not on the server"
    return _planned(facts, Action.CREATE, Reason.CREATE, why, spec=spec, fields=fields)


def decide_adopt(
    facts: Facts, comparison: Comparison, *, caps: Capabilities, options: PlanOptions
) -> PlannedChange:
    """On the server but not in state: adopt it like a Terraform import block.

    A match is a state write only. A difference the update API can make is an update (it
    destroys nothing). A difference that needs a replace would delete an endpoint reconciler
    did not create, so it is blocked unless the user allowed disruptive changes.
    """
    assert facts.desired is not None
    fields, spec = comparison.changes, comparison.spec
    service, task_type = kind(facts)
    replace = replace_paths(fields, caps, service=service, task_type=task_type)
    resets = not replace and update_resets_chunking(caps, comparison.target)
    unmanaged = "exists on the server but not in state"
    # identical to the manifest: remember it, write nothing to the server
    if not fields:
        why = "exists on the server and matches the manifest; adopted into state (the"
        why += f" {_secrets_of(facts.desired)} cannot be read back: assumed to be the manifest's)"
        return _planned(facts, Action.ADOPT, Reason.ADOPT, why, spec=spec, adopt=True)
    # differs only in what the update API changes: adopt and update in place
    if not replace and not resets:
        why = f"{unmanaged}; adopting it and updating {_labels(fields)}"
        return _planned(
            facts, Action.UPDATE, Reason.UPDATE, why, fields=fields, spec=spec, adopt=True
        )
    # the update would reset chunking: in place only if the user chose the update API
    rotation = options.key_rotation or facts.desired.options.key_rotation
    if resets and rotation is KeyRotation.UPDATE:
        change = forced_update(facts, comparison, False, caps=caps, adopt=True)
        return dataclasses.replace(change, reason=f"{unmanaged}; adopting it: {change.reason}")
    if resets:
        replace = tuple(dict.fromkeys(item.path for item in fields))
        why = f"{_labels(fields)} changed, and {reset_clause(comparison, caps)}"
    else:
        why = replace_reason(replace, fields, caps, service=service)
    # needs a replace: deleting an endpoint reconciler did not create needs consent
    if not options.allow_disruptive:
        why = f"{unmanaged}, and adopting it needs a replace ({why});"
        why += " align the manifest with the server or allow disruptive changes to replace it"
        if resets:
            why += " (or set key_rotation: update to update it in place, resetting its chunking)"
        extra = {"fields": fields, "replace_paths": replace, "adopt": True}
        return _planned(facts, Action.BLOCKED, Reason.UNMANAGED, why, **extra)
    if resets:
        return reset_replace(facts, comparison, caps=caps, options=options, adopt=True)
    return replace_change(facts, comparison, replace, why, options=options, caps=caps, adopt=True)


def decide_managed(
    facts: Facts, comparison: Comparison, *, caps: Capabilities, options: PlanOptions
) -> PlannedChange:
    """An endpoint reconciler manages: no-op, a state write, update in place, rotate the key,
    or replace."""
    assert facts.desired is not None and facts.record is not None
    # a secret differs from the one last applied at its path: one sensitive change per path
    rotated = secret_changes(facts.fingerprints, facts.record.secret_fingerprints)
    key_changed = bool(rotated)
    if key_changed:
        comparison = dataclasses.replace(comparison, changes=(*comparison.changes, *rotated))
    fields = comparison.changes
    # nothing differs on the server, but state has yet to record it: a state write only
    if not fields:
        return decide_recorded(facts, facts.desired.options, facts.record)
    # the server reset its chunking on an earlier in-place update, as state records: shown, not
    # acted on unless disruption was allowed (the way back is a replace)
    reset = noted_reset(facts, comparison, caps)
    if reset is not None and not options.allow_disruptive:
        change = decide_around_reset(facts, comparison, key_changed, reset, caps, options)
    else:
        change = decide_change(facts, comparison, key_changed, caps=caps, options=options)
        if reset is not None:
            change = restoring(change, reset, fields)
    change = keeps_failing(change, facts.record.not_taken, comparison)
    # an apply was stopped during a replace of it, before the delete: decided as usual
    if facts.record.pending is not None:
        note = "; an earlier apply was stopped during a replace of it"
        return dataclasses.replace(change, reason=change.reason + note)
    return change


def decide_around_reset(
    facts: Facts,
    comparison: Comparison,
    key_changed: bool,
    reset: ChunkingReset,
    caps: Capabilities,
    options: PlanOptions,
) -> PlannedChange:
    """The chunking difference a recorded reset explains is left alone (a plan that offered to
    undo it on every run would never be in sync); whatever else differs is decided as usual."""
    assert facts.desired is not None and facts.record is not None
    rest = tuple(item for item in comparison.changes if not _is_chunking(item.path))
    note = reset_note(reset, caps)
    record, wanted = facts.record, facts.desired.options
    # only the reset, and state has yet to record something: that state write
    if not rest and (record.pending is not None or recorded_changes(wanted, record)):
        return _noted(
            decide_recorded(facts, wanted, record), f"chunking_settings left as is: {note}"
        )
    # only the reset: nothing to do, the difference is shown with the way back
    if not rest:
        why = f"matches the manifest but for chunking_settings: {note}"
        fields = comparison.changes
        return _planned(facts, Action.NOOP, Reason.CHUNKING_RESET_NOTED, why, fields=fields)
    change = decide_change(
        facts,
        dataclasses.replace(comparison, changes=rest),
        key_changed,
        caps=caps,
        options=options,
    )
    # a replace re-creates the endpoint from the manifest: it restores the chunking too
    if change.action is Action.REPLACE:
        change = decide_change(facts, comparison, key_changed, caps=caps, options=options)
    return _noted(change, f"chunking_settings left as is: {note}")


def restoring(
    change: PlannedChange, reset: ChunkingReset, fields: Iterable[FieldChange]
) -> PlannedChange:
    """The change, disruption allowed, of an endpoint whose chunking the server reset: a
    replace says it restores the chunking."""
    found, expected = chunking_label(reset.found), chunking_label(reset.expected)
    why = (
        f"the server reset chunking_settings to {found} on {_when(reset)} ({CHUNKING_RESET_ISSUE})"
    )
    if change.action is not Action.REPLACE:
        return _noted(change, why)
    why += f"; replaced to restore {expected} (disruptive changes allowed)"
    if all(_is_chunking(item.path) for item in fields):
        return dataclasses.replace(change, reason=why)
    return dataclasses.replace(change, reason=f"{why}; {change.reason}")


def noted_reset(facts: Facts, comparison: Comparison, caps: Capabilities) -> ChunkingReset | None:
    """The record's chunking reset, when it explains the chunking difference now: the manifest
    still asks for what was reset, the server still shows what it fell back to, and this
    release cannot set chunking in place (from 9.5 an update puts it back)."""
    record, live = facts.record, facts.live
    reset = record.chunking_reset if record is not None else None
    if reset is None or live is None:
        return None
    chunking = [item for item in comparison.changes if _is_chunking(item.path)]
    service, task_type = kind(facts)
    if not chunking or all(
        in_place(item, caps, service=service, task_type=task_type) for item in chunking
    ):
        return None
    found = normalize_live(live.body, task_type=live.task_type).get("chunking_settings")
    expected = comparison.spec.get("chunking_settings")
    return reset if (expected, found) == (dict(reset.expected), dict(reset.found)) else None


def keeps_failing(
    change: PlannedChange, failed: NotTaken | None, comparison: Comparison
) -> PlannedChange:
    """A change the server did not take before is offered again, saying so (the executor
    recorded its digest; `reconcile watch` backs off from it)."""
    if failed is None or change.action not in (Action.UPDATE, Action.REPLACE):
        return change
    if failed.digest != intent_digest(comparison.changes):
        return change
    times = "once" if failed.count == 1 else f"{failed.count} times"
    why = f"{change.reason}; this change was not taken by the server {times}: {failed.cause}"
    return dataclasses.replace(change, reason=why, code=Reason.NOT_TAKEN)


def decide_recorded(facts: Facts, wanted: Options, record: StateRecord) -> PlannedChange:
    """The server holds the manifest: record what state lacks, else nothing to do."""
    # an interrupted replace had reached the server; only its state write was missing
    if record.pending is not None:
        why = (
            f"interrupted replace of {facts.inference_id} (apply was stopped before recording"
            " it); the server matches the manifest: recorded in state (no server write)"
        )
        return _planned(facts, Action.ADOPT, Reason.INTERRUPTED_REPLACE, why)
    # a `reconcile:` option state keeps changed (removing `protect: true` must reach prune)
    if changed := recorded_changes(wanted, record):
        why = f"{'; '.join(changed)} recorded in state (no server write)"
        return _planned(facts, Action.ADOPT, Reason.STATE_ONLY, why)
    # nothing differs: the server already holds the manifest
    return _planned(facts, Action.NOOP, Reason.UP_TO_DATE, "matches the manifest")


def recorded_changes(wanted: Options, record: StateRecord) -> list[str]:
    """E.g. ["protect: true → false"]: the recorded options the manifest now says otherwise."""
    changed = []
    for name in RECORDED_OPTIONS:
        before, after = getattr(record, name), getattr(wanted, name)
        if before != after:
            changed.append(f"{name}: {json.dumps(before)} → {json.dumps(after)}")
    return changed


def decide_change(
    facts: Facts,
    comparison: Comparison,
    key_changed: bool,
    *,
    caps: Capabilities,
    options: PlanOptions,
) -> PlannedChange:
    """A managed endpoint that differs from its manifest: update, rotate the key, or replace."""
    assert facts.desired is not None
    rotation = options.key_rotation or facts.desired.options.key_rotation
    fields = comparison.changes
    service, task_type = kind(facts)
    # the user asked for an in-place rotation the server cannot do
    if key_changed and rotation is KeyRotation.UPDATE and not caps.update_api:
        why = f"{_secret_labels(fields)} changed and key_rotation is update, but"
        why += f" {update_note(caps.release, service)}"
        return _planned(facts, Action.BLOCKED, Reason.NO_UPDATE_API, why, fields=fields)
    replace = replace_paths(fields, caps, rotation, service=service, task_type=task_type)
    # something the server cannot (or, for the key, should not) update in place: replace
    if replace:
        code = Reason.ROTATE_RECREATE if _only_secrets(replace, fields) else Reason.REPLACE
        why = replace_reason(replace, fields, caps, rotation, service=service)
        return replace_change(
            facts, comparison, replace, why, options=options, caps=caps, code=code
        )
    # the update API could make it, but this release would reset the chunking with it
    if update_resets_chunking(caps, comparison.target):
        if rotation is KeyRotation.UPDATE:
            return forced_update(facts, comparison, key_changed, caps=caps)
        return reset_replace(facts, comparison, caps=caps, options=options)
    # everything can change in place
    code = Reason.ROTATE_UPDATE if key_changed else Reason.UPDATE
    why = _with_drift(f"{_labels(fields)} updated in place", comparison)
    if key_changed and not caps.update_validates:
        why += f"; {proof_note(caps, fields)}"
    extra = {"fields": fields, "spec": comparison.spec, "drift": comparison.drift}
    return _planned(facts, Action.UPDATE, code, why, **extra)


def forced_update(
    facts: Facts,
    comparison: Comparison,
    key_changed: bool,
    *,
    caps: Capabilities,
    adopt: bool = False,
) -> PlannedChange:
    """key_rotation: update on a release whose update resets chunking: the user's choice, made
    with a warning; apply reports the reset and records it, so the next plan is in sync."""
    fields = comparison.changes
    chunking = chunking_label(comparison.target.get("chunking_settings"))
    why = (
        f"{_labels(fields)} updated in place (key_rotation: update); warning: Elasticsearch"
        f" {caps.version} resets chunking_settings on update ({CHUNKING_RESET_ISSUE}), so"
        f" {chunking} becomes word/250/100; apply reports the reset and records it in state"
    )
    if key_changed and not caps.update_validates:
        why += f"; {proof_note(caps, fields)}"
    extra = {"fields": fields, "spec": comparison.spec, "drift": comparison.drift, "adopt": adopt}
    return _planned(
        facts, Action.UPDATE, Reason.CHUNKING_RESET_UPDATE, _with_drift(why, comparison), **extra
    )


def reset_replace(
    facts: Facts,
    comparison: Comparison,
    *,
    caps: Capabilities,
    options: PlanOptions,
    adopt: bool = False,
) -> PlannedChange:
    """A change the update API could make, replaced because the update would reset chunking;
    in use and without consent, the user is shown what each way costs and chooses."""
    fields = comparison.changes
    paths = tuple(dict.fromkeys(item.path for item in fields))
    why = f"{_labels(fields)} changed, and {reset_clause(comparison, caps)}: replaced instead"
    change = replace_change(
        facts,
        comparison,
        paths,
        why,
        options=options,
        caps=caps,
        code=Reason.CHUNKING_RESET_REPLACE,
        adopt=adopt,
    )
    if change.code is not Reason.IN_USE:
        return change
    return _block(change, Reason.CHUNKING_RESET_CHOICE, choice_reason(facts, comparison, caps))


def replace_change(
    facts: Facts,
    comparison: Comparison,
    replace: tuple[str, ...],
    why: str,
    *,
    options: PlanOptions,
    caps: Capabilities,
    code: Reason = Reason.REPLACE,
    adopt: bool = False,
) -> PlannedChange:
    """A delete and create of the same id, then the guards that may block it."""
    breaking = bool(facts.in_use.indexes) and any(path in BREAKING_PATHS for path in replace)
    if breaking:
        why += f"; breaks the semantic_text fields of indexes [{', '.join(facts.in_use.indexes)}]"
    change = _planned(
        facts,
        Action.REPLACE,
        code,
        _with_drift(why, comparison),
        fields=comparison.changes,
        replace_paths=replace,
        spec=comparison.spec,
        drift=comparison.drift,
        adopt=adopt,
        breaking=breaking,
    )
    protect = facts.desired is not None and facts.desired.options.protect
    guarded = guard(change, facts, options=options, protect=protect)
    return refuse_incompatible(guarded, facts, caps=caps)


def refuse_incompatible(
    change: PlannedChange, facts: Facts, *, caps: Capabilities
) -> PlannedChange:
    """9.1+ will not re-create the id with settings its semantic_text mappings cannot take.

    Deleting first and then being refused would lose the endpoint, so even an allowed
    disruption is blocked (`TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId`).
    """
    if change.action is not Action.REPLACE or not facts.in_use.indexes:
        return change
    if "mapping_compatibility_check" not in caps.features:
        return change
    service, _task_type = kind(facts)
    changed = sorted(incompatible_paths(service).intersection(change.replace_paths))
    if not changed:
        return change
    why = (
        f"{_labels_of(changed)} changed, but Elasticsearch {caps.version} refuses to re-create"
        f" an endpoint whose settings the semantic_text fields of indexes"
        f" [{', '.join(facts.in_use.indexes)}] cannot take; point those mappings at a new"
        " inference_id (a new manifest), reindex, then remove this one"
    )
    return _block(change, Reason.INCOMPATIBLE_MAPPINGS, why)


def guard(
    change: PlannedChange, facts: Facts, *, options: PlanOptions, protect: bool = False
) -> PlannedChange:
    """Block a replace or delete that would hit what must never be lost."""
    live, verb = facts.live, change.action.value
    # the server's own endpoints are never touched
    if live is not None and live.preconfigured:
        return _block(change, Reason.PRECONFIGURED, "a preconfigured endpoint is never touched")
    # an endpoint of a service plan/apply do not manage is never deleted
    if live is not None and live.service not in MANAGED:
        why = (
            f"the live endpoint uses service {live.service!r}, which plan/apply do not manage;"
            " reconciler never deletes it"
        )
        return _block(change, Reason.FOREIGN_SERVICE, why)
    # the id now holds an endpoint of another service than reconciler applied: not its own
    recorded = facts.record.last_applied.get("service") if facts.record is not None else None
    if live is not None and change.action is Action.DELETE and recorded not in (None, live.service):
        why = (
            f"the live endpoint uses service {live.service!r}, not the {recorded!r} reconciler"
            " applied (replaced outside reconciler); reconciler never deletes it"
        )
        return _block(change, Reason.FOREIGN_SERVICE, why)
    # `protect: true` in the manifest
    if protect:
        return _block(change, Reason.PROTECTED, f"protect: true forbids {verb} ({change.reason})")
    # semantic_text fields or pipelines use it, and disruption was not allowed
    if facts.in_use and not options.allow_disruptive:
        why = f"{_users(facts.in_use)}; {verb} would disrupt them ({change.reason})"
        return _block(change, Reason.IN_USE, why)
    return change


# --- reasons -----------------------------------------------------------------------------------


def replace_reason(
    paths: tuple[str, ...],
    fields: Iterable[FieldChange],
    caps: Capabilities,
    rotation: KeyRotation = KeyRotation.AUTO,
    *,
    service: str = "openai",
) -> str:
    """E.g. "model_id changed and the server cannot update it in place (8.17–9.4 …)"."""
    fields = tuple(fields)
    if _only_secrets(paths, fields) and rotation is KeyRotation.RECREATE:
        return f"{_secret_labels(fields)} changed and key_rotation is recreate"
    removed = {item.path for item in fields if item.op is FieldOp.REMOVED and not item.sensitive}
    verb = "removed" if set(paths) <= removed else "changed"
    why = f"{_labels_of(paths)} {verb} and the server cannot update {_it(paths)} in place"
    if set(paths) & removed and caps.update_api:
        return f"{why} (the update API merges: a key cannot be removed in place)"
    secrets_removed = [item for item in fields if item.sensitive and item.op is FieldOp.REMOVED]
    if secrets_removed and caps.update_api and _only_secrets(paths, fields):
        return (
            f"{_secret_labels(fields)} changed: a secret of another kind cannot replace"
            " one in place (elastic/elasticsearch#149628)"
        )
    return f"{why} ({update_note(caps.release, service)})"


def kind(facts: Facts) -> tuple[str, str]:
    """The (service, task type) of the endpoint the manifest declares (the live one's when
    no manifest does): what the update tables are looked up by."""
    if facts.desired is not None:
        return str(facts.desired.body.get("service", "")), facts.desired.task_type.lower()
    if facts.live is not None:
        return facts.live.service, facts.live.task_type
    return "", ""


def reset_clause(comparison: Comparison, caps: Capabilities) -> str:
    """E.g. "an in-place update on Elasticsearch 9.1.3 would reset chunking_settings from
    sentence/250/1 to word/250/100 (elastic/elasticsearch#139574, fixed in 9.2.6, 9.3.1)"."""
    chunking = chunking_label(comparison.target.get("chunking_settings"))
    return (
        f"an in-place update on Elasticsearch {caps.version} would reset chunking_settings"
        f" from {chunking} to word/250/100 ({CHUNKING_RESET_ISSUE}, fixed in"
        f" {first_fixed('update_keeps_chunking')})"
    )


def choice_reason(facts: Facts, comparison: Comparison, caps: Capabilities) -> str:
    """What each way costs when an endpoint in use would lose its chunking to an update."""
    chunking = chunking_label(comparison.target.get("chunking_settings"))
    return (
        f"{_users(facts.in_use)}; {_labels(comparison.changes)} changed, and no way is free on"
        f" Elasticsearch {caps.version}: {reset_clause(comparison, caps)}, and a replace deletes"
        " and re-creates it under its users. Choose one: allow disruptive changes to replace it"
        f" (chunking stays {chunking}; what uses the endpoint fails until the re-create, a few"
        " seconds), or set key_rotation: update (manifest or flag) to update it in place (no"
        " interruption; chunking becomes word/250/100 for what is chunked from then on, until a"
        " replace or an upgrade to 9.5 puts it back)"
    )


def proof_note(caps: Capabilities, fields: Iterable[FieldChange] = (KEY_CHANGE,)) -> str:
    """Why an in-place key rotation is proven on a probe endpoint first (the new secrets of
    `fields`, each path shown as changed)."""
    labels = _secret_labels(fields)
    return (
        f"the new {labels} {'is' if ', ' not in labels else 'are'} proven on a probe endpoint"
        f" first (the update API of Elasticsearch"
        f" {caps.version} stores a key without trying it: {UNVALIDATED_UPDATE_ISSUE}; it does"
        f" from {first_fixed('update_validates')})"
    )


def reset_note(reset: ChunkingReset, caps: Capabilities) -> str:
    """E.g. "the in-place update of … on Elasticsearch 9.1.3 reset it …; to restore …"."""
    expected = chunking_label(reset.expected)
    return (
        f"the server reset it on {_when(reset)} ({CHUNKING_RESET_ISSUE}), and state records"
        f" it: the server has {chunking_label(reset.found)} where the manifest says {expected}."
        f" To restore {expected}, allow disruptive changes (a replace), or upgrade to 9.5, whose"
        " update API sets chunking_settings (the next plan then updates it in place)"
    )


def _when(reset: ChunkingReset) -> str:
    version = f" on Elasticsearch {reset.version}" if reset.version else ""
    at = f" of {reset.at}" if reset.at else ""
    return f"the in-place update{at}{version}"


def chunking_label(chunking: JSON) -> str:
    """`sentence/250/1`, `word/250/100`, `recursive/200`, `none`; other shapes as JSON."""
    if not isinstance(chunking, Mapping):
        return "no chunking_settings"
    strategy = chunking.get("strategy")
    numbers = [
        chunking[key]
        for key in ("max_chunk_size", "overlap", "sentence_overlap")
        if isinstance(chunking.get(key), int)
    ]
    if isinstance(strategy, str) and set(chunking) <= {
        "strategy",
        "max_chunk_size",
        "overlap",
        "sentence_overlap",
        "separators",
    }:
        return "/".join([strategy, *map(str, numbers)])
    return json.dumps(dict(chunking), sort_keys=True)


def _is_chunking(path: str) -> bool:
    return path == "chunking_settings" or path.startswith("chunking_settings.")


def _noted(change: PlannedChange, note: str) -> PlannedChange:
    return dataclasses.replace(change, reason=f"{change.reason}; {note}")


# --- small helpers ----------------------------------------------------------------------------


def _planned(
    facts: Facts, action: Action, code: Reason, reason: str, **extra: object
) -> PlannedChange:
    desired = facts.desired
    body = request_body(desired) if desired and action in (Action.CREATE, Action.REPLACE) else None
    return PlannedChange(
        inference_id=facts.inference_id,
        task_type=_task_type(facts),
        action=action,
        reason=reason,
        code=code,
        in_use=facts.in_use,
        origin=desired.origin if desired else None,
        body=body,
        **extra,  # type: ignore[arg-type]
    )


def _block(change: PlannedChange, code: Reason, reason: str) -> PlannedChange:
    return dataclasses.replace(change, action=Action.BLOCKED, code=code, reason=reason, body=None)


def _task_type(facts: Facts) -> str:
    if facts.desired is not None:
        return facts.desired.task_type.lower()
    source = facts.live or facts.record
    return source.task_type.lower() if source is not None else ""


def _last_applied(record: StateRecord | None) -> Mapping[str, JSON] | None:
    return record.last_applied if record is not None else None


def _with_drift(reason: str, comparison: Comparison) -> str:
    drifted = tuple(item.path for item in comparison.changes if item.drift)
    return f"{reason}; {DRIFT}: {_labels_of(drifted)}" if drifted else reason


def _users(in_use: InUse) -> str:
    parts = [
        f"{kind} [{', '.join(names)}]"
        for kind, names in (("indexes", in_use.indexes), ("pipelines", in_use.pipelines))
        if names
    ]
    return "in use by " + " and ".join(parts)


def _only_secrets(paths: Iterable[str], fields: Iterable[FieldChange]) -> bool:
    """Whether every path is a secret's (a key rotation alone)."""
    sensitive = {item.path for item in fields if item.sensitive}
    chosen = set(paths)
    return bool(chosen) and chosen <= sensitive


def _secret_labels(fields: Iterable[FieldChange]) -> str:
    """The changed secrets as reasons name them: `api_key`; `access_key, secret_key`."""
    return ", ".join(dict.fromkeys(secret_label(f.path) for f in fields if f.sensitive))


def _secrets_of(desired: DesiredEndpoint) -> str:
    """The endpoint's secrets as reasons name them: `api_key`; `access_key, secret_key`."""
    labels = [secret_label(".".join(path)) for path in sorted(desired.secrets)]
    return ", ".join(labels) or "secrets"


def _it(paths: tuple[str, ...]) -> str:
    return "it" if len(paths) == 1 else "them"


def _labels(fields: Iterable[FieldChange]) -> str:
    return _labels_of(tuple(item.path for item in fields))


def _labels_of(paths: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(_label(path) for path in paths))


def _label(path: str) -> str:
    """A short name: `service_settings.model_id` → `model_id`; chunking counts as one field."""
    head, _, rest = path.partition(".")
    if head == "service_settings" and rest:
        return rest.split(".")[0]
    return head if head == "chunking_settings" else path
