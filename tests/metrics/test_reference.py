"""The SQL equals a plain-Python reference computed straight from the raw events.

Random events (several accounts, ~130 days, instants at and around midnight and
mid-day, values that are not numbers, events after the instant) are imported with the
real importer; every metric kind is computed both ways for every account.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from metrics_testkit import Ev, add_account, derived, is_number, metric, store_events
from sqlalchemy import Engine

from monitor.metrics import AccountFacts, DayCache, compute_metrics_at, load_accounts
from monitor.rules.expr import Value
from monitor.rules.model import (
    ActiveUsers,
    ActiveWeeks,
    Attribute,
    BaselineRatio,
    Change,
    DaysSince,
    Derived,
    DistinctEvents,
    EventCount,
    Metric,
    PropertyAggregate,
)
from monitor.timeutil import day_of_ms, to_ms

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
INSTANTS = [
    T,
    datetime(2026, 11, 2, tzinfo=UTC),  # midnight: the new day holds nothing yet
    datetime(2026, 11, 1, 23, 59, 59, 999_000, tzinfo=UTC),
    datetime(2026, 10, 29, 13, 37, 12, 345_000, tzinfo=UTC),
    T - timedelta(days=1),
]
LOGIN = ("Signed In",)
CORE = ("Report Created", "Dashboard Shared", "Report Exported", "Integration Connected")
HELP = ("page:/help",)
NPS = ("NPS Submitted",)
NAMES = [*LOGIN * 4, *CORE, *HELP * 2, "page:/home", "Support Ticket Opened", *NPS]

METRICS: list[Metric] = [
    metric("logins_14d", EventCount(LOGIN, 14)),
    metric("logins_1d", EventCount(LOGIN, 1)),
    metric("logins_before_7d", EventCount(LOGIN, 28, offset_days=7)),
    metric("logins_change_14d", Change("logins_14d")),
    metric("core_30d", EventCount(CORE, 30)),
    metric("core_change_30d", Change("core_30d")),
    metric("help_7d", EventCount(HELP, 7)),
    metric("help_vs_baseline", BaselineRatio("help_7d", 28)),
    metric("users_30d", ActiveUsers(30)),
    metric("users_1d", ActiveUsers(1)),
    metric("users_prev_7d", ActiveUsers(7, offset_days=7)),
    metric("users_change_7d", Change("users_prev_7d")),
    metric("users_vs_baseline", BaselineRatio("users_30d", 60)),
    metric("breadth_30d", DistinctEvents(CORE, 30)),
    metric("breadth_2d", DistinctEvents(CORE, 2)),
    metric("breadth_change", Change("breadth_30d")),
    metric("days_since_login", DaysSince(LOGIN)),
    metric("days_since_ticket", DaysSince(("Support Ticket Opened",))),
    metric("days_since_any", DaysSince(())),
    metric("weeks_core", ActiveWeeks(CORE, 12)),
    metric("weeks_any_3", ActiveWeeks((), 8, min_events=3)),
    metric("nps_avg_90d", PropertyAggregate(NPS, "score", "avg", 90)),
    metric("nps_sum_7d", PropertyAggregate(NPS, "score", "sum", 7)),
    metric("nps_count_30d", PropertyAggregate(NPS, "score", "count", 30, offset_days=1)),
    metric("nps_avg_change", Change("nps_avg_90d")),
    metric("nps_avg_vs_baseline", BaselineRatio("nps_avg_90d", 30)),
    metric("value_sum_30d", PropertyAggregate(CORE, "value", "sum", 30)),
    metric("value_vs_baseline", BaselineRatio("value_sum_30d", 30)),
    metric("seats", Attribute("seats")),
    derived("logins_per_seat", "logins_14d / seats"),
    derived("quiet_week", "coalesce(logins_1d + help_7d == 0, false)"),
]


def generate(seed: int) -> list[Ev]:
    """Random usage for accounts a0..a7; "old" has only events long ago, "late" only
    after every instant, "quiet" none at all."""
    rnd = random.Random(seed)
    first = to_ms(T) - 130 * 86_400_000
    last = to_ms(T) + 86_400_000
    evs: list[Ev] = []
    for n in range(8):
        for _ in range(rnd.randint(0, 400)):
            at = datetime.fromtimestamp(rnd.randint(first, last) / 1000, UTC)
            name = rnd.choice(NAMES)
            evs.append(Ev(f"a{n}", name, at, f"u{rnd.randint(0, 6)}", *_kind(rnd, name)))
        # Bursts on and just around the instants' days, to test their edges hard.
        for instant in INSTANTS:
            for _ in range(rnd.randint(0, 6)):
                at = instant + timedelta(milliseconds=rnd.randint(-3_600_000, 3_600_000))
                name = rnd.choice(NAMES)
                evs.append(Ev(f"a{n}", name, at, f"u{rnd.randint(0, 6)}", *_kind(rnd, name)))
    evs.append(Ev("old", "Signed In", T - timedelta(days=125)))
    evs.append(Ev("late", "Signed In", T + timedelta(hours=20)))
    return evs


def _kind(rnd: random.Random, name: str) -> tuple[str, dict[str, Any]]:
    kind = "page" if name.startswith("page:") else "track"
    if name in NPS:
        score = rnd.choice([0, 3, 7, 9, 10, 8.5, "10", True, None])
        return kind, {} if score is None else {"score": score}
    if name in CORE and rnd.random() < 0.5:
        return kind, {"value": rnd.choice([1, 2.5, 100, "12", False])}
    return kind, {}


# --- the reference: straight from the events, no rollups, no SQL -----------------------


def reference(
    evs: Sequence[Ev], facts: AccountFacts, at: datetime, metrics: Sequence[Metric]
) -> dict[str, Value]:
    t_ms = to_ms(at)
    t_day = day_of_ms(t_ms)
    seen = [
        e
        for e in evs
        if e.account_id == facts.account_id and e.type in ("track", "page") and e.ms <= t_ms
    ]

    def window(w: int, o: int) -> list[Ev]:
        return [e for e in seen if t_day - o - w + 1 <= e.day <= t_day - o]

    def aggregate(src: Any, w: int, o: int) -> float | int | None:
        rows = window(w, o)
        if isinstance(src, EventCount):
            return sum(1 for e in rows if e.name in src.events)
        if isinstance(src, ActiveUsers):
            return len({e.user_id for e in rows})
        if isinstance(src, DistinctEvents):
            return len({e.name for e in rows if e.name in src.events})
        values = [
            float(e.properties[src.property])
            for e in rows
            if e.name in src.events and is_number(e.properties.get(src.property))
        ]
        if src.aggregate == "sum":
            return sum(values)
        if src.aggregate == "count":
            return len(values)
        return sum(values) / len(values) if values else None

    env: dict[str, Value] = facts.attribute_values(at)
    sources = {m.name: m.source for m in metrics}
    out: dict[str, Value] = {}
    for m in metrics:
        src = m.source
        value: Value
        if isinstance(src, Attribute):
            value = env[src.attribute]
        elif isinstance(src, Derived):
            value = src.expr({n: env.get(n) for n in src.expr.names})
        elif not seen:
            value = None
        elif isinstance(src, DaysSince):
            days = [e.day for e in seen if not src.events or e.name in src.events]
            value = t_day - max(days) if days else None
        elif isinstance(src, ActiveWeeks):
            active = [
                sum(1 for e in window(7, 7 * k) if not src.events or e.name in src.events)
                >= src.min_events
                for k in range(src.max_weeks)
            ]
            value = active.index(False) if False in active else src.max_weeks
        elif isinstance(src, Change):
            of: Any = sources[src.of]
            cur = aggregate(of, of.window_days, of.offset_days)
            prev = aggregate(of, of.window_days, of.offset_days + of.window_days)
            value = None if cur is None or not prev else (cur - prev) / prev
        elif isinstance(src, BaselineRatio):
            of = sources[src.of]
            cur = aggregate(of, of.window_days, of.offset_days)
            base = aggregate(of, src.baseline_days, of.offset_days + of.window_days)
            is_avg = isinstance(of, PropertyAggregate) and of.aggregate == "avg"
            scale = 1 if is_avg else of.window_days / src.baseline_days
            value = None if cur is None or not base else cur / (base * scale)
        else:
            value = aggregate(src, src.window_days, src.offset_days)
        out[m.name] = env[m.name] = value
    return out


def approx(values: dict[str, dict[str, Value]]) -> dict[str, dict[str, Any]]:
    return {
        account: {k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()}
        for account, row in values.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_equals_the_python_reference_for_every_account_metric_and_instant(
    engine: Engine, seed: int
) -> None:
    evs = generate(seed)
    with engine.begin() as conn:
        for account_id in sorted({e.account_id for e in evs} | {"quiet"}):
            add_account(conn, account_id, seats=5)
    store_events(engine, evs)

    with engine.connect() as conn:
        facts = load_accounts(conn, T)
        got = compute_metrics_at(conn, METRICS, INSTANTS, facts)
        # The same through the day-end cache: computed and kept the first time (each
        # instant as the day end before it plus its own day), read back the second.
        cached = [
            compute_metrics_at(conn, METRICS, INSTANTS, facts, cache=DayCache(engine))
            for _ in range(2)
        ]

    for at in INSTANTS:
        expected = {f.account_id: reference(evs, f, at, METRICS) for f in facts}
        assert got[at] == approx(expected), at
        assert cached[0][at] == approx(expected), at
        assert cached[1][at] == approx(expected), at
    # The data must exercise what it is meant to: no-data accounts, history, edges.
    assert got[T]["quiet"]["logins_14d"] is None and got[T]["late"]["days_since_any"] is None
    assert got[T]["old"]["days_since_login"] == 125 and got[T]["old"]["logins_14d"] == 0
    assert any(row["nps_avg_vs_baseline"] is not None for row in got[T].values())
