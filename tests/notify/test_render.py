"""What the CSM reads: every fact present, data escaped, template errors survivable."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from notify_testkit import ALERTS_DIR, EVIL_NAME, alert_line, notification, rendered

from monitor.notify import check_templates, render
from monitor.notify.slack_blocks import MAX_DETAILED_ALERTS


def slack_texts(blocks: list[dict[str, object]]) -> str:
    """Everything Slack would display or parse, as one string."""
    return json.dumps(blocks, ensure_ascii=False)


def templates_copy(tmp_path: Path) -> Path:
    target = tmp_path / "alerts"
    shutil.copytree(ALERTS_DIR, target)
    return target


def test_message_explains_itself_in_every_format() -> None:
    message = rendered()
    for body in (message.text, message.html, slack_texts(message.slack_blocks)):
        assert "Acme Rockets" in body
        assert "usage_drop" in body
        assert "Sign-ins -72% vs the previous 14 days" in body
        assert "42" in body and "red" in body and "▼ from green" in body  # score, band, trend
        assert "logins_change_14d" in body and "-0.72" in body  # the value that fired
        assert "-0.4" in body  # the rule's threshold
        assert "$120,000" in body
        assert "2027-01-15" in body and "in 74 days" in body
        assert "jane@example.com" in body
        assert "csmon explain acc-0001" in body
    assert "Tier S" in message.text
    assert "Acme Rockets" in message.subject
    assert message.template_errors == ()


def test_three_alerts_for_one_recipient_make_one_message_listing_all() -> None:
    alerts = (
        alert_line(account_name="Acme Rockets", alert_id=1),
        alert_line(account_name="Globex", rule="ticket_surge", severity="warning", alert_id=2),
        alert_line(account_name="Initech", state="resolved", alert_id=3),
    )
    message = render(notification(*alerts), ALERTS_DIR)

    for name in ("Acme Rockets", "Globex", "Initech"):
        assert name in message.text
        assert name in message.html
        assert name in slack_texts(message.slack_blocks)
        assert name in message.subject
    assert message.subject.startswith("3 csmon alerts")
    sections = [b for b in message.slack_blocks if b["type"] == "section"]
    assert len(sections) == 3
    buttons = [
        element["value"]
        for block in message.slack_blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    # Snooze + acknowledge for each firing alert, none for the resolved one.
    assert buttons == ["1", "1", "2", "2"]


def test_account_names_from_data_ping_no_one_and_run_nothing() -> None:
    message = rendered(alert_line(account_name=EVIL_NAME, summary="Usage <b>dropped</b> & more"))

    slack = slack_texts(message.slack_blocks) + message.slack_text
    assert "&lt;!channel&gt;" in slack
    assert "<!channel>" not in slack
    assert "<script>" not in slack
    assert "&amp; Co" in slack
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "<script>" not in message.html
    assert "<b>dropped</b>" not in message.html
    # Plain text is not escaped: it is never interpreted.
    assert EVIL_NAME in message.text


def test_slack_escaping_keeps_quotes_and_does_not_double_escape() -> None:
    message = rendered(alert_line(account_name='Acme "Rockets" & Sons'))

    slack = slack_texts(message.slack_blocks)
    assert 'Acme \\"Rockets\\" &amp; Sons' in slack  # JSON-quoted ", but no &#34;
    assert "&#34;" not in slack and "&amp;amp;" not in slack


def test_macros_calling_macros_escape_once(tmp_path: Path) -> None:
    templates = templates_copy(tmp_path)
    slack = templates / "slack.j2"
    slack.write_text(
        slack.read_text(encoding="utf-8")
        + "{% macro name(a) %}<{{ a.account_name }}>{% endmacro %}\n"
        + "{% macro context(a) %}By {{ name(a) }} · <https://crm.example.com|CRM>{% endmacro %}\n",
        encoding="utf-8",
    )

    message = render(notification(alert_line(account_name="A & B")), templates)

    contexts = [b for b in message.slack_blocks if b["type"] == "context"]
    text = contexts[0]["elements"][0]["text"]
    assert text == "By <A &amp; B> · <https://crm.example.com|CRM>"


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        ("{% macro header() %}{{ alerts[0].account_name {% endmacro %}", "slack.j2:1"),
        ("{% macro header() %}{{ alerts[0].acount_name }}{% endmacro %}", "slack.j2:1"),
        ("{% macro header() %}{{ alerts[0].__class__ }}{% endmacro %}", "slack.j2"),
    ],
    ids=["syntax-error", "typo-in-field", "sandbox-escape"],
)
def test_broken_slack_template_still_sends_the_alert_and_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, broken: str, where: str
) -> None:
    templates = templates_copy(tmp_path)
    (templates / "slack.j2").write_text(broken, encoding="utf-8")

    with caplog.at_level(logging.ERROR, logger="monitor.notify"):
        message = render(notification(alert_line(account_name=EVIL_NAME)), templates)

    slack = slack_texts(message.slack_blocks)
    assert "&lt;!channel&gt;" in slack and "<!channel>" not in slack  # fallback escapes too
    assert "csmon explain acc-0001" in slack and "$120,000" in slack
    assert message.slack_text
    assert len(message.template_errors) == 1 and where in message.template_errors[0]
    assert where in caplog.text
    # The email templates were fine and were used.
    assert "Hello," in message.text


def test_missing_templates_folder_falls_back_for_every_channel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="monitor.notify"):
        message = render(notification(), tmp_path / "nowhere")

    assert len(message.template_errors) == 3
    assert "Acme Rockets" in message.subject
    assert "csmon explain acc-0001" in message.text
    assert "csmon explain acc-0001" in message.html
    assert "csmon explain acc-0001" in slack_texts(message.slack_blocks)
    assert caplog.text.count("template file not found") == 3


def test_html_template_error_falls_back_to_escaped_html(tmp_path: Path) -> None:
    templates = templates_copy(tmp_path)
    (templates / "email.html.j2").write_text("{{ 1 / 0 }}", encoding="utf-8")

    message = render(notification(alert_line(account_name=EVIL_NAME)), templates)

    assert "&lt;script&gt;" in message.html and "<script>" not in message.html
    assert "ZeroDivisionError" in message.template_errors[0]


def test_empty_subject_falls_back(tmp_path: Path) -> None:
    templates = templates_copy(tmp_path)
    (templates / "email.txt.j2").write_text(
        "{% macro subject() %} {% endmacro %}Body", encoding="utf-8"
    )

    message = render(notification(), templates)

    assert "Acme Rockets" in message.subject
    assert "subject renders empty" in message.template_errors[0]


def test_template_edits_apply_without_restart(tmp_path: Path) -> None:
    templates = templates_copy(tmp_path)
    assert render(notification(), templates).text.startswith("Hello,")
    text_template = templates / "email.txt.j2"
    text_template.write_text(
        "{% macro subject() %}S{% endmacro %}Hi {{ notification.recipient }}", encoding="utf-8"
    )
    # Jinja compares modification times; make sure the edit looks newer.
    stat = text_template.stat()
    os.utime(text_template, (stat.st_atime, stat.st_mtime + 5))

    assert render(notification(), templates).text == "Hi jane@example.com\n"


def test_check_templates_reports_file_and_line(tmp_path: Path) -> None:
    assert check_templates(ALERTS_DIR) == ()
    templates = templates_copy(tmp_path)
    (templates / "email.txt.j2").write_text(
        "{% macro subject() %}x{% endmacro %}\nline two\n{{ alerts[0].nope }}\n",
        encoding="utf-8",
    )

    problems = check_templates(templates)

    assert len(problems) == 1
    assert problems[0].startswith(f"{templates / 'email.txt.j2'}:3:")
    assert "nope" in problems[0]


def test_many_alerts_stay_within_slack_limits() -> None:
    alerts = [alert_line(account_name=f"Account {i:02}", alert_id=i) for i in range(25)]
    long_name = alert_line(account_name="X" * 400, alert_id=99)

    message = render(notification(long_name, *alerts), ALERTS_DIR)

    assert len(message.slack_blocks) <= 50
    header = message.slack_blocks[0]["text"]["text"]
    assert message.slack_blocks[0]["type"] == "header" and len(header) <= 150
    summary = message.slack_blocks[-1]["text"]["text"]
    assert summary.startswith(f"…and {26 - MAX_DETAILED_ALERTS} more")
    assert "Account 24" in summary
    for name in ("Account 00", "Account 24"):  # the email lists every alert
        assert name in message.text
