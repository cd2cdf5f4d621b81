"""The event-count family: counts, feature breadth, last-seen days and active weeks.

All of them come from ``event_daily`` (plus the raw events of each instant's day) in
one query for all accounts, all such terms and all instants::

    SELECT accounts.account_id,
           g.c0, g.c1, ...,                       -- one column per (term, instant)
           CASE WHEN g.<last day, earliest instant> IS NULL
                THEN (SELECT day FROM event_daily WHERE account_id = accounts.account_id
                      AND day < :lo AND name IN (...) ORDER BY day DESC LIMIT 1)
           END                                    -- history before the scanned days
    FROM accounts LEFT JOIN (
        SELECT account_id,                        -- level 2: windows, per account-day
               SUM(s0) FILTER (WHERE <in window>) AS c0,
               COALESCE(MAX(1) FILTER (WHERE <in window> AND s1 > 0), 0) + ... AS c1,
               MAX(day) FILTER (WHERE <up to T> AND s0 > 0) AS c2, ...
        FROM (SELECT account_id, day,             -- level 1: event sets, per part
                     SUM(count) FILTER (WHERE name IN (...)) AS s0, ..., :src AS src
              FROM event_daily WHERE day BETWEEN :lo AND :T_day - 1 GROUP BY account_id, day
              UNION ALL <the same from raw events of T_day, up to T>
              UNION ALL ...)
        GROUP BY account_id
    ) g ON g.account_id = accounts.account_id

(``FILTER`` on SQLite and PostgreSQL, ``CASE WHEN`` elsewhere: see
:func:`~monitor.metrics.sources.aggregate_where`.)

The rollup is scanned only from the earliest day a window needs; "days since" looks
further back only for the accounts with no such event in the scanned days, through
the ``(account_id, day, name)`` primary key, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Subquery,
    case,
    func,
    literal,
    select,
    union_all,
)

from monitor.metrics.plan import BreadthTerm, CountTerm, EventTerm, LastDayTerm
from monitor.metrics.results import TermValues
from monitor.metrics.sources import (
    Instant,
    aggregate_where,
    daily_parts,
    event_filter,
    in_window,
    names_filter,
    up_to,
)
from monitor.store.schema import accounts, event_daily, events

RECENT_DAYS = 35
"""Days scanned for "days since" when no window reaches further back: most accounts
have an event in the last month, so few need the look further back."""


@dataclass(frozen=True)
class _Column:
    instant: Instant
    term: EventTerm
    label: str


def event_lo_day(terms: Sequence[EventTerm], instants: Sequence[Instant]) -> int:
    """The first rollup day any term needs at any of the instants."""
    last_days = any(isinstance(t, LastDayTerm) for t in terms)
    reach = max(
        [RECENT_DAYS - 1] * last_days
        + [t.span.back_lo for t in terms if not isinstance(t, LastDayTerm)]
    )
    return min(i.day for i in instants) - reach


def query_event_terms(
    conn: Connection,
    terms: Sequence[EventTerm],
    instants: Sequence[Instant],
    into: TermValues,
) -> None:
    """Run the family query and store every (instant, account, term) value in ``into``."""
    if not terms:
        return
    lo_day = event_lo_day(terms, instants)
    stmt, columns, history = _statement(terms, instants, lo_day, conn.dialect.name)
    cells = [(c.instant.index, into.term_ids[c.term], c.label) for c in columns]
    older = [(into.term_ids[term], label) for term, label in history.items()]
    for row in conn.execute(stmt).mappings():
        account_id = row["account_id"]
        for instant_index, term_id, label in cells:
            into.put(instant_index, account_id, term_id, row[label])
        for term_id, label in older:
            if row[label] is not None:
                for instant in instants:
                    into.fill(instant.index, account_id, term_id, row[label])


def _statement(
    terms: Sequence[EventTerm], instants: Sequence[Instant], lo_day: int, dialect: str
) -> tuple[Select[Any], list[_Column], dict[LastDayTerm, str]]:
    """Build the query; see the module docstring for its shape."""
    per_day, set_labels = _per_day(terms, instants, lo_day, dialect)
    columns: list[_Column] = []
    aggregates: list[ColumnElement[Any]] = []
    for instant in instants:
        for term in terms:
            aggregate = _aggregate(per_day, set_labels, instant, term, dialect)
            if aggregate is None:
                continue  # the window holds no day: the decoder's default applies
            label = f"c{len(columns)}"
            columns.append(_Column(instant, term, label))
            aggregates.append(aggregate.label(label))
    grouped = select(per_day.c.account_id, *aggregates).group_by(per_day.c.account_id).subquery("g")

    # The earliest instant sees the fewest days: if it found an event, every instant did.
    first = min(instants, key=lambda i: (i.day, i.ms))
    history: dict[LastDayTerm, str] = {}
    history_columns: list[ColumnElement[Any]] = []
    for column in columns:
        if column.instant is first and isinstance(column.term, LastDayTerm):
            label = f"h{len(history)}"
            history[column.term] = label
            history_columns.append(
                case(
                    (grouped.c[column.label].is_(None), _last_day_before(column.term, lo_day)),
                    else_=None,
                ).label(label)
            )
    stmt = select(
        accounts.c.account_id,
        *(grouped.c[c.label] for c in columns),
        *history_columns,
    ).select_from(accounts.outerjoin(grouped, grouped.c.account_id == accounts.c.account_id))
    return stmt, columns, history


def _per_day(
    terms: Sequence[EventTerm], instants: Sequence[Instant], lo_day: int, dialect: str
) -> tuple[Subquery, dict[tuple[str, ...], str]]:
    """Level 1: per account, day and source, the count of each event set the terms use
    (and of each single event a breadth term looks at). Windows are then judged once per
    account-day instead of once per account-day-event."""
    sets: dict[tuple[str, ...], str] = {}
    for term in terms:
        wanted = [(n,) for n in term.events] if isinstance(term, BreadthTerm) else [term.events]
        for events_set in wanted:
            sets.setdefault(events_set, f"s{len(sets)}")
    parts = daily_parts(
        event_daily,
        instants,
        lo_day,
        names_filter(event_daily.c.name, list(sets)),
        names_filter(events.c.name, list(sets)),
    )
    selects = []
    for part in parts:
        table = part.table
        counts = [
            aggregate_where(
                dialect, func.sum, part.count, event_filter(table.c.name, events_set)
            ).label(label)
            for events_set, label in sets.items()
        ]
        selects.append(
            part.select(table.c.account_id, table.c.day, *counts).group_by(
                table.c.account_id, table.c.day
            )
        )
    return union_all(*selects).subquery("per_day"), sets


def _aggregate(
    per_day: Subquery,
    sets: dict[tuple[str, ...], str],
    instant: Instant,
    term: EventTerm,
    dialect: str,
) -> ColumnElement[Any] | None:
    """Level 2: one (term, instant) value per account from the per-day counts (NULL
    when no day qualifies: the decoder reads that as 0, or as "never" for last days)."""
    if isinstance(term, LastDayTerm):
        seen = [per_day.c[sets[term.events]] > 0, up_to(per_day, instant)]
        return aggregate_where(dialect, func.max, per_day.c.day, seen)
    window = in_window(per_day, instant, term.span)
    if window is None:
        return None
    if isinstance(term, CountTerm):
        return aggregate_where(dialect, func.sum, per_day.c[sets[term.events]], [window])
    used = [
        func.coalesce(
            aggregate_where(
                dialect, func.max, literal(1, Integer), [window, per_day.c[sets[(name,)]] > 0]
            ),
            0,
        )
        for name in term.events
    ]
    if not used:
        return None
    total: ColumnElement[Any] = used[0]
    for one in used[1:]:
        total = total + one
    return total


def _last_day_before(term: LastDayTerm, lo_day: int) -> ColumnElement[Any]:
    """The last rollup day before ``lo_day`` with one of the term's events, per account."""
    return (
        select(event_daily.c.day)
        .where(
            event_daily.c.account_id == accounts.c.account_id,
            event_daily.c.day < lo_day,
            *event_filter(event_daily.c.name, term.events),
        )
        .order_by(event_daily.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )
