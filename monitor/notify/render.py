"""Render a :class:`Notification` for every channel from the ops-edited templates.

A template error never drops a notification: the failing part (email text, email HTML
or Slack) falls back to the built-in message of :mod:`monitor.notify.fallback`, the
error is logged with its ``file:line``, and it is listed in
:attr:`Rendered.template_errors`. :func:`check_templates` renders sample alerts so
``csmon`` can report template errors before any real alert needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from monitor.notify import fallback
from monitor.notify.formatting import one_line, truncate
from monitor.notify.message import AlertLine, MetricValue, Notification, Rendered
from monitor.notify.slack_blocks import AlertPart, build_blocks
from monitor.notify.templates import (
    HTML_TEMPLATE,
    SLACK_TEMPLATE,
    TEXT_TEMPLATE,
    Environments,
    current_template_error,
    describe_template_error,
    environments,
)

log = logging.getLogger(__name__)

SLACK_TEXT_LIMIT = 3000
"""The fallback ``text`` shows in push notifications; Slack truncates long ones anyway."""

T = TypeVar("T")


class TemplateOutputError(Exception):
    """A template rendered, but not into something that can be sent."""


def render(notification: Notification, templates_dir: Path) -> Rendered:
    """Render ``notification`` with the templates in ``templates_dir``.

    1. Build the context every template sees: ``notification``, ``alerts``, ``today``.
    2. ``email.txt.j2``: the plain-text body, and the subject from its ``subject`` macro.
    3. ``email.html.j2``: the HTML body (autoescaped).
    4. ``slack.j2``: macros ``header()``, ``alert(alert)``, ``context(alert)``, ``text()``
       give the escaped pieces that :func:`build_blocks` lays out.

    Each of steps 2-4 falls back to the built-in message on any error.
    """
    return _render(notification, templates_dir, log_errors=True)


def check_templates(templates_dir: Path, now: datetime | None = None) -> tuple[str, ...]:
    """Problems (one sentence each) found by rendering sample alerts; empty when fine."""
    at = now or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return _render(sample_notification(at), templates_dir, log_errors=False).template_errors


def _render(notification: Notification, templates_dir: Path, *, log_errors: bool) -> Rendered:
    envs = environments(str(templates_dir.resolve()))
    context: dict[str, Any] = {
        "notification": notification,
        "alerts": notification.alerts,
        "today": notification.created_at.date(),
    }
    errors: list[str] = []

    def attempt(name: str, build: Callable[[], T], built_in: Callable[[], T]) -> T:
        try:
            return build()
        except Exception:  # any template failure must not drop the alert
            problem = describe_template_error(current_template_error(), templates_dir, name)
            errors.append(problem)
            if log_errors:
                log.error("Template problem, sending the built-in message instead: %s", problem)
            return built_in()

    subject, text = attempt(
        TEXT_TEMPLATE,
        lambda: _email_text(envs, context),
        lambda: (fallback.fallback_subject(notification), fallback.fallback_text(notification)),
    )
    html = attempt(
        HTML_TEMPLATE,
        lambda: _email_html(envs, context),
        lambda: fallback.fallback_html(notification),
    )
    slack_text, blocks = attempt(
        SLACK_TEMPLATE,
        lambda: _slack(envs, context, notification),
        lambda: _slack_fallback(notification),
    )
    return Rendered(
        subject=subject,
        text=text,
        html=html,
        slack_text=slack_text,
        slack_blocks=blocks,
        template_errors=tuple(errors),
    )


def _macro(module: Any, name: str) -> Callable[..., str]:
    macro = getattr(module, name, None)
    if macro is None:
        raise TemplateOutputError(f"the template defines no macro named {name!r}")
    return macro  # type: ignore[no-any-return]


def _non_blank(value: str, what: str) -> str:
    if not value.strip():
        raise TemplateOutputError(f"the {what} renders empty")
    return value


def _email_text(envs: Environments, context: dict[str, Any]) -> tuple[str, str]:
    module = envs.text.get_template(TEXT_TEMPLATE).make_module(context)
    subject = one_line(_non_blank(str(_macro(module, "subject")()), "subject"))
    return subject, _non_blank(str(module), "body").strip() + "\n"


def _email_html(envs: Environments, context: dict[str, Any]) -> str:
    module = envs.html.get_template(HTML_TEMPLATE).make_module(context)
    return _non_blank(str(module), "body")


def _slack(
    envs: Environments, context: dict[str, Any], notification: Notification
) -> tuple[str, list[dict[str, Any]]]:
    module = envs.slack.get_template(SLACK_TEMPLATE).make_module(context)
    header = one_line(_non_blank(_macro(module, "header")(), "header"), 150)
    text = truncate(_non_blank(_macro(module, "text")(), "text").strip(), SLACK_TEXT_LIMIT)
    alert, alert_context = _macro(module, "alert"), _macro(module, "context")
    parts = [
        AlertPart(
            line, _non_blank(alert(line), "alert section").strip(), alert_context(line).strip()
        )
        for line in notification.alerts
    ]
    return text, build_blocks(header, parts)


def _slack_fallback(notification: Notification) -> tuple[str, list[dict[str, Any]]]:
    today = notification.created_at.date()
    parts = [
        AlertPart(
            line,
            fallback.fallback_slack_alert(line, today),
            fallback.fallback_slack_context(line),
        )
        for line in notification.alerts
    ]
    header = fallback.fallback_slack_header(notification)
    return fallback.fallback_slack_text(notification), build_blocks(header, parts)


def sample_notification(now: datetime) -> Notification:
    """Two alerts that exercise every optional field (for checks and previews)."""
    firing = AlertLine(
        account_id="acc-0001",
        account_name='Acme "Rockets" <Intl> & Co',
        tier="S",
        score=41.5,
        band="red",
        band_trend="▼ from yellow",
        rule="usage_drop",
        kind="churn_risk",
        severity="critical",
        state="firing",
        summary="Sign-ins -72% vs the previous 14 days",
        values=(MetricValue("logins_change_14d", -0.72, "logins_change_14d <= -0.4"),),
        arr=120_000.0,
        renewal_date=date.fromordinal(now.date().toordinal() + 74),
        owner="jane@example.com",
        explain_command="csmon explain acc-0001",
        alert_id=1,
    )
    resolved = AlertLine(
        account_id="acc-0002",
        account_name="Globex",
        tier="B",
        score=None,
        band="unknown",
        band_trend="",
        rule="ticket_surge",
        kind="churn_risk",
        severity="warning",
        state="resolved",
        summary="Support tickets back to normal",
        values=(),
        arr=0.0,
        renewal_date=None,
        owner=None,
        explain_command="csmon explain acc-0002",
        alert_id=2,
    )
    return Notification(recipient="jane@example.com", alerts=(firing, resolved), created_at=now)
