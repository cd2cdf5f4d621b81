"""JSON-safe form of a :class:`Notification`, for storing it in the outbox.

The outbox stores what to say (this), not how it looked: rendering happens at send
time, so a template fixed after an error applies to messages still queued.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from monitor.notify.message import AlertLine, MetricValue, Notification

FORMAT_VERSION = 1


def notification_to_dict(notification: Notification) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "recipient": notification.recipient,
        "created_at": notification.created_at.isoformat(),
        "alerts": [_alert_to_dict(alert) for alert in notification.alerts],
    }


def notification_from_dict(data: dict[str, Any]) -> Notification:
    """The inverse of :func:`notification_to_dict`; raises ValueError on another format."""
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported notification format {data.get('version')!r}")
    return Notification(
        recipient=str(data["recipient"]),
        alerts=tuple(_alert_from_dict(item) for item in data["alerts"]),
        created_at=datetime.fromisoformat(data["created_at"]),
    )


def _alert_to_dict(alert: AlertLine) -> dict[str, Any]:
    return {
        "account_id": alert.account_id,
        "account_name": alert.account_name,
        "tier": alert.tier,
        "score": alert.score,
        "band": alert.band,
        "band_trend": alert.band_trend,
        "rule": alert.rule,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "summary": alert.summary,
        "values": [list(value) for value in alert.values],
        "arr": alert.arr,
        "renewal_date": alert.renewal_date.isoformat() if alert.renewal_date else None,
        "owner": alert.owner,
        "explain_command": alert.explain_command,
        "alert_id": alert.alert_id,
    }


def _alert_from_dict(data: dict[str, Any]) -> AlertLine:
    renewal = data.get("renewal_date")
    return AlertLine(
        account_id=data["account_id"],
        account_name=data["account_name"],
        tier=data["tier"],
        score=data["score"],
        band=data["band"],
        band_trend=data["band_trend"],
        rule=data["rule"],
        kind=data["kind"],
        severity=data["severity"],
        state=data["state"],
        summary=data["summary"],
        values=tuple(MetricValue(*value) for value in data["values"]),
        arr=data["arr"],
        renewal_date=date.fromisoformat(renewal) if renewal else None,
        owner=data["owner"],
        explain_command=data["explain_command"],
        alert_id=data["alert_id"],
    )
