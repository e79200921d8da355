"""Secrets as a map of paths: the model, per-path fingerprints and changes, rotation groups,
state records (old ones migrated, none holding a secret), saved-plan digests, and a canary in a
second secret path that no plan rendering or saved plan ever shows.

The endpoints here are synthetic: an `openai` body with a second secret path
(`service_settings.second_key`), or bodies of services the manifest loader does not build yet
(`amazonbedrock`, `custom`), as the service registry will declare them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.defaults import ROTATION_GROUPS, rotated_together
from reconciler.diff import API_KEY_PATH, UpdateRequest, secret_changes, update_body
from reconciler.executor.steps import (
    StepFailed,
    labels,
    secrets_of,
    unknown_old_secrets,
    update_secrets,
)
from reconciler.model import (
    API_KEY,
    Action,
    DesiredEndpoint,
    FieldChange,
    FieldOp,
    KeyRotation,
    Location,
    Options,
    Pending,
    Plan,
    PlannedChange,
    Reason,
    StateRecord,
)
from reconciler.render import plan_markdown, plan_text
from reconciler.render.plan_json import as_json, plan_to_dict
from reconciler.saved_plan import SavedPlan, dump, live_digest, manifests_digest
from reconciler.secrets import (
    ANY_KEY,
    Secret,
    SecretRef,
    fingerprint,
    fingerprints,
    secret_references,
)
from reconciler.state import MalformedRecord, record_from_json, record_to_json
from tests.unit.test_planner import applied, body, desired, only, run

SECOND = ("service_settings", "second_key")
SECOND_PATH = "service_settings.second_key"
CANARY = "sk-second-CANARY-7f3a9c1e5b2d4680"
KEY = "sk-first-0123456789abcdef"
LEGACY_STATE = Path(__file__).parents[1] / "data" / "state" / "format-1-key-fingerprint.json"
LEGACY_KEY = "sk-legacy-format-0123456789abcdef"
"""The key `format-1-key-fingerprint.json` was applied with (by the reconciler before secret
maps: `reconcile apply` against the sandbox, `--state file:`)."""


def two_secrets(item: DesiredEndpoint, second: str = CANARY) -> DesiredEndpoint:
    """The endpoint with a second secret path beside its api_key."""
    return dataclasses.replace(item, secrets={API_KEY: Secret(KEY), SECOND: Secret(second)})


def paths(**fingerprint_by_name: str) -> dict[str, str]:
    """`paths(api_key="fp-1", second_key="fp-2")` → fingerprints by dotted path."""
    return {f"service_settings.{name}": value for name, value in fingerprint_by_name.items()}


def managed_pair(
    recorded: dict[str, str], **options: Any
) -> tuple[DesiredEndpoint, Any, StateRecord]:
    """A managed completion endpoint (updatable in place) whose record has `recorded`."""
    item = two_secrets(desired("comp", body("gpt-4o-mini"), "completion", **options))
    server, record = applied(item)
    return item, server, dataclasses.replace(record, secret_fingerprints=recorded)


# --- the model --------------------------------------------------------------------------------


def test_an_endpoint_built_with_api_key_has_that_one_secret_path() -> None:
    item = DesiredEndpoint("e", "completion", body(), SecretRef("K"), Options(), Location("f"))
    assert item.secrets == {API_KEY: SecretRef("K")}
    assert item.api_key == SecretRef("K")
    resolved = dataclasses.replace(item, api_key=Secret(KEY))
    assert resolved.secrets == {API_KEY: Secret(KEY)} and resolved.resolved_secrets() == (
        Secret(KEY),
    )


def test_replacing_the_api_key_keeps_the_other_secret_paths() -> None:
    item = two_secrets(desired("e"))
    rotated = dataclasses.replace(item, api_key=Secret("sk-other-key-000000"))
    assert rotated.secrets == {API_KEY: Secret("sk-other-key-000000"), SECOND: Secret(CANARY)}
    assert DesiredEndpoint("e", "completion", body(), secrets={}).api_key is None


def test_the_body_never_keeps_what_sits_at_a_secret_path() -> None:
    document = {
        "service": "custom",
        "service_settings": {
            "url": "https://example.test",
            "secret_parameters": {"token": "${TOKEN}", "api.key": "${API_KEY}"},
        },
    }
    refs = secret_references(document, [("service_settings", "secret_parameters")])
    assert refs == {
        ("service_settings", "secret_parameters", "api.key"): SecretRef("API_KEY"),
        ("service_settings", "secret_parameters", "token"): SecretRef("TOKEN"),
    }
    item = DesiredEndpoint("c", "text_embedding", document, secrets=refs)
    assert item.body == {"service": "custom", "service_settings": {"url": "https://example.test"}}
    assert document["service_settings"]["secret_parameters"]  # the caller's document untouched


def test_declared_paths_expand_maps_and_find_every_aws_key() -> None:
    document = {
        "service": "amazonbedrock",
        "service_settings": {"access_key": "${AWS_A}", "secret_key": "${AWS_S}", "region": "r"},
    }
    declared = [("service_settings", "access_key"), ("service_settings", "secret_key")]
    assert secret_references(document, declared) == {
        ("service_settings", "access_key"): SecretRef("AWS_A"),
        ("service_settings", "secret_key"): SecretRef("AWS_S"),
    }
    parameters = {"secret_parameters": {"b": "${B}", "a": "${A}"}}
    assert list(secret_references(parameters, [("secret_parameters", ANY_KEY)])) == [
        ("secret_parameters", "a"),
        ("secret_parameters", "b"),
    ]
    assert secret_references(document, [("service_settings", "entra_id")]) == {}


def test_a_value_at_a_secret_path_is_refused_without_showing_it() -> None:
    document = {"service_settings": {"access_key": CANARY}}
    with pytest.raises(ValueError, match=r"service_settings\.access_key") as raised:
        secret_references(document, [("service_settings", "access_key")])
    assert CANARY not in str(raised.value)


# --- fingerprints and changes per path ----------------------------------------------------------


def test_fingerprints_are_per_path_and_never_a_value() -> None:
    found = fingerprints(
        {API_KEY: Secret(KEY), SECOND: Secret(CANARY), ("x",): SecretRef("UNRESOLVED")}, "salt"
    )
    assert found == {
        API_KEY_PATH: fingerprint(Secret(KEY), "salt"),
        SECOND_PATH: fingerprint(Secret(CANARY), "salt"),
    }
    assert found[API_KEY_PATH] != found[SECOND_PATH]
    assert CANARY not in json.dumps(found) and KEY not in json.dumps(found)


def test_a_change_is_a_path_whose_fingerprint_differs() -> None:
    recorded = paths(api_key="fp-1", second_key="fp-2")
    assert secret_changes(recorded, recorded) == ()
    assert secret_changes(None, recorded) == ()  # no salt yet: nothing compares
    assert secret_changes(paths(api_key="fp-1", second_key="fp-9"), recorded) == (
        FieldChange(SECOND_PATH, sensitive=True),
    )
    both = secret_changes(paths(api_key="fp-8", second_key="fp-9"), recorded)
    assert [item.path for item in both] == [API_KEY_PATH, SECOND_PATH]
    assert secret_changes(paths(api_key="fp-1"), recorded) == (
        FieldChange(SECOND_PATH, sensitive=True, op=FieldOp.REMOVED),
    )
    assert secret_changes(paths(api_key="fp-1", second_key="fp-2"), paths(api_key="fp-1")) == (
        FieldChange(SECOND_PATH, sensitive=True),
    )


# --- rotation groups --------------------------------------------------------------------------


AWS = ("service_settings.access_key", "service_settings.secret_key")


def test_both_aws_keys_rotate_together_when_one_changed() -> None:
    assert rotated_together("amazonbedrock", ["service_settings.secret_key"], AWS) == AWS
    assert rotated_together("amazonbedrock", [], AWS) == ()
    assert ROTATION_GROUPS["amazonbedrock"] == (AWS,)


def test_rotation_groups_of_one_key_maps_and_unknown_services() -> None:
    assert rotated_together("openai", [API_KEY_PATH], [API_KEY_PATH]) == (API_KEY_PATH,)
    parameters = ["service_settings.secret_parameters.a", "service_settings.secret_parameters.b"]
    assert rotated_together("custom", parameters[:1], parameters) == tuple(parameters)
    # a service without groups: everything it declares (the server rebuilds secrets whole)
    assert rotated_together("nosuchservice", ["service_settings.x"], ["service_settings.x", "y"])
    assert rotated_together("nosuchservice", ["y"], ["service_settings.x", "y"]) == (
        "service_settings.x",
        "y",
    )
    # azure: api_key given up for entra_id, the removed path is not sent, the new one is
    azure = rotated_together(
        "azureopenai",
        ["service_settings.api_key", "service_settings.entra_id"],
        ["service_settings.entra_id"],
    )
    assert azure == ("service_settings.entra_id",)


def aws_endpoint() -> DesiredEndpoint:
    return DesiredEndpoint(
        "bedrock",
        "text_embedding",
        {"service": "amazonbedrock", "service_settings": {"region": "us-east-1"}},
        secrets={
            ("service_settings", "access_key"): Secret("AKIA-access-0000000000"),
            ("service_settings", "secret_key"): Secret(CANARY),
        },
    )


def test_an_update_rotating_one_aws_key_carries_both() -> None:
    change = PlannedChange(
        "bedrock",
        "text_embedding",
        Action.UPDATE,
        "rotate",
        fields=(FieldChange("service_settings.access_key", sensitive=True),),
        spec={},
    )
    request = update_body(change)
    assert request.body == {} and request.rotated == ("service_settings.access_key",)
    sent = update_secrets(request, aws_endpoint())
    assert set(sent) == {("service_settings", "access_key"), ("service_settings", "secret_key")}
    assert labels(change) == "access_key (sensitive)"


def test_an_update_with_other_service_settings_carries_every_secret() -> None:
    request = UpdateRequest({"service_settings": {"rate_limit": {}}}, carries_settings=True)
    assert len(update_secrets(request, aws_endpoint())) == 2
    assert update_secrets(UpdateRequest({"task_settings": {}}), aws_endpoint()) == {}


def test_an_unresolved_secret_path_is_named_not_shown() -> None:
    item = dataclasses.replace(
        aws_endpoint(),
        secrets={
            ("service_settings", "access_key"): Secret("AKIA-access-0000000000"),
            ("service_settings", "secret_key"): SecretRef("AWS_SECRET"),
        },
    )
    with pytest.raises(StepFailed, match="the secret_key of bedrock is not resolved"):
        secrets_of(item)


def test_what_a_rotation_cannot_restore_names_each_path() -> None:
    key = FieldChange(API_KEY_PATH, sensitive=True)
    assert unknown_old_secrets([key]) == "the api_key changed and the old one is not known"
    both = [key, FieldChange(SECOND_PATH, sensitive=True)]
    assert unknown_old_secrets(both) == (
        "the api_key, second_key changed and the old ones are not known"
    )


# --- the planner, per path ------------------------------------------------------------------------


def test_only_the_changed_path_is_planned_and_shown() -> None:
    item, server, record = managed_pair(paths(api_key="fp-1", second_key="fp-2"))
    rotated = {"comp": paths(api_key="fp-1", second_key="fp-3")}
    change = only(run([item], [server], [record], version="8.19.0", fingerprints=rotated))
    assert (change.action, change.code) == (Action.UPDATE, Reason.ROTATE_UPDATE)
    assert change.fields == (FieldChange(SECOND_PATH, sensitive=True),)
    assert change.reason.startswith("second_key updated in place; the new second_key is proven")
    text = plan_text.render(plan_to_dict(Plan((change,), "8.19.0", "t")))
    assert "~ service_settings.second_key: (sensitive) changed" in text
    assert "service_settings.api_key" not in text


def test_same_fingerprints_at_every_path_are_no_change() -> None:
    recorded = paths(api_key="fp-1", second_key="fp-2")
    item, server, record = managed_pair(recorded)
    change = only(run([item], [server], [record], fingerprints={"comp": recorded}))
    assert change.action is Action.NOOP


def test_key_rotation_recreate_replaces_for_the_changed_path() -> None:
    item, server, record = managed_pair(
        paths(api_key="fp-1", second_key="fp-2"), key_rotation=KeyRotation.RECREATE
    )
    rotated = {"comp": paths(api_key="fp-1", second_key="fp-3")}
    change = only(run([item], [server], [record], version="9.4.0", fingerprints=rotated))
    assert (change.action, change.code) == (Action.REPLACE, Reason.ROTATE_RECREATE)
    assert change.replace_paths == (SECOND_PATH,)
    assert change.reason == "second_key changed and key_rotation is recreate"


def test_key_rotation_update_without_the_update_api_names_the_changed_paths() -> None:
    item, server, record = managed_pair(
        paths(api_key="fp-1", second_key="fp-2"), key_rotation=KeyRotation.UPDATE
    )
    rotated = {"comp": paths(api_key="fp-8", second_key="fp-9")}
    change = only(run([item], [server], [record], version="8.16.0", fingerprints=rotated))
    assert (change.action, change.code) == (Action.BLOCKED, Reason.NO_UPDATE_API)
    assert change.reason.startswith("api_key, second_key changed and key_rotation is update")


def test_a_secret_path_the_manifest_dropped_is_shown_removed() -> None:
    item, server, record = managed_pair(paths(api_key="fp-1", second_key="fp-2", old_key="fp-3"))
    rotated = {"comp": paths(api_key="fp-1", second_key="fp-2")}
    change = only(run([item], [server], [record], version="9.4.0", fingerprints=rotated))
    assert change.fields == (
        FieldChange("service_settings.old_key", sensitive=True, op=FieldOp.REMOVED),
    )
    model = plan_to_dict(Plan((change,), "9.4.0", "t"))
    assert "- service_settings.old_key: (sensitive) removed" in plan_text.render(model)
    assert "! service_settings.old_key: (sensitive) removed" in plan_markdown.render(model)


def test_an_old_record_migrates_without_a_spurious_rotation() -> None:
    item = desired("emb")
    server, record = applied(item)
    stored = {**record_to_json(record), "secret_fingerprints": None}
    stored.pop("secret_fingerprints")  # written before secret maps: key_fingerprint only
    stored["key_fingerprint"] = "scrypt:legacy"
    migrated = record_from_json(stored)
    assert migrated.secret_fingerprints == {API_KEY_PATH: "scrypt:legacy"}
    same = {"emb": {API_KEY_PATH: "scrypt:legacy"}}
    assert only(run([item], [server], [migrated], fingerprints=same)).action is Action.NOOP
    other = {"emb": {API_KEY_PATH: "scrypt:rotated"}}
    rotated = only(run([item], [server], [migrated], fingerprints=other, version="9.4.0"))
    assert rotated.fields == (FieldChange(API_KEY_PATH, sensitive=True),)


# --- state records ------------------------------------------------------------------------------


def test_the_state_file_written_before_secret_maps_reads_as_api_key_entries() -> None:
    data = json.loads(LEGACY_STATE.read_text())
    salt = data["salt"]
    expected = fingerprint(Secret(LEGACY_KEY), salt)
    for stored in data["records"].values():
        assert "secret_fingerprints" not in stored and stored["key_fingerprint"] == expected
        record = record_from_json(stored)
        assert record.secret_fingerprints == {API_KEY_PATH: expected}
        assert fingerprints({API_KEY: Secret(LEGACY_KEY)}, salt) == record.secret_fingerprints
        written = record_to_json(record)  # written again: the map, and the old field beside it
        assert written["secret_fingerprints"] == {API_KEY_PATH: expected}
        assert written["key_fingerprint"] == expected
        assert record_from_json(written) == record


def test_a_record_with_two_secret_paths_round_trips() -> None:
    record = StateRecord(
        "comp", "completion", "reconciler", paths(api_key="fp-1", second_key="fp-2"), {}, "t"
    )
    written = record_to_json(record)
    assert written["secret_fingerprints"] == paths(api_key="fp-1", second_key="fp-2")
    assert written["key_fingerprint"] == "fp-1"
    assert record_from_json(written) == record
    only_second = dataclasses.replace(record, secret_fingerprints=paths(second_key="fp-2"))
    assert "key_fingerprint" not in record_to_json(only_second)


def test_a_malformed_fingerprint_map_is_named() -> None:
    stored = record_to_json(StateRecord("a", "completion", "r", paths(api_key="fp"), {}, "t"))
    with pytest.raises(MalformedRecord, match="secret_fingerprints"):
        record_from_json({**stored, "secret_fingerprints": {API_KEY_PATH: 3}})
    with pytest.raises(MalformedRecord, match="secret_fingerprints"):
        record_from_json({**stored, "secret_fingerprints": ["fp"]})


@pytest.mark.parametrize(
    "settings",
    [
        {"second_key": CANARY},
        {"api_key": CANARY},
        {"secret_parameters": {"to.ken": CANARY}},
    ],
)
def test_a_record_holding_a_secret_at_any_secret_path_is_refused(settings: dict[str, Any]) -> None:
    recorded = {
        **paths(api_key="fp-1", second_key="fp-2"),
        "service_settings.secret_parameters.to.ken": "fp-3",
    }
    last = {"service": "openai", "service_settings": {"model_id": "m", **settings}}
    record = StateRecord("e", "completion", "reconciler", recorded, last, "t")
    with pytest.raises(ValueError, match="holds a secret at service_settings") as raised:
        record_to_json(record)
    assert CANARY not in str(raised.value)
    clean = dataclasses.replace(record, last_applied={"service_settings": {"model_id": "m"}})
    marked = dataclasses.replace(clean, pending=Pending("replace", "t", last))
    with pytest.raises(ValueError, match="pending replace of e holds a secret") as raised:
        record_to_json(marked)
    assert CANARY not in str(raised.value)


# --- saved plans --------------------------------------------------------------------------------


def _before_secret_maps(items: list[DesiredEndpoint], nonce: str) -> str:
    """`manifests_digest` as it was when an endpoint had one key (saved plans of then)."""
    mac = hmac.new(nonce.encode(), digestmod=hashlib.sha256)
    for item in sorted(items, key=lambda d: d.inference_id):
        assert isinstance(item.api_key, Secret)
        mac.update(
            json.dumps(
                [item.inference_id, item.task_type, item.body],
                sort_keys=True,
                separators=(",", ":"),
                default=str,
            ).encode()
        )
        mac.update(b"\0" + item.api_key.reveal().encode() + b"\0")
        mac.update(
            json.dumps(
                [item.options.protect, item.options.key_rotation],
                sort_keys=True,
                separators=(",", ":"),
                default=str,
            ).encode()
        )
    return mac.hexdigest()


def test_the_manifests_digest_covers_every_secret_path() -> None:
    one = desired("emb")
    assert manifests_digest([one], "n") == _before_secret_maps([one], "n")  # still applies
    first = manifests_digest([two_secrets(one)], "n")
    assert first != manifests_digest([two_secrets(one, CANARY + "-rotated")], "n")
    assert first != manifests_digest([one], "n")
    assert first == manifests_digest([two_secrets(one)], "n")


def test_the_live_digest_covers_every_fingerprint() -> None:
    item = desired("emb")
    server, record = applied(item)
    base = live_digest([server], {"emb": record})
    two = dataclasses.replace(record, secret_fingerprints=paths(api_key="fp-1", second_key="x"))
    assert live_digest([server], {"emb": two}) != base
    other = dataclasses.replace(two, secret_fingerprints=paths(api_key="fp-1", second_key="y"))
    assert live_digest([server], {"emb": two}) != live_digest([server], {"emb": other})


# --- the canary in a second secret path ---------------------------------------------------------


def test_a_canary_in_a_second_secret_path_appears_in_no_plan_and_no_saved_plan() -> None:
    created = two_secrets(desired("new"))
    rotated, server, record = managed_pair(paths(api_key="fp-1", second_key="fp-2"))
    recreated, _, gone_record = managed_pair(paths(api_key="fp-1", second_key="fp-2"))
    recreated = dataclasses.replace(recreated, inference_id="gone")
    gone_record = dataclasses.replace(gone_record, inference_id="gone")
    fingerprints_now = {
        "new": paths(api_key="fp-1", second_key="fp-c"),
        "comp": paths(api_key="fp-1", second_key="fp-3"),
        "gone": paths(api_key="fp-1", second_key="fp-4"),
    }
    result = run(
        [created, rotated, recreated],
        [server],
        [record, gone_record],
        version="9.1.7",
        fingerprints=fingerprints_now,
    )
    assert {c.action for c in result.changes} == {Action.CREATE, Action.UPDATE}
    model = plan_to_dict(result)
    saved = SavedPlan(result, "nonce", manifests_digest([created, rotated], "nonce"), "live")
    texts = [
        plan_text.render(model, show_unchanged=True),
        plan_markdown.render(model),
        as_json(result),
        json.dumps(dump(saved)),
        repr(result),
    ]
    assert "service_settings.second_key: (sensitive) changed" in texts[0]
    for text in texts:
        assert CANARY not in text and KEY not in text
        assert "sk-second" not in text


# --- resolution ---------------------------------------------------------------------------------


def desired_with_every_secret(document: Any) -> DesiredEndpoint:
    """`manifest.desired_endpoint` with the one-line change that passes every declared secret
    path (the registry's), without the refusal of services plan/apply do not manage yet."""
    from reconciler.manifest import options_of
    from reconciler.services import registry

    data = document.data
    body = {k: v for k, v in data.items() if k not in ("inference_id", "task_type", "reconcile")}
    return DesiredEndpoint(
        inference_id=data["inference_id"],
        task_type=data["task_type"],
        body=body,
        secrets=secret_references(
            data, (s.parts for s in registry.SERVICES[data["service"]].secrets)
        ),
        options=options_of(data),
        origin=document.source_map.locate(("inference_id",)),
    )


BEDROCK = """inference_id: bedrock
task_type: text_embedding
service: amazonbedrock
service_settings:
  region: us-east-1
  provider: amazontitan
  model: amazon.titan-embed-text-v2:0
  access_key: ${AWS_ACCESS}
  secret_key: ${AWS_SECRET}
"""


def test_every_missing_variable_of_every_secret_path_is_named_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler import pipeline
    from reconciler.errors import UsageError

    (tmp_path / "bedrock.yaml").write_text(BEDROCK)
    monkeypatch.setattr(pipeline, "desired_endpoint", desired_with_every_secret)
    monkeypatch.setattr(pipeline, "unmanaged_message", lambda document: None)
    manifests = pipeline.load_manifests([str(tmp_path)])
    with pytest.raises(UsageError) as raised:
        pipeline.resolve_keys(manifests, {})
    where = tmp_path / "bedrock.yaml"
    assert str(raised.value).splitlines()[1:] == [
        f"  {where}:8:15: environment variable AWS_ACCESS is not set or empty",
        f"  {where}:9:15: environment variable AWS_SECRET is not set or empty",
    ]
    with pytest.raises(UsageError, match="AWS_SECRET is not set") as raised:
        pipeline.resolve_keys(manifests, {"AWS_ACCESS": "AKIA-0000"})
    assert "AWS_ACCESS" not in str(raised.value)
    env = {"AWS_ACCESS": "AKIA-0000", "AWS_SECRET": CANARY}
    (item,) = pipeline.resolve_keys(manifests, env)
    assert item.secrets == {
        ("service_settings", "access_key"): Secret("AKIA-0000"),
        ("service_settings", "secret_key"): Secret(CANARY),
    }
    assert item.body["service_settings"] == {
        "region": "us-east-1",
        "provider": "amazontitan",
        "model": "amazon.titan-embed-text-v2:0",
    }
    assert CANARY not in repr(item)
