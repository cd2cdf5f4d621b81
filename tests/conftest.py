"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

Set ``CSMON_TEST_DATABASE_URL=postgresql+psycopg://...`` to run the whole suite on
PostgreSQL: each test then gets its own schema, dropped afterwards, so runs never
see each other's state.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from support.fixtures import slack_api, smtp_server, smtp_tls_server, smtps_server  # noqa: F401
from typer.testing import CliRunner

from monitor.clock import FixedClock
from monitor.store import create_store_engine, upgrade

PG_URL = os.environ.get("CSMON_TEST_DATABASE_URL")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def pytest_report_header() -> str:
    return f"csmon test database: {PG_URL or 'SQLite (temporary files)'}"


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of its own (not yet migrated)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'csmon.db'}"
        return
    schema = f"csmon_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty store."""
    store = create_store_engine(db_url)
    upgrade(store)
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running ``csmon`` against the test database from tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CSMON_") and name != "CSMON_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    return {"CSMON_DATABASE_URL": db_url}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def demo_store(engine: Engine, clock: FixedClock, tmp_path: Path) -> Engine:
    """A small synthetic portfolio (the demo generator) imported with the real importers."""
    from monitor.config import IngestSettings
    from monitor.demo import generate
    from monitor.ingest.crm import import_accounts, import_contracts, import_users
    from monitor.ingest.events import import_events

    _, files = generate(tmp_path / "demo", clock=clock, accounts=60, days=45)
    import_accounts(engine, files.accounts, clock=clock)
    import_users(engine, files.users, clock=clock)
    import_contracts(engine, files.contracts, clock=clock)
    import_events(engine, files.events, IngestSettings(), clock=clock)
    return engine
