"""The active-user and property families: one query each for all accounts, terms and
instants.

Active users (distinct users over a window) are counted in three steps, each a plain
aggregation any database does well::

    SELECT account_id, SUM(u0), SUM(u1), ...              -- users per account
    FROM (SELECT account_id, user_id, MAX(u0) AS u0, ...  -- a user seen in any part
          FROM (SELECT account_id, user_id,               -- per part, in index order
                       MAX(CASE WHEN <day in window 0> THEN 1 ELSE 0 END) AS u0, ...
                FROM user_daily WHERE ... GROUP BY account_id, user_id
                UNION ALL <raw events of each T_day, up to T> ...)
          GROUP BY account_id, user_id)
    GROUP BY account_id

Property aggregates add up the daily ``total`` and ``count`` of ``property_daily``
per part and then over the parts; for an instant's own day the numeric value is read
from the raw JSON properties (values that are not numbers are skipped, as in the
rollup).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    RowMapping,
    Select,
    Subquery,
    case,
    exists,
    func,
    literal,
    select,
    union_all,
)

from monitor.metrics.plan import PropertyTerm, Span, Term, UsersTerm
from monitor.metrics.results import TermValues
from monitor.metrics.sources import (
    Instant,
    Part,
    aggregate_where,
    daily_parts,
    event_filter,
    json_number,
    names_filter,
    part_window,
)
from monitor.store.schema import events, property_daily, user_daily

TermT = TypeVar("TermT", UsersTerm, PropertyTerm)


def _lo_day(spans: Sequence[Span], instants: Sequence[Instant]) -> int:
    return min(i.day for i in instants) - max(s.back_lo for s in spans)


def _cells(
    terms: Sequence[TermT], instants: Sequence[Instant], prefix: str
) -> list[tuple[Instant, TermT, str]]:
    """(instant, term, column label) of every result value."""
    pairs = [(instant, term) for instant in instants for term in terms]
    return [(instant, term, f"{prefix}{n}") for n, (instant, term) in enumerate(pairs)]


def _flag(window: list[ColumnElement[bool]] | None, dialect: str) -> ColumnElement[Any]:
    """1 when some row of the group is in the window, else NULL."""
    if window is None:
        return literal(None, Integer)
    return aggregate_where(dialect, func.max, literal(1, Integer), window)


def query_user_terms(
    conn: Connection,
    terms: Sequence[UsersTerm],
    instants: Sequence[Instant],
    into: TermValues,
) -> None:
    """Distinct active users per account for every (term, instant)."""
    if not terms:
        return
    cells = _cells(terms, instants, "u")
    dialect = conn.dialect.name
    parts = daily_parts(
        user_daily,
        instants,
        _lo_day([t.span for t in terms], instants),
        raw_where=[events.c.user_id.is_not(None)],
    )
    selects = []
    for part in parts:
        table = part.table
        windows = [part_window(part, i, t.span) for i, t, _ in cells]
        if all(w is None for w in windows):
            continue  # e.g. the instants' own days when every window ends earlier
        flags = [
            _flag(w, dialect).label(label) for w, (*_, label) in zip(windows, cells, strict=True)
        ]
        selects.append(
            part.select(table.c.account_id, table.c.user_id, *flags).group_by(
                table.c.account_id, table.c.user_id
            )
        )
    union = union_all(*selects).subquery("seen")
    per_user = (
        select(union.c.account_id, *(func.max(union.c[label]).label(label) for *_, label in cells))
        .group_by(union.c.account_id, union.c.user_id)
        .subquery("per_user")
    )
    stmt = select(
        per_user.c.account_id, *(func.sum(per_user.c[label]).label(label) for *_, label in cells)
    ).group_by(per_user.c.account_id)
    _store(conn, stmt, cells, into, lambda row, label: row[label])


def query_new_users(
    conn: Connection, instant: Instant, windows: Sequence[int]
) -> dict[str, list[int]]:
    """Per account with usage on the instant's own day (up to the instant): for each
    window of ``w`` days before that day, how many of the day's users were not
    active in those days (what the own day adds to a distinct count).

    The day's users are few: each is looked up in the rollup per earlier day, by key,
    so the cost follows the day's users, not the earlier days' rows."""
    day = instant.day
    parts = daily_parts(user_daily, [instant], day, raw_where=[events.c.user_id.is_not(None)])
    today = union_all(
        *(select(p.table.c.account_id, p.table.c.user_id).where(*p.where) for p in parts)
    ).subquery("today_rows")
    users = select(today.c.account_id, today.c.user_id).distinct().subquery("today")
    # The rollup's key starts with the day: a list of days (not a range) lets the
    # database look each (day, account, user) up by key, and EXISTS stops at the first
    # day found (a regular user is found at once; only a new one costs every day).
    counts = [
        func.count(
            case((~_seen_in(users, list(range(day - w, day))), literal(1, Integer)), else_=None)
        ).label(f"n{n}")
        for n, w in enumerate(windows)
    ]
    stmt = select(users.c.account_id, *counts).group_by(users.c.account_id)
    return {row[0]: [int(n) for n in row[1:]] for row in conn.execute(stmt)}


def _seen_in(users: Subquery, days: list[int]) -> ColumnElement[bool]:
    """Whether the user of a ``users`` row was active on any of ``days``."""
    return exists().where(
        user_daily.c.day.in_(days),
        user_daily.c.account_id == users.c.account_id,
        user_daily.c.user_id == users.c.user_id,
    )


def query_property_terms(
    conn: Connection,
    terms: Sequence[PropertyTerm],
    instants: Sequence[Instant],
    into: TermValues,
) -> None:
    """Sum and number of numeric property values per account for every (term, instant)."""
    if not terms:
        return
    cells = _cells(terms, instants, "p")
    name_sets = [t.events for t in terms]
    parts = daily_parts(
        property_daily,
        instants,
        _lo_day([t.span for t in terms], instants),
        [
            property_daily.c.property.in_(sorted({t.property for t in terms})),
            *names_filter(property_daily.c.name, name_sets),
        ],
        names_filter(events.c.name, name_sets),
    )
    dialect = conn.dialect.name
    selects = []
    for part in parts:
        if all(part_window(part, i, t.span) is None for i, t, _ in cells):
            continue  # e.g. the instants' own days when every window ends earlier
        sums: list[ColumnElement[Any]] = []
        for instant, term, label in cells:
            total, count = _property_sums(part, instant, term, dialect)
            sums += [total.label(label + "t"), count.label(label + "n")]
        selects.append(
            part.select(part.table.c.account_id, *sums).group_by(part.table.c.account_id)
        )
    union = union_all(*selects).subquery("per_part")
    stmt = select(
        union.c.account_id,
        *(
            func.sum(union.c[label + suffix]).label(label + suffix)
            for *_, label in cells
            for suffix in ("t", "n")
        ),
    ).group_by(union.c.account_id)
    _store(conn, stmt, cells, into, lambda row, label: (row[label + "t"], row[label + "n"]))


def _property_sums(
    part: Part, instant: Instant, term: PropertyTerm, dialect: str
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """(sum, number) of the term's property values among the part's rows in the window
    (NULL when there are none)."""
    table = part.table
    window = part_window(part, instant, term.span)
    if window is None:
        return literal(None, Float), literal(None, Integer)
    conditions = [*event_filter(table.c.name, term.events), *window]
    if part.raw:
        value = json_number(dialect, table.c.properties, term.property)
        return (
            aggregate_where(dialect, func.sum, value, conditions),
            aggregate_where(dialect, func.count, value, conditions),
        )
    conditions.append(table.c.property == term.property)
    return (
        aggregate_where(dialect, func.sum, table.c.total, conditions),
        aggregate_where(dialect, func.sum, table.c["count"], conditions),
    )


def _store(
    conn: Connection,
    stmt: Select[Any],
    cells: Sequence[tuple[Instant, Term, str]],
    into: TermValues,
    read: Callable[[RowMapping, str], object],
) -> None:
    ids = [(instant.index, into.term_ids[term], label) for instant, term, label in cells]
    for row in conn.execute(stmt).mappings():
        account_id = row["account_id"]
        for instant_index, term_id, label in ids:
            into.put(instant_index, account_id, term_id, read(row, label))
