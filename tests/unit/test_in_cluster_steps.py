"""The executor's in-cluster (`elasticsearch`, `elser`) rules: a generous PUT timeout for a
create that starts a model deployment, and a 409 on an allocation update explained (the
deployment belongs to another endpoint or to the trained-models API:
elastic/elasticsearch PR #114457, `TransportUpdateInferenceModelAction`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.errors import ConflictError
from reconciler.executor.steps import (
    ApplySettings,
    StepContext,
    StepFailed,
    put_timeout,
    update,
)
from reconciler.model import Action, DesiredEndpoint, FieldChange, PlannedChange, Reason
from reconciler.responses import ServerInfo


def endpoint(service: str) -> DesiredEndpoint:
    body = {"service": service, "service_settings": {"num_threads": 1, "num_allocations": 2}}
    return DesiredEndpoint("elser", "sparse_embedding", body)


def test_in_cluster_creates_wait_for_the_deployment() -> None:
    settings = ApplySettings()
    assert put_timeout(settings, endpoint("elasticsearch")) == settings.deploy_timeout == "100s"
    assert put_timeout(settings, endpoint("elser")) == "100s"
    assert put_timeout(settings, endpoint("cohere")) == settings.put_timeout == "60s"


class RefusingClient:
    """A server whose deployment the endpoint did not create."""

    async def info(self) -> ServerInfo:
        return ServerInfo((9, 5, 0))

    async def update_endpoint(self, *args: Any, **kwargs: Any) -> None:
        raise ConflictError(
            "POST /_inference/sparse_embedding/elser/_update: 409 status_exception: Cannot"
            " update inference endpoint [elser] using model deployment [shared]",
            status=409,
        )

    def redact(self, text: str) -> str:
        return text


@pytest.mark.parametrize(("service", "explained"), [("elasticsearch", True), ("cohere", False)])
def test_a_409_on_an_allocation_update_says_whose_deployment_it_is(
    service: str, explained: bool
) -> None:
    change = PlannedChange(
        "elser",
        "sparse_embedding",
        Action.UPDATE,
        "num_allocations updated in place",
        fields=(FieldChange("service_settings.num_allocations", 1, 2),),
        code=Reason.UPDATE,
        spec={"service_settings": {"num_allocations": 2}},
    )
    ctx = StepContext(
        RefusingClient(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # never reached: the update is refused first
        "salt",
        ApplySettings(),
        lambda: datetime.now(UTC),
    )
    error: type[Exception] = StepFailed if explained else ConflictError
    with pytest.raises(error) as caught:
        asyncio.run(update(ctx, change, endpoint(service)))
    said = str(caught.value)
    assert ("only through the inference endpoint that created it" in said) is explained
    assert "Cannot update inference endpoint [elser]" in said
