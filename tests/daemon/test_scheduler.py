"""The scheduler's wiring, coalescing after downtime, and job error handling.

Following library-facts §2: trigger math is tested in test_slots.py; here the jobs are
checked on a scheduler that is started paused (wiring) and on a scheduler whose loop
the test drives by hand at exact instants (freezegun in this thread only, and a
synchronous executor), so nothing depends on a live scheduler thread.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from freezegun import freeze_time

from monitor.config import Settings
from monitor.daemon.observe import DaemonMetrics
from monitor.daemon.scheduler import configure, job_specs
from monitor.daemon.slots import DailySlot

T0 = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, the day before DST starts
SLOT = DailySlot.parse("08:00", "Europe/Berlin")


class Recorder:
    """Stands in for the daemon's tasks: records each call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail: set[str] = set()

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise RuntimeError(f"{name} broke")

    def leader_tick(self) -> None:
        self._record("leader")

    def reload(self) -> None:
        self._record("reload")

    def sync(self) -> None:
        self._record("sync")

    def evaluate(self) -> None:
        self._record("evaluate")

    def dispatch(self) -> None:
        self._record("dispatch")

    def digest(self) -> None:
        self._record("digest")

    def retention(self) -> None:
        self._record("retention")


class ManualScheduler(BaseScheduler):  # type: ignore[misc]
    """A scheduler without a thread: the test calls ``_process_jobs`` itself."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass


def settings(**daemon: Any) -> Settings:
    return Settings(
        timezone="Europe/Berlin",
        evaluation={"interval_minutes": 60},
        dispatch={"interval_seconds": 60},
        daemon={"leader_retry_seconds": 5, "reload_interval_seconds": 5, **daemon},
    )


def test_wiring_on_a_paused_scheduler() -> None:
    with freeze_time(T0):
        specs = job_specs(Recorder(), settings(), now=T0, slot=SLOT, sync=True)
        scheduler = BackgroundScheduler()
        configure(scheduler, specs, DaemonMetrics())
        scheduler.start(paused=True)
        try:
            jobs = {job.id: job for job in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "leader", "reload", "sync", "evaluate", "dispatch", "retention", "digest"
    }  # fmt: skip
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    # Evaluation, dispatch, sync and retention run at start. Today's 08:00 digest slot
    # has passed, so it runs at start too (its database claim stops a second run that
    # day), then at 08:00 Berlin tomorrow: 06:00 UTC, as summer time begins that night.
    assert jobs["evaluate"].next_run_time == T0
    assert jobs["sync"].next_run_time == T0
    assert jobs["digest"].next_run_time == T0
    assert jobs["digest"].trigger.get_next_fire_time(T0, T0) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    assert jobs["leader"].next_run_time == T0 + timedelta(seconds=5)
    # A coalesced run is at most one interval late, so the grace time must cover it.
    assert jobs["evaluate"].misfire_grace_time == 3600
    assert jobs["dispatch"].misfire_grace_time == 60
    assert jobs["digest"].misfire_grace_time == 12 * 3600


def test_a_digest_whose_slot_passed_today_runs_at_start() -> None:
    early = datetime(2026, 3, 28, 5, 0, tzinfo=UTC)  # 06:00 Berlin: slot not yet due
    specs = {s.id: s for s in job_specs(Recorder(), settings(), now=T0, slot=SLOT, sync=False)}
    assert specs["digest"].first_run == T0
    assert "sync" not in specs
    specs = {s.id: s for s in job_specs(Recorder(), settings(), now=early, slot=SLOT, sync=False)}
    assert specs["digest"].first_run is None


def test_three_hours_of_downtime_give_one_coalesced_evaluation() -> None:
    tasks = Recorder()
    metrics = DaemonMetrics()
    scheduler = ManualScheduler()
    with freeze_time(T0) as frozen:
        configure(
            scheduler,
            job_specs(tasks, settings(), now=T0, slot=SLOT, sync=False),
            metrics,
            executor=DebugExecutor(),
        )
        scheduler.start()
        scheduler._process_jobs()
        assert tasks.calls.count("evaluate") == 1  # the run at start

        # The host sleeps for 3 h 10 min: three hourly runs are overdue.
        frozen.move_to(T0 + timedelta(hours=3, minutes=10))
        job = scheduler.get_job("evaluate")
        assert len(job._get_run_times(datetime.now(UTC))) == 3
        tasks.calls.clear()
        scheduler._process_jobs()
        assert tasks.calls.count("evaluate") == 1
        assert tasks.calls.count("dispatch") == 1  # 190 overdue runs, one call
        assert scheduler.get_job("evaluate").next_run_time == T0 + timedelta(hours=4)
        scheduler.shutdown()


def test_a_failing_job_is_logged_counted_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    tasks = Recorder()
    tasks.fail.add("evaluate")
    metrics = DaemonMetrics()
    scheduler = ManualScheduler()
    with freeze_time(T0) as frozen, caplog.at_level(logging.ERROR, "monitor.daemon"):
        configure(
            scheduler,
            job_specs(tasks, settings(), now=T0, slot=SLOT, sync=False),
            metrics,
            executor=DebugExecutor(),
        )
        scheduler.start()
        scheduler._process_jobs()
        frozen.move_to(T0 + timedelta(hours=1))
        scheduler._process_jobs()
        scheduler.shutdown()
    assert tasks.calls.count("evaluate") == 2  # it failed at start and still ran again
    errors = [r for r in caplog.records if r.name == "monitor.daemon.scheduler"]
    assert len(errors) == 2
    assert errors[0].getMessage().startswith("Job evaluate failed: RuntimeError: evaluate broke")
    assert errors[0].exc_info is not None
    sample = metrics.registry.get_sample_value("csmon_job_errors_total", {"job": "evaluate"})
    assert sample == 2
