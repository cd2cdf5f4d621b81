"""Window metrics at an instant: edges, offsets, the instant's own day, the no-data rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from metrics_testkit import Ev, add_account, metric, store_events
from sqlalchemy import Engine, delete

from monitor.metrics import AccountMetrics, compute_metrics, compute_metrics_at, load_accounts
from monitor.rules.model import (
    ActiveUsers,
    Attribute,
    DistinctEvents,
    EventCount,
    Metric,
    PropertyAggregate,
)
from monitor.store.schema import events
from monitor.timeutil import to_ms

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 2, tzinfo=UTC)
MS = timedelta(milliseconds=1)
DAY = timedelta(days=1)

LOGINS_7D = metric("logins_7d", EventCount(("Signed In",), 7))
LOGINS_PREV_7D = metric("logins_prev_7d", EventCount(("Signed In",), 7, offset_days=7))


def setup(engine: Engine, *evs: Ev, ids: tuple[str, ...] = ("acme",)) -> None:
    with engine.begin() as conn:
        for account_id in ids:
            add_account(conn, account_id)
    store_events(engine, evs)


def compute(engine: Engine, metrics: list[Metric], at: datetime = T) -> AccountMetrics:
    with engine.connect() as conn:
        return compute_metrics(conn, metrics, at, load_accounts(conn, at))


def login(at: datetime, account_id: str = "acme", user: str = "u1") -> Ev:
    return Ev(account_id, "Signed In", at, user_id=user)


def test_window_includes_its_first_day_and_excludes_the_day_before(engine: Engine) -> None:
    first_day = MIDNIGHT - 6 * DAY  # the 7-day window is Oct 27 .. Nov 2
    setup(engine, login(first_day), login(first_day - MS), login(first_day + DAY - MS))

    assert compute(engine, [LOGINS_7D])["acme"]["logins_7d"] == 2


def test_the_instants_day_counts_events_up_to_and_including_the_instant(engine: Engine) -> None:
    setup(engine, login(MIDNIGHT), login(T), login(T + MS), login(T + 5 * 3600 * 1000 * MS))

    assert compute(engine, [LOGINS_7D])["acme"]["logins_7d"] == 2
    assert compute(engine, [LOGINS_7D], at=T - MS)["acme"]["logins_7d"] == 1
    assert compute(engine, [LOGINS_7D], at=MIDNIGHT + DAY - MS)["acme"]["logins_7d"] == 4


def test_evaluating_twice_at_the_same_instant_ignores_events_that_arrived_since(
    engine: Engine,
) -> None:
    setup(engine, login(T - DAY), login(T - 60_000 * MS))
    before = compute(engine, [LOGINS_7D])
    store_events(engine, [login(T + MS), login(T + 3_600_000 * MS)])

    assert compute(engine, [LOGINS_7D]) == before == {"acme": {"logins_7d": 2}}


def test_an_offset_window_covers_the_days_before_the_recent_ones(engine: Engine) -> None:
    setup(
        engine,
        login(T),  # current window only
        login(MIDNIGHT - 7 * DAY),  # the last day of the offset window (Oct 26)
        login(MIDNIGHT - 13 * DAY),  # its first day (Oct 20)
        login(MIDNIGHT - 13 * DAY - MS),  # the day before: outside both
    )

    values = compute(engine, [LOGINS_7D, LOGINS_PREV_7D])["acme"]
    assert values == {"logins_7d": 1, "logins_prev_7d": 2}


def test_an_account_without_any_usage_has_no_data_not_zero(engine: Engine) -> None:
    setup(engine, login(T - DAY, "busy"), login(T + MS, "late"), ids=("busy", "quiet", "late"))
    metrics = [
        LOGINS_7D,
        metric("users_7d", ActiveUsers(7)),
        metric("arr", Attribute("arr")),
    ]

    values = compute(engine, metrics)

    assert values["busy"] == {"logins_7d": 1, "users_7d": 1, "arr": 10_000.0}
    # "late"'s only event comes after T: at T nobody could see it either.
    for account_id in ("quiet", "late"):
        assert values[account_id] == {"logins_7d": None, "users_7d": None, "arr": 10_000.0}


def test_an_account_with_usage_but_an_empty_window_gets_zero(engine: Engine) -> None:
    setup(engine, Ev("acme", "Report Created", T - 40 * DAY))
    metrics = [
        LOGINS_7D,
        metric("users_7d", ActiveUsers(7)),
        metric("core", DistinctEvents(("Report Created", "Dashboard Shared"), 7)),
        metric("nps_sum", PropertyAggregate(("NPS Submitted",), "score", "sum", 7)),
        metric("nps_n", PropertyAggregate(("NPS Submitted",), "score", "count", 7)),
        metric("nps_avg", PropertyAggregate(("NPS Submitted",), "score", "avg", 7)),
    ]

    assert compute(engine, metrics)["acme"] == {
        "logins_7d": 0,
        "users_7d": 0,
        "core": 0,
        "nps_sum": 0.0,
        "nps_n": 0,
        "nps_avg": None,
    }


def test_active_users_are_distinct_across_days_and_the_instants_day(engine: Engine) -> None:
    setup(
        engine,
        login(T - 3 * DAY, user="ann"),
        login(T - 2 * DAY, user="ann"),
        Ev("acme", "page:/help", T - 2 * DAY, user_id="bob", type="page"),
        login(T - 60_000 * MS, user="ann"),
        login(T - 60_000 * MS, user="cid"),
        login(T + MS, user="dan"),  # after the instant
        login(T - 8 * DAY, user="eve"),  # before the window
    )
    metrics = [metric("users_7d", ActiveUsers(7)), metric("users_1d", ActiveUsers(1))]

    assert compute(engine, metrics)["acme"] == {"users_7d": 3, "users_1d": 2}


def test_distinct_events_counts_each_listed_event_once(engine: Engine) -> None:
    core = ("Dashboard Shared", "Integration Connected", "Report Created")
    setup(
        engine,
        *(Ev("acme", "Report Created", T - n * DAY) for n in range(5)),
        Ev("acme", "Dashboard Shared", T),
        Ev("acme", "Integration Connected", T + MS),  # after the instant
        Ev("acme", "Signed In", T),  # not a core feature
    )

    assert compute(engine, [metric("breadth", DistinctEvents(core, 30))])["acme"] == {"breadth": 2}


def test_property_aggregates_skip_values_that_are_not_numbers(engine: Engine) -> None:
    def nps(at: datetime, score: object) -> Ev:
        return Ev("acme", "NPS Submitted", at, properties={"score": score})

    setup(
        engine,
        nps(T - 10 * DAY, 9),
        nps(T - 5 * DAY, 6.5),
        nps(T - 5 * DAY, "n/a"),
        nps(T - 60_000 * MS, 3),  # the instant's day: read from the raw JSON
        nps(T - 30_000 * MS, True),
        nps(T - 20_000 * MS, "7"),
        Ev("acme", "NPS Submitted", T - 10_000 * MS, properties={}),
        nps(T + MS, 0),  # after the instant
        nps(T - 40 * DAY, 10),  # before the window
    )
    metrics = [
        metric(name, PropertyAggregate(("NPS Submitted",), "score", name, 30))
        for name in ("sum", "avg", "count")
    ]

    values = compute(engine, metrics)["acme"]

    assert values == {"sum": pytest.approx(18.5), "avg": pytest.approx(18.5 / 3), "count": 3}
    assert isinstance(values["sum"], float) and isinstance(values["count"], int)


def test_when_retention_removed_the_instants_raw_events_the_rollup_day_counts(
    engine: Engine,
) -> None:
    at = T - 200 * DAY
    hour = 3_600_000 * MS
    setup(
        engine,
        login(at - hour, user="ann"),
        login(at + hour, user="bob"),  # after the instant, but only the rollup is left
        login(at - 2 * DAY, user="ann"),
        Ev("acme", "NPS Submitted", at + hour, "bob", properties={"score": 4}),
    )
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.ts_ms < to_ms(T - 100 * DAY)))
    metrics = [
        LOGINS_7D,
        metric("users_1d", ActiveUsers(1)),
        metric("nps", PropertyAggregate(("NPS Submitted",), "score", "sum", 1)),
    ]

    # The raw rows are gone, so the whole day's rollups count.
    assert compute(engine, metrics, at=at)["acme"] == {"logins_7d": 3, "users_1d": 2, "nps": 4.0}


def test_several_instants_in_one_call_equal_one_call_per_instant(engine: Engine) -> None:
    setup(
        engine,
        *(login(T - n * 7_200_000 * MS, user=f"u{n % 3}") for n in range(60)),
        login(T + MS),
        ids=("acme", "quiet"),
    )
    metrics = [LOGINS_7D, LOGINS_PREV_7D, metric("users_1d", ActiveUsers(1))]
    instants = [T - n * DAY for n in range(4)] + [MIDNIGHT, MIDNIGHT - MS]

    with engine.connect() as conn:
        facts = load_accounts(conn, T)
        together = compute_metrics_at(conn, metrics, instants, facts)
        one_by_one = {at: compute_metrics(conn, metrics, at, facts) for at in instants}

    assert together == one_by_one
    assert together[T]["acme"]["logins_7d"] == 60
    assert together[MIDNIGHT - MS]["acme"]["users_1d"] == 3


def test_instants_split_into_batches_give_the_same_values(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(engine, *(login(T - n * 5_000_000 * MS, user=f"u{n % 4}") for n in range(40)))
    metrics = [LOGINS_7D, LOGINS_PREV_7D, metric("users_1d", ActiveUsers(1))]
    instants = [T - n * 3_600_000 * MS for n in range(0, 72, 7)]
    with engine.connect() as conn:
        facts = load_accounts(conn, T)
        together = compute_metrics_at(conn, metrics, instants, facts)
        # So few columns per query that every instant gets a query of its own.
        monkeypatch.setattr("monitor.metrics.queries.MAX_COLUMNS", 1)
        batched = compute_metrics_at(conn, metrics, instants, facts)

    assert batched == together
    # A login every 5,000 s; instants 7 h apart see 40, then 34, then 29 of them.
    assert [together[at]["acme"]["logins_7d"] for at in instants[:3]] == [40, 34, 29]
