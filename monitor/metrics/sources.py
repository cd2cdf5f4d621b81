"""Daily data "as seen at instant T": rollups for past days, raw events for T's own day.

Each family query aggregates a ``UNION ALL`` of *parts*, each a SELECT over one table
with a fixed ``src`` tag:

* the rollup (``event_daily``, ``user_daily`` or ``property_daily``) for the days
  ``[lo, max T_day - 1]``, tagged ``src = ROLLUP``; a window uses these rows only for
  days strictly before its instant's day;
* per instant *i*: the raw ``events`` of day ``T_day(i)`` up to and including
  ``T(i)`` (track and page only), tagged ``src = i``, so a metric counts exactly the
  events up to its instant;
* per instant *i*: the rollup rows of ``T_day(i)`` for accounts that have no raw
  usage event left on that day (retention removed them), tagged ``src = i``: for
  such old instants the whole day counts.

An instant at the last millisecond of its day (a *day end*, such as the daily
checkpoints of ``for``) sees every event of its day: its own day is read from the
rollup alone, tagged ``src = i``, with no raw events at all. Its values then depend
on the rollups only, which is what lets :mod:`monitor.metrics.day_cache` keep them.

Every part is aggregated on its own before the union (in index order, without a
sort), so the union and what follows handle account-days, not single rows. The
rollup keys and the ``events`` index start with the day, so each part reads one
contiguous range of its index for all accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql.functions import FunctionElement

from monitor.clock import ensure_utc
from monitor.metrics.plan import ALL_EVENTS, Span
from monitor.store.schema import events
from monitor.timeutil import MS_PER_DAY, day_of_ms, from_ms, to_ms

USAGE_TYPES = ("track", "page")
ROLLUP = -1
"""The ``src`` tag of rollup rows; the parts of an instant's own day carry its index."""


@dataclass(frozen=True)
class Instant:
    """An evaluation instant and where it sits in the batch being computed."""

    index: int
    at: datetime
    ms: int
    day: int

    @classmethod
    def of(cls, index: int, at: datetime) -> Instant:
        ms = to_ms(ensure_utc(at))
        return cls(index, at, ms, day_of_ms(ms))

    @property
    def day_end(self) -> bool:
        """The last millisecond of its UTC day: the whole day counts, rollups suffice."""
        return day_of_ms(self.ms + 1) != self.day


def day_end(day: int) -> datetime:
    """The last millisecond of UTC day number ``day``, as an instant."""
    return from_ms((day + 1) * MS_PER_DAY - 1)


@dataclass(frozen=True)
class Part:
    """One SELECT of the union: a table, the rows of it to read, and their tag."""

    src: int
    table: Table
    where: tuple[ColumnElement[bool], ...]
    raw: bool
    """Rows are single raw events (each counts 1; properties are JSON text)."""

    @property
    def count(self) -> ColumnElement[int]:
        return literal(1, Integer) if self.raw else self.table.c["count"]

    def tag(self) -> ColumnElement[int]:
        return literal(self.src, Integer).label("src")

    def select(self, *columns: ColumnElement[Any]) -> Select[Any]:
        return select(*columns, self.tag()).where(*self.where)


def daily_parts(
    rollup: Table,
    instants: Sequence[Instant],
    lo_day: int,
    rollup_where: Sequence[ColumnElement[bool]] = (),
    raw_where: Sequence[ColumnElement[bool]] = (),
) -> list[Part]:
    """The parts described in the module docstring; ``*_where`` narrow each table's rows
    to what the family needs (event names, properties, known users)."""
    hi_day = max(i.day for i in instants) - 1
    parts: list[Part] = []
    if lo_day <= hi_day:
        in_range = (rollup.c.day >= lo_day, rollup.c.day <= hi_day)
        parts.append(Part(ROLLUP, rollup, (*in_range, *rollup_where), raw=False))
    for instant in instants:
        if instant.day_end:
            own_day = (rollup.c.day == instant.day, *rollup_where)
            parts.append(Part(instant.index, rollup, own_day, raw=False))
            continue
        usage = (
            events.c.day == instant.day,
            events.c.ts_ms <= instant.ms,
            events.c.type.in_(USAGE_TYPES),
        )
        parts.append(Part(instant.index, events, (*usage, *raw_where), raw=True))
        no_raw_left = ~exists().where(
            events.c.account_id == rollup.c.account_id,
            events.c.day == instant.day,
            events.c.type.in_(USAGE_TYPES),
        )
        on_day = (rollup.c.day == instant.day, no_raw_left)
        parts.append(Part(instant.index, rollup, (*on_day, *rollup_where), raw=False))
    return parts


