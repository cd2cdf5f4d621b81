"""The cache of day-end term values: used while the rollups it came from are unchanged,
recomputed as soon as an import adds to one of its days or an earlier one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import orjson
import pytest
from metrics_testkit import Ev, add_account, metric, segment_message, store_events
from sqlalchemy import Engine, func, select, update

from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.ingest.events import import_events
from monitor.metrics import DayCache, compute_metrics_at, load_accounts
from monitor.metrics.sources import day_end
from monitor.rules.model import (
    ActiveUsers,
    DaysSince,
    DistinctEvents,
    EventCount,
    PropertyAggregate,
)
from monitor.store.schema import day_terms, rollup_days
from monitor.timeutil import day_of_ms, to_ms

T = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
TODAY = day_of_ms(to_ms(T))
CORE = ("Report Created", "Dashboard Shared")
METRICS = [
    metric("logins_7d", EventCount(("Signed In",), 7)),
    metric("users_7d", ActiveUsers(7)),
    metric("breadth_14d", DistinctEvents(CORE, 14)),
    metric("days_since_login", DaysSince(("Signed In",))),
    metric("nps_avg_30d", PropertyAggregate(("NPS Submitted",), "score", "avg", 30)),
]
ENDS = [day_end(TODAY - k) for k in (1, 2, 3)]


def usage() -> list[Ev]:
    evs = []
    for k in range(1, 12):
        at = T - timedelta(days=k, hours=k % 5)
        evs += [
            Ev("a", "Signed In", at, user_id=f"u{k % 3}"),
            Ev("a", "Report Created", at),
            Ev("b", "NPS Submitted", at, properties={"score": k % 10}),
        ]
    return evs


@pytest.fixture
def store(engine: Engine) -> Engine:
    with engine.begin() as conn:
        add_account(conn, "a")
        add_account(conn, "b")
    store_events(engine, usage())
    return engine


def ends_metrics(engine: Engine, cache: DayCache | None) -> dict[datetime, object]:
    with engine.connect() as conn:
        facts = load_accounts(conn, T)
        return dict(compute_metrics_at(conn, METRICS, ENDS, facts, cache=cache))


def entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(day_terms)) or 0)


def test_day_ends_are_computed_once_then_read_back_equal(store: Engine) -> None:
    plain = ends_metrics(store, None)
    assert entries(store) == 0
    first = ends_metrics(store, DayCache(store))
    assert entries(store) == len(ENDS)
    second = ends_metrics(store, DayCache(store))
    assert first == second == plain
    # Property averages survive the round trip as (sum, count) pairs.
    assert isinstance(plain[ENDS[0]]["b"]["nps_avg_30d"], float)  # type: ignore[index]


def test_a_stored_entry_is_what_the_next_evaluation_reads(store: Engine) -> None:
    """Proof the values come from the cache: an entry edited in place is believed."""
    cache = DayCache(store)
    computed = ends_metrics(store, cache)
    with store.begin() as conn:
        payload = conn.scalar(select(day_terms.c.payload).where(day_terms.c.day == TODAY - 1))
        assert payload is not None
        rows = msgspec.msgpack.decode(payload)
        rows["a"] = [None] * len(rows["a"])  # as if "a" had never been seen
        conn.execute(
            update(day_terms)
            .where(day_terms.c.day == TODAY - 1)
            .values(payload=msgspec.msgpack.encode(rows))
        )
    got = ends_metrics(store, cache)
    assert got[ENDS[0]]["a"]["logins_7d"] is None  # type: ignore[index]
    assert got[ENDS[0]]["b"] == computed[ENDS[0]]["b"]  # type: ignore[index]
    assert got[ENDS[1]] == computed[ENDS[1]]


def test_events_added_to_a_past_day_make_its_end_and_later_ends_stale(store: Engine) -> None:
    cache = DayCache(store)
    before = ends_metrics(store, cache)
    late = T - timedelta(days=2, hours=20)  # on day TODAY-3
    assert day_of_ms(to_ms(late)) == TODAY - 3
    store_events(store, [Ev("a", "Signed In", late, user_id="new-user")])
    after = ends_metrics(store, cache)
    assert after == ends_metrics(store, None)  # recomputed, not read back
    for end in ENDS:
        gained = after[end]["a"]["logins_7d"] - before[end]["a"]["logins_7d"]  # type: ignore[index,operator]
        assert gained == 1
        assert after[end]["a"]["users_7d"] == before[end]["a"]["users_7d"] + 1  # type: ignore[index,operator]


def test_todays_events_leave_past_day_ends_valid(store: Engine) -> None:
    ends_metrics(store, DayCache(store))
    with store.connect() as conn:
        stamps_before = dict(conn.execute(select(rollup_days.c.day, rollup_days.c.version)).all())
    store_events(store, [Ev("a", "Signed In", T - timedelta(minutes=5))])
    with store.connect() as conn:
        stamps_after = dict(conn.execute(select(rollup_days.c.day, rollup_days.c.version)).all())
        stored = dict(conn.execute(select(day_terms.c.day, day_terms.c.stamp)).all())
    assert stamps_after == stamps_before | {TODAY: 1}
    # Every entry still matches the versions up to its day: nothing to recompute.
    for day, stamp in stored.items():
        assert stamp == sum(v for d, v in stamps_after.items() if d <= day)


def test_an_import_raises_the_version_of_each_day_it_adds_to_once(
    store: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    with store.connect() as conn:
        before = dict(conn.execute(select(rollup_days.c.day, rollup_days.c.version)).all())
    assert set(before) == {ev.day for ev in usage()}
    assert set(before.values()) == {1}
    again = tmp_path / "again.jsonl"
    again.write_bytes(orjson.dumps(segment_message(Ev("a", "Signed In", ENDS[2]))) + b"\n")
    for expected_accepted in (1, 0):  # the second import only finds a duplicate
        report = import_events(store, again, IngestSettings(), clock=clock)
        assert report.accepted == expected_accepted
    with store.connect() as conn:
        after = dict(conn.execute(select(rollup_days.c.day, rollup_days.c.version)).all())
    assert after == before | {TODAY - 3: 2}
