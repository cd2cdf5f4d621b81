"""``csmon dispatch`` and the outbox listing (``csmon alerts outbox``) as a user sees them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from freezegun import freeze_time
from outbox_testkit import queue, row
from sqlalchemy import Engine
from support.smtp import SmtpServer
from typer.testing import CliRunner, Result

from monitor.cli import app, console
from monitor.cli.context import AppContext
from monitor.cli.dispatch import outbox_command, requeue_command
from monitor.clock import FixedClock


def csmon(runner: CliRunner, env: dict[str, str], clock: FixedClock, *args: str) -> Result:
    with freeze_time(clock.now()):
        return runner.invoke(app, list(args), env=env)


def test_dispatch_sends_what_is_due_and_prints_a_table(
    runner: CliRunner, engine: Engine, clock: FixedClock, cli_env: dict[str, str], tmp_path: Path
) -> None:
    console_id, file_id = queue(engine, clock, ("console", "ops"), ("file", "log"))

    result = csmon(runner, cli_env, clock, "dispatch")

    assert result.exit_code == 0, result.output
    assert "csmon → ops" in result.stdout and "Acme Rockets" in result.stdout
    table = result.stdout[result.stdout.index("dispatch") :]
    assert "channel" in table and "retry later" in table
    assert "console" in table and "file" in table
    (line,) = (tmp_path / "csmon-notifications.jsonl").read_text().splitlines()
    assert json.loads(line)["target"] == "log"
    assert row(engine, console_id)["state"] == row(engine, file_id)["state"] == "sent"

    again = csmon(runner, cli_env, clock, "dispatch")
    assert again.exit_code == 0 and "Nothing was due" in again.output


def test_dispatch_exits_1_and_says_where_to_look_when_a_message_failed(
    runner: CliRunner,
    engine: Engine,
    clock: FixedClock,
    cli_env: dict[str, str],
    smtp_server: SmtpServer,
) -> None:
    smtp_server.collector.refuse["gone@example.com"] = "550 5.1.1 No such user"
    queue(engine, clock, ("email", "gone@example.com"), ("email", "jane@example.com"))
    env = {
        **cli_env,
        "CSMON_EMAIL__SMTP_HOST": smtp_server.host,
        "CSMON_EMAIL__SMTP_PORT": str(smtp_server.port),
        "CSMON_EMAIL__SSL_MODE": "none",
    }

    result = csmon(runner, env, clock, "dispatch")

    assert result.exit_code == 1
    assert "1 notification(s) failed" in result.stderr
    assert "csmon alerts outbox --state failed" in result.stderr
    assert len(smtp_server.messages) == 1


def test_a_row_for_an_unconfigured_channel_waits_and_exit_is_0(
    runner: CliRunner, engine: Engine, clock: FixedClock, cli_env: dict[str, str]
) -> None:
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))

    result = csmon(runner, cli_env, clock, "dispatch")

    assert result.exit_code == 0, result.output
    assert "slack" in result.stdout
    assert row(engine, row_id)["last_error"] == "channel slack is not configured"


@pytest.fixture
def outbox_app() -> typer.Typer:
    """The commands as the alerts CLI mounts them (``csmon alerts outbox|requeue``)."""
    listing = typer.Typer()
    listing.command("outbox")(outbox_command)
    listing.command("requeue")(requeue_command)
    return listing


def alerts(
    runner: CliRunner, outbox_app: typer.Typer, db_url: str, clock: FixedClock, *args: str
) -> Result:
    with freeze_time(clock.now()):
        result = runner.invoke(outbox_app, list(args), obj=AppContext(database_url=db_url))
    assert result.exit_code == 0, result.output
    return result


def list_outbox(
    runner: CliRunner, outbox_app: typer.Typer, db_url: str, clock: FixedClock, *args: str
) -> Result:
    return alerts(runner, outbox_app, db_url, clock, "outbox", *args)


def test_outbox_lists_rows_by_state_with_attempts_and_last_error(
    runner: CliRunner,
    engine: Engine,
    clock: FixedClock,
    db_url: str,
    cli_env: dict[str, str],
    outbox_app: typer.Typer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console.out, "width", 200)  # a wide terminal: cells not folded
    queue(engine, clock, ("console", "ops"), ("email", "[bold]jane@example.com"))
    csmon(runner, cli_env, clock, "dispatch")  # console sent, email waits (not configured)
    clock.advance(timedelta(minutes=1))

    everything = list_outbox(runner, outbox_app, db_url, clock).stdout
    pending = list_outbox(runner, outbox_app, db_url, clock, "--state", "pending").stdout
    limited = list_outbox(runner, outbox_app, db_url, clock, "--limit", "1").output
    failed = list_outbox(runner, outbox_app, db_url, clock, "--state", "failed").output

    assert "sent 2026-11-02 09:00" in everything and "ops" in everything
    assert "[bold]jane@example.com" in pending  # data is shown, not read as markup
    assert "channel email is not configured" in pending and "ops" not in pending
    assert "Showing 1 of 2" in limited
    assert "no failed notifications" in failed


def test_failed_notifications_can_be_requeued_once_the_cause_is_fixed(
    runner: CliRunner,
    engine: Engine,
    clock: FixedClock,
    db_url: str,
    cli_env: dict[str, str],
    smtp_server: SmtpServer,
    outbox_app: typer.Typer,
) -> None:
    smtp_server.collector.refuse["jane@example.com"] = "550 5.1.1 Mailbox disabled"
    env = {
        **cli_env,
        "CSMON_EMAIL__SMTP_HOST": smtp_server.host,
        "CSMON_EMAIL__SMTP_PORT": str(smtp_server.port),
        "CSMON_EMAIL__SSL_MODE": "none",
    }
    (row_id,) = queue(engine, clock, ("email", "jane@example.com"))
    assert csmon(runner, env, clock, "dispatch").exit_code == 1
    smtp_server.collector.refuse.clear()  # the mailbox was re-enabled

    requeued = alerts(runner, outbox_app, db_url, clock, "requeue", str(row_id), "999")

    assert "Requeued 1 failed notification(s)" in requeued.stdout
    assert "1 of the given ids are not failed notifications" in requeued.output
    assert csmon(runner, env, clock, "dispatch").exit_code == 0
    assert len(smtp_server.messages) == 1
    assert row(engine, row_id)["state"] == "sent"


def test_requeue_needs_ids_or_all_failed(
    runner: CliRunner, db_url: str, engine: Engine, outbox_app: typer.Typer
) -> None:
    result = runner.invoke(outbox_app, ["requeue"], obj=AppContext(database_url=db_url))
    assert result.exit_code != 0
    assert "--all-failed" in str(result.exception)
