"""What people do to alerts: snooze, unsnooze, acknowledge.

The CLI (``csmon alerts snooze|unsnooze|ack``) and the daemon's Slack buttons call
these functions. Each is one transaction under the alert-state lock (so an evaluation
running at the same moment cannot overwrite it) and records an ``alert_events`` row
with who did it. Errors a user can act on are :class:`CsmonError` with one sentence.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, Engine

from monitor.alerting.lifecycle import ACKED, SNOOZED, UNSNOOZED, AlertEvent, AlertRow
from monitor.alerting.state import (
    load_alert,
    load_events,
    lock_alert_state,
    save_alerts,
    save_events,
)
from monitor.clock import Clock, ensure_utc
from monitor.errors import CsmonError


class AlertNotFound(CsmonError):
    """No alert has the given id."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"No alert has the id {alert_id} (see csmon alerts list --state all).")
        self.alert_id = alert_id


def alert_history(engine: Engine, alert_id: int) -> tuple[AlertRow, list[AlertEvent]]:
    """An alert and its events, oldest first."""
    with engine.connect() as conn:
        row = load_alert(conn, alert_id)
        if row is None:
            raise AlertNotFound(alert_id)
        return row, load_events(conn, alert_id)


def snooze(
    engine: Engine,
    alert_id: int,
    until: datetime,
    reason: str | None,
    actor: str | None,
    clock: Clock,
) -> AlertRow:
    """Silence an open alert until ``until``, or until its account gets worse (band
    below, or severity above, what they are now), whichever comes first.

    Snoozing again replaces the earlier snooze. A snooze outlives the episode: if
    the alert resolves and fires again before ``until``, it stays silent.
    """
    now, until = clock.now(), ensure_utc(until)
    if until <= now:
        when = f"{until:%Y-%m-%d %H:%M} UTC"
        raise CsmonError(f"Cannot snooze until {when}: that time has already passed.")
    with engine.begin() as conn:
        row = _open_alert(conn, alert_id, "snoozed")
        snoozed = replace(
            row,
            snoozed_until=until,
            snooze_reason=reason,
            snoozed_band=row.band,
            snoozed_severity=row.severity,
        )
        note = f"until {until:%Y-%m-%d %H:%M} UTC" + (f": {reason}" if reason else "")
        return _save(conn, snoozed, AlertEvent(SNOOZED, now, row.severity, actor, note))


def unsnooze(engine: Engine, alert_id: int, actor: str | None, clock: Clock) -> AlertRow:
    """End a snooze now; the next evaluation notifies as if it had never been snoozed."""
    with engine.begin() as conn:
        row = _locked(conn, alert_id)
        if row.snoozed_until is None:
            raise CsmonError(f"Alert {alert_id} is not snoozed.")
        cleared = replace(
            row, snoozed_until=None, snooze_reason=None, snoozed_band=None, snoozed_severity=None
        )
        return _save(conn, cleared, AlertEvent(UNSNOOZED, clock.now(), row.severity, actor))


def ack(engine: Engine, alert_id: int, actor: str | None, clock: Clock) -> AlertRow:
    """Acknowledge an open alert: no more repeats until it resolves (the next episode
    starts fresh); a rise in severity is still announced.

    Acknowledging an acknowledged alert changes nothing (a double click is harmless).
    """
    with engine.begin() as conn:
        row = _open_alert(conn, alert_id, "acknowledged")
        if row.acked_at is not None:
            return row
        now = clock.now()
        acked = replace(row, acked_at=now, acked_by=actor)
        return _save(conn, acked, AlertEvent(ACKED, now, row.severity, actor))


def _locked(conn: Connection, alert_id: int) -> AlertRow:
    lock_alert_state(conn)
    row = load_alert(conn, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    return row


def _open_alert(conn: Connection, alert_id: int, done: str) -> AlertRow:
    row = _locked(conn, alert_id)
    if not row.is_open:
        raise CsmonError(f"Alert {alert_id} is resolved; only open alerts can be {done}.")
    return row


def _save(conn: Connection, row: AlertRow, event: AlertEvent) -> AlertRow:
    save_alerts(conn, [row])
    assert row.alert_id is not None
    save_events(conn, [(row.alert_id, event)])
    return row
