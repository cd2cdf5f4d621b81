"""Computing every metric for every account at one or several instants."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Connection

from monitor.metrics.accounts import AccountFacts
from monitor.metrics.day_cache import DayCache
from monitor.metrics.evaluate import Compiled, compile_metrics
from monitor.metrics.event_query import query_event_terms
from monitor.metrics.results import TermValues
from monitor.metrics.sources import Instant
from monitor.metrics.window_query import query_property_terms, query_user_terms
from monitor.rules.expr import Value
from monitor.rules.model import Metric

MAX_COLUMNS = 1_000
"""Result columns per family query (SQLite allows 2,000 by default)."""
MAX_INSTANTS = 60
"""Instants per family query: each adds parts to a UNION (SQLite allows 500)."""

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
    the days before).

    1. Compile the metrics into terms (instant-independent, once).
    2. With a ``cache``: take the term values of day-end instants it holds.
    3. Per family (events, active users, properties), one query computes the terms of
       all accounts at the other instants (in batches only when there are very many);
       the cache keeps the day ends among them.
    4. Per instant and account, evaluate the metrics in order from the term values,
       the built-in attributes and the metrics before them.
    """
    compiled = compile_metrics(metrics)
    points = [Instant.of(index, at) for index, at in enumerate(instants)]
    values = TermValues(compiled.terms.ids, len(points))
    if cache is None:
        _run_queries(conn, compiled, points, values)
    else:
        lookup = cache.lookup(conn, compiled.terms, points, values)
        _run_queries(conn, compiled, lookup.missing, values)
        cache.store(lookup, values)
    return {
        point.at: {
            facts.account_id: compiled.evaluate(
                values.account(point.index, facts.account_id),
                facts.attribute_values(point.at),
                point.day,
            )
            for facts in accounts
        }
        for point in points
    }


def _run_queries(
    conn: Connection, compiled: Compiled, points: Sequence[Instant], into: TermValues
) -> None:
    registry = compiled.terms
    event_terms, user_terms = registry.event_terms, registry.user_terms
    property_terms = registry.property_terms
    for batch in _batches(points, len(event_terms)):
        query_event_terms(conn, event_terms, batch, into)
    for batch in _batches(points, len(user_terms)):
        query_user_terms(conn, user_terms, batch, into)
    for batch in _batches(points, 2 * len(property_terms)):  # two columns per term
        query_property_terms(conn, property_terms, batch, into)


def _batches(points: Sequence[Instant], columns_per_instant: int) -> Iterator[Sequence[Instant]]:
    """Instants in batches small enough for the database's column and UNION limits."""
    if columns_per_instant == 0:
        return
    size = max(1, min(MAX_INSTANTS, MAX_COLUMNS // columns_per_instant))
    for start in range(0, len(points), size):
        yield points[start : start + size]
