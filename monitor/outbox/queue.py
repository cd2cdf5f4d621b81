"""Putting notifications into the outbox, and reading it back for people.

:func:`enqueue` takes the caller's connection, so the alert state changes that caused
the notifications and the rows themselves commit (or roll back) together. Instants are
stored in UTC: SQLite keeps ``DateTime`` values as text without their offset, and the
dispatcher compares them with UTC instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, insert, select, update

from monitor.clock import ensure_utc
from monitor.notify import Notification, notification_to_dict
from monitor.store.schema import outbox

PENDING, SENT, FAILED = "pending", "sent", "failed"
StateFilter = Literal["pending", "sent", "failed", "all"]


@dataclass(frozen=True)
class OutboxMessage:
    """One notification for one receiver: becomes one outbox row.

    One row per (channel, target) means each receiver succeeds or fails on its own: a
    failing email never makes the Slack post that went out go out again.
    """

    channel: str
    """``slack``, ``email``, ``console`` or ``file``."""
    target: str
    """What the channel understands: ``#cs-alerts``, ``user:jane@example.com``, ..."""
    notification: Notification
    alert_ids: tuple[int, ...] = ()


def enqueue(
    conn: Connection,
    messages: Iterable[OutboxMessage],
    *,
    now: datetime,
    not_before: datetime | None = None,
) -> list[int]:
    """Insert ``messages`` as pending rows, due at ``not_before`` (default ``now``), in
    the caller's transaction; returns their ids in order (one executemany)."""
    created = ensure_utc(now)
    due = ensure_utc(not_before) if not_before is not None else created
    rows = [
        {
            "created_at": created,
            "channel": m.channel,
            "target": m.target,
            "recipient": m.notification.recipient,
            "payload": notification_to_dict(m.notification),
            "alert_ids": list(m.alert_ids),
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": due,
        }
        for m in messages
    ]
    if not rows:
        return []
    statement = insert(outbox).returning(outbox.c.notification_id, sort_by_parameter_order=True)
    return list(conn.execute(statement, rows).scalars())


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as people see it (``csmon alerts outbox``)."""

    notification_id: int
    created_at: datetime
    channel: str
    target: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    claimed_by: str | None
    claimed_until: datetime | None

    @staticmethod
    def from_mapping(row: Any) -> OutboxEntry:
        return OutboxEntry(
            notification_id=row["notification_id"],
            created_at=ensure_utc(row["created_at"]),
            channel=row["channel"],
            target=row["target"],
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=ensure_utc(row["next_attempt_at"]),
            last_error=row["last_error"],
            sent_at=_utc_or_none(row["sent_at"]),
            claimed_by=row["claimed_by"],
            claimed_until=_utc_or_none(row["claimed_until"]),
        )


def list_outbox(
    engine: Engine, state: StateFilter = "all", limit: int = 50
) -> tuple[list[OutboxEntry], int]:
    """The newest ``limit`` rows in ``state`` (or all states), and how many there are."""
    columns = [c for c in outbox.columns if c.name not in ("payload", "alert_ids", "recipient")]
    query = select(*columns).order_by(outbox.c.notification_id.desc()).limit(limit)
    count = select(func.count()).select_from(outbox)
    if state != "all":
        query = query.where(outbox.c.state == state)
        count = count.where(outbox.c.state == state)
    with engine.connect() as conn:
        entries = [OutboxEntry.from_mapping(r) for r in conn.execute(query).mappings()]
        total = int(conn.execute(count).scalar_one())
    return entries, total


def count_by_state(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
        return {str(state): int(n) for state, n in rows}


def requeue_failed(engine: Engine, *, now: datetime, ids: Sequence[int] | None = None) -> int:
    """Make failed rows (all, or those in ``ids``) pending again, due ``now``, with their
    attempt count reset: for after the cause (a revoked token, a wrong address) is fixed.
    Returns how many rows were requeued."""
    statement = (
        update(outbox)
        .where(outbox.c.state == FAILED)
        .values(state=PENDING, attempts=0, next_attempt_at=ensure_utc(now))
    )
    if ids is not None:
        statement = statement.where(outbox.c.notification_id.in_(list(ids)))
    with engine.begin() as conn:
        return int(conn.execute(statement).rowcount)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else ensure_utc(moment)
