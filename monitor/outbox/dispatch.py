"""The dispatcher: send what is due in the outbox, once, and record what happened.

Guarantees (SPEC §5, §7):

* a row is marked ``sent`` only after the server accepted it;
* a temporary failure (server down, timeout, rate limit) is retried with exponential
  backoff, never sooner than Slack's ``Retry-After``; a permanent one (revoked token,
  unknown channel) is given up at once, with the reason kept in the row;
* one row is one receiver, so a receiver that fails never makes another one's message
  go out twice;
* two dispatchers never send the same row (claims, see :mod:`monitor.outbox.claim`);
  a dispatcher killed mid-run leaves its claimed rows to the next run once the lease
  ends, so after a crash at most the message in flight is sent twice;
* rows for a channel that is not configured stay queued (a config mistake must not
  lose messages).

Logs name rows by id, channel and target; never message bodies (those only at DEBUG,
by the client libraries) and never credentials.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from time import perf_counter

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock
from monitor.notify import (
    Channel,
    PermanentFailure,
    TemporaryFailure,
    notification_from_dict,
    render,
)
from monitor.outbox.backoff import DEFAULT_POLICY, RetryPolicy
from monitor.outbox.claim import (
    ClaimedRow,
    claim_due,
    extend_claims,
    mark_failed,
    mark_retry,
    mark_sent,
    note_unconfigured,
    release,
)
from monitor.outbox.report import DispatchReport, FailedNotification

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=5)
PAUSE_AFTER_FAILURES = 3
"""Consecutive temporary failures after which a channel's other rows wait for the next
run: with Slack or SMTP down, 200 rows must not each wait for a connection timeout."""
HOW_TO_CONFIGURE = {
    "slack": "set slack.token",
    "email": "set email.smtp_host",
    "file": "set notify.file_path",
}


def dispatch_due(
    engine: Engine,
    channels: Mapping[str, Channel],
    templates_dir: Path,
    *,
    clock: Clock,
    worker: str,
    limit: int = 200,
    lease: timedelta = DEFAULT_LEASE,
    policy: RetryPolicy = DEFAULT_POLICY,
    rng: random.Random | None = None,
) -> DispatchReport:
    """Send every due outbox row (up to ``limit``) once, and record each outcome.

    1. Due rows whose channel is not in ``channels`` stay pending, with ``last_error``
       saying so; logged once per channel.
    2. Claim up to ``limit`` due rows of the configured channels, oldest due first, for
       ``lease``, and commit the claim before sending anything.
    3. For each claimed row, in order:

       a. if its channel is paused for this run, leave it for later (step 4);
       b. once half the lease is gone, renew the leases of every row still held; a
          row that is no longer ours (another worker took it after our lease ran
          out) is skipped;
       c. render it with the templates in ``templates_dir`` (template errors fall back
          to the built-in message) and send it with its channel;
       d. record the outcome at once, in its own transaction:
          accepted → ``sent`` with ``sent_at``;
          :class:`TemporaryFailure` → ``attempts + 1``, ``next_attempt_at`` = now +
          backoff (at least ``retry_after``), or ``failed`` once ``policy`` gives up;
          a rate limit pauses the channel until ``retry_after``, and
          :data:`PAUSE_AFTER_FAILURES` failures in a row pause it for this run;
          :class:`PermanentFailure` → ``failed`` with the reason.

    4. Hand back the rows not tried (paused channel, or an interrupted run) without
       counting an attempt; a rate-limited channel's rows are not due before its
       ``Retry-After`` ends.

    ``rng`` draws the backoff jitter (seed it for reproducible tests).
    """
    started = perf_counter()
    report = DispatchReport(worker=worker, started_at=clock.now())
    run = _Run(
        engine=engine,
        channels=channels,
        templates_dir=templates_dir,
        clock=clock,
        worker=worker,
        lease=lease,
        policy=policy,
        rng=rng or random.Random(),
        report=report,
    )
    run.note_unconfigured()
    rows = claim_due(
        engine, now=clock.now(), worker=worker, lease=lease, limit=limit, channels=channels
    )
    run.process(rows)
    report.seconds = perf_counter() - started
    if not report.idle:
        log.info("Dispatch: %s", report.summary())
    return report


@dataclass
class _Run:
    """The state of one dispatch run: which channels are paused, and until when."""

    engine: Engine
    channels: Mapping[str, Channel]
    templates_dir: Path
    clock: Clock
    worker: str
    lease: timedelta
    policy: RetryPolicy
    rng: random.Random
    report: DispatchReport
    paused: dict[str, datetime | None] = field(default_factory=dict)
    """Channel → not due again before (None: only skipped for the rest of this run)."""
    failures_in_row: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    untried: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    lost: set[int] = field(default_factory=set)
    """Rows another worker took over after our lease ran out."""
    lease_ends: datetime | None = None

    def note_unconfigured(self) -> None:
        waiting = note_unconfigured(self.engine, configured=self.channels, now=self.clock.now())
        for channel, count in sorted(waiting.items()):
            self.report.channel(channel).waiting += count
            how = HOW_TO_CONFIGURE.get(channel, "csmon has no channel of that name")
            log.warning(
                "%d notification(s) for channel %s wait: it is not configured (%s). "
                "They stay queued and go out once it is.",
                count,
                channel,
                how,
            )

    def process(self, rows: Sequence[ClaimedRow]) -> None:
        not_started = dict.fromkeys(row.notification_id for row in rows)
        self.lease_ends = min((row.claimed_until for row in rows), default=None)
        try:
            for row in rows:
                del not_started[row.notification_id]
                if row.channel in self.paused:
                    self.untried[row.channel].append(row.notification_id)
                    self.report.channel(row.channel).deferred += 1
                elif self._still_ours(row.notification_id, not_started):
                    self._attempt(row)
        finally:
            self._hand_back(list(not_started))

    def _still_ours(self, notification_id: int, not_started: Mapping[int, None]) -> bool:
        """Renew the leases of every row this run still holds once half the lease is
        gone (a slow channel must not let another worker take rows queued behind it)."""
        now = self.clock.now()
        if self.lease_ends is not None and now >= self.lease_ends - self.lease / 2:
            held = [
                notification_id,
                *not_started,
                *(i for ids in self.untried.values() for i in ids),
            ]
            renewed = extend_claims(
                self.engine, held, worker=self.worker, now=now, lease=self.lease
            )
            self.lost.update(set(held) - renewed)
            self.lease_ends = now + self.lease
        if notification_id in self.lost:
            log.warning(
                "Notification #%d: its claim ran out and another worker holds it now; "
                "leaving it to that worker",
                notification_id,
            )
            return False
        return True

    def _attempt(self, row: ClaimedRow) -> None:
        try:
            notification = notification_from_dict(row.payload)
        except (ValueError, KeyError, TypeError) as exc:
            # Perhaps queued by a newer csmon during an upgrade: retried, not dropped.
            self._temporary(row, f"the stored notification cannot be read ({exc})", None)
            return
        stats = self.report.channel(row.channel)
        started = perf_counter()
        try:
            rendered = render(notification, self.templates_dir)
            self.channels[row.channel].send(row.target, rendered)
        except TemporaryFailure as exc:
            stats.timed(perf_counter() - started)
            self._temporary(row, exc.reason, exc.retry_after, channel_trouble=True)
        except PermanentFailure as exc:
            stats.timed(perf_counter() - started)
            self.failures_in_row[row.channel] = 0  # the server answered: the channel works
            self._give_up(row, exc.reason)
        except Exception as exc:  # a bug in one channel or template must not stop the run
            log.exception(
                "Notification #%d via %s: unexpected error while sending; it will be retried",
                row.notification_id,
                row.channel,
            )
            self._temporary(row, f"unexpected {type(exc).__name__} (see the log)", None)
        else:
            stats.timed(perf_counter() - started)
            mark_sent(self.engine, row.notification_id, now=self.clock.now())
            stats.sent += 1
            self.failures_in_row[row.channel] = 0
            log.debug(
                "Notification #%d sent via %s to %s", row.notification_id, row.channel, row.target
            )

    def _temporary(
        self,
        row: ClaimedRow,
        reason: str,
        retry_after: float | None,
        *,
        channel_trouble: bool = False,
    ) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        if retry_after is not None:
            self._pause(row.channel, now + timedelta(seconds=retry_after), reason)
        elif channel_trouble:
            self.failures_in_row[row.channel] += 1
            if self.failures_in_row[row.channel] >= PAUSE_AFTER_FAILURES:
                self._pause(row.channel, None, reason)
        if self.policy.gives_up(attempts, row.created_at, now):
            hours = (now - row.created_at).total_seconds() / 3600
            self._give_up(row, f"{reason} (gave up after {attempts} attempts over {hours:.1f} h)")
            return
        next_at = now + self.policy.delay(attempts, self.rng, retry_after)
        if not mark_retry(
            self.engine,
            row.notification_id,
            worker=self.worker,
            next_attempt_at=next_at,
            error=reason,
        ):
            return
        self.report.channel(row.channel).retried += 1
        log.warning(
            "Notification #%d via %s to %s not delivered (attempt %d of %d): %s; "
            "next attempt at %s",
            row.notification_id,
            row.channel,
            row.target,
            attempts,
            self.policy.max_attempts,
            reason,
            next_at.isoformat(timespec="seconds"),
        )

    def _give_up(self, row: ClaimedRow, reason: str) -> None:
        if not mark_failed(self.engine, row.notification_id, worker=self.worker, error=reason):
            return
        self.report.channel(row.channel).failed += 1
        self.report.failures.append(
            FailedNotification(row.notification_id, row.channel, row.target, reason)
        )
        log.error(
            "Notification #%d via %s to %s FAILED and will not be retried: %s. "
            "Fix the cause, then `csmon alerts requeue %d` sends it again.",
            row.notification_id,
            row.channel,
            row.target,
            reason,
            row.notification_id,
        )

    def _pause(self, channel: str, until: datetime | None, reason: str) -> None:
        if channel in self.paused:
            return
        self.paused[channel] = until
        when = f"until {until.isoformat(timespec='seconds')}" if until else "for this run"
        log.warning("Channel %s paused %s: %s", channel, when, reason)

    def _hand_back(self, not_started: list[int]) -> None:
        """Release the claims of rows not tried; on a database error the leases simply
        run out, and the next run takes the rows then."""
        try:
            for channel, ids in self.untried.items():
                release(self.engine, ids, worker=self.worker, not_before=self.paused.get(channel))
            release(self.engine, not_started, worker=self.worker)
        except SQLAlchemyError as exc:
            log.warning("Could not release claimed notifications (%s); their leases expire", exc)
