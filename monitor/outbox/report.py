"""What one dispatch run did, per channel: for the CLI table, logs and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ChannelStats:
    """One channel's rows in one run, each in one count."""

    sent: int = 0
    retried: int = 0
    """Tried, failed temporarily: pending again with a later ``next_attempt_at``."""
    deferred: int = 0
    """Not tried: the channel was paused for this run (rate limit, repeated failures)."""
    waiting: int = 0
    """Due, but the channel is not configured: kept pending."""
    failed: int = 0
    """Given up: a permanent failure, or too many attempts / too old."""
    send_seconds: float = 0.0
    """Time spent rendering and sending (the database writes excluded)."""
    slowest_send_seconds: float = 0.0

    @property
    def retry_later(self) -> int:
        return self.retried + self.deferred + self.waiting

    def timed(self, seconds: float) -> None:
        self.send_seconds += seconds
        self.slowest_send_seconds = max(self.slowest_send_seconds, seconds)


@dataclass(frozen=True)
class FailedNotification:
    notification_id: int
    channel: str
    target: str
    reason: str


@dataclass
class DispatchReport:
    worker: str
    started_at: datetime
    by_channel: dict[str, ChannelStats] = field(default_factory=dict)
    failures: list[FailedNotification] = field(default_factory=list)
    """The rows given up in this run, with their reasons."""
    seconds: float = 0.0
    """Wall-clock duration of the run."""

    def channel(self, name: str) -> ChannelStats:
        return self.by_channel.setdefault(name, ChannelStats())

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.by_channel.values())

    @property
    def retried(self) -> int:
        """Rows that will be tried again later (failed temporarily, deferred, waiting
        for their channel to be configured)."""
        return sum(s.retry_later for s in self.by_channel.values())

    @property
    def failed_permanently(self) -> int:
        return sum(s.failed for s in self.by_channel.values())

    @property
    def sent_by_channel(self) -> dict[str, int]:
        return {name: s.sent for name, s in self.by_channel.items() if s.sent}

    @property
    def failed_by_channel(self) -> dict[str, int]:
        """Attempts that did not deliver (temporary or permanent failures), per channel:
        what a ``send_failures`` metric counts."""
        return {
            name: s.retried + s.failed
            for name, s in self.by_channel.items()
            if s.retried + s.failed
        }

    @property
    def idle(self) -> bool:
        """Nothing was due."""
        return not any(s.sent or s.retry_later or s.failed for s in self.by_channel.values())

    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.retried} to retry later, "
            f"{self.failed_permanently} failed, in {self.seconds:.2f} s"
        )
