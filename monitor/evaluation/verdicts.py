"""Alert-rule verdicts for one account at one instant: pure functions.

``for`` is judged from the data, not from uptime: the condition must hold at the
instant T and at each daily checkpoint, the ends of the UTC days before T's, as many
as ``for`` has days (rounded up). A fresh install over historical data therefore
fires at once, and a restart or a rule reload changes nothing; evaluating twice at
the same T gives the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Literal

from monitor.rules.expr import Value
from monitor.rules.model import SEVERITY_RANK, AlertRule, RenewalRule, Severity, SeverityLevel

State = Literal["inactive", "pending", "firing"]
Env = Mapping[str, Value]


@dataclass(frozen=True)
class Verdict:
    rule: str
    kind: str
    state: State
    severity: Severity
    key: str
    """Identifies one alert of a rule for an account: the rule name, or for renewals
    ``rule:contract:threshold`` so each threshold of each contract fires once."""
    values: dict[str, Value] = field(default_factory=dict)
    """The values the rule's conditions saw at T, by name."""
    held_days: int = 0
    """Consecutive daily checkpoints (before T) at which the condition also held."""
    threshold_days: int | None = None


def checkpoint_days(rule_for: timedelta) -> int:
    """How many daily checkpoints (day ends before T's day) a ``for`` duration needs."""
    return -(-rule_for // timedelta(days=1))  # ceiling division


def alert_verdict(rule: AlertRule, tier: str, now: Env, history: Sequence[Env]) -> Verdict:
    """The verdict of ``rule`` given the env at T and at the checkpoints (``history``,
    the end of the day before T's first)."""
    values = _seen(rule.seen_names, now)
    if tier not in rule.tiers or not rule.when.test(now):
        return Verdict(rule.name, rule.kind, "inactive", _base(rule.severities), rule.name, values)
    needed = checkpoint_days(rule.for_)
    held = 0
    for env in islice(history, needed):  # lazily: stops at the first day it failed
        if not rule.when.test(env):
            break
        held += 1
    state: State = "firing" if held >= needed else "pending"
    severity = severity_at(rule.severities, now)
    return Verdict(rule.name, rule.kind, state, severity, rule.name, values, held)


def renewal_verdict(rule: RenewalRule, tier: str, contract_id: str | None, now: Env) -> Verdict:
    """Firing when the renewal is within a threshold; keyed by contract and threshold."""
    days = now.get("days_to_renewal")
    values = _seen(rule.seen_names, now) | {"days_to_renewal": days}
    thresholds = rule.thresholds_by_tier.get(tier, rule.thresholds_days)
    inactive = Verdict(rule.name, "renewal", "inactive", _base(rule.severities), rule.name, values)
    if tier not in rule.tiers or not isinstance(days, int | float) or days < 0:
        return inactive
    if rule.when is not None and not rule.when.test(now):
        return inactive
    crossed = [t for t in thresholds if days <= t]
    if not crossed:
        return inactive
    threshold = min(crossed)
    key = f"{rule.name}:{contract_id or 'crm'}:{threshold}"
    severity = severity_at(rule.severities, now)
    return Verdict(rule.name, "renewal", "firing", severity, key, values, threshold_days=threshold)


def severity_at(levels: Sequence[SeverityLevel], env: Env) -> Severity:
    """The most severe level whose condition holds; the base level otherwise."""
    for level in sorted(levels, key=lambda lv: -SEVERITY_RANK[lv.severity]):
        if level.when is None or level.when.test(env):
            return level.severity
    return _base(levels)


def _base(levels: Sequence[SeverityLevel]) -> Severity:
    for level in levels:
        if level.when is None:
            return level.severity
    return "info"


def _seen(names: Sequence[str], env: Env) -> dict[str, Value]:
    return {name: env.get(name) for name in names}
