"""The parsed, validated rule set: plain frozen data, no runtime state.

A :class:`RuleSet` is what the loader builds from ``rules/*.toml`` and what every
evaluation reads. It never changes after loading: a reload builds a new one and
swaps it in whole (runtime state such as alert lifecycles lives in the store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Literal

from monitor.rules.expr import Expr

Tier = Literal["S", "A", "B"]
TIERS: tuple[Tier, ...] = ("S", "A", "B")
Band = Literal["green", "yellow", "red", "unknown"]
AlertKind = Literal["churn_risk", "renewal", "opportunity"]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Origin:
    """Where a definition was written, for error messages and ``explain``."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# --- metrics -------------------------------------------------------------------------
# Window metrics cover the ``window_days`` UTC days ending with the evaluation
# instant's day (that day counted only up to the instant), shifted back by
# ``offset_days``. All metrics of one family are computed by one set-wise query.


@dataclass(frozen=True)
class EventCount:
    """Number of events with one of ``events`` (track names or ``page:/prefix``)."""

    events: tuple[str, ...]
    window_days: int
    offset_days: int = 0


@dataclass(frozen=True)
class ActiveUsers:
    """Distinct users with any track/page event in the window."""

    window_days: int
    offset_days: int = 0


@dataclass(frozen=True)
class DistinctEvents:
    """How many of ``events`` were used at least once in the window (feature breadth)."""

    events: tuple[str, ...]
    window_days: int
    offset_days: int = 0


@dataclass(frozen=True)
class DaysSince:
    """Whole days since the last of ``events`` (any track/page event when empty)."""

    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class PropertyAggregate:
    """Sum, average or count of a numeric property of ``events`` over the window."""

    events: tuple[str, ...]
    property: str
    aggregate: Literal["sum", "avg", "count"]
    window_days: int
    offset_days: int = 0


@dataclass(frozen=True)
class ActiveWeeks:
    """Consecutive 7-day blocks, ending with the instant's day, with >= ``min_events``."""

    events: tuple[str, ...]
    max_weeks: int
    min_events: int = 1


@dataclass(frozen=True)
class Attribute:
    """An account attribute: arr, seats, plan, days_to_renewal, age_days, ``attrs.X``..."""

    attribute: str


@dataclass(frozen=True)
class Derived:
    """An expression over other metrics and attributes."""

    expr: Expr


@dataclass(frozen=True)
class Change:
    """Relative change of a window metric vs the window just before: (cur - prev) / prev."""

    of: str


@dataclass(frozen=True)
class BaselineRatio:
    """A window metric divided by its own per-window average over the preceding
    ``baseline_days`` (3.0 = three times the account's usual level)."""

    of: str
    baseline_days: int


WindowSource = EventCount | ActiveUsers | DistinctEvents | PropertyAggregate
MetricSource = WindowSource | DaysSince | ActiveWeeks | Attribute | Derived | Change | BaselineRatio


@dataclass(frozen=True)
class Metric:
    name: str
    source: MetricSource
    description: str
    origin: Origin
    unit: str = ""


# --- tiers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRule:
    tier: Tier
    when: Expr
    origin: Origin


@dataclass(frozen=True)
class Tiering:
    """First matching rule wins; an override attribute beats the rules."""

    rules: tuple[TierRule, ...]
    override_attribute: str = "tier_override"
    pareto_share: float | None = None
    """When set (e.g. 0.8), the smallest set of accounts making up that share of ARR is S."""


# --- scorecard -----------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """Maps one metric to 0-100 points by thresholds; weighted in the score."""

    metric: str
    weight: float
    steps: tuple[tuple[float, float], ...]
    """(threshold, points) pairs. ``higher_is_better``: the first step whose threshold
    the value reaches, scanning from the highest threshold; ``lower_is_better``: the
    first step whose threshold the value does not exceed, scanning from the lowest."""
    direction: Literal["higher_is_better", "lower_is_better"]
    otherwise: float
    """Points when no step matches (below every threshold, or above every one)."""
    label: str
    origin: Origin


@dataclass(frozen=True)
class Bands:
    green: float = 70.0
    yellow: float = 40.0


@dataclass(frozen=True)
class Scorecard:
    measures: tuple[Measure, ...]
    bands: Bands = field(default_factory=Bands)
    bands_by_tier: dict[str, Bands] = field(default_factory=dict)
    min_coverage: float = 0.5
    """Share of the total weight that must have data, else the band is ``unknown``."""


# --- alert rules -------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityLevel:
    severity: Severity
    when: Expr | None
    """None: the rule's base severity (applies whenever the rule fires)."""


@dataclass(frozen=True)
class AlertRule:
    name: str
    kind: AlertKind
    when: Expr
    severities: tuple[SeverityLevel, ...]
    """Checked from most to least severe; the first whose ``when`` holds applies."""
    tiers: tuple[Tier, ...]
    for_: timedelta
    repeat: timedelta
    summary: str
    description: str
    origin: Origin

    @cached_property
    def seen_names(self) -> tuple[str, ...]:
        """What its conditions read, sorted: the values each verdict reports."""
        return condition_names(self.when, self.severities)


@dataclass(frozen=True)
class RenewalRule:
    """Fires once per contract per threshold as the renewal date comes near."""

    name: str
    thresholds_days: tuple[int, ...]
    thresholds_by_tier: dict[str, tuple[int, ...]]
    severities: tuple[SeverityLevel, ...]
    tiers: tuple[Tier, ...]
    when: Expr | None
    summary: str
    description: str
    origin: Origin

    @cached_property
    def seen_names(self) -> tuple[str, ...]:
        """What its conditions read, sorted: the values each verdict reports."""
        return condition_names(self.when, self.severities)


def condition_names(when: Expr | None, severities: Sequence[SeverityLevel]) -> tuple[str, ...]:
    """The names a rule's ``when`` and severity conditions read, sorted."""
    names: set[str] = set(when.names) if when is not None else set()
    for level in severities:
        if level.when is not None:
            names |= level.when.names
    return tuple(sorted(names))


@dataclass(frozen=True)
class RuleSet:
    metrics: tuple[Metric, ...]
    """In dependency order: a metric comes after every metric it uses."""
    tiering: Tiering
    scorecard: Scorecard
    alerts: tuple[AlertRule, ...]
    renewals: tuple[RenewalRule, ...]
    fingerprint: str
    """SHA-256 of the rule files' bytes: marks which rules produced a snapshot."""
    files: tuple[str, ...] = ()

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)
