"""``csmon run --once``: every due job one time, for cron-style deployments."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from daemon_testkit import drop_portfolio, write_config
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store.schema import job_runs, outbox

AT = "2026-11-02T09:00:00Z"


def sent_targets(folder: Path) -> list[str]:
    path = folder / "sent.jsonl"
    if not path.exists():
        return []
    return sorted(json.loads(line)["target"] for line in path.read_text().splitlines())


def test_run_once_syncs_evaluates_dispatches_and_exits(
    cli_env: dict[str, str], runner: CliRunner, tmp_path: Path
) -> None:
    drop_portfolio(tmp_path / "drop", datetime(2026, 11, 2, 9, tzinfo=UTC))
    write_config(
        tmp_path / "config.toml",
        {"database_url": cli_env["CSMON_DATABASE_URL"]},
        sync={"drop_dir": "drop"},
        notify={"file_path": "sent.jsonl"},
        digest={"time": "08:00", "timezone": "Europe/Berlin"},
    )
    args = ["--config", "config.toml", "run", "--once", "--at", AT]

    first = runner.invoke(app, args, env=cli_env)
    assert first.exit_code == 0, first.output
    # One grouped message per CSM, each listing that CSM's accounts.
    assert sent_targets(tmp_path) == ["jane@example.com", "max@example.com"]
    assert sorted(p.name for p in (tmp_path / "drop" / "done").iterdir()) == [
        "accounts.csv",
        "contracts.csv",
    ]
    assert "Ran once: 2 files imported, 4 accounts evaluated" in first.output
    assert "digest for 2026-11-02" in first.output  # 10:00 Berlin: today's 08:00 slot passed

    # Cron runs it again: nothing new to say, nothing sent twice, no second digest.
    again = runner.invoke(app, args, env=cli_env)
    assert again.exit_code == 0, again.output
    assert sent_targets(tmp_path) == ["jane@example.com", "max@example.com"]
    assert "digest not due" in again.output
    engine = create_engine(cli_env["CSMON_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.channel, outbox.c.state)).all()
        assert sorted(rows) == [("console", "sent")] * 2 + [("file", "sent")] * 2
        assert conn.execute(select(job_runs.c.job, job_runs.c.slot)).all() == [
            ("digest", "2026-11-02")
        ]
    engine.dispose()


def test_at_needs_once(cli_env: dict[str, str], runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "--at", AT], env=cli_env)
    assert result.exit_code == 1
    assert "--at only works with --once" in result.output
