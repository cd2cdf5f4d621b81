"""Console and file channels, channel selection from settings, the outbox codec."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from notify_testkit import NOW, alert_line, notification, rendered
from support.slack_api import TOKEN

from monitor.clock import FixedClock
from monitor.notify import (
    ConsoleChannel,
    EmailSettings,
    FileChannel,
    SlackSettings,
    TemporaryFailure,
    channels_from_settings,
    default_channel_names,
    notification_from_dict,
    notification_to_dict,
)


def test_console_prints_the_message_without_terminal_control_characters() -> None:
    stream = io.StringIO()
    message = rendered(alert_line(account_name="Evil\x1b[2J Corp"))

    ConsoleChannel(stream).send("jane@example.com", message)

    output = stream.getvalue()
    assert output.startswith("──── csmon → jane@example.com: ")
    assert "Evil[2J Corp" in output and "\x1b" not in output
    assert "csmon explain acc-0001" in output


def test_file_channel_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "out" / "alerts.jsonl"
    channel = FileChannel(path, clock=FixedClock(NOW))

    channel.send("jane@example.com", rendered())
    channel.send("#cs-alerts", rendered(alert_line(account_name="Globex")))

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["target"] for r in records] == ["jane@example.com", "#cs-alerts"]
    assert records[0]["sent_at"] == NOW.isoformat()
    assert "Acme Rockets" in records[0]["subject"] and "Globex" in records[1]["text"]


def test_unwritable_file_is_a_temporary_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")

    with pytest.raises(TemporaryFailure, match="cannot append"):
        FileChannel(blocker / "alerts.jsonl").send("x", rendered())


def test_without_slack_or_smtp_console_and_file_are_the_default(tmp_path: Path) -> None:
    channels = channels_from_settings(SlackSettings(), EmailSettings(), tmp_path / "a.jsonl")

    assert sorted(channels) == ["console", "file"]
    assert default_channel_names(channels) == ("console", "file")
    assert {name: ch.name for name, ch in channels.items()} == {
        "console": "console",
        "file": "file",
    }


def test_configured_servers_become_the_default(tmp_path: Path) -> None:
    channels = channels_from_settings(
        SlackSettings(token=TOKEN),
        EmailSettings(smtp_host="mail.example.com"),
        None,
    )

    assert sorted(channels) == ["console", "email", "slack"]
    assert default_channel_names(channels) == ("slack", "email")


def test_notification_survives_the_outbox_round_trip() -> None:
    original = notification(
        alert_line(),
        alert_line(score=None, renewal_date=None, owner=None, values=(), state="resolved"),
    )

    stored = json.loads(json.dumps(notification_to_dict(original)))

    assert notification_from_dict(stored) == original
    with pytest.raises(ValueError, match="format"):
        notification_from_dict({**stored, "version": 99})


def test_plain_tuples_are_accepted_as_metric_values() -> None:
    line = alert_line(values=(("seats", 12, "seats > 10"),))

    assert line.values[0].name == "seats" and line.values[0].condition == "seats > 10"
