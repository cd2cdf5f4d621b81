"""``csmon evaluate`` queueing alerts, and ``csmon alerts list|snooze|unsnooze|ack``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alerting_testkit import JANE, T0, build_portfolio, outbox_rows, write_rules
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from monitor.cli import app


@pytest.fixture
def store(engine: Engine, tmp_path: Path, cli_env: dict[str, str]) -> Engine:
    """The small portfolio, and a config.toml in the working folder pointing at its rules."""
    build_portfolio(engine, tmp_path / "files")
    write_rules(tmp_path / "rules")
    (tmp_path / "config.toml").write_text(
        'rules_dir = "rules"\n[notify]\nfile_path = "notifications.jsonl"\n', encoding="utf-8"
    )
    return engine


def csmon(runner: CliRunner, env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env)


def listed(runner: CliRunner, env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    result = csmon(runner, env, "alerts", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def alert_id(runner: CliRunner, env: dict[str, str], account: str, rule: str) -> int:
    found = [a for a in listed(runner, env, "--account", account) if a["rule"] == rule]
    assert len(found) == 1
    return int(found[0]["alert_id"])


def test_evaluate_queues_notifications_once_and_dry_run_queues_none(
    store: Engine, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    dry = csmon(runner, cli_env, "evaluate", "--at", T0.isoformat(), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert outbox_rows(store) == []
    first = csmon(runner, cli_env, "evaluate", "--at", T0.isoformat())
    assert first.exit_code == 0, first.output
    assert "9 alerts changed, 6 notifications queued" in first.stdout
    assert "csmon dispatch" in first.stdout
    second = csmon(runner, cli_env, "evaluate", "--at", T0.isoformat(), "--json")
    assert second.exit_code == 0, second.output
    assert len(json.loads(second.stdout)) == 5  # stdout stays pure JSON
    assert "0 alerts changed, 0 notifications queued" in second.stderr
    assert len(outbox_rows(store)) == 6


def test_alerts_list_filters_by_state_account_and_owner(
    store: Engine, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    csmon(runner, cli_env, "evaluate", "--at", T0.isoformat())
    everything = listed(runner, cli_env)
    assert len(everything) == 9 and {a["state"] for a in everything} == {"firing"}
    assert {a["account_id"] for a in listed(runner, cli_env, "--owner", "JANE@example.com")} == {
        "a1",
        "a2",
    }
    mine = listed(runner, cli_env, "--account", "a3")
    assert sorted(a["rule"] for a in mine) == ["few_reports", "quiet", "renewal"]
    assert listed(runner, cli_env, "--state", "resolved") == []
    table = csmon(runner, cli_env, "alerts", "list", "--state", "firing")
    assert table.exit_code == 0 and "Acme" in table.stdout and "quiet" in table.stdout
    bad = csmon(runner, cli_env, "alerts", "list", "--state", "burning")
    assert bad.exit_code == 2


def test_snooze_unsnooze_and_ack_change_the_alert_and_say_so(
    store: Engine, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    csmon(runner, cli_env, "evaluate", "--at", T0.isoformat())
    quiet = alert_id(runner, cli_env, "a1", "quiet")
    result = csmon(
        runner, cli_env, "alerts", "snooze", str(quiet), "--until", "2099-01-01",
        "--reason", "call booked", "--by", JANE,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Alert {quiet} (a1: quiet) snoozed until 2099-01-01 00:00 UTC." in result.stdout
    record = next(a for a in listed(runner, cli_env) if a["alert_id"] == quiet)
    assert (
        record["snoozed_until"].startswith("2099-01-01")
        and record["snooze_reason"] == "call booked"
    )
    assert csmon(runner, cli_env, "alerts", "unsnooze", str(quiet)).exit_code == 0
    again = csmon(runner, cli_env, "alerts", "unsnooze", str(quiet))
    assert again.exit_code == 1 and f"Alert {quiet} is not snoozed." in again.output
    assert csmon(runner, cli_env, "alerts", "snooze", str(quiet), "--for", "7d").exit_code == 0

    acked = csmon(runner, cli_env, "alerts", "ack", str(quiet), "--by", JANE)
    assert acked.exit_code == 0 and f"acknowledged by {JANE}" in acked.stdout
    assert csmon(runner, cli_env, "alerts", "ack", str(quiet)).exit_code == 0  # harmless twice
    record = next(a for a in listed(runner, cli_env) if a["alert_id"] == quiet)
    assert record["acked_by"] == JANE

    history = csmon(runner, cli_env, "alerts", "show", str(quiet))
    assert history.exit_code == 0, history.output
    changes = [line.split()[2] for line in history.stdout.splitlines() if line.startswith("20")]
    assert changes == ["firing", "notified", "snoozed", "unsnoozed", "snoozed", "acked"]
    assert "call booked" in history.stdout and JANE in history.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["snooze", "999", "--for", "7d"], 1, "No alert has the id 999"),
        (["ack", "999"], 1, "No alert has the id 999"),
        (["unsnooze", "999"], 1, "No alert has the id 999"),
        (["show", "999"], 1, "No alert has the id 999"),
        (["snooze", "1"], 2, "give either --until DATE or --for DURATION"),
        (["snooze", "1", "--for", "7d", "--until", "2099-01-01"], 2, "give either"),
        (["snooze", "1", "--for", "a week"], 2, 'expected a duration like "12h", "14d" or "2w"'),
        (["snooze", "1", "--until", "2001-01-01"], 1, "that time has already passed"),
    ],
)
def test_alert_commands_fail_with_one_sentence(
    store: Engine,
    runner: CliRunner,
    cli_env: dict[str, str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    csmon(runner, cli_env, "evaluate", "--at", T0.isoformat())
    result = csmon(runner, cli_env, "alerts", *args)
    assert result.exit_code == code
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_resolved_alerts_cannot_be_snoozed_or_acknowledged(
    store: Engine, runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    csmon(runner, cli_env, "evaluate", "--at", T0.isoformat())
    few = alert_id(runner, cli_env, "a1", "few_reports")
    write_rules(tmp_path / "rules", few_reports=None)
    csmon(runner, cli_env, "evaluate", "--at", T0.isoformat())
    for command in (["snooze", str(few), "--for", "7d"], ["ack", str(few)]):
        result = csmon(runner, cli_env, "alerts", *command)
        assert result.exit_code == 1
        assert f"Alert {few} is resolved" in result.output


def test_evaluate_refuses_to_store_a_future_instant_but_previews_it(
    store: Engine, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    future = csmon(runner, cli_env, "evaluate", "--at", "2999-01-01")
    assert future.exit_code == 1
    assert "--at 2999-01-01 00:00 UTC is in the future" in " ".join(future.output.split())
    assert outbox_rows(store) == []
    assert csmon(runner, cli_env, "evaluate", "--at", "2999-01-01", "--dry-run").exit_code == 0
