"""Replicas: exactly one daemon (the leader) evaluates, dispatches and runs the daily jobs.

* **PostgreSQL**: a session-level ``pg_try_advisory_lock`` taken on a dedicated
  connection that is held for as long as the replica leads. The database releases it
  the moment that session ends, so when a leader dies (even ``kill -9``: the server
  sees the socket close) a standby's next attempt succeeds. Standbys try every
  ``[daemon] leader_retry_seconds``, which bounds the takeover time; the leader
  re-checks its connection as often and steps down when it is lost. The lock key is
  derived from the database and schema names, so stores sharing one server do not
  block each other.
* **SQLite**: one daemon per database file. An exclusive ``flock`` on
  ``<database>.lock`` is taken at start; a second daemon refuses to start with one
  clear sentence. The OS drops the lock when the process ends, however it ends.

Leadership is the guard against double *work*; the outbox's claim leases remain the
guard against double *sends* in the seconds in which an old leader has not yet
noticed that it lost its lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from monitor.errors import CsmonError

log = logging.getLogger(__name__)


class LeaderLock(Protocol):
    @property
    def description(self) -> str:
        """What is locked, for log lines (never with a password)."""
        ...

    def try_acquire(self) -> bool:
        """Take the lock without waiting; True if this process holds it now."""
        ...

    def still_held(self) -> bool:
        """Re-check a held lock; False (and the lock dropped) when it was lost."""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        ...


class AlreadyRunning(CsmonError):
    """Another daemon holds the SQLite database's lock file."""


class FileLeaderLock:
    """An exclusive ``flock`` on a lock file next to the SQLite database."""

    def __init__(self, lock_path: Path) -> None:
        self.path = lock_path
        self._file: IO[str] | None = None

    @property
    def description(self) -> str:
        return f"lock file {self.path}"

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        # Who holds it, for the operator who finds the file: informative only.
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is None:
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._file.close()
            self._file = None


class AlwaysLeader:
    """For an in-memory SQLite store: one process by definition."""

    description = "in-memory database"

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


class PgLeaderLock:
    """A session-level PostgreSQL advisory lock on a connection of its own."""

    def __init__(self, engine: Engine, key: int | None = None) -> None:
        self._engine = engine
        self._key = key
        self._conn: Connection | None = None

    @property
    def description(self) -> str:
        where = self._engine.url.render_as_string(hide_password=True)
        return f"PostgreSQL advisory lock {self._key if self._key is not None else ''} on {where}"

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as exc:
            log.warning("Cannot reach the database to take the leader lock: %s", exc.orig)
            return False
        try:
            if self._key is None:
                self._key = store_lock_key(conn)
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            )
        except DBAPIError as exc:
            log.warning("Cannot take the leader lock: %s", exc.orig)
            conn.invalidate()
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            # The lock lives as long as this session: a live session is a held lock.
            self._conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            log.warning("The leader lock's database connection was lost: %s", exc.orig)
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
            return False
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        except DBAPIError:  # the session is gone, and the lock with it
            conn.invalidate()
        finally:
            conn.close()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the lock's session (tests terminate it)."""
        if self._conn is None:
            return None
        pid = self._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        return int(pid) if pid is not None else None


def store_lock_key(conn: Connection) -> int:
    """A signed 64-bit advisory-lock key for this database and schema."""
    row = conn.execute(text("SELECT current_database(), current_schema()")).one()
    digest = hashlib.blake2b(f"csmon-leader\0{row[0]}\0{row[1]}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def leader_lock_for(engine: Engine) -> LeaderLock:
    """The lock that suits the store's backend."""
    if engine.dialect.name == "postgresql":
        return PgLeaderLock(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        return AlwaysLeader()
    return FileLeaderLock(Path(f"{database}.lock"))


def acquire_single_daemon(lock: LeaderLock, database: str) -> None:
    """SQLite: take the lock or refuse to start, in one sentence."""
    if not lock.try_acquire():
        raise AlreadyRunning(
            f"Another csmon daemon is already running on {database} (it holds "
            f"{lock.description}); SQLite allows one daemon per database, so stop it "
            "first or use PostgreSQL to run replicas."
        )


class Leadership:
    """Whether this replica leads, kept current by :meth:`tick`.

    ``tick`` runs on a short interval: a standby tries to take the lock, a leader
    re-checks it and steps down when it is lost. Changes are logged and reported to
    ``on_change`` (the ``csmon_is_leader`` gauge).
    """

    def __init__(self, lock: LeaderLock, *, on_change: _OnChange | None = None) -> None:
        self.lock = lock
        self._leader = False
        self._guard = threading.Lock()
        self._on_change = on_change

    @property
    def is_leader(self) -> bool:
        return self._leader

    def tick(self) -> bool:
        """One election round; returns whether this replica leads afterwards."""
        with self._guard:
            if self._leader:
                if not self.lock.still_held():
                    self._set(False, "Lost the leader lock; stepping down to standby")
            elif self.lock.try_acquire():
                self._set(True, "Became the leader: this replica evaluates and dispatches")
            return self._leader

    def release(self) -> None:
        with self._guard:
            was_leader = self._leader
            self.lock.release()
            if was_leader:
                self._set(False, "Released the leader lock")

    def _set(self, leader: bool, message: str) -> None:
        self._leader = leader
        log.info(message, extra={"role": "leader" if leader else "standby"})
        if self._on_change is not None:
            self._on_change(leader)


class _OnChange(Protocol):
    def __call__(self, leader: bool, /) -> None: ...
