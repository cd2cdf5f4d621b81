"""Dialect-neutral upserts: ``INSERT ... ON CONFLICT`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(conn: Connection, table: Table, keys: Sequence[str]) -> Insert:
    """INSERT that silently skips rows whose key already exists."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(
    conn: Connection, table: Table, keys: Sequence[str], update: Iterable[str] | None = None
) -> Insert:
    """INSERT that overwrites the ``update`` columns (default: all non-key columns) on conflict."""
    stmt = _insert(conn, table)
    columns = (
        list(update)
        if update is not None
        else [c.name for c in table.columns if c.name not in keys]
    )
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in columns}
    )


def upsert_adding(
    conn: Connection, table: Table, keys: Sequence[str], add: Iterable[str]
) -> Insert:
    """INSERT that, on conflict, adds the new values to the stored ones (rollup counters)."""
    stmt = _insert(conn, table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in add},
    )
