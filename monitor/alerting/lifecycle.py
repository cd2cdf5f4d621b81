"""The alert lifecycle, one (account, verdict key) at a time: pure functions, no I/O.

An alert is ``pending`` while its condition holds but not yet for the rule's ``for``,
``firing`` once it has, and ``resolved`` when the condition no longer holds. The row
in ``alerts`` is reused for the next episode of the same (account, key), so its
history stays in one place; every change is also written to ``alert_events``.

Everything here is decided from the stored row, the new verdict and the evaluation
instant, never from the wall clock or process memory: a restart neither forgets nor
repeats, and evaluating twice at the same instant changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from monitor.clock import ensure_utc
from monitor.evaluation.verdicts import Verdict
from monitor.rules.expr import Value
from monitor.rules.model import SEVERITY_RANK

StoredState = Literal["pending", "firing", "resolved"]
OPEN_STATES: tuple[StoredState, ...] = ("pending", "firing")
BAND_RANK: dict[str, int] = {"red": 0, "yellow": 1, "green": 2}
"""Healthier is higher; ``unknown`` is not ranked, so it never counts as worse."""

# alert_events.change values
PENDING, FIRING, RESOLVED = "pending", "firing", "resolved"
SEVERITY_UP, NOTIFIED = "severity_up", "notified"
RESOLVED_RULE_REMOVED, RESOLVED_ACCOUNT_GONE = "resolved_rule_removed", "resolved_account_gone"
SNOOZED, UNSNOOZED = "snoozed", "unsnoozed"
UNSNOOZED_WORSE, UNSNOOZED_EXPIRED = "unsnoozed_worse", "unsnoozed_expired"
ACKED = "acked"

_DATETIMES = (
    "pending_since",
    "firing_since",
    "resolved_at",
    "last_evaluated_at",
    "last_notified_at",
    "snoozed_until",
    "acked_at",
    "escalated_at",
)


@dataclass(frozen=True)
class AlertRow:
    """One row of ``alerts``: the state of one (account, key) alert."""

    account_id: str
    key: str
    rule: str
    kind: str
    state: StoredState
    severity: str
    last_evaluated_at: datetime
    alert_id: int | None = None
    """None until the row is first inserted."""
    summary: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    """The values the rule saw, JSON-shaped (lists, not tuples)."""
    band: str | None = None
    pending_since: datetime | None = None
    firing_since: datetime | None = None
    resolved_at: datetime | None = None
    last_notified_at: datetime | None = None
    last_notified_severity: str | None = None
    notify_count: int = 0
    snoozed_until: datetime | None = None
    snooze_reason: str | None = None
    snoozed_band: str | None = None
    snoozed_severity: str | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    escalated_at: datetime | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> AlertRow:
        """From a database row; SQLite returns naive datetimes, which are UTC here."""
        values = {f.name: row[f.name] for f in fields(cls)}
        for name in _DATETIMES:
            if values[name] is not None:
                values[name] = ensure_utc(values[name])
        values["values"] = dict(values["values"] or {})
        return cls(**values)

    def columns(self) -> dict[str, Any]:
        """The row's column values, ``alert_id`` left out."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "alert_id"}
        values["values"] = dict(self.values)
        return values

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_renewal(self) -> bool:
        return self.kind == "renewal"

    @property
    def since(self) -> datetime | None:
        """When the current state began."""
        if self.state == "resolved":
            return self.resolved_at
        return self.firing_since if self.state == "firing" else self.pending_since

    def notified_this_episode(self) -> bool:
        start = self.firing_since or self.pending_since
        return self.last_notified_at is not None and (
            start is None or self.last_notified_at >= start
        )


@dataclass(frozen=True)
class AlertEvent:
    """One row of ``alert_events`` (its ``alert_id`` is added when written)."""

    change: str
    at: datetime
    severity: str | None = None
    actor: str | None = None
    note: str | None = None


NotifyReason = Literal["firing", "severity_up", "repeat", "unsnoozed", "resolved"]


@dataclass(frozen=True)
class NotifyDecision:
    """Whether this evaluation tells anyone about the alert, and why."""

    reason: NotifyReason | None = None

    @property
    def send(self) -> bool:
        return self.reason is not None

    @property
    def state(self) -> Literal["firing", "resolved"]:
        """The alert's state as the message shows it."""
        return "resolved" if self.reason == "resolved" else "firing"


SILENT = NotifyDecision()


