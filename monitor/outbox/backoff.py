"""When to try a notification again, and when to give up: pure functions of the attempt
count, the row's age and what the server said.

Delays grow exponentially from :attr:`RetryPolicy.base` to :attr:`RetryPolicy.cap`, each
shortened by a random share (jitter) so that many rows failing together (Slack down for
an hour) do not all come back in the same second. Slack's ``Retry-After`` is a floor:
the next attempt is never sooner than the server asked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_EXPONENT = 32  # 30 s * 2**32 is far beyond any cap; stops float overflow on bad input


@dataclass(frozen=True)
class RetryPolicy:
    """How the dispatcher retries temporary failures.

    With the defaults, the waits after failures 1, 2, 3, … are at most 30 s, 1, 2, 4, 8,
    16 and 32 min, then 1 h each: 30 attempts span about a day (17 h to 23 h with the
    jitter, plus the dispatch interval per attempt). ``max_age`` bounds rows that waited
    long before their first attempt.
    """

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.25
    """Each delay is shortened by up to this share, drawn at random."""
    max_attempts: int = 30
    max_age: timedelta = timedelta(hours=48)
    """A row this old (since it was queued) is given up at its next temporary failure."""

    def __post_init__(self) -> None:
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.max_attempts < 1 or self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("need max_attempts >= 1 and 0 < base <= cap")

    def delay(
        self, failures: int, rng: random.Random, retry_after: float | None = None
    ) -> timedelta:
        """The wait before the next attempt, after ``failures`` (>= 1) failed attempts.

        ``retry_after`` (seconds, from the server) is a lower bound, even beyond the cap.
        """
        exponent = min(max(failures - 1, 0), MAX_EXPONENT)
        full = min(self.cap.total_seconds(), self.base.total_seconds() * 2**exponent)
        seconds = full * (1.0 - self.jitter * rng.random())
        if retry_after is not None:
            seconds = max(seconds, retry_after)
        return timedelta(seconds=seconds)

    def gives_up(self, attempts: int, created_at: datetime, now: datetime) -> bool:
        """True when a row that just failed its ``attempts``-th attempt must not be retried."""
        return attempts >= self.max_attempts or now - created_at >= self.max_age


DEFAULT_POLICY = RetryPolicy()
