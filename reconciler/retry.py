"""Bounded retries with full-jitter exponential backoff; 429/503 honour `Retry-After`.

Only `TemporaryApiError` is retried (429, 5xx, transport errors); the class decides, never a
message. Sleeping and randomness are injected, so tests record the delays instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import TemporaryApiError

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Random = Callable[[], float]
"""Returns a float in [0, 1), like `random.random`."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a temporary failure.

    `max_attempts` counts the first try (1 = no retry). The n-th retry waits a uniform random
    time in [0, min(max_delay, base_delay * 2**(n-1))] ("full jitter"), or exactly the
    server's `Retry-After` seconds, capped at `max_retry_after`.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff_ceiling(self, retry: int) -> float:
        """The upper bound of the jittered delay before retry number `retry` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (retry - 1))

    def delay(self, retry: int, error: TemporaryApiError, rand: Random = random.random) -> float:
        """Seconds to wait before retry number `retry` after `error`."""
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        return rand() * self.backoff_ceiling(retry)


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    rand: Random = random.random,
) -> T:
    """Run `call` until it succeeds, fails permanently, or the attempts are used up.

    On exhaustion the last `TemporaryApiError` is raised again, its message saying how many
    attempts were made.
    """
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return await call()
        except TemporaryApiError as error:
            if attempt == policy.max_attempts:
                raise _exhausted(error, attempt) from None
            delay = policy.delay(attempt, error, rand)
            log.info("retry %d/%d in %.1fs: %s", attempt, policy.max_attempts - 1, delay, error)
            await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _exhausted(error: TemporaryApiError, attempts: int) -> TemporaryApiError:
    if attempts == 1:
        return error
    return TemporaryApiError(
        f"{error} (gave up after {attempts} attempts)",
        status=error.status,
        error_type=error.error_type,
        retry_after=error.retry_after,
    )


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds; None when absent or an HTTP date (then backoff applies)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
