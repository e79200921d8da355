"""The advisories' pure functions: what `_services` says the cluster offers (every format it
has had), which manifests it does not cover, and EIS model ends of life against a fixed date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from reconciler.advisories import (
    MODEL_END_OF_LIFE,
    SERVICE_NOT_OFFERED,
    TASK_TYPE_NOT_OFFERED,
    Advisory,
    advisories_for,
    end_of_life,
    end_of_life_advisories,
    offered,
    offering_advisories,
)
from reconciler.model import DesiredEndpoint, LiveEndpoint, Location, Options
from reconciler.render.advisories import advisory_line, wants_github
from reconciler.render.plan_json import plan_to_dict

TODAY = date(2026, 3, 1)

# elastic/elasticsearch PR #120150: `task_types` per service, `supported_task_types` per setting
WITH_TASK_TYPES = [
    {
        "service": "openai",
        "name": "OpenAI",
        "task_types": ["text_embedding", "completion"],
        "configurations": {
            "api_key": {"sensitive": True, "supported_task_types": ["text_embedding"]},
        },
    },
    {"service": "elasticsearch", "name": "Elasticsearch", "task_types": ["sparse_embedding"]},
]
# a per-configuration list only, under either name it has had
PER_SETTING = [
    {
        "service": "cohere",
        "configurations": {
            "api_key": {"available_for_task_types": ["text_embedding", "rerank"]},
            "model_id": {"supported_task_types": ["completion"]},
        },
    }
]


def endpoint(inference_id: str, service: str, task_type: str) -> DesiredEndpoint:
    return DesiredEndpoint(
        inference_id=inference_id,
        task_type=task_type,
        body={"service": service, "service_settings": {"model_id": "m"}},
        secrets={},
        options=Options(),
        origin=Location(f"manifests/{inference_id}.yaml", 3, 1),
    )


def eis(inference_id: str, end: Any, model: str = "rainbow-sprinkles") -> LiveEndpoint:
    body = {
        "service": "elastic",
        "service_settings": {"model_id": model},
        "metadata": {"heuristics": {"status": "ga", "end_of_life_date": end}},
    }
    return LiveEndpoint(inference_id, "chat_completion", "elastic", body)


# --- reading _services --------------------------------------------------------------------------


def test_the_task_types_list_is_read_per_service() -> None:
    assert offered(WITH_TASK_TYPES) == {
        "openai": frozenset({"text_embedding", "completion"}),
        "elasticsearch": frozenset({"sparse_embedding"}),
    }


def test_without_it_the_configurations_lists_are_joined_under_either_name() -> None:
    assert offered(PER_SETTING) == {"cohere": frozenset({"text_embedding", "rerank", "completion"})}


def test_a_service_without_any_task_list_is_known_but_its_task_types_are_not() -> None:
    assert offered([{"service": "x", "configurations": {"a": {"type": "str"}}}]) == {"x": None}


@pytest.mark.parametrize(
    "body",
    [None, {}, [], {"error": {"type": "x"}}, "text", [1, "two", {"name": "no service key"}], 7],
)
def test_an_answer_that_cannot_be_read_is_unknown(body: Any) -> None:
    assert offered(body) is None


# --- what the manifests need --------------------------------------------------------------------


def test_a_service_the_cluster_lacks_is_warned_about() -> None:
    (advisory,) = offering_advisories([endpoint("c", "cohere", "rerank")], offered(WITH_TASK_TYPES))
    assert advisory == Advisory(
        SERVICE_NOT_OFFERED,
        "c",
        "c: the cluster does not offer service 'cohere' (GET _inference/_services lists "
        "elasticsearch, openai); creating it will likely fail",
        "manifests/c.yaml:3:1",
    )


def test_a_task_type_the_service_lacks_here_is_warned_about() -> None:
    (advisory,) = offering_advisories(
        [endpoint("o", "openai", "chat_completion")], offered(WITH_TASK_TYPES)
    )
    assert advisory.code == TASK_TYPE_NOT_OFFERED
    assert advisory.message == (
        "o: the cluster offers service 'openai' without task type 'chat_completion' (it lists "
        "completion, text_embedding); creating it will likely fail"
    )


def test_what_the_cluster_offers_gives_no_warning_and_nothing_known_none() -> None:
    fine = [endpoint("o", "openai", "text_embedding"), endpoint("c", "cohere", "completion")]
    assert offering_advisories(fine[:1], offered(WITH_TASK_TYPES)) == []
    assert offering_advisories(fine[1:], offered(PER_SETTING)) == []
    assert offering_advisories(fine, None) == []
    unknown_tasks = offered([{"service": "openai"}])
    assert offering_advisories([endpoint("o", "openai", "rerank")], unknown_tasks) == []


# --- EIS end of life ----------------------------------------------------------------------------


def test_a_model_past_its_end_of_life_is_named_with_the_date() -> None:
    (advisory,) = end_of_life_advisories([eis("chat", "2026-02-01")], TODAY)
    assert advisory == Advisory(
        MODEL_END_OF_LIFE,
        "chat",
        "chat: EIS model 'rainbow-sprinkles' reached its end of life on 2026-02-01 (28 days "
        "ago); move the endpoint to a newer model",
    )


@pytest.mark.parametrize(
    ("end", "when"),
    [
        ("2026-05-30", "(in 90 days)"),
        ("2026-03-02", "(in 1 day)"),
        ("2026-03-01", "(today)"),
        ("2026-03-01T00:00:00Z", "(today)"),
    ],
)
def test_a_model_within_90_days_of_it_is_warned_about(end: str, when: str) -> None:
    (advisory,) = end_of_life_advisories([eis("chat", end)], TODAY)
    assert f"reaches its end of life on {end[:10]} {when}" in advisory.message


@pytest.mark.parametrize("end", ["2026-05-31", None, "", "soon", 20260301, ["2026-01-01"]])
def test_a_later_or_unreadable_date_is_no_warning(end: Any) -> None:
    assert end_of_life_advisories([eis("chat", end)], TODAY) == []


def test_only_elastic_endpoints_are_read_and_in_id_order() -> None:
    other = LiveEndpoint("a", "completion", "openai", dict(eis("a", "2020-01-01").body))
    found = end_of_life_advisories([eis("z", "2020-01-01"), other, eis("b", "2026-03-05")], TODAY)
    assert [a.inference_id for a in found] == ["b", "z"]


def test_end_of_life_reads_the_metadata_heuristics() -> None:
    assert end_of_life({"metadata": {"heuristics": {"end_of_life_date": "2027-01-31"}}}) == date(
        2027, 1, 31
    )
    assert end_of_life({"metadata": "x"}) is None


def test_a_managed_endpoints_warning_points_at_its_manifest() -> None:
    found = advisories_for(
        [endpoint("chat", "elastic", "chat_completion")],
        [eis("chat", "2026-01-01")],
        [{"service": "elastic", "task_types": ["chat_completion"]}],
        TODAY,
    )
    assert [(a.code, a.origin) for a in found] == [(MODEL_END_OF_LIFE, "manifests/chat.yaml:3:1")]


# --- rendering ----------------------------------------------------------------------------------


def test_text_and_github_lines() -> None:
    advisory = Advisory(SERVICE_NOT_OFFERED, "c", "c: 50% off, here", "dir/c.yaml:3:1")
    assert advisory_line(advisory) == "warning: c: 50% off, here"
    assert advisory_line(advisory, github=True) == (
        "::warning file=dir/c.yaml,line=3,col=1,title=reconcile%3A service-not-offered"
        "::c: 50%25 off, here"
    )
    live_only = Advisory(MODEL_END_OF_LIFE, "x", "x: eol")
    assert advisory_line(live_only, github=True) == (
        "::warning title=reconcile%3A model-end-of-life::x: eol"
    )
    assert wants_github({"GITHUB_ACTIONS": "true"}) and not wants_github({})


def test_the_json_plan_carries_them_when_given() -> None:
    from reconciler.model import Plan

    plan = Plan(changes=(), server_version="9.1.0", created_at="2026-03-01T00:00:00+00:00")
    assert "advisories" not in plan_to_dict(plan)
    model = plan_to_dict(plan, [Advisory(MODEL_END_OF_LIFE, "x", "x: eol")])
    assert model["advisories"] == [
        {"code": "model-end-of-life", "inference_id": "x", "message": "x: eol", "origin": None}
    ]
