"""Claims: which dispatcher may send which outbox row, and the row's fate afterwards.

A claim is a lease: ``claimed_by`` names the worker, ``claimed_until`` ends it. Rows are
claimed in one short transaction that commits before anything is sent, so two
dispatchers (two replicas, or ``csmon dispatch`` next to the daemon) never send the same
row, and a worker that dies leaves rows that become claimable again when the lease
ends. The guard is the database itself, as in Healthchecks: every change is a
conditional ``UPDATE`` whose row count says whether this worker still had the row.

Every outcome is written in its own transaction right after the send, so a crash loses
at most the knowledge of the one message in flight (sent twice, never lost).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    case,
    false,
    func,
    or_,
    select,
    update,
)

from monitor.clock import ensure_utc
from monitor.outbox.queue import FAILED, PENDING, SENT
from monitor.store.engine import is_postgres
from monitor.store.schema import outbox

WORKER_NAME_LENGTH = 100  # outbox.claimed_by is String(100)


@dataclass(frozen=True)
class ClaimedRow:
    """An outbox row this worker holds until ``claimed_until``."""

    notification_id: int
    created_at: datetime
    channel: str
    target: str
    payload: dict[str, Any]
    attempts: int
    """Attempts made before this one."""
    claimed_until: datetime


def claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, due, and not held by a live lease."""
    return and_(
        outbox.c.state == PENDING,
        outbox.c.next_attempt_at <= now,
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
    )


def claim_due(
    engine: Engine,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    channels: Collection[str],
) -> list[ClaimedRow]:
    """Claim up to ``limit`` due rows of ``channels``, oldest due first, and commit.

    * PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` then one ``UPDATE``: a concurrent
      claimer skips the rows this one is taking instead of waiting for them, and
      re-checks rows another claimer changed meanwhile.
    * SQLite (one writer at a time): if anything is due, take the write lock, then one
      conditional ``UPDATE`` per candidate, keeping the rows whose row count is 1.
    """
    now = ensure_utc(now)
    until = now + lease
    wanted = and_(claimable(now), outbox.c.channel.in_(sorted(channels)))
    candidates = (
        select(outbox.c.notification_id)
        .where(wanted)
        .order_by(outbox.c.next_attempt_at, outbox.c.notification_id)
        .limit(limit)
    )
    owner = {"claimed_by": worker[:WORKER_NAME_LENGTH], "claimed_until": until}
    with engine.begin() as conn:
        if is_postgres(conn):
            ids = list(conn.execute(candidates.with_for_update(skip_locked=True)).scalars())
            if ids:
                conn.execute(
                    update(outbox).where(outbox.c.notification_id.in_(ids)).values(**owner)
                )
        else:
            # Most runs find nothing due: look before taking the write lock, so an idle
            # dispatch never waits behind a long import.
            if conn.execute(candidates.limit(1)).first() is None:
                return []
            _take_write_lock(conn)
            ids = [
                row_id
                for row_id in conn.execute(candidates).scalars()
                if conn.execute(
                    update(outbox)
                    .where(outbox.c.notification_id == row_id, claimable(now))
                    .values(**owner)
                ).rowcount
                == 1
            ]
        if not ids:
            return []
        rows = conn.execute(
            select(outbox)
            .where(outbox.c.notification_id.in_(ids))
            .order_by(outbox.c.next_attempt_at, outbox.c.notification_id)
        ).mappings()
        return [_claimed(row) for row in rows]


def extend_claims(
    engine: Engine, ids: Collection[int], *, worker: str, now: datetime, lease: timedelta
) -> set[int]:
    """Renew this worker's lease on ``ids``; returns the ids it still holds (a row is
    lost when its lease ran out and another worker took it, or it was sent meanwhile)."""
    if not ids:
        return set()
    with engine.begin() as conn:
        renewed = conn.execute(
            update(outbox)
            .where(_held(outbox.c.notification_id.in_(sorted(ids)), worker))
            .values(claimed_until=ensure_utc(now) + lease)
            .returning(outbox.c.notification_id)
        )
        return set(renewed.scalars())


