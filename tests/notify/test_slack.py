"""The Slack channel against a local server speaking the Web API (real slack-sdk client)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from notify_testkit import NOW, rendered
from support.slack_api import TOKEN, FakeSlackApi, Reply

from monitor.clock import FixedClock
from monitor.notify import PermanentFailure, SlackChannel, SlackSettings, TemporaryFailure
from monitor.notify.slack_blocks import ACK_ACTION_ID


def channel_for(
    fake: FakeSlackApi, token: str = TOKEN, clock: FixedClock | None = None, **settings: object
) -> SlackChannel:
    config = SlackSettings.model_validate(
        {"token": token, "base_url": fake.base_url, "timeout_seconds": 2, **settings}
    )
    return SlackChannel(config, clock=clock or FixedClock(NOW))


def test_dm_to_the_csm_found_by_email(slack_api: FakeSlackApi) -> None:
    message = rendered()

    channel_for(slack_api).send("user:Jane@Example.com", message)

    assert [r.params["email"] for r in slack_api.calls("users.lookupByEmail")] == [
        "jane@example.com"
    ]
    assert slack_api.calls("conversations.open")[0].params["users"] == "U0JANE"
    (post,) = slack_api.posted
    assert post["channel"] == "D0JANE"
    assert post["text"] == message.slack_text and post["text"]  # fallback text always sent
    assert post["blocks"] == message.slack_blocks
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    ack = next(e for e in actions["elements"] if e["action_id"] == ACK_ACTION_ID)
    assert ack["value"] == "101"  # the alert id, for the interactive handler
    assert slack_api.calls("chat.postMessage")[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_user_lookup_is_cached_until_its_ttl_ends(slack_api: FakeSlackApi) -> None:
    clock = FixedClock(NOW)
    slack = channel_for(slack_api, clock=clock, user_cache_seconds=3600)

    slack.send("user:jane@example.com", rendered())
    slack.send("user:jane@example.com", rendered())
    assert len(slack_api.calls("users.lookupByEmail")) == 1
    assert len(slack_api.calls("conversations.open")) == 1

    clock.advance(timedelta(hours=1, seconds=1))
    slack.send("user:jane@example.com", rendered())
    assert len(slack_api.calls("users.lookupByEmail")) == 2
    assert [p["channel"] for p in slack_api.posted] == ["D0JANE"] * 3


def test_post_to_a_channel_by_name(slack_api: FakeSlackApi) -> None:
    channel_for(slack_api).send("#cs-alerts", rendered())

    assert [p["channel"] for p in slack_api.posted] == ["#cs-alerts"]
    assert slack_api.calls("users.lookupByEmail") == []


def test_rate_limit_surfaces_with_retry_after_and_no_hidden_retry(
    slack_api: FakeSlackApi,
) -> None:
    slack_api.script("chat.postMessage", Reply.rate_limited(retry_after=7))

    with pytest.raises(TemporaryFailure) as caught:
        channel_for(slack_api).send("#cs-alerts", rendered())

    assert caught.value.retry_after == 7.0
    assert len(slack_api.posted) == 1  # the client itself did not retry


def test_rate_limited_lookup_is_temporary_too(slack_api: FakeSlackApi) -> None:
    slack_api.script("users.lookupByEmail", Reply.rate_limited(retry_after=30))

    with pytest.raises(TemporaryFailure) as caught:
        channel_for(slack_api).send("user:jane@example.com", rendered())

    assert caught.value.retry_after == 30.0
    assert slack_api.posted == []


@pytest.mark.parametrize(
    "reply",
    [Reply(status=500, body="<html>oops</html>"), Reply(status=503), Reply.error("fatal_error")],
    ids=["500", "503", "fatal_error"],
)
def test_server_errors_are_temporary(slack_api: FakeSlackApi, reply: Reply) -> None:
    slack_api.script("chat.postMessage", reply)

    with pytest.raises(TemporaryFailure) as caught:
        channel_for(slack_api).send("#cs-alerts", rendered())

    assert caught.value.retry_after is None
    assert len(slack_api.posted) == 1


def test_wrong_token_is_permanent(slack_api: FakeSlackApi) -> None:
    with pytest.raises(PermanentFailure, match="invalid_auth"):
        channel_for(slack_api, token="xoxb-wrong").send("#cs-alerts", rendered())


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("#no-such-channel", "channel_not_found"),
        ("user:nobody@example.com", "users_not_found"),
    ],
)
def test_unknown_targets_are_permanent(slack_api: FakeSlackApi, target: str, error: str) -> None:
    with pytest.raises(PermanentFailure, match=error):
        channel_for(slack_api).send(target, rendered())


@pytest.mark.parametrize("error", ["not_in_channel", "is_archived", "account_inactive"])
def test_slack_refusals_are_permanent(slack_api: FakeSlackApi, error: str) -> None:
    slack_api.script("chat.postMessage", Reply.error(error))

    with pytest.raises(PermanentFailure, match=error):
        channel_for(slack_api).send("#cs-alerts", rendered())


def test_permanent_failure_on_a_dm_forgets_the_cached_channel(slack_api: FakeSlackApi) -> None:
    slack = channel_for(slack_api)
    slack.send("user:jane@example.com", rendered())
    slack_api.script("chat.postMessage", Reply.error("channel_not_found"))
    with pytest.raises(PermanentFailure):
        slack.send("user:jane@example.com", rendered())

    slack.send("user:jane@example.com", rendered())

    assert len(slack_api.calls("users.lookupByEmail")) == 2


def test_no_answer_is_a_temporary_timeout(slack_api: FakeSlackApi) -> None:
    slack_api.script("chat.postMessage", Reply(hang=True))

    with pytest.raises(TemporaryFailure, match=r"no answer within 0\.2 s"):
        channel_for(slack_api, timeout_seconds=0.2).send("#cs-alerts", rendered())


def test_connection_refused_is_temporary() -> None:
    fake = FakeSlackApi().start()
    base_url = fake.base_url
    fake.stop()  # nothing listens on that port any more
    settings = SlackSettings.model_validate({"token": TOKEN, "base_url": base_url})

    with pytest.raises(TemporaryFailure, match="cannot connect"):
        SlackChannel(settings).send("#cs-alerts", rendered())


def test_rejected_layout_is_resent_as_text(slack_api: FakeSlackApi) -> None:
    slack_api.script("chat.postMessage", Reply.error("invalid_blocks"))

    channel_for(slack_api).send("#cs-alerts", rendered())

    first, second = slack_api.posted
    assert "blocks" in first and "blocks" not in second
    assert "csmon explain acc-0001" in second["text"]  # the whole content, as text


def test_token_never_appears_in_logs_or_failures(
    slack_api: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "xoxb-9999-super-secret-value"
    failures: list[Exception] = []
    slack_api.script("chat.postMessage", Reply.rate_limited(1), Reply(status=500))
    with caplog.at_level(logging.DEBUG):
        slack = channel_for(slack_api, token=secret)
        for _ in range(3):  # 429, 500, then invalid_auth (the fake knows another token)
            try:
                slack.send("#cs-alerts", rendered())
            except (TemporaryFailure, PermanentFailure) as exc:
                failures.append(exc)

    assert len(failures) == 3
    assert caplog.records  # slack-sdk did log the requests at DEBUG
    assert secret not in caplog.text
    for failure in failures:
        assert secret not in str(failure) and secret not in repr(failure)
        assert failure.__suppress_context__  # the client's exception (and request) is not chained
    assert secret not in repr(SlackSettings(token=secret))


def test_settings_need_a_token() -> None:
    assert not SlackSettings().enabled
    with pytest.raises(ValueError, match=r"slack\.token"):
        SlackChannel(SlackSettings())
