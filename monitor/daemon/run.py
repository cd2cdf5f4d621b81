"""The daemon's main: start, run the scheduler until a signal, stop cleanly.

Signals:

* SIGTERM / SIGINT: stop scheduling, let a running job finish for up to
  ``[daemon] stop_timeout_seconds``, release the leader lock, exit 0. A second
  signal exits at once (status 128 + signal number).
* SIGHUP: reload the rules, templates and routing now.

Signal handlers only set flags and wake the main thread; the work happens there.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from monitor.clock import Clock, FixedClock, SystemClock
from monitor.config import Settings
from monitor.daemon.http import HttpServer, build_app
from monitor.daemon.jobs import resolve_drop_dir
from monitor.daemon.leader import (
    FileLeaderLock,
    Leadership,
    acquire_single_daemon,
    leader_lock_for,
)
from monitor.daemon.observe import DaemonMetrics, configure_logging
from monitor.daemon.ops import OpsNotifier
from monitor.daemon.reload import Reloader
from monitor.daemon.scheduler import build_scheduler, job_specs
from monitor.daemon.service import Daemon, OnceReport
from monitor.notify import channels_from_settings

log = logging.getLogger("monitor.daemon")


@dataclass
class Signals:
    """What the signal handlers asked for; ``wake`` is set on every signal."""

    wake: threading.Event = field(default_factory=threading.Event)
    stop: int | None = None
    reload: bool = False

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload = True
        elif self.stop is None:
            self.stop = signum
        else:
            log.warning("Second %s: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(128 + signum)
        self.wake.set()

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.handle)


def build_daemon(
    settings: Settings, engine: Engine, *, config_path: Path | None, clock: Clock
) -> Daemon:
    """Steps 2-4 of :func:`run_daemon`: lock, first snapshot, the daemon object.

    On SQLite the lock is taken here or :class:`AlreadyRunning` is raised; on
    PostgreSQL the first election round runs (this replica may start as a standby).
    Raises :class:`CsmonError` when the rules or templates are invalid.
    """
    metrics = DaemonMetrics()
    lock = leader_lock_for(engine)
    if isinstance(lock, FileLeaderLock):
        acquire_single_daemon(lock, str(engine.url.database))
    leadership = Leadership(lock, on_change=lambda leads: metrics.is_leader.set(int(leads)))
    try:
        channels = channels_from_settings(
            settings.slack, settings.email, settings.notify_file_path, clock=clock
        )
        reloader = Reloader(
            settings,
            config_path=config_path,
            clock=clock,
            notify_ops=OpsNotifier(settings.daemon.ops_receivers, channels),
        )
        reloader.load()
    except BaseException:
        leadership.release()
        raise
    metrics.watch_store(engine)
    daemon = Daemon(
        settings=settings,
        engine=engine,
        reloader=reloader,
        leadership=leadership,
        channels=channels,
        metrics=metrics,
        clock=clock,
        drop_dir=resolve_drop_dir(settings.sync.drop_dir, config_path),
    )
    daemon.leader_tick()
    return daemon


def run_once(
    settings: Settings,
    engine: Engine,
    *,
    config_path: Path | None,
    at: datetime | None = None,
) -> OnceReport:
    """``csmon run --once``: every due job one time (at ``at``, default now), then exit."""
    configure_logging(settings.daemon.log_format)
    clock: Clock = FixedClock(at) if at is not None else SystemClock()
    daemon = build_daemon(settings, engine, config_path=config_path, clock=clock)
    try:
        report = daemon.run_once(at)
    finally:
        daemon.leadership.release()
        daemon.reloader.close()
    log.info(
        "Ran once: %s",
        "not the leader, nothing done"
        if not report.leader
        else f"{report.imported_files} files imported, "
        f"{report.evaluated_accounts} accounts evaluated, "
        f"{report.deleted_events} old events deleted, "
        f"digest {'for ' + report.digest_day if report.digest_day else 'not due'}",
    )
    return report


def run_daemon(
    settings: Settings,
    engine: Engine,
    *,
    config_path: Path | None,
    clock: Clock | None = None,
) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status (0 after a clean stop).

    1. Configure logging (``[daemon] log_format``).
    2. Leader lock: SQLite refuses a second daemon; PostgreSQL may start as standby.
    3. Load and validate the rules and templates: invalid ones stop the start.
    4. Start the HTTP listener (``[http] port``), then the scheduler.
    5. Wait for signals: SIGHUP reloads, SIGTERM/SIGINT stop (see :func:`_stop`).
    """
    configure_logging(settings.daemon.log_format)
    signals = Signals()
    signals.install()  # before anything slow: a SIGTERM during start stops cleanly
    daemon = build_daemon(settings, engine, config_path=config_path, clock=clock or SystemClock())
    http: HttpServer | None = None
    try:
        if settings.http.port is not None:
            app = build_app(daemon, daemon.metrics.registry)
            http = HttpServer(app, settings.http.host, settings.http.port).start()
        specs = job_specs(
            daemon,
            settings,
            now=daemon.clock.now(),
            slot=daemon.slot,
            sync=daemon.drop_dir is not None,
        )
        scheduler = build_scheduler(specs, daemon.metrics)
        scheduler.start()
        daemon.scheduler_running = True
        daemon.on_promoted = lambda: run_now(
            scheduler, ("evaluate", "dispatch"), daemon.clock.now()
        )
    except BaseException:
        _release(daemon, http)
        raise
    log.info(
        "csmon daemon started as %s: %s",
        "leader" if daemon.leadership.is_leader else "standby",
        ", ".join(f"{s.id} ({s.trigger})" for s in specs),
        extra={"worker": daemon.worker, "pid": os.getpid()},
    )
    while True:
        signals.wake.wait()
        signals.wake.clear()
        if signals.reload:
            signals.reload = False
            log.info("SIGHUP: reloading the rules and templates")
            daemon.reload(force=True)
        if signals.stop is not None:
            break
    return _stop(daemon, scheduler, http, signals.stop, settings.daemon.stop_timeout_seconds)


def run_now(scheduler: BackgroundScheduler, job_ids: tuple[str, ...], now: datetime) -> None:
    """Move jobs' next run to ``now``: a standby that takes over evaluates at once
    rather than up to an interval later."""
    for job_id in job_ids:
        scheduler.modify_job(job_id, next_run_time=now)


def _stop(
    daemon: Daemon,
    scheduler: BackgroundScheduler,
    http: HttpServer | None,
    signum: int,
    timeout: float,
) -> int:
    """Stop scheduling, give running jobs ``timeout`` seconds, release the lock."""
    log.info(
        "%s: stopping; running jobs get up to %g s to finish",
        signal.Signals(signum).name,
        timeout,
    )
    shutdown = threading.Thread(
        target=scheduler.shutdown, kwargs={"wait": True}, name="csmon-shutdown"
    )
    shutdown.start()
    shutdown.join(timeout)
    daemon.scheduler_running = False
    finished = not shutdown.is_alive()
    _release(daemon, http)
    if not finished:
        # The pool's worker threads would keep the interpreter alive: leave now. The
        # outbox's claim lease covers a send cut short (at most it is sent again).
        log.warning("Jobs still running after %g s; exiting without them", timeout)
        logging.shutdown()
        os._exit(0)
    log.info("csmon daemon stopped")
    return 0


def _release(daemon: Daemon, http: HttpServer | None) -> None:
    if http is not None:
        http.stop()
    daemon.leadership.release()
    daemon.reloader.close()
    daemon.engine.dispose()
