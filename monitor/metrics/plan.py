"""The aggregates ("terms") the SQL produces, relative to the instant's day.

Every usage metric is reduced to terms once per call (instant-independent): identical
terms are shared (``logins_14d`` and the current half of ``logins_change_14d`` are
one column), and the terms are grouped by family so that each family is one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.rules.model import ActiveUsers, DistinctEvents, EventCount, WindowSource

DAYS_PER_WEEK = 7
ALL_EVENTS: tuple[str, ...] = ()
"""An empty event list stands for every track/page event."""


@dataclass(frozen=True)
class Span:
    """Days ``[T_day - back_lo, T_day - back_hi]``, counted back from the instant's day."""

    back_lo: int
    back_hi: int

    @classmethod
    def window(cls, window_days: int, offset_days: int = 0) -> Span:
        return cls(offset_days + window_days - 1, offset_days)

    @property
    def days(self) -> int:
        return self.back_lo - self.back_hi + 1

    def shifted(self, days: int) -> Span:
        return Span(self.back_lo + days, self.back_hi + days)

    def before(self, days: int) -> Span:
        """The ``days`` days immediately before this span."""
        return Span(self.back_lo + days, self.back_lo + 1)


@dataclass(frozen=True)
class CountTerm:
    """Sum of the daily counts of ``events`` (all track/page events when empty)."""

    events: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class BreadthTerm:
    """How many of ``events`` occur at least once."""

    events: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class LastDayTerm:
    """The last day, up to the instant, with one of ``events`` (any when empty)."""

    events: tuple[str, ...]


@dataclass(frozen=True)
class UsersTerm:
    """Distinct users with any track/page event."""

    span: Span


@dataclass(frozen=True)
class PropertyTerm:
    """Sum and number of the numeric values of ``property`` on ``events``."""

    events: tuple[str, ...]
    property: str
    span: Span


EventTerm = CountTerm | BreadthTerm | LastDayTerm
Term = EventTerm | UsersTerm | PropertyTerm


class TermRegistry:
    """Numbers every distinct term once, in first-use order, and groups them by family."""

    def __init__(self) -> None:
        self.ids: dict[Term, int] = {}

    def add(self, term: Term) -> int:
        return self.ids.setdefault(term, len(self.ids))

    @property
    def event_terms(self) -> list[EventTerm]:
        return [t for t in self.ids if isinstance(t, CountTerm | BreadthTerm | LastDayTerm)]

    @property
    def user_terms(self) -> list[UsersTerm]:
        return [t for t in self.ids if isinstance(t, UsersTerm)]

    @property
    def property_terms(self) -> list[PropertyTerm]:
        return [t for t in self.ids if isinstance(t, PropertyTerm)]


def events_key(events: Sequence[str]) -> tuple[str, ...]:
    """Sorted and deduplicated, so equal event sets share their terms and columns."""
    return tuple(sorted(set(events)))


def source_span(source: WindowSource) -> Span:
    return Span.window(source.window_days, source.offset_days)


def window_term(source: WindowSource, span: Span) -> Term:
    """The one term a window metric reads for ``span``."""
    if isinstance(source, EventCount):
        return CountTerm(events_key(source.events), span)
    if isinstance(source, DistinctEvents):
        return BreadthTerm(events_key(source.events), span)
    if isinstance(source, ActiveUsers):
        return UsersTerm(span)
    return PropertyTerm(events_key(source.events), source.property, span)


def active_week_spans(max_weeks: int) -> list[Span]:
    """Block k covers days ``[T_day - 7k - 6, T_day - 7k]``, k = 0 .. max_weeks - 1."""
    return [
        Span(DAYS_PER_WEEK * k + DAYS_PER_WEEK - 1, DAYS_PER_WEEK * k) for k in range(max_weeks)
    ]
