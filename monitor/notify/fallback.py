"""The built-in messages, used when an ops-edited template fails or is missing.

Plain Python string building that cannot fail on any :class:`AlertLine`, so a broken
template never drops an alert: the CSM gets a plainer message and the operator gets
the template error in the log. Values are escaped for Slack and HTML like in templates.
"""

from __future__ import annotations

import html
from datetime import date

from monitor.notify.formatting import (
    days_until,
    fmt_date,
    fmt_metric,
    fmt_money,
    fmt_score,
    one_line,
    slack_escape,
)
from monitor.notify.message import AlertLine, Notification


def alert_title(alert: AlertLine) -> str:
    label = "RESOLVED" if alert.state == "resolved" else alert.severity.upper()
    return f"[{label}] {alert.account_name}: {alert.rule} ({alert.kind})"


def alert_facts(alert: AlertLine, today: date) -> str:
    """Tier, score with band and trend, ARR, renewal and owner on one line."""
    band = " ".join(part for part in (alert.band, alert.band_trend) if part)
    facts = [
        f"Tier {alert.tier}",
        f"score {fmt_score(alert.score)} ({band})",
        f"ARR {fmt_money(alert.arr)}",
    ]
    days = days_until(alert.renewal_date, today)
    if alert.renewal_date is not None:
        facts.append(f"renewal {fmt_date(alert.renewal_date)} (in {days} days)")
    facts.append(f"owner {alert.owner or 'none'}")
    return " · ".join(facts)


def alert_values(alert: AlertLine) -> list[str]:
    return [f"{v.name} = {fmt_metric(v.value)} (rule: {v.condition})" for v in alert.values]


def alert_block(alert: AlertLine, today: date) -> list[str]:
    return [
        alert_title(alert),
        alert.summary,
        alert_facts(alert, today),
        *(f"  {line}" for line in alert_values(alert)),
        f"More: {alert.explain_command}",
    ]


def fallback_subject(notification: Notification) -> str:
    alerts = notification.alerts
    if len(alerts) == 1:
        return one_line(alert_title(alerts[0]))
    names = ", ".join(dict.fromkeys(a.account_name for a in alerts))
    return one_line(f"csmon: {len(alerts)} alerts ({names})")


def fallback_text(notification: Notification) -> str:
    today = notification.created_at.date()
    lines = [f"csmon alerts for {notification.recipient}", ""]
    for alert in notification.alerts:
        lines.extend([*alert_block(alert, today), ""])
    return "\n".join(lines)


def fallback_html(notification: Notification) -> str:
    body = html.escape(fallback_text(notification), quote=True)
    return f"<html><body><pre>{body}</pre></body></html>\n"


def fallback_slack_header(notification: Notification) -> str:
    return slack_escape(fallback_subject(notification))


def fallback_slack_alert(alert: AlertLine, today: date) -> str:
    title, *rest = alert_block(alert, today)
    return "\n".join([f"*{slack_escape(title)}*", *(slack_escape(line) for line in rest)])


def fallback_slack_context(alert: AlertLine) -> str:
    return f"Owner: {slack_escape(alert.owner or 'none')} · `{slack_escape(alert.explain_command)}`"


def fallback_slack_text(notification: Notification) -> str:
    return slack_escape(fallback_subject(notification))
