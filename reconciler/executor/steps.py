"""The server writes of one planned change: create, update, replace, delete, adopt.

Each step either returns a short message saying what happened or raises a `ReconcilerError`
whose text is already sanitized (the client redacts every key it has seen). Every write is
read back, and the state record is written as soon as the server holds the change: a run that
stops later never leaves an endpoint on the server that state does not know (the orphans of
buildkite/terraform-provider-buildkite#1249 and verge-io/terraform-provider-vergeio#16). A
replace whose create fails after the delete puts the old configuration back when the key did
not change, so an endpoint users depend on is not lost; state then follows what the server
holds. Steps never decide: the planner did; `executor.py` picks the step by
action.

A replace marks its state record `pending` before the delete (with the old endpoint's body,
never a key), and the record written after the create has no marker. An apply killed in
between leaves the marker: the next plan names the interrupted replace and the next apply
completes it (`create` of an `interrupted-replace` change), putting the old configuration
back from the marker if the server refuses the new one and the key did not change.

Per release (`defaults.UPDATE_FACTS`): an in-place key rotation is proven on a probe first where
`_update` stores a key without trying it, and an update's read-back is checked for the chunking
reset of elastic/elasticsearch#139574 (recorded on the state record, reported in the message).
A read-back that differs from what was sent is recorded too (`NotTaken`: digest, count, cause).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.client import ConflictError
from reconciler.defaults import (
    CHUNKING_RESET_ISSUE,
    DEFAULT_SIMILARITY,
    LEGACY_CHUNKING,
    SERVICE,
    capabilities,
    hidden_paths,
    model_dimensions,
    server_chosen,
)
from reconciler.diff import (
    UpdateRequest,
    compare,
    intent_digest,
    last_applied_spec,
    normalize_live,
    request_body,
    secret_changes,
    secret_label,
    update_body,
)
from reconciler.errors import ApiError, NotFoundError, ReconcilerError
from reconciler.model import (
    JSON,
    PROBE_PREFIX,
    Capabilities,
    ChunkingReset,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    LiveEndpoint,
    NotTaken,
    Pending,
    PlannedChange,
    Reason,
    StateRecord,
    dotted,
    drop_path,
    has_path,
)
from reconciler.planner import chunking_label
from reconciler.secrets import Secret, SecretPath, fingerprints
from reconciler.services.registry import IN_CLUSTER

if TYPE_CHECKING:
    from reconciler.client import EsClient
    from reconciler.state import StateStore

log = logging.getLogger(__name__)

KEPT_OLD_KEY = "was left serving with its old key"
"""How a refused key rotation ends: the endpoint is as it was, with the key it had."""

CAUSE_LIMIT = 300
"""The longest cause a `NotTaken` marker keeps."""

MAPPING_SETTINGS = ("dimensions", "similarity")
"""What 9.1+ needs named in a text_embedding PUT once semantic_text mappings use the id."""


class StepFailed(ReconcilerError):
    """The server refused a step or did not take what it was sent."""


@dataclass(frozen=True, slots=True)
class ApplySettings:
    """Run-wide choices of one apply."""

    owner: str = "reconciler"
    concurrency: int = 4
    allow_disruptive: bool = False
    put_timeout: str | None = "60s"
    deploy_timeout: str | None = "100s"
    """The PUT `timeout` for an in-cluster service (`elasticsearch`, `elser`): the create starts
    a model deployment and may download the model first (elastic/elasticsearch PRs #126805,
    #129003 extend the timeout to both); kept below the client's 120 s read timeout."""
    commit: str | None = None


@dataclass(frozen=True, slots=True)
class StepContext:
    """The ports and settings every step uses; `records` are the state records the plan was
    made from (read from the store when not given)."""

    client: EsClient
    store: StateStore
    salt: str
    settings: ApplySettings
    now: Callable[[], datetime]
    records: Mapping[str, StateRecord] | None = None


NOT_ITS_DEPLOYMENT = (
    "{id}: Elasticsearch changes a deployment's allocations only through the inference endpoint"
    " that created it (409 INFERENCE_REFERENCE_CANNOT_UPDATE_ANOTHER_ENDPOINT or"
    " INFERENCE_CAN_ONLY_UPDATE_MODELS_IT_CREATED: elastic/elasticsearch PR #114457); change"
    " num_allocations/adaptive_allocations on the endpoint that created the deployment (or with"
    " POST _ml/trained_models/<deployment_id>/deployment/_update), and leave them out of this"
    " manifest; nothing was changed"
)


# --- the steps --------------------------------------------------------------------------------


async def create(ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint) -> str:
    """PUT the endpoint, read it back, record it, then check the server took every field."""
    body = await create_body(ctx, change, desired)
    if change.code is Reason.INTERRUPTED_REPLACE:
        return await resume_replace(ctx, change, desired, body)
    await put_new(ctx, change, desired, body)
    await settle(ctx, change, desired)
    return "created"


async def resume_replace(
    ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint, body: Mapping[str, JSON]
) -> str:
    """Create what an interrupted replace had deleted. If the server refuses, put back the
    configuration the marker kept (when the key did not change); else the marker stays, so
    the next plan still names the interrupted replace."""
    try:
        await put_new(ctx, change, desired, body)
    except ReconcilerError as error:
        original = await state_record(ctx, change.inference_id)
        previous = await marked_previous(ctx, original, desired)
        raise StepFailed(
            await recover(ctx, change, desired, previous, error, original, forget=False)
        ) from None
    await settle(ctx, change, desired)
    return "created: the replace an earlier apply was stopped in is complete"


async def create_body(
    ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint
) -> Mapping[str, JSON]:
    """The planned body; when an endpoint deleted out of band is created again on 9.1+, also
    the `similarity` and `dimensions` the server would choose.

    Its semantic_text mappings most likely still use the id, and 9.1+ never answers a PUT
    that leaves either out then (see `recreate_body`). Named only for models whose default
    size OpenAI lets a request ask for (text-embedding-3-*), so nothing else changes."""
    body = body_of(change, desired)
    recreated = change.code in (Reason.RECREATE_MISSING, Reason.INTERRUPTED_REPLACE)
    openai = desired.body.get("service") == SERVICE
    if not recreated or change.task_type != "text_embedding" or not openai:
        return body
    settings = dict(body.get("service_settings") or {})
    model = str(settings.get("model_id", ""))
    size = model_dimensions(model)
    if size is None or not model.startswith("text-embedding-3"):
        return body
    if not await checks_mappings(ctx.client):
        return body
    named = {"similarity": DEFAULT_SIMILARITY, "dimensions": size}
    return {**body, "service_settings": {**named, **settings}}


async def update(ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint) -> str:
    """`_update` with only what changed; the server silently ignores what it cannot change
    (`ServiceSettings.updateServiceSettings` returns `this` before elastic/elasticsearch#147465),
    so the changed fields are checked on the read-back.

    Where the update API stores a key without trying it (`defaults.UPDATE_FACTS`), a new key is
    proven on a probe endpoint first: a bad key never replaces a good one. Where the update
    resets the chunking settings, the read-back says so and state records it (the planner only
    plans that update when the user chose it: `key_rotation: update`)."""
    caps = await server_capabilities(ctx.client)
    request = update_body(change)
    sent = update_secrets(request, desired) if request.include_secrets else {}
    rotating = rotates_key(change)
    if rotating and not caps.update_validates:
        await prove(ctx, change, desired, refused=KEPT_OLD_KEY)
    if request.body or sent:
        try:
            await ctx.client.update_endpoint(
                change.task_type, change.inference_id, request.body, secrets=sent
            )
        except ConflictError as error:
            if desired.body.get("service") not in IN_CLUSTER:
                raise
            raise StepFailed(
                f"{NOT_ITS_DEPLOYMENT.format(id=change.inference_id)}: {error}"
            ) from None
        except ApiError as error:
            if not rotating:
                raise
            why = f"the update was refused; {change.inference_id} {KEPT_OLD_KEY}"
            raise StepFailed(f"{why}: {error}") from None
    paths = [item.path for item in change.fields if not item.sensitive]
    reset = await settle(ctx, change, desired, only=paths, caps=caps)
    done = f"updated in place: {labels(change)}"
    if reset is None:
        return done
    # the planner warned of it (key_rotation: update); anything else is a surprise: fail
    said = f"{done}; {reset_message(reset)}"
    if not caps.update_resets_chunking:
        raise StepFailed(f"{said} (unexpected: this release was thought to keep it)")
    return said


async def replace(ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint) -> str:
    """Prove the new configuration on a probe, delete the old endpoint, create the new one.

    The probe cannot catch everything (9.1+ refuses to re-create an id whose semantic_text
    mappings cannot take the new settings, `checkForExistingUsesOfInferenceId`): if the create
    fails, the old configuration, read just before the delete, is put back when that is
    possible."""
    probe = await prove(ctx, change, desired)
    body = await recreate_body(ctx, change, desired, probe)
    previous = await read_previous(ctx, change)
    original = await mark_pending(ctx, change, desired, previous)
    await remove_old(ctx, change, original)
    try:
        await put_new(ctx, change, desired, body)
    except ReconcilerError as error:
        raise StepFailed(await recover(ctx, change, desired, previous, error, original)) from None
    await settle(ctx, change, desired)  # its record has no marker: the replace is complete
    return f"replaced ({labels(change)}); the new configuration was proven first"


async def delete(ctx: StepContext, change: PlannedChange) -> str:
    """Delete the endpoint (a 404 counts as done), then forget its state record."""
    gone = await delete_endpoint(ctx, change, change.task_type)
    await ctx.store.delete(change.inference_id)
    return "already gone from the server; state record removed" if gone else "deleted"


async def adopt(ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint) -> str:
    """No server write: read the endpoint back and record it as ours (again: a state-only
    change, or an interrupted replace that had reached the server, rewrites the record)."""
    live = await ctx.client.get_endpoint(change.task_type, change.inference_id)
    await record(ctx, desired, live)
    if change.code is Reason.STATE_ONLY:
        return "recorded in state (no server write)"
    if change.code is Reason.INTERRUPTED_REPLACE:
        return "recorded in state: the replace an earlier apply was stopped in is complete"
    return "adopted into state (no server write)"


# --- pieces -----------------------------------------------------------------------------------


async def put_new(
    ctx: StepContext,
    change: PlannedChange,
    desired: DesiredEndpoint,
    body: Mapping[str, JSON] | None = None,
) -> None:
    """PUT the planned body, or `body` (the client reads back before retrying a failed create)."""
    await ctx.client.put_endpoint_safely(
        change.task_type,
        change.inference_id,
        body if body is not None else body_of(change, desired),
        secrets_of(desired),
        put_timeout(ctx.settings, desired),
    )


def put_timeout(settings: ApplySettings, desired: DesiredEndpoint) -> str | None:
    """The PUT `timeout`: generous where the create starts a model deployment."""
    if desired.body.get("service") in IN_CLUSTER:
        return settings.deploy_timeout
    return settings.put_timeout


async def settle(
    ctx: StepContext,
    change: PlannedChange,
    desired: DesiredEndpoint,
    *,
    only: Iterable[str] | None = None,
    caps: Capabilities | None = None,
) -> ChunkingReset | None:
    """Read back, record (the change is on the server, even if incomplete), then verify.

    What the server did not take is recorded with the change's digest and a count, so the
    next plan says the change keeps failing. An in-place update (`caps` given) is also checked
    for a reset of the chunking settings it did not mean to touch; that is returned (and
    recorded), not raised."""
    live = await ctx.client.get_endpoint(change.task_type, change.inference_id)
    missed = mismatched_fields(change.spec or {}, desired, live, only=only)
    at = ctx.now().isoformat(timespec="seconds")
    reset = chunking_reset(change, live, caps, at) if caps else None
    previous = await state_record(ctx, change.inference_id)
    failed = not_taken(previous, missed, at) if missed else None
    await record(ctx, desired, live, reset=reset, failed=failed)
    if failed is not None:
        paths = ", ".join(dict.fromkeys(item.path for item in missed))
        raise StepFailed(
            f"the server did not take: {paths} ({failed.cause}); recorded in state, the next"
            " plan names it"
        )
    return reset


async def prove(
    ctx: StepContext,
    change: PlannedChange,
    desired: DesiredEndpoint,
    *,
    refused: str = "was left as it was",
) -> LiveEndpoint:
    """PUT a temporary probe with the new body and key: the server validates both upstream
    (`ModelValidatorBuilder`). A refusal stops the step before the endpoint is touched (the
    message says the endpoint then `refused`). Returns the probe as the server stored it (with
    the values it filled in)."""
    probe = probe_id()
    try:
        return await ctx.client.put_endpoint_safely(
            change.task_type,
            probe,
            body_of(change, desired),
            secrets_of(desired),
            put_timeout(ctx.settings, desired),
        )
    except ApiError as error:
        why = f"the new configuration was refused on a probe endpoint; {change.inference_id}"
        raise StepFailed(f"{why} {refused}: {error}") from None
    finally:
        await discard_probe(ctx.client, change.task_type, probe)


async def recreate_body(
    ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint, probe: LiveEndpoint
) -> Mapping[str, JSON]:
    """The body of the re-create: the planned one, naming what the server filled in on the
    probe where 9.1+ needs it.

    Once a semantic_text mapping uses the id, 9.1+ builds `MinimalServiceSettings` from the
    PUT request before the validation call fills `dimensions` and `similarity`; without them
    it throws on a pool thread and the PUT is never answered
    (`TransportPutInferenceModelAction.checkForExistingUsesOfInferenceId`). Naming them makes
    `dimensions` user-set, so only this case does it."""
    body = body_of(change, desired)
    if change.task_type != "text_embedding" or not change.in_use.indexes:
        return body
    if not await checks_mappings(ctx.client):
        return body
    settings = dict(body.get("service_settings") or {})
    filled = probe.body.get("service_settings") or {}
    named = {k: filled[k] for k in MAPPING_SETTINGS if k not in settings and k in filled}
    return {**body, "service_settings": {**settings, **named}} if named else body


async def checks_mappings(client: EsClient) -> bool:
    """Whether the server checks semantic_text mappings on PUT (`defaults.FEATURES`)."""
    return "mapping_compatibility_check" in (await server_capabilities(client)).features


async def server_capabilities(client: EsClient) -> Capabilities:
    """The target's capabilities from its full version (`defaults.capabilities`: some facts
    changed in patch releases, which `ServerInfo.supports` does not see)."""
    return capabilities((await client.info()).label)


async def discard_probe(client: EsClient, task_type: str, probe: str) -> None:
    """Always try to delete the probe; one left behind is logged, never fatal."""
    try:
        await client.delete_endpoint(task_type, probe)
    except NotFoundError:
        return
    except ApiError as error:
        log.warning("could not delete the probe endpoint %s: %s", probe, error)


async def remove_stray_probes(client: EsClient, live: Iterable[LiveEndpoint]) -> list[str]:
    """Delete the probes a killed apply left behind (ours by their name); their ids."""
    stray = [e for e in live if e.inference_id.startswith(PROBE_PREFIX)]
    for endpoint in stray:
        await discard_probe(client, endpoint.task_type, endpoint.inference_id)
    return [endpoint.inference_id for endpoint in stray]


@dataclass(frozen=True, slots=True)
class Previous:
    """What a failed replace can put back: the old endpoint as GET showed it, or why not."""

    live: LiveEndpoint | None
    why_not: str = ""


async def read_previous(ctx: StepContext, change: PlannedChange) -> Previous:
    """Read the endpoint about to be deleted, if its configuration could be restored.

    Only when the change keeps the key: the manifest's key is then the one the endpoint had
    (GET never shows a key, so after a rotation the old one is unknown). A failed read stops
    the replace before anything is deleted."""
    if rotates_key(change):
        return Previous(None, unknown_old_secrets(change.fields))
    try:
        live = await ctx.client.get_endpoint(live_task_type(change), change.inference_id)
    except NotFoundError:
        return Previous(None, "it was already gone from the server")
    except ApiError as error:
        why = f"could not read {change.inference_id} before replacing it; it was left as it was"
        raise StepFailed(f"{why}: {error}") from None
    return Previous(live)


async def recover(
    ctx: StepContext,
    change: PlannedChange,
    desired: DesiredEndpoint,
    previous: Previous,
    error: ReconcilerError,
    original: StateRecord | None,
    *,
    forget: bool = True,
) -> str:
    """After the old endpoint was deleted and the new one could not be created: restore the
    old one if possible; the failure message says which way it went.

    State follows the server: restored, the old record (the old configuration, the same key)
    is put back as it was before the replace marked it; missing, the record is removed, so
    the next plan creates the endpoint from the manifest instead of reporting it as deleted
    outside reconciler (`forget=False`, completing an interrupted replace: the marked record
    stays, and the next plan names that replace again)."""
    failed = f"could not create the new configuration ({error})"
    missing = forget_missing if forget else still_missing
    if previous.live is None:
        gone = f"the previous configuration cannot be restored ({previous.why_not})"
        return f"{failed}; {gone}; {await missing(ctx, change)}"
    try:
        await restore(ctx, previous.live, desired)
    except ReconcilerError as again:
        gone = f"restoring the previous one failed too: {again}"
        return f"{failed}; {gone}; {await missing(ctx, change)}"
    await unmark(ctx, change.inference_id, original)
    return f"{failed}; the previous configuration was restored"


async def restore(ctx: StepContext, live: LiveEndpoint, desired: DesiredEndpoint) -> None:
    """PUT the old endpoint's GET body back as it was, with the (unchanged) manifest secrets,
    each at its path.

    The body keeps the `dimensions` and `similarity` the server had filled in: 9.1+ needs both
    in the request once a semantic_text mapping uses the id (`MinimalServiceSettings`). A model that
    does not take `dimensions` (text-embedding-ada-002) refuses that upstream; the endpoint is
    then reported missing."""
    await ctx.client.put_endpoint_safely(
        live.task_type,
        live.inference_id,
        live.body,
        secrets_of(desired),
        put_timeout(ctx.settings, desired),
    )


async def still_missing(ctx: StepContext, change: PlannedChange) -> str:
    """The message's tail when the marked record is kept (nothing to write)."""
    return "the endpoint is missing — run apply again once the cause is fixed"


async def forget_missing(ctx: StepContext, change: PlannedChange) -> str:
    """Remove the state record of an endpoint no longer on the server; the message's tail."""
    missing = "the endpoint is missing — run apply again once the cause is fixed"
    try:
        await ctx.store.delete(change.inference_id)
    except ReconcilerError as error:
        return f"{missing} (its state record could not be removed: {error})"
    return missing


async def remove_old(
    ctx: StepContext, change: PlannedChange, original: StateRecord | None = None
) -> None:
    """Delete the endpoint being replaced, under its live task type. Refused (it is still
    there), the marker goes again; any other failure keeps it: the endpoint may be gone."""
    try:
        await delete_endpoint(ctx, change, live_task_type(change))
    except StepFailed:
        await unmark(ctx, change.inference_id, original)
        raise


# --- the in-flight marker ---------------------------------------------------------------------


async def state_record(ctx: StepContext, inference_id: str) -> StateRecord | None:
    """The endpoint's record as the plan saw it (the lock holder is the only writer)."""
    records = ctx.records if ctx.records is not None else await ctx.store.read_all()
    return records.get(inference_id)


async def mark_pending(
    ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint, previous: Previous
) -> StateRecord | None:
    """Record the replace as under way, with what a restore needs, before anything is deleted;
    returns the record as it was (None: the endpoint is being adopted).

    An endpoint being adopted has no record yet: the marked one is built from the old
    endpoint (its key assumed to be the manifest's, as an adopt assumes)."""
    original = await state_record(ctx, change.inference_id)
    base = original or await new_record(ctx, change, desired, previous.live)
    kept = previous_body(previous.live) if previous.live is not None else None
    marker = Pending(action="replace", started_at=ctx.now().isoformat(), previous=kept)
    await ctx.store.put(dataclasses.replace(base, pending=marker))
    return original


async def unmark(ctx: StepContext, inference_id: str, original: StateRecord | None) -> None:
    """The record as it was before the replace marked it (none for an adoption)."""
    if original is None:
        await ctx.store.delete(inference_id)
    else:
        await ctx.store.put(dataclasses.replace(original, pending=None))


async def new_record(
    ctx: StepContext, change: PlannedChange, desired: DesiredEndpoint, live: LiveEndpoint | None
) -> StateRecord:
    """A record for an endpoint that had none: the old endpoint as the server holds it."""
    found = await secret_fingerprints(desired, ctx.salt)
    return StateRecord(
        inference_id=change.inference_id,
        task_type=live.task_type if live is not None else live_task_type(change),
        owner=ctx.settings.owner,
        secret_fingerprints=found,
        last_applied=last_applied_spec(desired, live) if live is not None else {},
        applied_at=ctx.now().isoformat(),
        commit=ctx.settings.commit,
        protect=desired.options.protect,
    )


async def marked_previous(
    ctx: StepContext, original: StateRecord | None, desired: DesiredEndpoint
) -> Previous:
    """What the marker of an interrupted replace lets a failed create put back."""
    pending = original.pending if original is not None else None
    if original is None or pending is None or pending.previous is None:
        why = "the interrupted replace kept no copy of it: its secrets changed, or it was gone"
        return Previous(None, why)
    found = await secret_fingerprints(desired, ctx.salt)
    if changed := secret_changes(found, original.secret_fingerprints):
        return Previous(None, unknown_old_secrets(changed))
    return Previous(previous_endpoint(original.inference_id, pending.previous))


def previous_body(live: LiveEndpoint) -> dict[str, JSON]:
    """What the marker keeps of the old endpoint: its GET body and task type (never a key)."""
    return {"task_type": live.task_type, **live.body}


def previous_endpoint(inference_id: str, kept: Mapping[str, JSON]) -> LiveEndpoint:
    body = {key: value for key, value in kept.items() if key != "task_type"}
    return LiveEndpoint(inference_id, str(kept.get("task_type")), str(body.get("service")), body)


async def delete_endpoint(ctx: StepContext, change: PlannedChange, task_type: str) -> bool:
    """DELETE, forced only when disruption was allowed and it is in use; True if already gone.

    A 409 means something started using it after planning: fail, naming what uses it."""
    force = ctx.settings.allow_disruptive and bool(change.in_use)
    try:
        await ctx.client.delete_endpoint(task_type, change.inference_id, force=force)
    except NotFoundError:
        return True
    except ConflictError as error:
        raise StepFailed(f"in use, not deleted: {error}") from None
    return False


async def record(
    ctx: StepContext,
    desired: DesiredEndpoint,
    live: LiveEndpoint,
    *,
    reset: ChunkingReset | None = None,
    failed: NotTaken | None = None,
) -> None:
    """Write the state record: owner, each secret's fingerprint, last-applied spec, time, commit,
    and what the server did not take (`failed`). A chunking reset, this one's or one recorded
    before, is kept while the server still shows it (a replace puts the chunking back and drops
    it)."""
    found = await secret_fingerprints(desired, ctx.salt)
    if reset is None:
        reset = standing_reset(await state_record(ctx, live.inference_id), live)
    await ctx.store.put(
        StateRecord(
            inference_id=live.inference_id,
            task_type=live.task_type,
            owner=ctx.settings.owner,
            secret_fingerprints=found,
            last_applied=last_applied_spec(desired, live),
            applied_at=ctx.now().isoformat(),
            commit=ctx.settings.commit,
            protect=desired.options.protect,
            chunking_reset=reset,
            not_taken=failed,
        )
    )


# --- pure helpers -----------------------------------------------------------------------------


def mismatches(
    spec: Mapping[str, JSON],
    desired: DesiredEndpoint,
    live: LiveEndpoint,
    *,
    only: Iterable[str] | None = None,
) -> list[str]:
    """Paths where the read-back differs from the planned target, ignoring the values the
    server chose for what the manifest left unset; `only` narrows to the changed paths."""
    return [item.path for item in mismatched_fields(spec, desired, live, only=only)]


def mismatched_fields(
    spec: Mapping[str, JSON],
    desired: DesiredEndpoint,
    live: LiveEndpoint,
    *,
    only: Iterable[str] | None = None,
) -> list[FieldChange]:
    """`mismatches` as field changes: `before` what the server holds, `after` what was meant
    (the planner's field changes of the same difference, so `intent_digest` finds them again)."""
    expected = without_server_choices(spec, desired)
    found = normalize_live(live.body, task_type=live.task_type)
    changes = list(compare(expected, found, None).changes)
    if only is None:
        return changes
    wanted = tuple(only)
    return [item for item in changes if any(related(item.path, other) for other in wanted)]


def not_taken(previous: StateRecord | None, missed: Sequence[FieldChange], at: str) -> NotTaken:
    """The marker of a change the server did not take: counted on from the record's marker when
    it is the same change (same digest)."""
    digest = intent_digest(missed)
    before = previous.not_taken if previous is not None else None
    count = before.count + 1 if before is not None and before.digest == digest else 1
    return NotTaken(digest=digest, count=count, cause=difference(missed), at=at)


def difference(missed: Iterable[FieldChange]) -> str:
    """`service_settings.rate_limit.requests_per_minute: sent 42, read back 3000`, ... (never a
    key: the read-back has none, and sensitive fields are not compared)."""
    parts = [
        f"{item.path}: sent {_shown(item.after, item.op is FieldOp.REMOVED)}, read back"
        f" {_shown(item.before, item.op is FieldOp.ADDED)}"
        for item in missed
        if not item.sensitive
    ]
    text = "; ".join(parts)
    return text if len(text) <= CAUSE_LIMIT else text[: CAUSE_LIMIT - 1] + "…"


def chunking_reset(
    change: PlannedChange, live: LiveEndpoint, caps: Capabilities, at: str
) -> ChunkingReset | None:
    """The reset of an in-place update that did not mean to touch chunking: the read-back shows
    word/250/100 (`ChunkingSettingsBuilder.OLD_DEFAULT_SETTINGS`) where other settings were
    (elastic/elasticsearch#139574)."""
    if any(item.path.startswith("chunking_settings") for item in change.fields):
        return None
    expected = (change.spec or {}).get("chunking_settings")
    found = normalize_live(live.body, task_type=live.task_type).get("chunking_settings")
    if not isinstance(expected, Mapping) or found == expected or found != dict(LEGACY_CHUNKING):
        return None
    return ChunkingReset(at=at, version=caps.version, expected=dict(expected), found=found)


def standing_reset(previous: StateRecord | None, live: LiveEndpoint) -> ChunkingReset | None:
    """A recorded chunking reset the read-back still shows."""
    reset = previous.chunking_reset if previous is not None else None
    if reset is None:
        return None
    found = normalize_live(live.body, task_type=live.task_type).get("chunking_settings")
    return reset if found == dict(reset.found) else None


def reset_message(reset: ChunkingReset) -> str:
    """What apply reports after an update that reset the chunking settings."""
    return (
        f"warning: Elasticsearch {reset.version} reset chunking_settings from"
        f" {chunking_label(reset.expected)} to {chunking_label(reset.found)}"
        f" ({CHUNKING_RESET_ISSUE});"
        " recorded in state: the next plan shows the difference without acting on it (a"
        " replace, with disruptive changes allowed, or an upgrade to 9.5 puts it back)"
    )


def without_server_choices(spec: Mapping[str, JSON], desired: DesiredEndpoint) -> dict[str, Any]:
    """The spec minus server-chosen paths (`dimensions`) the manifest does not set, and minus
    the paths GET never shows (cohere `url`): a read-back cannot check those."""
    raw = normalize_live(desired.body, task_type=desired.task_type)
    expected: dict[str, Any] = {key: _copy(value) for key, value in spec.items()}
    service, task_type = expected.get("service"), str(expected.get("task_type", ""))
    for path in server_chosen(service, task_type):
        if not has_path(raw, path):
            drop_path(expected, path)
    for path in hidden_paths(service):
        drop_path(expected, path)
    return expected


def related(path: str, other: str) -> bool:
    """Whether one dotted path is the other or lies under it."""
    return path == other or path.startswith(other + ".") or other.startswith(path + ".")


def live_task_type(change: PlannedChange) -> str:
    """The task type the live endpoint has: a replace may be changing it."""
    moved = next((item for item in change.fields if item.path == "task_type"), None)
    return str(moved.before) if moved is not None and moved.before else change.task_type


def rotates_key(change: PlannedChange) -> bool:
    """Whether the change sets another secret at any path (secrets are the sensitive fields)."""
    return any(item.sensitive for item in change.fields)


def unknown_old_secrets(fields: Iterable[FieldChange]) -> str:
    """Why a configuration cannot be put back after a rotation: GET never shows a secret."""
    names = list(dict.fromkeys(secret_label(item.path) for item in fields if item.sensitive))
    one = len(names) == 1
    return (
        f"the {', '.join(names) or 'secrets'} changed and the old"
        f" {'one is' if one else 'ones are'} not known"
    )


def labels(change: PlannedChange) -> str:
    """The changed fields, each secret shown only as changed (`api_key (sensitive)`)."""
    names = (
        f"{secret_label(item.path)} (sensitive)" if item.sensitive else item.path
        for item in change.fields
    )
    return ", ".join(dict.fromkeys(names)) or "no field"


def body_of(change: PlannedChange, desired: DesiredEndpoint) -> Mapping[str, JSON]:
    return change.body if change.body is not None else request_body(desired)


def secrets_of(desired: DesiredEndpoint) -> dict[SecretPath, Secret]:
    """Every secret of the endpoint by path, for the client to put in a body at its path."""
    unresolved = [
        dotted(p) for p, v in sorted(desired.secrets.items()) if not isinstance(v, Secret)
    ]
    if unresolved:
        names = ", ".join(secret_label(path) for path in unresolved)
        raise StepFailed(f"the {names} of {desired.inference_id} is not resolved")
    return {path: value for path, value in desired.secrets.items() if isinstance(value, Secret)}


def update_secrets(request: UpdateRequest, desired: DesiredEndpoint) -> dict[SecretPath, Secret]:
    """The secrets an `_update` carries: all with service_settings, else the rotation groups
    of the rotated paths (`UpdateRequest.secrets_to_send`)."""
    every = secrets_of(desired)
    service = str(desired.body.get("service", ""))
    wanted = set(request.secrets_to_send(service, (dotted(path) for path in every)))
    return {path: value for path, value in every.items() if dotted(path) in wanted}


async def secret_fingerprints(desired: DesiredEndpoint, salt: str) -> dict[str, str]:
    """The fingerprint of each of the endpoint's secrets, by dotted path (scrypt: off the
    event loop)."""
    return await asyncio.to_thread(fingerprints, secrets_of(desired), salt)


def probe_id() -> str:
    return PROBE_PREFIX + secrets.token_hex(4)


def _shown(value: JSON, absent: bool) -> str:
    return "nothing" if absent else json.dumps(value, sort_keys=True, default=str)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    return list(value) if isinstance(value, list | tuple) else value
