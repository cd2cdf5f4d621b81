"""What a notification says, independent of the channel that carries it.

The evaluator fills :class:`AlertLine` values, the router groups them per recipient into
one :class:`Notification`, :func:`monitor.notify.render.render` turns that into a
:class:`Rendered` message, and a channel sends it. All of it is plain frozen data, so a
notification can be stored in the outbox (see :mod:`monitor.notify.codec`) and rendered
again at send time with the templates then in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

AlertState = Literal["firing", "resolved"]
MetricScalar = float | int | str | bool | None


class MetricValue(NamedTuple):
    """One metric that made a rule fire: its value and the rule's condition on it."""

    name: str
    value: MetricScalar
    condition: str
    """The rule's condition as text, e.g. ``logins_change_14d <= -0.4``."""


@dataclass(frozen=True)
class AlertLine:
    """One alert about one account, with everything a CSM needs to act on it."""

    account_id: str
    account_name: str
    tier: str
    score: float | None
    band: str
    band_trend: str
    """How the band moved, e.g. ``"▼ from green"``; empty when it did not move."""
    rule: str
    kind: str
    severity: str
    state: AlertState
    summary: str
    """The rule's summary, already rendered as plain text (escaped later, per channel)."""
    values: tuple[MetricValue, ...]
    arr: float
    renewal_date: date | None
    owner: str | None
    """The CSM's email, or None when the account has no owner."""
    explain_command: str
    alert_id: int
    """Identifies the alert for the snooze/acknowledge buttons."""

    def __post_init__(self) -> None:
        # Callers may pass plain (name, value, condition) tuples; templates need the
        # names (``v.name``), so normalise once here.
        object.__setattr__(self, "values", tuple(MetricValue(*v) for v in self.values))


@dataclass(frozen=True)
class Notification:
    """All alerts for one recipient from one evaluation: sent as ONE message."""

    recipient: str
    """Who it is for, in words (``"jane@example.com"``, ``"#cs-alerts"``): shown in messages."""
    alerts: tuple[AlertLine, ...]
    created_at: datetime
    """When the evaluation that produced it ran (timezone-aware)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "alerts", tuple(self.alerts))


@dataclass(frozen=True)
class Rendered:
    """A notification rendered for every channel.

    ``text`` is plain text (email body, console, file) and is NOT safe for Slack;
    ``slack_text`` is the mrkdwn fallback sent next to ``slack_blocks``, with every
    value from data escaped.
    """

    subject: str
    text: str
    html: str
    slack_text: str
    slack_blocks: list[dict[str, Any]] = field(default_factory=list)
    template_errors: tuple[str, ...] = ()
    """One sentence per template that failed (``file:line: reason``); the built-in
    message was used for that part instead. Empty when every template rendered."""
