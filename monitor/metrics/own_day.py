"""An instant T as the end of the day before plus T's own day: the hourly shortcut.

Every term at T covers some whole days before T's day and, when its window reaches
T, T's own day up to T. The whole days are a term at the day end before T, with a
window one day shorter (or shifted one day, when it ends earlier), which the
:class:`~monitor.metrics.day_cache.DayCache` computes once a day. T's own day is a
small query over that day's raw events. The two add up:

========================  =======================================================
term at T                 from the day end before        + from T's own day
========================  =======================================================
count                     the count over the earlier days  + today's count
distinct events           per event: used on an earlier day or today
last day with an event    the earlier last day, unless there was one today
active users              the earlier users + today's users new to the window
property sum and number   the earlier (sum, number)        + today's
========================  =======================================================

so an hourly evaluation reads one day of raw events instead of every window's days.
The result equals the direct computation (a test holds them equal on random data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from monitor.metrics.plan import (
    BreadthTerm,
    CountTerm,
    LastDayTerm,
    PropertyTerm,
    Span,
    Term,
    TermRegistry,
    UsersTerm,
)
from monitor.metrics.queries import run_queries
from monitor.metrics.results import TermValues
from monitor.metrics.sources import Instant
from monitor.metrics.window_query import query_new_users

OWN_DAY = Span(0, 0)

Row = Sequence[object]
Merge = Callable[[Row, Row, Sequence[int], int], object]
"""(values at the day end before, values of the own day, new users per window, the
own day's number) -> the term's value at T (None: no value)."""


def span_before(span: Span) -> Span | None:
    """The days of ``span`` before the instant's day, as a span at the day end before
    it; None when the span holds the instant's day only."""
    if span.back_lo < 1:
        return None
    return Span(span.back_lo - 1, max(span.back_hi - 1, 0))


@dataclass
class DaySplit:
    """The terms of a registry split into the day end before and the own day."""

    before: TermRegistry = field(default_factory=TermRegistry)
    own: TermRegistry = field(default_factory=TermRegistry)
    user_windows: list[int] = field(default_factory=list)
    """Per active-users term reaching T: its days before T's day."""
    merges: list[tuple[int, Merge]] = field(default_factory=list)
    """Term id at T -> how to put its value together."""

    @classmethod
    def of(cls, terms: TermRegistry) -> DaySplit:
        split = cls()
        for term, term_id in terms.ids.items():
            split.merges.append((term_id, split._plan(term)))
        return split

    def _plan(self, term: Term) -> Merge:
        if isinstance(term, LastDayTerm):
            return self._last_day(term)
        before = span_before(term.span)
        reaches_t = term.span.back_hi == 0
        if isinstance(term, BreadthTerm) and reaches_t:
            return self._breadth(term, before)
        if isinstance(term, UsersTerm):
            return self._users(term, before, reaches_t)
        if isinstance(term, PropertyTerm):
            early = self._at_before(replace(term, span=before) if before else None)
            late = self.own.add(replace(term, span=OWN_DAY)) if reaches_t else None
            return lambda b, o, _new, _day: _pair_sum(_get(b, early), _get(o, late))
        if isinstance(term, BreadthTerm):  # ends before T's day: only earlier days
            early = self._at_before(replace(term, span=before) if before else None)
            return lambda b, _o, _new, _day: _get(b, early)
        early = self._at_before(replace(term, span=before) if before else None)
        late = self.own.add(replace(term, span=OWN_DAY)) if reaches_t else None
        return lambda b, o, _new, _day: _count_sum(_get(b, early), _get(o, late))

    def _at_before(self, term: Term | None) -> int | None:
        return None if term is None else self.before.add(term)

    def _last_day(self, term: LastDayTerm) -> Merge:
        early = self.before.add(term)
        late = self.own.add(CountTerm(term.events, OWN_DAY))
        return lambda b, o, _new, day: day if _positive(_get(o, late)) else _get(b, early)

    def _breadth(self, term: BreadthTerm, before: Span | None) -> Merge:
        """Distinct counts do not add up: each event is looked at on both sides."""
        early = [
            self._at_before(CountTerm((name,), before) if before else None) for name in term.events
        ]
        late = [self.own.add(CountTerm((name,), OWN_DAY)) for name in term.events]

        def breadth(b: Row, o: Row, _new: Sequence[int], _day: int) -> object:
            return sum(
                1
                for e, t in zip(early, late, strict=True)
                if _positive(_get(b, e)) or _positive(_get(o, t))
            )

        return breadth

    def _users(self, term: UsersTerm, before: Span | None, reaches_t: bool) -> Merge:
        early = self._at_before(UsersTerm(before) if before else None)
        if not reaches_t:
            return lambda b, _o, _new, _day: _get(b, early)
        window = len(self.user_windows)
        self.user_windows.append(term.span.back_lo)
        return lambda b, _o, new, _day: _count_sum(_get(b, early), new[window] if new else None)


def add_own_day(
    conn: Connection,
    split: DaySplit,
    point: Instant,
    before: TermValues,
    into: TermValues,
) -> None:
    """Fill ``into`` at ``point`` from the day end before it (``before``, instant 0)
    and a query of ``point``'s own day."""
    own = TermValues(split.own.ids, 1)
    run_queries(conn, split.own, [replace(point, index=0)], own)
    new_users = query_new_users(conn, point, split.user_windows) if split.user_windows else {}
    earlier, today = before.rows(0), own.rows(0)
    empty_before, empty_own = [None] * len(split.before.ids), [None] * len(split.own.ids)
    for account_id in earlier.keys() | today.keys() | new_users.keys():
        b = earlier.get(account_id, empty_before)
        o = today.get(account_id, empty_own)
        new = new_users.get(account_id, ())
        for term_id, merge in split.merges:
            into.put(point.index, account_id, term_id, merge(b, o, new, point.day))


def _get(row: Row, term_id: int | None) -> object:
    return None if term_id is None else row[term_id]


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def _count_sum(a: object, b: object) -> object:
    if a is None:
        return b
    if b is None:
        return a
    return a + b  # type: ignore[operator]


def _pair_sum(a: object, b: object) -> object:
    if not isinstance(a, tuple):
        return b
    if not isinstance(b, tuple):
        return a
    return (_count_sum(a[0], b[0]), _count_sum(a[1], b[1]))
