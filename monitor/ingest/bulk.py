"""Bulk writes of big batches: rows handed to the database in one statement.

Callers give rows as tuples and get the set work (dedup, inserts, rollups) done in
SQL, so the database's C code does it rather than Python; only this module knows the
dialect.

- SQLite: the rows go as one JSON array parameter, expanded by ``json_each`` inside
  ``INSERT ... SELECT``. The whole statement is one call into SQLite, which releases
  the GIL for all of it: the read-ahead thread parses the next batch meanwhile at
  nearly full speed. (A plain ``executemany`` costs less C time, ~3.4 µs a row
  against ~4.9, but takes the GIL back after every row: beside a busy Python thread
  each row then waits for a GIL switch, and the two threads cannot overlap.)
- PostgreSQL: ``COPY ... FROM STDIN`` into a temporary staging table on the psycopg
  connection under SQLAlchemy's (so in the caller's transaction), then the statement
  reads the staging table. The copy is Python work: it runs holding the caller's
  ``turn`` (see :func:`in_turns`). No ``ANALYZE`` (a tenth of the write time): the
  planner estimates a never-analysed table's rows from its current size.
- Any other dialect: ``executemany`` into the staging table.

:func:`write_transaction` and :func:`checkpoint` move SQLite's WAL checkpoints off the
writing thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import Connection, Engine

Row = Sequence[Any]
ColumnSpec = tuple[str, str]
"""A staging column: name and SQL type (a type name both SQLite and PostgreSQL accept)."""

T = TypeVar("T")
R = TypeVar("R", bound=Sequence[Any])
_encode = msgspec.json.encode
Turn = AbstractContextManager[Any]
"""Held while a thread runs a stretch of Python code that must not compete for the GIL."""
_SQLITE_AUTOCHECKPOINT = 1000  # SQLite's default, in pages


@dataclass(frozen=True, slots=True)
class RowBlock(Generic[R]):
    """Rows for :func:`insert_rows`, with their JSON form when the dialect needs one.

    Made with :meth:`for_dialect` by whichever thread has time to spare: encoding is
    the last Python work on the rows, and the writing thread is the import's bottleneck.
    """

    rows: Sequence[R]
    json: bytes | None = None
    """The rows as one JSON array of arrays, for SQLite's ``json_each``."""

    @classmethod
    def for_dialect(cls, dialect: str, rows: Sequence[R]) -> RowBlock[R]:
        return cls(rows, _encode(rows) if dialect == "sqlite" and rows else None)

    def __len__(self) -> int:
        return len(self.rows)


def insert_rows(
    conn: Connection,
    target: str,
    columns: Sequence[ColumnSpec],
    rows: RowBlock[Any] | Sequence[Row],
    tail: str = "",
    turn: Turn | None = None,
) -> int:
    """``INSERT INTO target (columns) SELECT ... {tail}`` for ``rows``; return the
    number of rows the database reports changed.

    ``target`` is a quoted table name; ``tail`` an ``ON CONFLICT`` clause or empty.
    """
    block = rows if isinstance(rows, RowBlock) else RowBlock(rows)
    if not block.rows:
        return 0
    names = ", ".join(quoted(conn, c) for c, _ in columns)
    if conn.dialect.name == "sqlite":
        doc = block.json
        if doc is None:
            with turn or nullcontext():
                doc = _encode(block.rows)
        source = f"SELECT {_json_values(len(columns))} FROM json_each(?)"
        # "WHERE true" keeps SQLite from reading ON CONFLICT as a join's ON.
        sql = f"INSERT INTO {target} ({names}) {source} WHERE true {tail}"
        return int(conn.exec_driver_sql(sql, (doc,)).rowcount)
    with staged(conn, "csmon_stage_rows", columns, block.rows, turn) as stage:
        sql = f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} WHERE true {tail}"
        return int(conn.exec_driver_sql(sql).rowcount)


