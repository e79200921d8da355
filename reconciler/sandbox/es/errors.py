"""Elasticsearch-shaped errors: one exception type and the JSON envelope real clusters send.

`root_cause` follows `ElasticsearchException.guessRootCauses`: an Elasticsearch exception whose
cause is also an Elasticsearch exception reports the innermost one; any other exception (such as
`validation_exception`, which extends `IllegalArgumentException`) reports itself.
"""

from __future__ import annotations

from typing import Any

# Exception types that are `ElasticsearchException` subclasses in the server source.
_ES_EXCEPTION_TYPES = frozenset(
    {
        "status_exception",
        "resource_not_found_exception",
        "resource_already_exists_exception",
        "index_not_found_exception",
        "version_conflict_engine_exception",
        "security_exception",
        "parse_exception",
        "document_missing_exception",
        "invalid_index_name_exception",
        "timeout_exception",
    }
)


class EsError(Exception):
    """An error answered as `{"error": {...}, "status": N}`."""

    def __init__(
        self,
        status: int,
        type_: str,
        reason: str,
        *,
        cause: EsError | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.type = type_
        self.reason = reason
        self.cause = cause
        self.extra = extra or {}
        self.headers = headers or {}

    @property
    def is_es_exception(self) -> bool:
        return self.type in _ES_EXCEPTION_TYPES

    def root_causes(self) -> list[EsError]:
        if self.is_es_exception and self.cause is not None and self.cause.is_es_exception:
            return self.cause.root_causes()
        return [self]

    def fragment(self, *, with_cause: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "reason": self.reason, **self.extra}
        if with_cause and self.cause is not None:
            out["caused_by"] = self.cause.fragment()
        return out

    def body(self) -> dict[str, Any]:
        roots = [r.fragment(with_cause=False) for r in self.root_causes()]
        return {"error": {"root_cause": roots, **self.fragment()}, "status": self.status}


def bad_request(reason: str, type_: str = "illegal_argument_exception") -> EsError:
    return EsError(400, type_, reason)


def status_exception(status: int, reason: str, cause: EsError | None = None) -> EsError:
    return EsError(status, "status_exception", reason, cause=cause)


def validation_failed(messages: list[str], type_: str = "validation_exception") -> EsError:
    """`ValidationException.getMessage`: `Validation Failed: 1: a;2: b;`."""
    text = "".join(f"{i}: {m};" for i, m in enumerate(messages, start=1))
    return EsError(400, type_, f"Validation Failed: {text}")


def endpoint_not_found(inference_id: str) -> EsError:
    return EsError(
        404, "resource_not_found_exception", f"Inference endpoint not found [{inference_id}]"
    )


def task_type_mismatch(requested: str, actual: str) -> EsError:
    return status_exception(
        400,
        f"Requested task type [{requested}] does not match the inference endpoint's "
        f"task type [{actual}]",
    )


def unknown_task_type(value: str) -> EsError:
    return status_exception(400, f"Unknown task_type [{value}]")


def unsupported_task_type(service: str, task_type: str) -> EsError:
    """`ServiceUtils.createInvalidTaskTypeException`."""
    return status_exception(
        400, f"The [{service}] service does not support task type [{task_type}]"
    )


def already_exists(inference_id: str) -> EsError:
    return EsError(
        400,
        "resource_already_exists_exception",
        f"Inference endpoint [{inference_id}] already exists",
    )


def body_required() -> EsError:
    return EsError(400, "parse_exception", "request body is required")


def index_not_found(index: str) -> EsError:
    extra = {
        "resource.type": "index_or_alias",
        "resource.id": index,
        "index_uuid": "_na_",
        "index": index,
    }
    return EsError(404, "index_not_found_exception", f"no such index [{index}]", extra=extra)
