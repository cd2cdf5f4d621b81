"""Term values at day ends, kept in the store so that each day is computed once.

A day end (the last millisecond of a UTC day) sees whole days only, so its term values
come from the rollups alone (:mod:`monitor.metrics.sources`) and stay the same until
an import adds events of that day or an earlier one. The daily checkpoints of ``for``
are day ends: the first evaluation of a day computes the new one (yesterday's end) and
every other evaluation reads them all from here.

How an entry stays true:

1. The importer raises ``rollup_days.version`` of every day it adds to, in the
   transaction that adds to the rollups.
2. Before computing, :meth:`DayCache.lookup` reads the versions and takes, per day
   end, the sum of the versions of every day up to it as the *stamp* (versions only
   rise, so any later import into one of those days raises the sum).
3. An entry is used only when its stored stamp equals the stamp just read; missing or
   stale ones are computed and stored with the stamp read *before* the computation,
   so an import committing meanwhile can make an entry look stale, never the
   reverse.

Entries are keyed by the exact list of terms (rules that change the terms get their
own entries) and pruned once their day is more than :data:`KEEP_DAYS` before the
newest day stored. The cache is an optimisation only: if storing fails (a read-only
or busy database), the evaluation goes on with the values it computed.
"""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

import msgspec
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from monitor.metrics.plan import PropertyTerm, TermRegistry
from monitor.metrics.results import TermValues
from monitor.metrics.sources import Instant
from monitor.store.schema import day_terms, rollup_days
from monitor.store.upsert import upsert

log = logging.getLogger(__name__)

FORMAT = 1
"""Part of every key: raise it when what a term means or how it is stored changes."""
KEEP_DAYS = 40

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(dict[str, list[object]])


@dataclass(frozen=True)
class Lookup:
    """What :meth:`DayCache.lookup` found, and what is left to compute and store."""

    key: str
    stamps: dict[int, int]
    """Day -> the stamp read before computing (day ends only)."""
    missing: list[Instant]
    """The instants still to compute (every instant that is not a cached day end)."""


def terms_key(terms: TermRegistry) -> str:
    """The key of a list of terms: equal lists, equal keys (terms are plain values)."""
    ordered = sorted(terms.ids, key=terms.ids.__getitem__)
    return hashlib.sha256(repr((FORMAT, ordered)).encode()).hexdigest()


class DayCache:
    """The store's cache of day-end term values (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def lookup(
        self,
        conn: Connection,
        terms: TermRegistry,
        instants: Sequence[Instant],
        into: TermValues,
    ) -> Lookup:
        """Fill ``into`` with the valid entries of the day ends among ``instants``."""
        key = terms_key(terms)
        ends = {i.day: i for i in instants if i.day_end}
        if not ends or not terms.ids:
            return Lookup(key, {}, list(instants))
        stamps = _stamps(conn, max(ends))
        wanted = {day: stamps(day) for day in ends}
        found = conn.execute(
            select(day_terms.c.day, day_terms.c.stamp, day_terms.c.payload).where(
                day_terms.c.terms_key == key, day_terms.c.day.in_(sorted(ends))
            )
        )
        properties = [n for term, n in terms.ids.items() if isinstance(term, PropertyTerm)]
        hits: set[int] = set()
        for day, stamp, payload in found:
            if stamp == wanted[day]:
                into.set_rows(ends[day].index, _decode(payload, properties))
                hits.add(ends[day].index)
        missing = [i for i in instants if i.index not in hits]
        return Lookup(key, {day: wanted[day] for day in ends}, missing)

    def store(self, lookup: Lookup, values: TermValues) -> None:
        """Keep the day ends computed after ``lookup`` (never raises)."""
        ends = [i for i in lookup.missing if i.day_end]
        if not ends:
            return
        rows = [
            {
                "terms_key": lookup.key,
                "day": i.day,
                "stamp": lookup.stamps[i.day],
                "payload": _encoder.encode(values.rows(i.index)),
            }
            for i in ends
        ]
        try:
            with self._engine.begin() as conn:
                # An upsert: two evaluations storing the same day end at once agree.
                conn.execute(upsert(conn, day_terms, ["terms_key", "day"]), rows)
                newest = max(i.day for i in ends)
                conn.execute(delete(day_terms).where(day_terms.c.day < newest - KEEP_DAYS))
        except SQLAlchemyError as exc:
            log.warning("day-end values not cached (they are recomputed next time): %s", exc)


def _stamps(conn: Connection, last_day: int) -> _Stamps:
    """Day -> sum of the versions of every day up to it, from one read of the table."""
    rows = conn.execute(
        select(rollup_days.c.day, rollup_days.c.version)
        .where(rollup_days.c.day <= last_day)
        .order_by(rollup_days.c.day)
    ).all()
    return _Stamps([day for day, _ in rows], list(accumulate(int(v) for _, v in rows)))


@dataclass(frozen=True)
class _Stamps:
    days: list[int]
    sums: list[int]

    def __call__(self, day: int) -> int:
        position = bisect_right(self.days, day)
        return self.sums[position - 1] if position else 0


def _decode(payload: bytes, property_ids: Sequence[int]) -> dict[str, list[object]]:
    rows = _decoder.decode(payload)
    if property_ids:  # msgpack has no tuples: property terms are (sum, count) pairs
        for row in rows.values():
            for n in property_ids:
                pair = row[n]
                if isinstance(pair, list):
                    row[n] = tuple(pair)
    return rows