class Transition(NamedTuple):
    row: AlertRow | None
    """The new state; None when there is nothing to store (an inactive verdict and
    no row, or a resolved row that stays resolved)."""
    events: tuple[AlertEvent, ...]
    notify: NotifyDecision


def severity_rank(severity: str | None) -> int:
    return -1 if severity is None else SEVERITY_RANK.get(severity, -1)


def json_values(values: Mapping[str, Value]) -> dict[str, Any]:
    """The values as the JSON column gives them back (lists, not tuples), so that an
    unchanged alert compares equal to its stored row."""
    return {name: list(v) if isinstance(v, tuple) else v for name, v in values.items()}


def band_is_worse(band: str | None, than: str | None) -> bool:
    if band not in BAND_RANK or than not in BAND_RANK:
        return False
    return BAND_RANK[band] < BAND_RANK[than]


def transition(
    stored: AlertRow | None,
    verdict: Verdict,
    now: datetime,
    rule_repeat: timedelta | None,
    band: str | None,
    *,
    account_id: str = "",
    summary: str = "",
    resolve_notices: bool = False,
) -> Transition:
    """The next state of one alert, the events to record, and whether to notify.

    ``rule_repeat`` is the rule's ``repeat``; None for renewal keys, which fire once.
    ``band`` is the account's health band at ``now`` (for snoozes and messages);
    ``account_id`` names the account of a new row, ``summary`` is the rule's rendered
    summary, ``resolve_notices`` the config's ``routing.resolve_notices``.

    1. An inactive verdict resolves an open alert (see :func:`_resolve`); without an
       open alert there is nothing to do.
    2. An active verdict on a resolved row (or on none) starts a new episode: the
       episode's times and any acknowledgement are cleared; a snooze whose time has
       not come stays.
    3. The row takes what the evaluation saw: severity, values, summary, band.
    4. ``pending``: a ``pending`` event when it becomes pending; never a notification.
    5. ``firing``: a ``firing`` event when it starts firing. Once firing, an alert stays
       firing while its condition holds, even if a missed checkpoint makes the verdict
       look pending again (no flapping back).
    6. A severity above the stored one records ``severity_up``.
    7. The reason to notify, if any: not yet notified in this episode (``firing``; a
       renewal only if never notified at all), severity above the last one notified
       (``severity_up``), or ``repeat`` elapsed since the last notification.
    8. A snooze ends when its time has passed (``unsnoozed_expired``) or the account
       got worse: band below, or severity above, what they were when snoozed
       (``unsnoozed_worse``); a firing alert then notifies. While it lasts: silence.
    9. An acknowledged alert stays silent until it resolves, unless its severity rose.
    10. Notifying stamps ``last_notified_at``/``_severity`` and records ``notified``.
    """
    now = ensure_utc(now)
    if verdict.state == "inactive":
        if stored is None or not stored.is_open:
            return Transition(None, (), SILENT)
        return _resolve(stored, verdict, now, band, resolve_notices)

    events: list[AlertEvent] = []
    row = _episode(stored, verdict, now, account_id)
    was_firing = row.state == "firing"
    state: StoredState = "firing" if verdict.state == "firing" or was_firing else "pending"
    row = replace(
        row,
        rule=verdict.rule,
        kind=verdict.kind,
        state=state,
        severity=verdict.severity,
        values=json_values(verdict.values),
        summary=summary or row.summary,
        band=band,
        last_evaluated_at=now,
    )
    if state == "pending" and row.pending_since is None:
        row = replace(row, pending_since=now)
        events.append(AlertEvent(PENDING, now, row.severity))
    if state == "firing" and not was_firing:
        row = replace(row, firing_since=now)
        events.append(AlertEvent(FIRING, now, row.severity))
    previous = stored.severity if was_firing and stored is not None else None
    if previous is not None and severity_rank(row.severity) > severity_rank(previous):
        events.append(AlertEvent(SEVERITY_UP, now, row.severity, note=f"from {previous}"))

    reason = _reason(row, now, rule_repeat) if state == "firing" else None
    row, snooze_events, reason = _apply_snooze(row, now, reason)
    events.extend(snooze_events)
    if row.acked_at is not None and reason not in (None, "severity_up"):
        reason = None
    if reason is None:
        return Transition(row, tuple(events), SILENT)
    row = _notified(row, now)
    events.append(AlertEvent(NOTIFIED, now, row.severity, note=reason))
    return Transition(row, tuple(events), NotifyDecision(reason))


