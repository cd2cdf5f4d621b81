"""The daemon's jobs as plain functions: each takes the store and an explicit instant or
clock, does one thing with the package's functions, and returns what it did.

No scheduling, leadership or metrics here (see :mod:`monitor.daemon.service`), so each
job can be tested at an exact instant, and ``csmon run --once`` runs the same code.
The drop-folder sync lives in :mod:`monitor.daemon.sync`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, select

from monitor.alerting import AlertingOutcome, evaluate_and_alert
from monitor.clock import Clock
from monitor.config import IngestSettings
from monitor.daemon.reload import Snapshot
from monitor.daemon.slots import DailySlot
from monitor.notify import Channel
from monitor.outbox import DispatchReport, dispatch_due
from monitor.store.schema import events, job_runs
from monitor.store.upsert import insert_ignore
from monitor.timeutil import day_number

log = logging.getLogger(__name__)

RETENTION_BATCH = 10_000
"""Raw events deleted per transaction: keeps each lock short on a big table."""
DIGEST_JOB = "digest"


def evaluate(engine: Engine, snapshot: Snapshot, *, at: datetime) -> AlertingOutcome:
    """Evaluate every account at ``at`` with the snapshot's rules and routing: health
    snapshots, alert state, and the notifications that are due queued in the outbox."""
    return evaluate_and_alert(engine, snapshot.rules, snapshot.settings, at)


def dispatch(
    engine: Engine,
    channels: Mapping[str, Channel],
    snapshot: Snapshot,
    *,
    clock: Clock,
    worker: str,
) -> DispatchReport:
    """Send what is due in the outbox, rendered with the snapshot's (validated) templates."""
    return dispatch_due(engine, channels, snapshot.templates_dir, clock=clock, worker=worker)


def delete_old_events(engine: Engine, ingest: IngestSettings, *, at: datetime) -> int:
    """Delete raw events older than ``ingest.raw_retention_days`` (by their UTC day);
    the daily rollups that metrics are computed from are kept. Returns the count.

    Deletes in batches of :data:`RETENTION_BATCH`, one transaction each, so imports and
    the evaluation are never blocked for long.
    """
    cutoff = day_number(at.date()) - ingest.raw_retention_days
    total = 0
    while True:
        with engine.begin() as conn:
            batch = (
                select(events.c.message_id)
                .where(events.c.day < cutoff)
                .limit(RETENTION_BATCH)
                .scalar_subquery()
            )
            deleted = conn.execute(delete(events).where(events.c.message_id.in_(batch))).rowcount
        total += deleted
        if deleted < RETENTION_BATCH:
            return total


def claim_slot(conn: Connection, job: str, slot: str, *, at: datetime, worker: str) -> bool:
    """Record that ``job`` runs for ``slot``; False if it already ran (or runs) for it.

    The primary key makes this atomic across processes: of two replicas claiming the
    same slot, exactly one gets True.
    """
    claimed = conn.execute(
        insert_ignore(conn, job_runs, ["job", "slot"])
        .values(job=job, slot=slot, started_at=at, worker=worker)
        .returning(job_runs.c.job)
    ).first()
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT here.
    return claimed is not None


DigestBuilder = Callable[[Connection, date], None]
"""Builds and queues the digest for a local date, in the claim's transaction."""


def not_built_yet(_conn: Connection, day: date) -> None:
    log.info("The digest for %s is due, but the digest is not built yet", day.isoformat())


def digest(
    engine: Engine,
    slot: DailySlot,
    *,
    at: datetime,
    worker: str,
    today_only: bool = False,
    build: DigestBuilder = not_built_yet,
) -> date | None:
    """Run the digest for the latest slot at or before ``at``, once per local date.

    ``today_only`` (``run --once``): only if today's slot has passed. The claim and
    ``build`` share one transaction, so a digest that fails is not marked as sent and
    the next run tries again. Returns the local date run for, or None.
    """
    if today_only:
        day = slot.passed_today(at)
        if day is None:
            return None
    else:
        day, _ = slot.latest_at_or_before(at)
    with engine.begin() as conn:
        if not claim_slot(conn, DIGEST_JOB, day.isoformat(), at=at, worker=worker):
            return None
        build(conn, day)
    return day


def resolve_drop_dir(drop_dir: Path | None, config_path: Path | None) -> Path | None:
    """``[sync] drop_dir``, relative to the config file's folder like the rule folders."""
    if drop_dir is None or drop_dir.is_absolute():
        return drop_dir
    base = config_path.parent if config_path is not None else Path.cwd()
    return base / drop_dir
