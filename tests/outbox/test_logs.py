"""What the dispatcher logs: enough to act on, never credentials, never message bodies
above DEBUG."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from outbox_testkit import SUMMARY, dispatch, email_for, queue, slack
from sqlalchemy import Engine
from support.slack_api import FakeSlackApi, Reply
from support.smtp import USERNAME, SmtpServer

from monitor.clock import FixedClock
from monitor.notify import Channel

SECRET_TOKEN = "xoxb-9999-do-not-log-this-token"
SECRET_PASSWORD = "wrong-but-secret-pa55word"


def test_no_secret_and_no_message_body_in_the_logs(
    engine: Engine,
    clock: FixedClock,
    slack_api: FakeSlackApi,
    smtp_tls_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: slack_sdk's too
    slack_api.token = SECRET_TOKEN
    slack_api.script("chat.postMessage", Reply.rate_limited(retry_after=30))
    queue(engine, clock, ("slack", "#cs-alerts"), ("slack", "#nowhere"), account="A")
    queue(engine, clock, ("email", "jane@example.com"), account="B")
    channels: dict[str, Channel] = {
        "slack": slack(slack_api, clock, token=SECRET_TOKEN),
        "email": email_for(
            smtp_tls_server,
            clock,
            ssl_mode="starttls",
            ca_file=smtp_tls_server.cert_file,
            username=USERNAME,
            password=SECRET_PASSWORD,  # refused: a permanent failure
        ),
    }

    dispatch(engine, channels, clock)  # rate limited; email login refused
    clock.advance(timedelta(minutes=5))
    report = dispatch(engine, channels, clock)  # one sent, one channel_not_found

    assert report.sent == 1 and report.failed_permanently == 1
    assert SECRET_TOKEN not in caplog.text and SECRET_PASSWORD not in caplog.text
    loud = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert SUMMARY not in loud
    # ... while what to fix is there, loudly
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("#nowhere" in e and "channel_not_found" in e for e in errors)
    assert any("check email.username and email.password" in e for e in errors)
