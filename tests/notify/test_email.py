"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from notify_testkit import EVIL_NAME, NOW, alert_line, rendered
from support.smtp import PASSWORD, USERNAME, SmtpServer, free_port

from monitor.clock import FixedClock
from monitor.notify import EmailChannel, EmailSettings, PermanentFailure, TemporaryFailure


def channel_for(server: SmtpServer | None, **settings: object) -> EmailChannel:
    config: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port if server else free_port(),
        "ssl_mode": "none",
        "sender": "csmon <csmon@example.com>",
        "timeout_seconds": 5,
    }
    if server is not None and server.cert_file is not None:
        config.update(ssl_mode="starttls", ca_file=server.cert_file)
        config.update(username=USERNAME, password=PASSWORD)
    config.update(settings)
    return EmailChannel(EmailSettings.model_validate(config), clock=FixedClock(NOW))


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


def test_multipart_text_and_html_delivered(smtp_server: SmtpServer) -> None:
    message = rendered(alert_line(account_name=EVIL_NAME))

    channel_for(smtp_server).send("jane@example.com", message)

    (envelope,) = smtp_server.collector.envelopes
    assert envelope.mail_from == "csmon@example.com"
    assert envelope.rcpt_tos == ["jane@example.com"]
    (mail,) = smtp_server.messages
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["From"] == "csmon <csmon@example.com>"
    assert mail["To"] == "jane@example.com"
    assert mail["Subject"] == message.subject
    assert parsedate_to_datetime(mail["Date"]) == NOW
    assert mail["Message-ID"].endswith("@example.com>")
    assert mail["Auto-Submitted"] == "auto-generated"
    bodies = parts(mail)
    assert EVIL_NAME in bodies["text/plain"]
    assert "&lt;script&gt;" in bodies["text/html"] and "<script>" not in bodies["text/html"]
    assert "csmon explain acc-0001" in bodies["text/html"]


def test_starttls_with_login(smtp_tls_server: SmtpServer) -> None:
    channel_for(smtp_tls_server).send("user:max@example.com", rendered())

    (envelope,) = smtp_tls_server.collector.envelopes
    assert envelope.rcpt_tos == ["max@example.com"]
    assert smtp_tls_server.collector.logins == [USERNAME]


def test_implicit_tls_with_login(smtps_server: SmtpServer) -> None:
    channel_for(smtps_server, ssl_mode="ssl").send("max@example.com", rendered())

    assert len(smtps_server.collector.envelopes) == 1
    assert smtps_server.collector.logins == [USERNAME]


def test_untrusted_certificate_is_permanent(smtp_tls_server: SmtpServer) -> None:
    channel = channel_for(smtp_tls_server, ca_file=None)

    with pytest.raises(PermanentFailure, match="certificate not trusted"):
        channel.send("max@example.com", rendered())


def test_wrong_password_is_permanent_and_never_shown(
    smtp_tls_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-but-still-secret-pw"
    with caplog.at_level(logging.DEBUG), pytest.raises(PermanentFailure) as caught:
        channel_for(smtp_tls_server, password=secret).send("max@example.com", rendered())

    assert "refused the login of 'csmon'" in caught.value.reason
    assert secret not in caplog.text and secret not in repr(caught.value)
    assert smtp_tls_server.collector.envelopes == []


def test_starttls_required_but_not_offered_is_permanent(smtp_server: SmtpServer) -> None:
    with pytest.raises(PermanentFailure, match="ssl_mode"):
        channel_for(smtp_server, ssl_mode="starttls").send("jane@example.com", rendered())


def test_connection_refused_is_temporary() -> None:
    with pytest.raises(TemporaryFailure, match="cannot connect"):
        channel_for(None).send("jane@example.com", rendered())


@pytest.mark.parametrize(
    ("reply", "failure"),
    [("550 5.1.1 No such user", PermanentFailure), ("450 4.2.1 Mailbox busy", TemporaryFailure)],
)
def test_refused_recipient(smtp_server: SmtpServer, reply: str, failure: type[Exception]) -> None:
    smtp_server.collector.refuse["gone@example.com"] = reply

    with pytest.raises(failure, match=reply.split()[0]):
        channel_for(smtp_server).send("gone@example.com", rendered())

    assert smtp_server.collector.envelopes == []


@pytest.mark.parametrize("target", ["", "not-an-address", "a@example.com, b@example.com"])
def test_bad_target_is_permanent(smtp_server: SmtpServer, target: str) -> None:
    with pytest.raises(PermanentFailure, match="not an email address"):
        channel_for(smtp_server).send(target, rendered())


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match=r"password\n.*set it too when email.username is set"):
        EmailSettings(smtp_host="mail", username="csmon")
    with pytest.raises(ValueError, match=r"password\n.*set email.username too"):
        EmailSettings(smtp_host="mail", password="x")
    assert EmailSettings(smtp_host="mail", username="u", password="p").username == "u"
    with pytest.raises(ValueError, match="email address"):
        EmailSettings(smtp_host="mail", sender="csmon")
    assert EmailSettings(smtp_host="mail", ssl_mode="ssl").port == 465
    assert EmailSettings(smtp_host="mail", ssl_mode="none").port == 25
    assert not EmailSettings().enabled
    settings = EmailSettings(smtp_host="mail", username="u", password="pw-123")
    assert "pw-123" not in repr(settings)