def resolve_quietly(stored: AlertRow, now: datetime, change: str, note: str) -> Transition:
    """Resolve an open alert without telling anyone: its rule was deleted or disabled,
    its account is gone, or (renewals) the next threshold's key took over."""
    now = ensure_utc(now)
    row = replace(stored, state="resolved", resolved_at=now, last_evaluated_at=now)
    return Transition(row, (AlertEvent(change, now, stored.severity, note=note),), SILENT)


def _resolve(
    stored: AlertRow, verdict: Verdict, now: datetime, band: str | None, resolve_notices: bool
) -> Transition:
    """Pending alerts clear quietly; a firing one is announced as resolved when
    ``resolve_notices`` is on, it was announced as firing, and it is not snoozed."""
    row = replace(
        stored,
        state="resolved",
        resolved_at=now,
        last_evaluated_at=now,
        values=json_values(verdict.values),
        band=band,
    )
    note = "cleared before firing" if stored.state == "pending" else None
    events = [AlertEvent(RESOLVED, now, stored.severity, note=note)]
    announce = (
        resolve_notices
        and stored.state == "firing"
        and stored.notified_this_episode()
        and not _snoozed(stored, now)
    )
    if not announce:
        return Transition(row, tuple(events), SILENT)
    row = replace(row, last_notified_at=now, notify_count=row.notify_count + 1)
    events.append(AlertEvent(NOTIFIED, now, stored.severity, note="resolved"))
    return Transition(row, tuple(events), NotifyDecision("resolved"))


def _episode(stored: AlertRow | None, verdict: Verdict, now: datetime, account_id: str) -> AlertRow:
    if stored is None:
        return AlertRow(
            account_id=account_id,
            key=verdict.key,
            rule=verdict.rule,
            kind=verdict.kind,
            state="pending",
            severity=verdict.severity,
            last_evaluated_at=now,
        )
    if stored.is_open:
        return stored
    keep_snooze = _snoozed(stored, now)
    return replace(
        stored,
        state="pending",
        pending_since=None,
        firing_since=None,
        resolved_at=None,
        acked_at=None,
        acked_by=None,
        escalated_at=None,
        snoozed_until=stored.snoozed_until if keep_snooze else None,
        snooze_reason=stored.snooze_reason if keep_snooze else None,
        snoozed_band=stored.snoozed_band if keep_snooze else None,
        snoozed_severity=stored.snoozed_severity if keep_snooze else None,
    )


def _reason(row: AlertRow, now: datetime, repeat: timedelta | None) -> NotifyReason | None:
    above_notified = severity_rank(row.severity) > severity_rank(row.last_notified_severity)
    if row.is_renewal:
        if row.last_notified_at is None:
            return "firing"
        return "severity_up" if above_notified else None
    if not row.notified_this_episode():
        return "firing"
    if above_notified:
        return "severity_up"
    assert row.last_notified_at is not None  # notified this episode
    if repeat is not None and now - row.last_notified_at >= repeat:
        return "repeat"
    return None


def _snoozed(row: AlertRow, now: datetime) -> bool:
    return row.snoozed_until is not None and now < row.snoozed_until


def _apply_snooze(
    row: AlertRow, now: datetime, reason: NotifyReason | None
) -> tuple[AlertRow, list[AlertEvent], NotifyReason | None]:
    if row.snoozed_until is None:
        return row, [], reason
    if now >= row.snoozed_until:
        change, note = UNSNOOZED_EXPIRED, f"snoozed until {row.snoozed_until:%Y-%m-%d %H:%M} UTC"
    elif band_is_worse(row.band, row.snoozed_band):
        change, note = UNSNOOZED_WORSE, f"band {row.band}, was {row.snoozed_band}"
    elif severity_rank(row.severity) > severity_rank(row.snoozed_severity):
        change, note = UNSNOOZED_WORSE, f"severity {row.severity}, was {row.snoozed_severity}"
    else:
        return row, [], None
    row = replace(
        row, snoozed_until=None, snooze_reason=None, snoozed_band=None, snoozed_severity=None
    )
    event = AlertEvent(change, now, row.severity, note=note)
    if row.state == "firing" and reason in (None, "repeat"):
        reason = "unsnoozed"
    return row, [event], reason


def _notified(row: AlertRow, now: datetime) -> AlertRow:
    return replace(
        row,
        last_notified_at=now,
        last_notified_severity=row.severity,
        notify_count=row.notify_count + 1,
    )
