"""The daemon's APScheduler 3.x scheduler: its jobs, their triggers and error handling.

Every job has ``max_instances=1`` (a slow evaluation is never run twice at once) and
``coalesce=True`` (after a suspended host or a long stall, the runs it missed are run
ONCE, not once per missed interval). ``misfire_grace_time`` is the job's own interval:
a coalesced run is at most one interval late, so it always runs; the digest may go
out up to 12 hours late. Jobs live in a memory job store, built from the config at
every start: what must survive a restart (alert state, the outbox, which local date's
digest ran) is in the database, not in APScheduler.

Times are UTC; only the digest follows a local wall time, through
:class:`~monitor.daemon.slots.DailySlotTrigger`, which is DST-safe where APScheduler's
``CronTrigger`` is not (library-facts §1).

An error in a job is logged with the job's name and the traceback, counted in
``csmon_job_errors_total{job}``, and the job runs again at its next time: nothing a
job raises stops the daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Settings
from monitor.daemon.observe import DaemonMetrics
from monitor.daemon.slots import DailySlot, DailySlotTrigger

log = logging.getLogger(__name__)

DIGEST_GRACE = timedelta(hours=12)
RETENTION_INTERVAL = timedelta(days=1)


class Tasks(Protocol):
    """What the jobs run (implemented by :class:`~monitor.daemon.service.Daemon`)."""

    def leader_tick(self) -> None: ...
    def reload(self) -> Any: ...
    def sync(self) -> Any: ...
    def evaluate(self) -> Any: ...
    def dispatch(self) -> None: ...
    def digest(self) -> Any: ...
    def retention(self) -> Any: ...


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], Any]
    trigger: BaseTrigger
    grace: timedelta
    first_run: datetime | None
    """The first run (``now``: at start); None: the trigger's first time."""


def job_specs(
    tasks: Tasks, settings: Settings, *, now: datetime, slot: DailySlot, sync: bool
) -> list[JobSpec]:
    """The daemon's jobs as of ``now`` (pure: what :func:`configure` adds)."""

    def every(interval: timedelta) -> IntervalTrigger:
        return IntervalTrigger(seconds=interval.total_seconds(), start_date=now, timezone="UTC")

    leader = timedelta(seconds=settings.daemon.leader_retry_seconds)
    reload = timedelta(seconds=settings.daemon.reload_interval_seconds)
    evaluation = timedelta(minutes=settings.evaluation.interval_minutes)
    dispatch = timedelta(seconds=settings.dispatch.interval_seconds)
    specs = [
        # The daemon has just run both of these while starting.
        JobSpec("leader", tasks.leader_tick, every(leader), leader, now + leader),
        JobSpec("reload", tasks.reload, every(reload), reload, now + reload),
        # Evaluate at start (then every interval); dispatch too, for what a previous
        # run left in the outbox.
        JobSpec("evaluate", tasks.evaluate, every(evaluation), evaluation, now),
        JobSpec("dispatch", tasks.dispatch, every(dispatch), dispatch, now),
        JobSpec("retention", tasks.retention, every(RETENTION_INTERVAL), RETENTION_INTERVAL, now),
        # A digest whose slot passed today runs at start; the database claim keeps it to
        # once per local date, so a restart does not send it twice.
        JobSpec(
            "digest",
            tasks.digest,
            DailySlotTrigger(slot),
            DIGEST_GRACE,
            now if slot.passed_today(now) else None,
        ),
    ]
    if sync:
        interval = timedelta(minutes=settings.sync.interval_minutes)
        specs.insert(2, JobSpec("sync", tasks.sync, every(interval), interval, now))
    return specs


def configure(
    scheduler: BaseScheduler,
    specs: list[JobSpec],
    metrics: DaemonMetrics,
    *,
    executor: BaseExecutor | None = None,
) -> None:
    """Give ``scheduler`` its executor, jobs and error listener (before ``start``)."""
    scheduler.configure(
        executors={"default": executor or ThreadPoolExecutor(max_workers=len(specs))},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    for spec in specs:
        options: dict[str, Any] = {}
        if spec.first_run is not None:
            options["next_run_time"] = spec.first_run
        scheduler.add_job(
            spec.func,
            spec.trigger,
            id=spec.id,
            name=spec.id,
            misfire_grace_time=max(int(spec.grace.total_seconds()), 1),
            coalesce=True,
            max_instances=1,
            **options,
        )
    scheduler.add_listener(
        JobEventLogger(metrics), EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
    )


def build_scheduler(specs: list[JobSpec], metrics: DaemonMetrics) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    configure(scheduler, specs, metrics)
    return scheduler


class JobEventLogger:
    """Logs job errors, missed and skipped runs with the job's name; counts errors."""

    def __init__(self, metrics: DaemonMetrics) -> None:
        self.metrics = metrics

    def __call__(self, event: JobEvent) -> None:
        job = str(event.job_id)
        if event.code == EVENT_JOB_ERROR:
            self.metrics.job_errors.labels(job).inc()
            exc = getattr(event, "exception", None)
            log.error(
                "Job %s failed: %s; it runs again at its next time",
                job,
                f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error",
                exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None,
                extra={"job": job, "scheduled": _when(event)},
            )
        elif event.code == EVENT_JOB_MISSED:
            log.warning(
                "Job %s missed its run at %s (too late to catch up); it runs at its next time",
                job,
                _when(event),
                extra={"job": job},
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning(
                "Job %s is still running; its run at %s is skipped",
                job,
                _when(event),
                extra={"job": job},
            )


def _when(event: JobEvent) -> str:
    moment = getattr(event, "scheduled_run_time", None)
    if moment is None:
        times = getattr(event, "scheduled_run_times", None) or [None]
        moment = times[-1]
    return moment.isoformat() if isinstance(moment, datetime) else "?"