def part_window(part: Part, instant: Instant, span: Span) -> list[ColumnElement[bool]] | None:
    """The conditions for a row of ``part`` to fall in ``span`` as seen at ``instant``:
    None when no row can, ``[]`` when every row does.

    The tag is fixed per part, so only rollup rows need a test on the day; the rows of
    an instant's own day are in or out as a whole."""
    if part.src != ROLLUP:
        return [] if part.src == instant.index and span.back_hi == 0 else None
    first, last = instant.day - span.back_lo, min(instant.day - span.back_hi, instant.day - 1)
    if first > last:
        return None
    return [part.table.c.day >= first, part.table.c.day <= last]


def in_window(row: Subquery, instant: Instant, span: Span) -> ColumnElement[bool] | None:
    """Whether a row of the union falls in ``span`` as seen at ``instant`` (None: no
    row can)."""
    first, last = instant.day - span.back_lo, instant.day - span.back_hi
    parts: list[ColumnElement[bool]] = []
    rollup_last = min(last, instant.day - 1)
    if first <= rollup_last:
        parts.append(and_(row.c.src == ROLLUP, row.c.day >= first, row.c.day <= rollup_last))
    if span.back_hi == 0:
        parts.append(row.c.src == instant.index)
    return or_(*parts) if parts else None


def up_to(row: Subquery, instant: Instant) -> ColumnElement[bool]:
    """Whether a row of the union is at or before ``instant``."""
    return or_(and_(row.c.src == ROLLUP, row.c.day < instant.day), row.c.src == instant.index)


Aggregate = Callable[[ColumnElement[Any]], FunctionElement[Any]]
FILTER_DIALECTS = frozenset({"sqlite", "postgresql"})


def aggregate_where(
    dialect: str,
    aggregate: Aggregate,
    value: ColumnElement[Any],
    conditions: Sequence[ColumnElement[bool]],
) -> ColumnElement[Any]:
    """``aggregate(value)`` over the rows meeting ``conditions``; NULL when none does.

    ``FILTER (WHERE ...)`` where the dialect has it (on SQLite it is 2-4x faster than
    the portable ``CASE WHEN ... THEN value END``, which other dialects get)."""
    if not conditions:
        return aggregate(value)
    cond = and_(*conditions)
    if dialect in FILTER_DIALECTS:
        return aggregate(value).filter(cond)
    return aggregate(case((cond, value), else_=None))


def event_filter(column: ColumnElement[str], names: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """``column IN names``, or nothing for the empty list (all events)."""
    return [] if names == ALL_EVENTS else [column.in_(names)]


def names_filter(
    column: ColumnElement[str], name_sets: Sequence[tuple[str, ...]]
) -> list[ColumnElement[bool]]:
    """Rows that any of ``name_sets`` can use (no filter when one set is "all")."""
    if not name_sets or any(s == ALL_EVENTS for s in name_sets):
        return []
    return [column.in_(sorted({n for s in name_sets for n in s}))]


def json_number(dialect: str, document: ColumnElement[str], key: str) -> ColumnElement[float]:
    """A top-level numeric JSON property of a text column; NULL when absent or not a
    number (strings, booleans, objects), so bad input never breaks a query."""
    if dialect == "sqlite":
        path = '$."' + key + '"'
        return case(
            (
                func.json_type(document, path).in_(("integer", "real")),
                cast(func.json_extract(document, path), Float),
            ),
            else_=None,
        )
    doc = cast(document, JSON)
    number: ColumnElement[float] = doc[key].as_float()
    if dialect == "postgresql":
        return case((func.json_typeof(doc[key]) == "number", number), else_=None)
    return number  # pragma: no cover - other dialects: best effort
