"""``csmon demo`` end to end: files generated, imported into its own SQLite database."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import Connection, Table, func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.clock import FixedClock
from monitor.store import create_store_engine
from monitor.store.schema import (
    accounts,
    contracts,
    event_daily,
    events,
    health_snapshots,
    users,
)


@pytest.fixture
def configured_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database the user configured: the demo must leave it alone."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "real.db"
    monkeypatch.setenv("CSMON_DATABASE_URL", f"sqlite:///{path}")
    return path


def run_demo(runner: CliRunner, clock: FixedClock, folder: Path, *options: str) -> str:
    with freeze_time(clock.now()):
        result = runner.invoke(
            app, ["demo", "--dir", str(folder), "--accounts", "40", "--days", "30", *options]
        )
    assert result.exit_code == 0, result.output
    return result.output


def csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as rows:
        return sum(1 for _ in csv.DictReader(rows))


def count(conn: Connection, table: Table) -> int:
    return conn.scalar(select(func.count()).select_from(table)) or 0


def test_demo_generates_and_imports_a_portfolio_into_its_own_database(
    runner: CliRunner, clock: FixedClock, tmp_path: Path, configured_db: Path
) -> None:
    folder = tmp_path / "demo"
    output = run_demo(runner, clock, folder)

    engine = create_store_engine(f"sqlite:///{folder / 'csmon.db'}")
    with engine.connect() as conn:
        assert count(conn, accounts) == 40
        assert count(conn, users) == csv_rows(folder / "users.csv")
        assert count(conn, contracts) == csv_rows(folder / "contracts.csv")
        with (folder / "events.jsonl").open("rb") as lines:
            assert count(conn, events) == sum(1 for _ in lines) > 40 * 30
        assert count(conn, event_daily) > 0
        statuses = set(conn.scalars(select(contracts.c.status).distinct()))
        assert conn.scalar(select(func.count()).where(accounts.c.is_stub)) == 0
    engine.dispose()
    assert statuses == {"active", "renewed", "churned"}
    assert not configured_db.exists(), "the configured database is never touched"
    text = " ".join(output.split())
    assert "What the generator planted" in text and "decaying" in text
    assert "import events" in text and "events/s" in text
    # The demo evaluated its portfolio, stored the snapshots, and wrote a config file
    # for its database so the next steps work as printed.
    assert "Accounts needing attention" in text
    assert f"csmon --config {folder / 'config.toml'} evaluate --all" in text
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(health_snapshots)) > 0
    result = runner.invoke(app, ["--config", str(folder / "config.toml"), "rules", "check"])
    assert result.exit_code == 0, result.output


def test_demo_refuses_a_non_empty_folder_unless_forced(
    runner: CliRunner, clock: FixedClock, tmp_path: Path, configured_db: Path
) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    notes = folder / "notes.txt"
    notes.write_text("mine")

    result = runner.invoke(app, ["demo", "--dir", str(folder), "--accounts", "40"])
    assert result.exit_code != 0
    message = " ".join(result.output.split())
    assert message.startswith("error:") and "not empty" in message and "--force" in message
    assert "Traceback" not in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]

    run_demo(runner, clock, folder, "--force")
    first = (folder / "accounts.csv").read_bytes()
    run_demo(runner, clock, folder, "--force", "--seed", "43")
    assert (folder / "accounts.csv").read_bytes() != first, "a forced run replaces the demo"
    assert notes.read_text() == "mine", "--force removes only the demo's own files"
    engine = create_store_engine(f"sqlite:///{folder / 'csmon.db'}")
    with engine.connect() as conn:
        assert count(conn, accounts) == 40
    engine.dispose()
