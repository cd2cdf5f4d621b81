"""From alerts to messages: one :class:`Notification` per recipient and evaluation.

Each alert becomes an :class:`AlertLine` that explains itself (account, tier, score and
band with its trend, the values the rule saw next to the condition they were tested
against, ARR, renewal, owner, the ``csmon explain`` command); the lines going to the
same (channel, target) are grouped into ONE notification, stored in the outbox as
:func:`~monitor.notify.notification_to_dict` JSON. Pure functions.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.alerting.lifecycle import AlertRow, NotifyDecision, severity_rank
from monitor.alerting.routing import Destination
from monitor.evaluation import AccountResult, Verdict
from monitor.metrics import AccountFacts
from monitor.notify import AlertLine, MetricValue, Notification, notification_to_dict
from monitor.notify.message import MetricScalar
from monitor.rules.expr import Value
from monitor.rules.model import AlertRule, RenewalRule, RuleSet

_CONNECTIVE = re.compile(r"\s+(?:and|or)\s+")


@dataclass(frozen=True)
class RuleConditions:
    """A rule's conditions cut into clauses, to show each value with its own test."""

    clauses: tuple[str, ...]
    severity_clauses: tuple[tuple[str, str], ...]
    """(severity, clause) pairs from the rule's ``escalate`` conditions."""


@dataclass(frozen=True)
class Notice:
    """One alert to announce, with what the evaluation knows about its account."""

    alert: AlertRow
    decision: NotifyDecision
    result: AccountResult
    facts: AccountFacts
    verdict: Verdict | None


@dataclass(frozen=True)
class Queued:
    """One outbox row to be: a grouped notification for one destination."""

    destination: Destination
    notification: Notification
    alert_ids: tuple[int, ...]

    def outbox_row(self, now: datetime) -> dict[str, Any]:
        return {
            "created_at": now,
            "channel": self.destination.channel,
            "target": self.destination.target,
            "recipient": self.destination.recipient,
            "payload": notification_to_dict(self.notification),
            "alert_ids": list(self.alert_ids),
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }


def rule_conditions(rules: RuleSet) -> dict[str, RuleConditions]:
    """Every rule's clauses, by rule name (computed once per evaluation)."""
    found: dict[str, RuleConditions] = {}
    every: list[AlertRule | RenewalRule] = [*rules.alerts, *rules.renewals]
    for rule in every:
        when = split_clauses(rule.when.source) if rule.when is not None else ()
        levels = tuple(
            (level.severity, clause)
            for level in rule.severities
            if level.when is not None
            for clause in split_clauses(level.when.source)
        )
        found[rule.name] = RuleConditions(when, levels)
    return found


def split_clauses(source: str) -> tuple[str, ...]:
    """The parts of an expression joined by ``and``/``or`` outside brackets and
    quotes: ``a < 1 and (b or c)`` → ``("a < 1", "(b or c)")``."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(source):
        char = source[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and (match := _CONNECTIVE.match(source, i)):
            parts.append(source[start:i])
            start = i = match.end()
            continue
        i += 1
    parts.append(source[start:])
    return tuple(part.strip() for part in parts if part.strip())


def metric_values(
    conditions: RuleConditions | None,
    values: Mapping[str, Value],
    threshold_days: int | None = None,
) -> tuple[MetricValue, ...]:
    """Each value with the clauses of the rule that test it (``when`` first, then the
    severity conditions as ``critical if …``); a renewal's days with its threshold."""
    found: list[tuple[int, MetricValue]] = []
    for name, value in values.items():
        if name == "days_to_renewal" and threshold_days is not None:
            rank, condition = 0, f"days_to_renewal <= {threshold_days}"
        else:
            rank, condition = _condition_of(name, conditions)
        found.append((rank, MetricValue(name, _scalar(value), condition)))
    found.sort(key=lambda item: item[0])  # stable: names in order within each rank
    return tuple(value for _, value in found)


def alert_line(notice: Notice, conditions: RuleConditions | None, band_trend: str) -> AlertLine:
    alert, result, facts = notice.alert, notice.result, notice.facts
    assert alert.alert_id is not None  # saved before it is announced
    values = notice.verdict.values if notice.verdict is not None else alert.values
    threshold = notice.verdict.threshold_days if notice.verdict is not None else None
    return AlertLine(
        account_id=alert.account_id,
        account_name=facts.name,
        tier=result.tier,
        score=result.score,
        band=result.band,
        band_trend=band_trend,
        rule=alert.rule,
        kind=alert.kind,
        severity=alert.severity,
        state=notice.decision.state,
        summary=alert.summary,
        values=metric_values(conditions, values, threshold),
        arr=facts.arr,
        renewal_date=facts.renewal_date,
        owner=facts.csm_email,
        explain_command=f"csmon explain {shlex.quote(alert.account_id)}",
        alert_id=alert.alert_id,
    )


def group_by_destination(
    routed: Iterable[tuple[AlertLine, Sequence[Destination]]], created_at: datetime
) -> list[Queued]:
    """One notification per (channel, target), destinations in first-seen order."""
    groups: dict[tuple[str, str], tuple[Destination, list[AlertLine]]] = {}
    for line, destinations in routed:
        for destination in destinations:
            key = (destination.channel, destination.target)
            groups.setdefault(key, (destination, []))[1].append(line)
    queued = []
    for destination, lines in groups.values():
        _sort_lines(lines)
        notification = Notification(destination.recipient, tuple(lines), created_at)
        queued.append(Queued(destination, notification, tuple(a.alert_id for a in lines)))
    return queued


def _sort_lines(lines: list[AlertLine]) -> None:
    """Accounts with the most severe alert first (then by name), each account's alerts
    together, most severe first; resolve notices after the firing alerts."""

    def rank(line: AlertLine) -> int:
        return -1 if line.state == "resolved" else severity_rank(line.severity)

    worst: dict[str, int] = {}
    for line in lines:
        worst[line.account_id] = max(worst.get(line.account_id, -1), rank(line))
    lines.sort(
        key=lambda line: (
            -worst[line.account_id],
            line.account_name,
            line.account_id,
            -rank(line),
            line.rule,
        )
    )


def _condition_of(name: str, conditions: RuleConditions | None) -> tuple[int, str]:
    """The clauses that test ``name``, and a rank: 0 when the rule's ``when`` tests
    it, 1 when only a severity condition does, 2 when none does."""
    if conditions is None:
        return 2, ""
    word = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w.])")
    when = [clause for clause in conditions.clauses if word.search(clause)]
    levels = [
        f"{severity} if {clause}"
        for severity, clause in conditions.severity_clauses
        if word.search(clause)
    ]
    text = "; ".join(filter(None, (" and ".join(when), *levels)))
    return (0 if when else 1 if levels else 2), text


def _scalar(value: Value) -> MetricScalar:
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return value
