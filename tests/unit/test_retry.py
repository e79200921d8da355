"""Retry policy: full-jitter bounds, Retry-After honoured and capped, bounded attempts."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.errors import PermanentApiError, TemporaryApiError
from reconciler.retry import RetryPolicy, parse_retry_after, with_retries

POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=4.0, max_retry_after=30.0)


class Recorder:
    """A fake sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def failing(errors: list[Exception], result: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return calls, call


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_backoff_ceiling_doubles_up_to_max() -> None:
    ceilings = [POLICY.backoff_ceiling(n) for n in range(1, 7)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize("retry", range(1, 8))
@pytest.mark.parametrize("rand", [0.0, 0.25, 0.999999])
def test_full_jitter_stays_within_zero_and_ceiling(retry: int, rand: float) -> None:
    delay = POLICY.delay(retry, TemporaryApiError("x", status=503), lambda: rand)
    assert 0.0 <= delay <= POLICY.backoff_ceiling(retry)
    assert delay == pytest.approx(rand * POLICY.backoff_ceiling(retry))


def test_retry_after_is_honoured_exactly() -> None:
    error = TemporaryApiError("slow down", status=429, retry_after=7.0)
    assert POLICY.delay(1, error, lambda: 0.0) == 7.0


def test_retry_after_is_capped() -> None:
    error = TemporaryApiError("slow down", status=429, retry_after=3600.0)
    assert POLICY.delay(1, error, lambda: 0.0) == 30.0


def test_with_retries_sleeps_between_attempts_then_succeeds() -> None:
    sleep = Recorder()
    errors: list[Exception] = [
        TemporaryApiError("busy", status=429, retry_after=2.0),
        TemporaryApiError("boom", status=503),
    ]
    calls, call = failing(errors)
    result = run(with_retries(call, POLICY, sleep=sleep, rand=lambda: 0.5))  # type: ignore[arg-type]
    assert result == "ok"
    assert len(calls) == 3
    assert sleep.delays == [2.0, 0.5]  # Retry-After, then 0.5 * ceiling(2) = 0.5


def test_permanent_errors_are_not_retried() -> None:
    sleep = Recorder()
    calls, call = failing([PermanentApiError("bad request", status=400)])
    with pytest.raises(PermanentApiError):
        run(with_retries(call, POLICY, sleep=sleep))  # type: ignore[arg-type]
    assert len(calls) == 1
    assert sleep.delays == []


def test_attempts_are_bounded_and_the_error_says_so() -> None:
    sleep = Recorder()
    calls, call = failing([TemporaryApiError("boom", status=502) for _ in range(10)])
    with pytest.raises(TemporaryApiError, match="gave up after 5 attempts") as caught:
        run(with_retries(call, POLICY, sleep=sleep, rand=lambda: 1.0))  # type: ignore[arg-type]
    assert caught.value.status == 502
    assert len(calls) == 5
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0]


def test_single_attempt_policy_raises_the_original_error() -> None:
    _, call = failing([TemporaryApiError("boom", status=500)])
    with pytest.raises(TemporaryApiError, match=r"^boom$"):
        run(with_retries(call, RetryPolicy(max_attempts=1), sleep=Recorder()))  # type: ignore[arg-type]


def test_policy_needs_one_attempt() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 1.5 ", 1.5),
        (None, None),
        ("", None),
        ("-3", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds
