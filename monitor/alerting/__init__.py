"""Alerting: verdicts → alert lifecycle → routing → grouped notifications in the outbox.

``evaluate_and_alert(engine, rules, settings, at)`` is the one call the daemon and
``csmon evaluate`` make; snooze and acknowledge live in :mod:`monitor.alerting.actions`.
See docs/alerts.md.
"""

from monitor.alerting.actions import AlertNotFound, ack, alert_history, snooze, unsnooze
from monitor.alerting.cycle import AlertingOutcome, evaluate_and_alert, record_alerts
from monitor.alerting.lifecycle import AlertEvent, AlertRow, NotifyDecision, transition

__all__ = [
    "AlertEvent",
    "AlertNotFound",
    "AlertRow",
    "AlertingOutcome",
    "NotifyDecision",
    "ack",
    "alert_history",
    "evaluate_and_alert",
    "record_alerts",
    "snooze",
    "transition",
    "unsnooze",
]
