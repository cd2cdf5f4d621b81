"""Computing every metric for every account at one or several instants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from monitor.metrics.accounts import AccountFacts
from monitor.metrics.day_cache import DayCache
from monitor.metrics.evaluate import Compiled, compile_metrics
from monitor.metrics.own_day import DaySplit, add_own_day
from monitor.metrics.plan import TermRegistry
from monitor.metrics.queries import run_queries
from monitor.metrics.results import TermValues
from monitor.metrics.sources import Instant, day_end
from monitor.rules.expr import Value
from monitor.rules.model import Metric

AccountMetrics = dict[str, dict[str, Value]]
"""account_id -> metric name -> value."""


def compute_metrics(
    conn: Connection, metrics: Sequence[Metric], at: datetime, accounts: Sequence[AccountFacts]
) -> AccountMetrics:
    """Every metric in ``metrics`` for every account in ``accounts`` at instant ``at``."""
    return compute_metrics_at(conn, metrics, [at], accounts)[at]


def compute_metrics_at(
    conn: Connection,
    metrics: Sequence[Metric],
    instants: Sequence[datetime],
    accounts: Sequence[AccountFacts],
    *,
    cache: DayCache | None = None,
) -> dict[datetime, AccountMetrics]:
    """Every metric for every account at each of ``instants`` (e.g. T and the ends of
    the days before)."""
    table = metric_values(conn, metrics, instants, cache=cache)
    return {
        at: {facts.account_id: table.at(index, facts) for facts in accounts}
        for index, at in enumerate(instants)
    }


class MetricValues:
    """The metrics of every account at some instants, evaluated from the term values
    when asked for (an evaluation may need only some accounts' at some instants)."""

    def __init__(self, compiled: Compiled, points: Sequence[Instant], values: TermValues) -> None:
        self._compiled = compiled
        self._points = points
        self._values = values

    def at(self, index: int, facts: AccountFacts) -> dict[str, Value]:
        """Every metric of one account at the ``index``-th instant, in definition order:
        from the term values, the built-in attributes and the metrics before it."""
        point = self._points[index]
        return self._compiled.evaluate(
            self._values.account(index, facts.account_id),
            facts.attribute_values(point.at),
            point.day,
        )


def metric_values(
    conn: Connection,
    metrics: Sequence[Metric],
    instants: Sequence[datetime],
    *,
    cache: DayCache | None = None,
) -> MetricValues:
    """Compile the metrics into terms (instant-independent, once) and compute the terms
    at every instant (:func:`compute_terms`); metrics are evaluated on demand."""
    compiled = compile_metrics(metrics)
    points = [Instant.of(index, at) for index, at in enumerate(instants)]
    values = TermValues(compiled.terms.ids, len(points))
    compute_terms(conn, compiled.terms, points, values, cache)
    return MetricValues(compiled, points, values)


def compute_terms(
    conn: Connection,
    terms: TermRegistry,
    points: Sequence[Instant],
    into: TermValues,
    cache: DayCache | None,
) -> None:
    """Fill ``into`` with every term at every point.

    Without a cache, the family queries compute them directly. With one:

    1. Day ends come from the cache; those it lacks are computed and kept.
    2. Any other instant is the day end before it (step 1 again, so usually read
       from the cache) plus its own day, queried from that day's raw events alone
       (:mod:`monitor.metrics.own_day`).
    """
    if cache is None:
        run_queries(conn, terms, points, into)
        return
    lookup = cache.lookup(conn, terms, points, into)
    run_queries(conn, terms, [p for p in lookup.missing if p.day_end], into)
    cache.store(lookup, into)
    others = [p for p in lookup.missing if not p.day_end]
    if not others:
        return
    split = DaySplit.of(terms)
    for point in others:
        before = TermValues(split.before.ids, 1)
        day_before = Instant.of(0, day_end(point.day - 1))
        compute_terms(conn, split.before, [day_before], before, cache)
        add_own_day(conn, split, point, before, into)
