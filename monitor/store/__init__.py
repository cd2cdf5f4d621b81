"""Storage: the schema, engines for SQLite and PostgreSQL, and migrations.

Days are stored as integers (days since 1970-01-01, UTC) and instants as epoch
milliseconds, so window arithmetic is plain integer comparison on every dialect.
"""

from monitor.store.engine import connect, create_store_engine, is_postgres, is_sqlite
from monitor.store.migrate import upgrade

__all__ = ["connect", "create_store_engine", "is_postgres", "is_sqlite", "upgrade"]
