"""One batch of event rows into ``events`` and the rollups, the set work done in SQL.

The batch goes into staging tables (:func:`monitor.ingest.bulk.staged`), and a few
statements do the rest inside the database: append the new events (skipping those
stored already), and add them to ``event_daily``, ``user_daily`` and ``property_daily``
with ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE``. No row comes back
to Python except the rare duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from monitor.ingest.bulk import ColumnSpec, Turn, quoted, staged
from monitor.ingest.segment import ROLLED_UP_TYPES
from monitor.store.schema import event_daily, events, property_daily, user_daily

EventRow = tuple[str, str, str, str, str, int, int, str | None]
"""A row of ``events``: message_id, account_id, user_id, type, name, ts_ms, day, properties."""
NumberRow = tuple[str, str, int, str, str, float]
"""A numeric rollup property of a usage event: message_id, account_id, day, name,
property, value."""

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
_NUMBER_COLUMNS: tuple[ColumnSpec, ...] = (
    ("message_id", "TEXT"),
    ("account_id", "TEXT"),
    ("day", "INTEGER"),
    ("name", "TEXT"),
    ("property", "TEXT"),
    ("value", "DOUBLE PRECISION"),
)
_USAGE = "type IN (" + ", ".join(f"'{t}'" for t in ROLLED_UP_TYPES) + ")"


def store_events(
    conn: Connection,
    rows: Sequence[EventRow],
    numbers: Sequence[NumberRow],
    turn: Turn | None = None,
) -> set[str]:
    """Store the ``rows`` not stored yet and add them to the rollups; return the
    messageIds that were stored already (skipped, counted nowhere).

    ``rows`` must have distinct messageIds; ``numbers`` belong to usage ``rows``;
    ``turn`` is held while staging (see :mod:`monitor.ingest.bulk`).

    1. Stage the rows and the numbers.
    2. Append the staged rows not stored yet to ``events`` and drop the others from
       both staging tables (:func:`_append`).
    3. Add the staged usage rows to the rollups, grouped per rollup key.
    """
    with (
        staged(conn, "csmon_stage_events", _EVENT_COLUMNS, rows, turn) as stage,
        staged(conn, "csmon_stage_numbers", _NUMBER_COLUMNS, numbers, turn) as stage_numbers,
    ):
        stored = _append(conn, stage, stage_numbers, len(rows))
        _add(conn, event_daily.name, ("day", "account_id", "name"), stage, _USAGE)
        _add(conn, user_daily.name, ("day", "account_id", "user_id"), stage, _USAGE)
        if numbers:
            key = ("day", "account_id", "name", "property")
            _add(conn, property_daily.name, key, stage_numbers, "true", total="value")
    return stored


def _append(conn: Connection, stage: str, stage_numbers: str, staged_rows: int) -> set[str]:
    """Insert first, look for duplicates only if some row was skipped.

    The usual new batch thus costs one index probe per row, in the insert itself.
    Skipped rows are told apart from the inserted ones by :func:`_stored_before`.
    """
    target = quoted(conn, events.name)
    stored_before = _stored_before(conn, target)
    names = _names(conn)
    inserted = conn.exec_driver_sql(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} WHERE true "
        "ON CONFLICT (message_id) DO NOTHING"
    ).rowcount
    if inserted == staged_rows:
        return set()
    return _drop_stored(conn, (stage, stage_numbers), stored_before)


def _stored_before(conn: Connection, target: str) -> str:
    """A condition on the ``events`` row ``e``: stored before the coming insert.

    SQLite gives new rows rowids above the largest one so far (max + 1); PostgreSQL
    stamps every row with the transaction that inserted it (``xmin``).
    """
    if conn.dialect.name == "postgresql":
        return "e.xmin <> pg_current_xact_id()::xid"
    mark = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {target}").scalar()
    return f"e.rowid <= {int(mark or 0)}"


def _drop_stored(conn: Connection, stages: Sequence[str], stored_if: str) -> set[str]:
    """Delete from ``stages`` the rows whose messageId is in ``events`` on a row
    meeting ``stored_if``; return those messageIds (read only if there are any)."""
    target = quoted(conn, events.name)

    def stored_in(stage: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {target} e WHERE e.message_id = {stage}.message_id "
            f"AND {stored_if})"
        )

    first = stages[0]
    found = conn.exec_driver_sql(f"SELECT message_id FROM {first} WHERE {stored_in(first)}")
    stored = set(found.scalars())
    if stored:
        for stage in stages:
            conn.exec_driver_sql(f"DELETE FROM {stage} WHERE {stored_in(stage)}")
    return stored


def _names(conn: Connection) -> str:
    return ", ".join(quoted(conn, c) for c, _ in _EVENT_COLUMNS)


def _add(
    conn: Connection,
    rollup: str,
    key: Sequence[str],
    source: str,
    where: str,
    total: str | None = None,
) -> None:
    """Add ``source``'s rows that meet ``where`` to ``rollup``: ``count`` per key (and
    ``total``, the sum of that column, when given), added to the stored measures.

    The ``WHERE`` also keeps SQLite from reading ``ON CONFLICT`` as a join's ``ON``.
    """
    table = quoted(conn, rollup)
    keys = ", ".join(key)
    measures = ["count"] + (["total"] if total else [])
    sums = ["count(*)"] + ([f"sum({total})"] if total else [])
    added = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({keys}, {', '.join(measures)}) "
        f"SELECT {keys}, {', '.join(sums)} FROM {source} WHERE {where} GROUP BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {added}"
    )
