"""Builders for notification test data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.notify import AlertLine, MetricValue, Notification, render
from monitor.notify.message import Rendered

ALERTS_DIR = Path(__file__).resolve().parents[2] / "alerts"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EVIL_NAME = "<!channel> <script>alert(1)</script> & Co"

BASE = AlertLine(
    account_id="acc-0001",
    account_name="Acme Rockets",
    tier="S",
    score=41.6,
    band="red",
    band_trend="▼ from green",
    rule="usage_drop",
    kind="churn_risk",
    severity="critical",
    state="firing",
    summary="Sign-ins -72% vs the previous 14 days",
    values=(MetricValue("logins_change_14d", -0.72, "logins_change_14d <= -0.4"),),
    arr=120_000.0,
    renewal_date=date(2027, 1, 15),
    owner="jane@example.com",
    explain_command="csmon explain acc-0001",
    alert_id=101,
)


def alert_line(**changes: Any) -> AlertLine:
    return replace(BASE, **changes)


def notification(*alerts: AlertLine, recipient: str = "jane@example.com") -> Notification:
    return Notification(recipient=recipient, alerts=alerts or (BASE,), created_at=NOW)


def rendered(*alerts: AlertLine) -> Rendered:
    """``alerts`` (default: one) rendered with the shipped templates."""
    return render(notification(*alerts), ALERTS_DIR)
