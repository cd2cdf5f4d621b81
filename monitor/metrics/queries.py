"""Every term of a registry at a set of instants: one query per family and batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection

from monitor.metrics.event_query import query_event_terms
from monitor.metrics.plan import TermRegistry
from monitor.metrics.results import TermValues
from monitor.metrics.sources import Instant
from monitor.metrics.window_query import query_property_terms, query_user_terms

MAX_COLUMNS = 1_000
"""Result columns per family query (SQLite allows 2,000 by default)."""
MAX_INSTANTS = 60
"""Instants per family query: each adds parts to a UNION (SQLite allows 500)."""


def run_queries(
    conn: Connection, terms: TermRegistry, points: Sequence[Instant], into: TermValues
) -> None:
    """Fill ``into`` with every term at every one of ``points`` (none: no query)."""
    if not points:
        return
    event_terms, user_terms = terms.event_terms, terms.user_terms
    property_terms = terms.property_terms
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
