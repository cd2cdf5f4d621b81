"""The retry schedule: growing waits with jitter, Slack's Retry-After as a floor, and
when a notification is given up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.outbox import DEFAULT_POLICY, RetryPolicy

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_waits_double_from_30_seconds_up_to_an_hour() -> None:
    no_jitter = RetryPolicy(jitter=0)
    waits = [no_jitter.delay(n, random.Random(1)).total_seconds() for n in range(1, 11)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_jitter_only_shortens_and_is_reproducible_with_a_seed() -> None:
    first = [DEFAULT_POLICY.delay(3, random.Random(42)) for _ in range(3)]
    again = [DEFAULT_POLICY.delay(3, random.Random(42)) for _ in range(3)]
    assert first == again
    spread = {DEFAULT_POLICY.delay(3, rng).total_seconds() for rng in [random.Random()] * 200}
    assert all(90 <= s <= 120 for s in spread) and len(spread) > 100


def test_retry_after_is_a_floor_even_beyond_the_cap() -> None:
    rng = random.Random(3)
    assert DEFAULT_POLICY.delay(1, rng, retry_after=120).total_seconds() == 120
    assert DEFAULT_POLICY.delay(9, rng, retry_after=7200).total_seconds() == 7200
    assert DEFAULT_POLICY.delay(9, rng, retry_after=1).total_seconds() >= 2700


def test_default_retries_span_about_a_day() -> None:
    waits = [DEFAULT_POLICY.delay(n, random.Random(n)) for n in range(1, 30)]
    span = sum(waits, timedelta())
    assert timedelta(hours=17) <= span <= timedelta(hours=23, minutes=10)


@pytest.mark.parametrize(
    ("attempts", "age", "gives_up"),
    [
        (29, timedelta(hours=20), False),
        (30, timedelta(hours=20), True),
        (1, timedelta(hours=48), True),
    ],
)
def test_gives_up_after_max_attempts_or_max_age(
    attempts: int, age: timedelta, gives_up: bool
) -> None:
    assert DEFAULT_POLICY.gives_up(attempts, T0, T0 + age) is gives_up


def test_nonsense_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
