"""What every emulated inference service answers for: the `Service` interface the CRUD and
inference handlers dispatch on, and the request/record shapes they exchange.

A record is the stored endpoint: `inference_id`, `task_type`, `service`, `service_settings`
(everything stored, hidden fields included), `task_settings`, `chunking_settings` and
`secrets` (never rendered: elastic/elasticsearch `ModelSecrets` live in their own index and GET
serialises only `ServiceSettings.getFilteredXContentObject()`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..body import Parsed, endpoint_record, open_body
from ..errors import EsError, status_exception, unsupported_task_type
from ..versions import Capabilities

if TYPE_CHECKING:
    from ..state import EsState

Record = dict[str, Any]


@dataclass
class InferRequest:
    """A parsed `POST _inference/...` body (`InferenceAction.Request`)."""

    inputs: list[str]
    query: str | None = None
    top_n: int | None = None
    return_documents: bool | None = None
    input_type: str | None = None
    task_settings: dict[str, Any] = field(default_factory=dict)


class Service:
    """One `InferenceService`: request parsing, GET rendering, `_update`, inference."""

    name: str = ""
    label: str = ""

    # -- what the release offers ------------------------------------------------------------

    def task_types(self, caps: Capabilities) -> tuple[str, ...]:
        raise NotImplementedError

    def available(self, caps: Capabilities) -> bool:
        return bool(self.task_types(caps))

    # -- PUT --------------------------------------------------------------------------------

    def parse(
        self, inference_id: str, task_type: str, config: dict[str, Any], caps: Capabilities
    ) -> Record:
        raise NotImplementedError

    async def create(self, state: EsState, record: Record, timeout: float, label: str) -> None:
        """The validation call (or deployment start) between parsing and storing."""

    def open_request(
        self, task_type: str, config: dict[str, Any], caps: Capabilities, chunked: tuple[str, ...]
    ) -> Parsed:
        """`parseRequestConfig`'s first steps (`open_body`), then the task type the service
        offers on this release."""
        opened = open_body(config, task_type, caps, chunked)
        if task_type not in self.task_types(caps):
            raise unsupported_task_type(self.name, task_type)
        return opened

    def stored_record(
        self,
        inference_id: str,
        task_type: str,
        parsed: Parsed,
        secrets: dict[str, Any],
        *leftovers: dict[str, Any],
    ) -> Record:
        """`endpoint_record` of this service."""
        return endpoint_record(inference_id, task_type, self.name, parsed, secrets, *leftovers)

    def check_key(self, state: EsState, record: Record, provider_401: str) -> None:
        """The provider refuses the endpoint's credentials: its 401, mapped."""
        if state.service_keys.refused(self.name, record["secrets"]):
            raise auth_failure(record["inference_id"], provider_401)

    def validation_call(self, state: EsState, record: Record, provider_401: str) -> None:
        """The PUT (and 9.4+ `_update`) validation call: a refused key fails the request."""
        try:
            self.check_key(state, record, provider_401)
        except EsError as cause:
            raise status_exception(400, VALIDATION_THREW, cause) from None

    # -- GET --------------------------------------------------------------------------------

    def render_settings(self, record: Record, state: EsState) -> dict[str, Any]:
        raise NotImplementedError

    def extra_fields(self, record: Record, state: EsState) -> dict[str, Any]:
        """Top-level keys after `chunking_settings` (EIS `metadata`)."""
        return {}

    # -- _update ----------------------------------------------------------------------------

    def update_service_settings(
        self, state: EsState, record: Record, merged: Record, service_map: dict[str, Any]
    ) -> None:
        """Apply `service_settings` of an `_update` to `merged` (secrets included); leave the
        keys this release does not consume in `service_map`."""
        raise NotImplementedError

    def parse_task_settings(
        self, task_type: str, task_map: dict[str, Any], caps: Capabilities
    ) -> dict[str, Any]:
        raise NotImplementedError

    def check_updatable(self, state: EsState, record: Record) -> None:
        """Refuse an `_update` of this endpoint before anything is parsed."""

    async def validate_update(self, state: EsState, merged: Record) -> None:
        """9.4+: the merged endpoint is validated by a live call before it is saved."""

    def apply_update(self, state: EsState, record: Record, merged: Record) -> None:
        """Side effects of a successful `_update` (resizing a deployment)."""

    # -- DELETE -----------------------------------------------------------------------------

    def on_delete(self, state: EsState, record: Record) -> None:
        """Side effects of deleting the endpoint (stopping a deployment)."""

    # -- inference --------------------------------------------------------------------------

    async def infer(self, state: EsState, record: Record, request: InferRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def stream_text(self, state: EsState, record: Record, text: str) -> str:
        """The text a completion/chat_completion stream carries."""
        raise NotImplementedError


def auth_failure(inference_id: str, provider_message: str) -> EsError:
    """A provider's 401 mapped as every `*ResponseHandler` maps it (`BaseResponseHandler`)."""
    return status_exception(
        401,
        "Received an authentication error status code for request from inference entity id "
        f"[{inference_id}] status [401]. Error message: [{provider_message}]",
    )


VALIDATION_THREW = (
    "Could not complete inference endpoint creation as validation call to service threw an "
    "exception."
)
