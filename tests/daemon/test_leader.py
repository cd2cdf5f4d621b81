"""Leader election: one leader per store; a standby takes over at its next attempt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from monitor.daemon.leader import (
    AlreadyRunning,
    FileLeaderLock,
    Leadership,
    PgLeaderLock,
    acquire_single_daemon,
    leader_lock_for,
)
from monitor.store import create_store_engine


@pytest.fixture
def second_engine(db_url: str, engine: Engine) -> Iterator[Engine]:
    """Another replica's engine on the same (migrated) store."""
    other = create_store_engine(db_url)
    yield other
    other.dispose()


def test_the_lock_suits_the_backend(engine: Engine) -> None:
    lock = leader_lock_for(engine)
    if engine.dialect.name == "postgresql":
        assert isinstance(lock, PgLeaderLock)
    else:
        assert isinstance(lock, FileLeaderLock)
        assert lock.path == Path(f"{engine.url.database}.lock")


def test_sqlite_second_daemon_refuses_to_start_with_one_clear_sentence(tmp_path: Path) -> None:
    database = str(tmp_path / "csmon.db")
    first, second = (
        FileLeaderLock(Path(database + ".lock")),
        FileLeaderLock(Path(database + ".lock")),
    )
    acquire_single_daemon(first, database)
    with pytest.raises(AlreadyRunning) as refused:
        acquire_single_daemon(second, database)
    message = str(refused.value)
    assert message.startswith(f"Another csmon daemon is already running on {database}")
    assert message.count(". ") == 0 and message.endswith("replicas.")
    first.release()
    acquire_single_daemon(second, database)  # free again once the first one stops
    second.release()


def _pg_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite allows one daemon (see above)")


def test_postgres_only_one_of_two_replicas_leads_until_it_releases(
    engine: Engine, second_engine: Engine
) -> None:
    _pg_only(engine)
    a, b = Leadership(PgLeaderLock(engine)), Leadership(PgLeaderLock(second_engine))
    assert a.tick() is True
    assert b.tick() is False
    assert a.tick() is True and b.tick() is False  # re-checks keep it that way
    a.release()
    assert b.tick() is True  # the standby's next attempt takes over
    assert a.tick() is False
    b.release()


def test_postgres_standby_takes_over_when_the_leaders_connection_dies(
    engine: Engine, second_engine: Engine, db_url: str
) -> None:
    _pg_only(engine)
    changes: list[bool] = []
    lock_a = PgLeaderLock(engine)
    a = Leadership(lock_a, on_change=changes.append)
    b = Leadership(PgLeaderLock(second_engine))
    assert a.tick() and not b.tick()
    pid = lock_a.backend_pid
    assert pid is not None
    # What the server sees when the leader's host dies or a kill -9 closes its socket.
    admin = create_engine(db_url)
    with admin.begin() as conn:
        # The timeout form (PostgreSQL 14+) waits until the backend has exited and its
        # advisory locks are gone; the plain form only sends the signal (a CI race).
        exited = conn.execute(
            text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}
        ).scalar_one()
    assert exited is True
    admin.dispose()
    # Takeover is bounded by one retry interval: the standby's NEXT attempt wins ...
    assert b.tick() is True
    # ... and the old leader steps down at its next re-check instead of carrying on.
    assert a.tick() is False
    assert changes == [True, False]
    b.release()
    a.release()


def test_postgres_lock_keys_differ_per_schema(engine: Engine) -> None:
    _pg_only(engine)
    lock = PgLeaderLock(engine)
    assert lock.try_acquire()
    # Another store (schema) on the same server is not blocked by this one's leader.
    other_schema = f"csmon_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(str(engine.url.set(query={})))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{other_schema}"'))
    try:
        other = create_store_engine(
            engine.url.set(query={"options": f"-csearch_path={other_schema}"}).render_as_string(
                hide_password=False
            )
        )
        other_lock = PgLeaderLock(other)
        assert other_lock.try_acquire()
        other_lock.release()
        other.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{other_schema}" CASCADE'))
        admin.dispose()
        lock.release()
