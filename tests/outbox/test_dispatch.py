"""The dispatcher against a real slack-sdk client (local Slack Web API) and a real SMTP
server: each outcome as the receiver and the operator see it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from outbox_testkit import SUMMARY, Recorder, dispatch, email, email_for, queue, row, rows, slack
from sqlalchemy import Engine, insert
from support.slack_api import FakeSlackApi, Reply
from support.smtp import Collector, SmtpServer, free_port

from monitor.clock import FixedClock
from monitor.notify import Channel, PermanentFailure, TemporaryFailure
from monitor.outbox import RetryPolicy
from monitor.store.schema import outbox

SERVER_ERROR = Reply(status=500, body={"ok": False, "error": "internal_error"})


@contextmanager
def smtp_on(port: int) -> Iterator[Collector]:
    """A real SMTP server on a port chosen beforehand: "the relay comes back"."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector
    finally:
        controller.stop()


def test_accepted_message_is_marked_sent_and_never_sent_again(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    channels = {"slack": slack(slack_api, clock)}

    report = dispatch(engine, channels, clock)

    assert (report.sent, report.retried, report.failed_permanently) == (1, 0, 0)
    stored = row(engine, row_id)
    assert stored["state"] == "sent" and stored["sent_at"] == clock.now()
    assert stored["attempts"] == 1 and stored["claimed_by"] is None
    (post,) = slack_api.posted
    assert post["channel"] == "#cs-alerts" and "Acme Rockets" in post["text"]

    clock.advance(timedelta(hours=1))
    assert dispatch(engine, channels, clock).idle
    assert len(slack_api.posted) == 1


def test_rate_limit_waits_for_retry_after_then_delivers_once(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    slack_api.script("chat.postMessage", Reply.rate_limited(retry_after=120))
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    channels = {"slack": slack(slack_api, clock)}
    start = clock.now()

    first = dispatch(engine, channels, clock)

    stored = row(engine, row_id)
    assert first.by_channel["slack"].retried == 1
    assert stored["state"] == "pending" and stored["attempts"] == 1
    assert stored["next_attempt_at"] >= start + timedelta(seconds=120)
    assert "rate limited" in stored["last_error"]

    clock.advance(timedelta(seconds=60))  # the backoff alone would allow this; Slack not
    assert dispatch(engine, channels, clock).idle
    clock.set(stored["next_attempt_at"])
    assert dispatch(engine, channels, clock).sent == 1

    assert row(engine, row_id)["state"] == "sent"
    assert len(slack_api.posted) == 2  # the refused post, then the one accepted post


@pytest.mark.parametrize(
    ("failure", "error_text"),
    [(SERVER_ERROR, "server error HTTP 500"), (Reply(hang=True), "no answer within")],
    ids=["http-500", "timeout"],
)
def test_server_error_or_timeout_is_retried_with_backoff(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi, failure: Reply, error_text: str
) -> None:
    slack_api.script("chat.postMessage", failure)
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    channels = {"slack": slack(slack_api, clock, timeout_seconds=0.5)}
    start = clock.now()

    assert dispatch(engine, channels, clock).by_channel["slack"].retried == 1

    stored = row(engine, row_id)
    assert stored["state"] == "pending" and error_text in stored["last_error"]
    # base 30 s, shortened by at most a quarter (jitter)
    assert (
        start + timedelta(seconds=22.5)
        <= stored["next_attempt_at"]
        <= start + timedelta(seconds=30)
    )
    clock.set(stored["next_attempt_at"])
    assert dispatch(engine, channels, clock).sent == 1
    assert row(engine, row_id)["state"] == "sent"


def test_invalid_token_fails_at_once_with_the_reason_and_is_not_retried(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    channels = {"slack": slack(slack_api, clock, token="xoxb-revoked-token")}

    report = dispatch(engine, channels, clock)

    assert report.failed_permanently == 1
    (failure,) = report.failures
    assert failure.notification_id == row_id and "invalid_auth" in failure.reason
    stored = row(engine, row_id)
    assert stored["state"] == "failed" and stored["attempts"] == 1
    assert "check slack.token" in stored["last_error"]

    clock.advance(timedelta(days=1))
    assert dispatch(engine, channels, clock).idle
    assert len(slack_api.posted) == 1


def test_smtp_down_then_up_delivers_exactly_once(engine: Engine, clock: FixedClock) -> None:
    port = free_port()  # nothing listens yet: connection refused
    (row_id,) = queue(engine, clock, ("email", "jane@example.com"))
    channels = {"email": email("127.0.0.1", port, clock)}

    assert dispatch(engine, channels, clock).by_channel["email"].retried == 1
    assert "cannot connect" in row(engine, row_id)["last_error"]

    with smtp_on(port) as relay:
        clock.advance(timedelta(minutes=1))
        assert dispatch(engine, channels, clock).sent == 1
        clock.advance(timedelta(hours=1))
        assert dispatch(engine, channels, clock).idle
    (envelope,) = relay.envelopes
    assert envelope.rcpt_tos == ["jane@example.com"]
    assert row(engine, row_id)["state"] == "sent"


def test_a_failing_receiver_never_resends_to_the_one_that_succeeded(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    port = free_port()
    slack_id, email_id = queue(
        engine, clock, ("slack", "#cs-alerts"), ("email", "jane@example.com")
    )
    channels: dict[str, Channel] = {
        "slack": slack(slack_api, clock),
        "email": email("127.0.0.1", port, clock),
    }

    for _ in range(3):  # SMTP stays down for three runs
        dispatch(engine, channels, clock)
        clock.advance(timedelta(minutes=10))
    assert row(engine, slack_id)["state"] == "sent"
    assert row(engine, email_id)["attempts"] == 3

    with smtp_on(port) as relay:
        dispatch(engine, channels, clock)
    assert len(relay.envelopes) == 1
    assert len(slack_api.posted) == 1
    assert {r["state"] for r in rows(engine).values()} == {"sent"}


def test_gives_up_after_max_attempts(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    slack_api.script("chat.postMessage", SERVER_ERROR, SERVER_ERROR, SERVER_ERROR)
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    channels = {"slack": slack(slack_api, clock)}
    policy = RetryPolicy(max_attempts=3)

    outcomes = []
    for _ in range(4):
        report = dispatch(engine, channels, clock, policy=policy)
        outcomes.append(report.failed_permanently)
        clock.advance(timedelta(hours=2))

    assert outcomes == [0, 0, 1, 0]
    stored = row(engine, row_id)
    assert stored["state"] == "failed" and stored["attempts"] == 3
    assert "gave up after 3 attempts" in stored["last_error"]
    assert len(slack_api.posted) == 3


def test_gives_up_on_a_row_older_than_max_age(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    slack_api.script("chat.postMessage", SERVER_ERROR)
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    clock.advance(timedelta(hours=49))  # e.g. the daemon was down for two days

    report = dispatch(engine, {"slack": slack(slack_api, clock)}, clock)

    assert report.failed_permanently == 1
    assert "over 49.0 h" in row(engine, row_id)["last_error"]


def test_rate_limit_pauses_only_that_channel_until_retry_after(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    slack_api.script("chat.postMessage", Reply.rate_limited(retry_after=120))
    ids = [queue(engine, clock, ("slack", "#cs-alerts"), account=f"Acme {i}")[0] for i in range(3)]
    (console_id,) = queue(engine, clock, ("console", "ops"))
    console = Recorder()
    channels: dict[str, Channel] = {"slack": slack(slack_api, clock), "console": console}
    start = clock.now()

    report = dispatch(engine, channels, clock)

    assert len(slack_api.posted) == 1  # Slack was not hammered
    stats = report.by_channel["slack"]
    assert (stats.retried, stats.deferred, stats.sent) == (1, 2, 0)
    assert console.targets == ["ops"] and row(engine, console_id)["state"] == "sent"
    for row_id in ids:
        stored = row(engine, row_id)
        assert stored["state"] == "pending" and stored["claimed_by"] is None
        assert stored["next_attempt_at"] >= start + timedelta(seconds=120)
    assert [row(engine, i)["attempts"] for i in ids] == [1, 0, 0]  # untried rows: no attempt

    clock.advance(timedelta(seconds=121))
    assert dispatch(engine, channels, clock).sent == 3
    assert len(slack_api.posted) == 4


def test_repeated_failures_pause_the_channel_for_the_run(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    slack_api.script("chat.postMessage", SERVER_ERROR, SERVER_ERROR, SERVER_ERROR)
    ids = [queue(engine, clock, ("slack", "#cs-alerts"), account=f"Acme {i}")[0] for i in range(5)]
    channels = {"slack": slack(slack_api, clock)}

    report = dispatch(engine, channels, clock)

    assert len(slack_api.posted) == 3
    assert (report.by_channel["slack"].retried, report.by_channel["slack"].deferred) == (3, 2)
    assert [row(engine, i)["attempts"] for i in ids] == [1, 1, 1, 0, 0]
    clock.advance(timedelta(minutes=1))
    assert dispatch(engine, channels, clock).sent == 5


def test_rows_for_an_unconfigured_channel_wait_and_do_not_block_others(
    engine: Engine, clock: FixedClock, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    email_ids = [
        queue(engine, clock, ("email", "jane@example.com"), account=f"Acme {i}")[0]
        for i in range(3)
    ]
    (console_id,) = queue(engine, clock, ("console", "ops"))
    caplog.set_level(logging.WARNING, logger="monitor.outbox")

    report = dispatch(engine, {"console": Recorder()}, clock, limit=1)

    assert row(engine, console_id)["state"] == "sent"
    assert report.by_channel["email"].waiting == 3
    for row_id in email_ids:
        stored = row(engine, row_id)
        assert stored["state"] == "pending" and stored["attempts"] == 0
        assert stored["last_error"] == "channel email is not configured"
    warnings = [r.getMessage() for r in caplog.records if "not configured" in r.getMessage()]
    assert len(warnings) == 1 and "3 notification(s) for channel email" in warnings[0]

    clock.advance(timedelta(days=3))  # configured days later: still delivered
    assert dispatch(engine, {"email": email_for(smtp_server, clock)}, clock).sent == 3
    assert len(smtp_server.messages) == 3


def test_broken_template_still_delivers_the_built_in_message(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    (tmp_path / "slack.j2").write_text("{% macro header() %}{{ notification.nope }}{% endmacro %}")
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))

    report = dispatch(engine, {"slack": slack(slack_api, clock)}, clock, templates_dir=tmp_path)

    assert report.sent == 1 and row(engine, row_id)["state"] == "sent"
    assert "Acme Rockets" in slack_api.posted[0]["text"]


def test_unexpected_error_in_a_channel_is_retried_and_others_still_go_out(
    engine: Engine, clock: FixedClock
) -> None:
    broken = Recorder("file", fail_with=[RuntimeError("bug")])
    console = Recorder()
    file_id, console_id = queue(engine, clock, ("file", "log"), ("console", "ops"))

    dispatch(engine, {"file": broken, "console": console}, clock)

    assert row(engine, console_id)["state"] == "sent"
    stored = row(engine, file_id)
    assert stored["state"] == "pending" and "unexpected RuntimeError" in stored["last_error"]
    clock.advance(timedelta(minutes=1))
    dispatch(engine, {"file": broken, "console": console}, clock)
    assert broken.targets == ["log"] and console.targets == ["ops"]


def test_unreadable_payload_is_kept_and_retried_not_dropped(
    engine: Engine, clock: FixedClock
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(outbox).values(
                created_at=clock.now(),
                channel="console",
                target="ops",
                recipient="ops",
                payload={"version": 99},
                alert_ids=[],
                state="pending",
                attempts=0,
                next_attempt_at=clock.now(),
            )
        )

    report = dispatch(engine, {"console": Recorder()}, clock)

    assert report.by_channel["console"].retried == 1
    (stored,) = rows(engine).values()
    assert stored["state"] == "pending"
    assert "unsupported notification format 99" in stored["last_error"]


def test_temporary_and_permanent_failures_of_a_channel_are_told_apart(
    engine: Engine, clock: FixedClock
) -> None:
    channel = Recorder(
        fail_with=[TemporaryFailure("relay busy"), PermanentFailure("no such mailbox")]
    )
    first, second = queue(engine, clock, ("console", "a"), ("console", "b"))

    report = dispatch(engine, {"console": channel}, clock)

    assert (report.retried, report.failed_permanently) == (1, 1)
    assert row(engine, first)["last_error"] == "relay busy"
    assert (row(engine, second)["state"], row(engine, second)["last_error"]) == (
        "failed",
        "no such mailbox",
    )
    assert report.summary().startswith("0 sent, 1 to retry later, 1 failed")
    assert report.failed_by_channel == {"console": 2} and report.sent_by_channel == {}
    assert SUMMARY not in report.summary()