def mark_sent(engine: Engine, notification_id: int, *, now: datetime) -> None:
    """The server accepted the message. Recorded even if the lease was lost meanwhile:
    it is the truth, and it stops another worker from sending the row once more."""
    with engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.notification_id == notification_id, outbox.c.state == PENDING)
            .values(
                state=SENT,
                sent_at=ensure_utc(now),
                attempts=outbox.c.attempts + 1,
                claimed_by=None,
                claimed_until=None,
            )
        )


def mark_retry(
    engine: Engine, notification_id: int, *, worker: str, next_attempt_at: datetime, error: str
) -> bool:
    """Count a failed attempt and set the next one; False if the row was not this
    worker's any more (another worker's outcome is not overwritten)."""
    return _finish(
        engine,
        notification_id,
        worker,
        attempts=outbox.c.attempts + 1,
        next_attempt_at=ensure_utc(next_attempt_at),
        last_error=error,
    )


def mark_failed(engine: Engine, notification_id: int, *, worker: str, error: str) -> bool:
    """Give the row up: it stays in the outbox as ``failed`` with the reason."""
    return _finish(
        engine,
        notification_id,
        worker,
        state=FAILED,
        attempts=outbox.c.attempts + 1,
        last_error=error,
    )


def release(
    engine: Engine, ids: Sequence[int], *, worker: str, not_before: datetime | None = None
) -> None:
    """Hand back rows that were claimed but not tried, without counting an attempt;
    with ``not_before`` they are not due again before then (a rate limit)."""
    if not ids:
        return
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if not_before is not None:
        later = ensure_utc(not_before)
        values["next_attempt_at"] = case(
            (outbox.c.next_attempt_at < later, later), else_=outbox.c.next_attempt_at
        )
    with engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(_held(outbox.c.notification_id.in_(list(ids)), worker))
            .values(**values)
        )


def note_unconfigured(
    engine: Engine, *, configured: Collection[str], now: datetime
) -> dict[str, int]:
    """Write ``channel X is not configured`` on due rows whose channel is missing (they
    stay pending, to go out once it is configured); returns their count by channel."""
    due = and_(
        outbox.c.state == PENDING,
        outbox.c.next_attempt_at <= ensure_utc(now),
        outbox.c.channel.not_in(sorted(configured)),
    )
    with engine.begin() as conn:
        counts = {
            str(channel): int(n)
            for channel, n in conn.execute(
                select(outbox.c.channel, func.count()).where(due).group_by(outbox.c.channel)
            )
        }
        for channel in counts:
            message = unconfigured_error(channel)
            conn.execute(
                update(outbox)
                .where(
                    due,
                    outbox.c.channel == channel,
                    or_(outbox.c.last_error.is_(None), outbox.c.last_error != message),
                )
                .values(last_error=message)
            )
    return counts


def unconfigured_error(channel: str) -> str:
    return f"channel {channel} is not configured"


def _finish(engine: Engine, notification_id: int, worker: str, **values: Any) -> bool:
    with engine.begin() as conn:
        result = conn.execute(
            update(outbox)
            .where(_held_by(notification_id, worker))
            .values(claimed_by=None, claimed_until=None, **values)
        )
    return result.rowcount == 1


def _held_by(notification_id: int, worker: str) -> ColumnElement[bool]:
    return _held(outbox.c.notification_id == notification_id, worker)


def _held(rows: ColumnElement[bool], worker: str) -> ColumnElement[bool]:
    """``rows`` that are still pending and claimed by ``worker``."""
    return and_(rows, outbox.c.claimed_by == worker[:WORKER_NAME_LENGTH], outbox.c.state == PENDING)


def _take_write_lock(conn: Connection) -> None:
    # pysqlite opens the transaction at the first write: without this, the candidate
    # SELECT would run before it, and two claimers could read the same candidates.
    # The per-row conditional UPDATE stays the guard either way.
    conn.execute(update(outbox).where(false()).values(state=outbox.c.state))


def _claimed(row: Any) -> ClaimedRow:
    return ClaimedRow(
        notification_id=row["notification_id"],
        created_at=ensure_utc(row["created_at"]),
        channel=row["channel"],
        target=row["target"],
        payload=dict(row["payload"]),
        attempts=row["attempts"],
        claimed_until=ensure_utc(row["claimed_until"]),
    )
