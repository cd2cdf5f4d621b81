"""One batch of event rows into ``events`` and the rollups.

The events are appended, skipping messageIds stored already; the batch's rollup
deltas, counted beforehand by the read-ahead thread (:class:`RollupDeltas`), are then
added to ``event_daily``, ``user_daily`` and ``property_daily`` with
``INSERT ... SELECT ... ON CONFLICT DO UPDATE``. Only when
some messageId was stored before (a re-import) do rows come back to Python, to find
those messageIds and count the batch again without them.

All of it goes through :func:`monitor.ingest.bulk.insert_rows`: on SQLite each
statement releases the GIL for its whole run, so the next batch is parsed meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from monitor.ingest.bulk import ColumnSpec, RowBlock, Turn, insert_rows, quoted, staged
from monitor.ingest.rollups import (
    CountDelta,
    EventRow,
    NumberRow,
    PropertyDelta,
    RollupDeltas,
)
from monitor.store.schema import event_daily, events, property_daily, rollup_days, user_daily
from monitor.store.upsert import upsert_adding

_EVENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ("message_id", "TEXT"),
    ("account_id", "TEXT"),
    ("user_id", "TEXT"),
    ("type", "TEXT"),
    ("name", "TEXT"),
    ("ts_ms", "BIGINT"),
    ("day", "INTEGER"),
    ("properties", "TEXT"),
)
_KEY_COLUMNS: tuple[ColumnSpec, ...] = (("day", "INTEGER"), ("account_id", "TEXT"))
_COUNT: tuple[ColumnSpec, ...] = (("count", "INTEGER"),)
_EVENT_DELTAS = (*_KEY_COLUMNS, ("name", "TEXT"), *_COUNT)
_USER_DELTAS = (*_KEY_COLUMNS, ("user_id", "TEXT"), *_COUNT)
_PROPERTY_DELTAS = (
    *_KEY_COLUMNS,
    ("name", "TEXT"),
    ("property", "TEXT"),
    *_COUNT,
    ("total", "DOUBLE PRECISION"),
)


@dataclass(frozen=True, slots=True)
class EventBlocks:
    """A batch's event rows and rollup deltas, ready for :func:`insert_rows`."""

    events: RowBlock[EventRow]
    event_daily: RowBlock[CountDelta]
    user_daily: RowBlock[CountDelta]
    property_daily: RowBlock[PropertyDelta]
    days: frozenset[int]
    """The days whose rollups the deltas change."""

    @classmethod
    def of(cls, dialect: str, rows: Sequence[EventRow], deltas: RollupDeltas) -> EventBlocks:
        """Blocks for ``dialect`` of ``rows`` whose counts are ``deltas``."""
        return cls(
            RowBlock.for_dialect(dialect, rows),
            *cls._deltas(dialect, deltas),
            deltas.days(),
        )

    def without(self, dialect: str, numbers: Sequence[NumberRow], skip: set[str]) -> EventBlocks:
        """These blocks with the deltas counted again, leaving out the messageIds in ``skip``."""
        deltas = RollupDeltas.of(self.events.rows, numbers, skip=skip)
        return EventBlocks(self.events, *self._deltas(dialect, deltas), deltas.days())

    @staticmethod
    def _deltas(
        dialect: str, deltas: RollupDeltas
    ) -> tuple[
        RowBlock[CountDelta],
        RowBlock[CountDelta],
        RowBlock[PropertyDelta],
    ]:
        return (
            RowBlock.for_dialect(dialect, deltas.event_rows()),
            RowBlock.for_dialect(dialect, deltas.user_rows()),
            RowBlock.for_dialect(dialect, deltas.property_rows()),
        )


def store_events(
    conn: Connection,
    blocks: EventBlocks,
    numbers: Sequence[NumberRow],
    turn: Turn | None = None,
) -> set[str]:
    """Store the event rows not stored yet and add them to the rollups; return the
    messageIds that were stored already (skipped, counted nowhere).

    The rows must have distinct messageIds and ``numbers`` belong to usage rows;
    ``turn`` is held for Python work on the rows (see :mod:`monitor.ingest.bulk`).

    1. Append the rows to ``events``, skipping messageIds stored already.
    2. If some were skipped: find them, and count the batch again without them.
    3. Add the deltas to the rollups, and raise the version of each day they change
       (what cached day-end values are checked against, see
       :mod:`monitor.metrics.day_cache`).
    """
    target = quoted(conn, events.name)
    stored_before = _stored_before(conn, target)
    stored: set[str] = set()
    if _append(conn, target, blocks.events, turn) < len(blocks.events):
        stored = _skipped(conn, target, blocks.events.rows, stored_before, turn)
        with turn or nullcontext():
            blocks = blocks.without(conn.dialect.name, numbers, stored)
    _add(conn, event_daily.name, _EVENT_DELTAS, blocks.event_daily, turn)
    _add(conn, user_daily.name, _USER_DELTAS, blocks.user_daily, turn)
    _add(conn, property_daily.name, _PROPERTY_DELTAS, blocks.property_daily, turn)
    if blocks.days:
        bump = upsert_adding(conn, rollup_days, ["day"], ["version"])
        conn.execute(bump, [{"day": day, "version": 1} for day in sorted(blocks.days)])
    return stored


def _append(conn: Connection, target: str, rows: RowBlock[EventRow], turn: Turn | None) -> int:
    """Insert the rows whose messageId is not stored yet; return how many went in."""
    skip = "ON CONFLICT (message_id) DO NOTHING"
    return insert_rows(conn, target, _EVENT_COLUMNS, rows, skip, turn)


def _stored_before(conn: Connection, target: str) -> str:
    """A condition on the ``events`` row ``e``: stored before this batch's insert.

    SQLite gives new rows rowids above the largest one so far (max + 1); PostgreSQL
    stamps every row with the transaction that inserted it (``xmin``).
    """
    if conn.dialect.name == "postgresql":
        return "e.xmin <> pg_current_xact_id()::xid"
    mark = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {target}").scalar()
    return f"e.rowid <= {int(mark or 0)}"


def _skipped(
    conn: Connection, target: str, rows: Sequence[EventRow], stored_if: str, turn: Turn | None
) -> set[str]:
    """The messageIds of ``rows`` found on an ``events`` row meeting ``stored_if``."""
    ids = [(row[0],) for row in rows]
    with staged(conn, "csmon_stage_ids", (("message_id", "TEXT"),), ids, turn) as stage:
        found = conn.exec_driver_sql(
            f"SELECT s.message_id FROM {stage} s JOIN {target} e "
            f"ON e.message_id = s.message_id WHERE {stored_if}"
        )
        return set(found.scalars())


def _add(
    conn: Connection,
    rollup: str,
    columns: Sequence[ColumnSpec],
    deltas: RowBlock[Any],
    turn: Turn | None = None,
) -> None:
    """Add ``deltas`` (one per key; its measures last) to the stored measures of ``rollup``."""
    table = quoted(conn, rollup)
    names = [c for c, _ in columns]
    measures = [n for n in names if n in ("count", "total")]
    keys = ", ".join(n for n in names if n not in measures)
    added = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)
    insert_rows(conn, table, columns, deltas, f"ON CONFLICT ({keys}) DO UPDATE SET {added}", turn)
