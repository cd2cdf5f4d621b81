"""Engines for the two supported backends.

SQLite (the embedded default) runs in WAL mode so readers never block the writer;
PostgreSQL (production) goes through psycopg 3.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from monitor.config.messages import mask_url
from monitor.errors import ConfigError


def create_store_engine(url: str, *, echo: bool = False) -> Engine:
    # psycopg prepares statements it sees repeatedly, and PostgreSQL then keeps the
    # generic plan it made while a table was small (a sequential scan): id lookups
    # of a 100k-row import ran 40x slower until autovacuum analysed the table.
    connect_args = {"prepare_threshold": None} if url.startswith("postgresql") else {}
    try:
        engine = create_engine(url, echo=echo, connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        # The URL may carry a password: the message names it masked, and so does the
        # driver's own text, which sometimes repeats the URL.
        raise ConfigError(
            f"database_url {mask_url(url)!r} cannot be used: {mask_url(str(exc))}."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_session)
    return engine


def _postgres_session(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # JIT compilation cost 3-4 s per metric query and saved nothing: the queries are
    # short aggregate scans. Set outside a transaction so a rollback cannot undo it.
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_conn.autocommit = autocommit


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    if not isinstance(dbapi_conn, sqlite3.Connection):  # pragma: no cover - other drivers
        return
    cursor = dbapi_conn.cursor()
    # WAL lets the daemon read while an import writes; NORMAL is durable across
    # application crashes (only an OS crash may lose the last transactions).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache for big imports
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def is_postgres(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back on error."""
    with engine.begin() as conn:
        yield conn
