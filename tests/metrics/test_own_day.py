"""The split of a term at T into the day end before T and T's own day."""

from __future__ import annotations

from monitor.metrics.own_day import OWN_DAY, DaySplit, span_before
from monitor.metrics.plan import BreadthTerm, CountTerm, LastDayTerm, Span, TermRegistry, UsersTerm


def test_span_before_is_the_same_days_seen_from_the_day_end_before() -> None:
    # 14 days up to T (T's day and 13 before): the 13 earlier days end yesterday.
    assert span_before(Span(13, 0)) == Span(12, 0)
    # The 14 days before those: the same days, one day closer to yesterday's end.
    assert span_before(Span(27, 14)) == Span(26, 13)
    # T's own day only: nothing earlier.
    assert span_before(Span(0, 0)) is None


def test_the_split_asks_the_own_day_only_for_windows_that_reach_t() -> None:
    terms = TermRegistry()
    for term in (
        CountTerm(("Signed In",), Span(13, 0)),
        CountTerm(("Signed In",), Span(27, 14)),
        BreadthTerm(("a", "b"), Span(29, 0)),
        LastDayTerm(("Signed In",)),
        UsersTerm(Span(29, 0)),
        UsersTerm(Span(59, 30)),
    ):
        terms.add(term)
    split = DaySplit.of(terms)
    assert set(split.own.ids) == {
        CountTerm(("Signed In",), OWN_DAY),
        CountTerm(("a",), OWN_DAY),
        CountTerm(("b",), OWN_DAY),
    }
    assert split.user_windows == [29]
    assert set(split.before.ids) == {
        CountTerm(("Signed In",), Span(12, 0)),
        CountTerm(("Signed In",), Span(26, 13)),
        CountTerm(("a",), Span(28, 0)),
        CountTerm(("b",), Span(28, 0)),
        LastDayTerm(("Signed In",)),
        UsersTerm(Span(28, 0)),
        UsersTerm(Span(58, 29)),
    }
