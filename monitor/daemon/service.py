"""The running daemon's tasks: the jobs of :mod:`monitor.daemon.jobs`, bound to the
store, the current rules snapshot and leadership, with their logs and metrics.

Each public method is what one scheduled job runs. Work that must happen once for the
whole deployment (sync, evaluation, dispatch, digest, retention) only runs on the
leader; the leader tick and the reload run on every replica, so a standby has fresh
rules the moment it takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from monitor.clock import Clock
from monitor.config import Settings
from monitor.daemon import jobs
from monitor.daemon.http import HealthFacts
from monitor.daemon.leader import Leadership
from monitor.daemon.observe import DaemonMetrics
from monitor.daemon.reload import Reloader, ReloadResult
from monitor.daemon.slots import DailySlot
from monitor.daemon.sync import sync_drop_folder
from monitor.notify import Channel

log = logging.getLogger(__name__)


def worker_name() -> str:
    """This process, as the outbox's claim owner and in ``job_runs``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class OnceReport:
    """What ``run --once`` did."""

    leader: bool
    evaluated_accounts: int | None = None
    imported_files: int = 0
    deleted_events: int = 0
    digest_day: str | None = None


class Daemon:
    """The daemon's state and tasks. Thread-safe: jobs run on a thread pool."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        reloader: Reloader,
        leadership: Leadership,
        channels: Mapping[str, Channel],
        metrics: DaemonMetrics,
        clock: Clock,
        drop_dir: Path | None,
        worker: str | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.reloader = reloader
        self.leadership = leadership
        self.channels = channels
        self.metrics = metrics
        self.clock = clock
        self.drop_dir = drop_dir
        self.worker = worker or worker_name()
        self.slot = DailySlot.parse(
            settings.digest.time, settings.digest.timezone or settings.timezone
        )
        self.scheduler_running = False
        self.on_promoted: Callable[[], None] | None = None
        """Called when this replica becomes the leader while running (the scheduler
        then evaluates and dispatches at once instead of at the next interval)."""
        self.last_evaluation_at: datetime | None = None
        self.leader_since: datetime | None = None
        self._dispatching = threading.Lock()

    # -- jobs ------------------------------------------------------------------------

    def leader_tick(self) -> None:
        """The election job: on promotion, the promoted hook runs."""
        if self._tick() and self.on_promoted is not None:
            self.on_promoted()

    def _tick(self) -> bool:
        """One election round; True when this replica has just become the leader."""
        was = self.leadership.is_leader
        leads = self.leadership.tick()
        self.metrics.is_leader.set(1 if leads else 0)
        if leads and not was:
            self.leader_since = self.clock.now()
            return True
        return False

    def reload(self, *, force: bool = False) -> ReloadResult:
        result = self.reloader.check(force=force)
        if result is not ReloadResult.UNCHANGED:
            self.metrics.reloads.labels(result.value).inc()
        return result

    def sync(self) -> int:
        """Import what the drop folder holds (leader only); returns the files taken."""
        if self.drop_dir is None or not self._leading():
            return 0
        report = sync_drop_folder(
            self.engine, self.drop_dir, self.settings.ingest, clock=self.clock
        )
        for outcome in report.files:
            result = "failed" if outcome.error else "done"
            self.metrics.import_files.labels(outcome.kind, result).inc()
            if outcome.report is not None:
                for name, count in (
                    ("accepted", outcome.report.accepted),
                    ("duplicate", outcome.report.duplicate),
                    ("rejected", outcome.report.rejected),
                ):
                    self.metrics.imported_rows.labels(outcome.kind, name).inc(count)
        return len(report.files)

    def evaluate(self, at: datetime | None = None) -> int | None:
        """Evaluate every account, then send what that queued (leader only).

        Returns the number of accounts evaluated, None when not the leader.
        """
        if not self._leading():
            return None
        moment = at or self.clock.now()
        snapshot = self.reloader.current
        outcome = jobs.evaluate(self.engine, snapshot, at=moment)
        self.last_evaluation_at = self.clock.now()
        self.metrics.evaluation_seconds.observe(outcome.seconds)
        self.metrics.accounts_evaluated.set(outcome.accounts)
        self.metrics.last_evaluation.set(time.time())
        log.info(
            "Evaluated %d accounts in %.2f s: %d alerts changed, %d notifications queued",
            outcome.accounts,
            outcome.seconds,
            outcome.alerts_changed,
            outcome.notifications_queued,
            extra={"at": moment.isoformat(), "rules": snapshot.rules.fingerprint[:12]},
        )
        self.dispatch()
        return outcome.accounts

    def dispatch(self) -> None:
        """Send what is due in the outbox (leader only; skipped while a send runs)."""
        if not self._leading() or not self._dispatching.acquire(blocking=False):
            return
        try:
            report = jobs.dispatch(
                self.engine,
                self.channels,
                self.reloader.current,
                clock=self.clock,
                worker=self.worker,
            )
        finally:
            self._dispatching.release()
        for channel, count in report.sent_by_channel.items():
            self.metrics.notifications_sent.labels(channel).inc(count)
        for channel, count in report.failed_by_channel.items():
            self.metrics.send_failures.labels(channel).inc(count)

    def digest(self, *, today_only: bool = False) -> str | None:
        if not self._leading():
            return None
        day = jobs.digest(
            self.engine, self.slot, at=self.clock.now(), worker=self.worker, today_only=today_only
        )
        return day.isoformat() if day else None

    def retention(self) -> int:
        if not self._leading():
            return 0
        deleted = jobs.delete_old_events(self.engine, self.settings.ingest, at=self.clock.now())
        self.metrics.retention_deleted.inc(deleted)
        log.info(
            "Retention: deleted %d raw events older than %d days (rollups kept)",
            deleted,
            self.settings.ingest.raw_retention_days,
        )
        return deleted

    def run_once(self, at: datetime | None = None) -> OnceReport:
        """``run --once``: every due job one time, in order, if this replica leads."""
        self._tick()
        if not self.leadership.is_leader:
            log.info("Another replica is the leader; nothing to do")
            return OnceReport(leader=False)
        files = self.sync()
        accounts = self.evaluate(at)
        deleted = self.retention()
        day = self.digest(today_only=True)
        return OnceReport(True, accounts, files, deleted, day)

    def _leading(self) -> bool:
        # Re-check the lock right before the work: a lost connection steps down now,
        # not at the next tick. (No promotion hook here: the work is about to run.)
        self._tick()
        return self.leadership.is_leader

    # -- health ----------------------------------------------------------------------

    def health_facts(self) -> HealthFacts:
        return HealthFacts(
            now=self.clock.now(),
            scheduler_running=self.scheduler_running,
            is_leader=self.leadership.is_leader,
            database_error=self._database_error(),
            evaluation_interval=timedelta(minutes=self.settings.evaluation.interval_minutes),
            last_evaluation_at=self.last_evaluation_at,
            leader_since=self.leader_since,
            rules_fingerprint=self.reloader.current.rules.fingerprint,
        )

    def _database_error(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return type(exc).__name__
        return None