@contextmanager
def staged(
    conn: Connection,
    name: str,
    columns: Sequence[ColumnSpec],
    rows: Sequence[Row],
    turn: Turn | None = None,
) -> Iterator[str]:
    """A temporary table ``name`` without keys or indexes holding ``rows``; yields its
    quoted name and drops it afterwards.

    Rows are tuples in ``columns`` order. Made and dropped in the caller's transaction:
    a temporary table belongs to one pooled connection, so none may outlive its batch
    (a rollback drops it too).
    """
    table = quoted(conn, name)
    spec = ", ".join(f"{quoted(conn, c)} {kind}" for c, kind in columns)
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({spec})")
    if rows:
        if conn.dialect.name == "sqlite":
            insert_rows(conn, table, columns, rows, turn=turn)
        else:
            with turn or nullcontext():
                _fill(conn, table, [c for c, _ in columns], rows)
    yield table
    conn.exec_driver_sql(f"DROP TABLE {table}")


def _fill(conn: Connection, table: str, names: list[str], rows: Sequence[Row]) -> None:
    columns = ", ".join(quoted(conn, n) for n in names)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("%s" for _ in names)
        conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))


def _json_values(width: int) -> str:
    """The ``width`` elements of each ``json_each`` row (a JSON array), as SQL values."""
    return ", ".join(f"value ->> {i}" for i in range(width))


def in_turns(items: Sequence[T], turn: threading.Lock, size: int = 1000) -> Iterator[T]:
    """Yield ``items`` holding ``turn`` for each stretch of ``size``: the consumer's
    loop runs with the lock held, and lets a waiting writer in between stretches."""
    for start in range(0, len(items), size):
        with turn:
            yield from items[start : start + size]


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for a big write, whose commit leaves the WAL checkpoint to others.

    On SQLite a commit normally also checkpoints: copies the pages it wrote from the
    write-ahead log into the database file, about a third of a batch's write time. Here
    that is left to :func:`checkpoint`, which another thread calls while this one goes
    on with the next batch (and this one, now and then, to empty the log). Other
    dialects: a plain ``engine.begin()``.
    """
    with engine.connect() as conn:
        # Pragmas go to the sqlite3 connection itself, outside SQLAlchemy's transaction.
        driver = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if driver is not None:
            driver.execute("PRAGMA wal_autocheckpoint=0")
        try:
            with conn.begin():
                yield conn
        finally:
            if driver is not None:  # the pooled connection goes back as it came
                driver.execute(f"PRAGMA wal_autocheckpoint={_SQLITE_AUTOCHECKPOINT}")


def checkpoint(engine: Engine, *, truncate: bool = False) -> None:
    """SQLite: copy committed pages from the write-ahead log into the database file.

    By default PASSIVE: it never waits for, nor blocks, readers or the writer; what
    it cannot copy now is copied next time. Passive checkpoints running beside the
    writer never let the log start over, so the writer must call this now and then
    with ``truncate`` (waits for readers, then empties the log) to keep it bounded.
    Nothing to do on other dialects.
    """
    if engine.dialect.name == "sqlite":
        mode = "TRUNCATE" if truncate else "PASSIVE"
        with engine.connect() as conn:
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                f"PRAGMA wal_checkpoint({mode})"
            )


def quoted(conn: Connection, name: str) -> str:
    """``name`` quoted as an identifier where the dialect needs it."""
    return conn.dialect.identifier_preparer.quote(name)


ANALYZE_SHARE = 0.1
"""A write of at least this share of a table's rows gets its statistics refreshed
(PostgreSQL's autovacuum waits for the same share, but only analyses later)."""


def refresh_statistics(engine: Engine, tables: Sequence[str], added: int) -> None:
    """PostgreSQL: ``ANALYZE`` the tables after a write that changed them a lot.

    The planner otherwise keeps the statistics of the tables before the import (or
    none, for a first import) until autovacuum comes around: the evaluation right after
    a first import then ran a 6-7x slower plan. ``added`` is the rows the write added
    to the first table; its size before is PostgreSQL's own estimate (``reltuples``,
    -1 or 0 when never analysed). Nothing to do on SQLite, whose queries here are
    planned from the indexes alone.
    """
    if engine.dialect.name != "postgresql" or added <= 0:
        return
    with engine.connect() as conn:
        before = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%(name)s)",
            {"name": tables[0]},
        ).scalar()
        if before is not None and before > 0 and added < ANALYZE_SHARE * before:
            return
        conn.exec_driver_sql("ANALYZE " + ", ".join(quoted(conn, t) for t in tables))
        conn.commit()
