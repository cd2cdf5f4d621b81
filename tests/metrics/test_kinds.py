"""Metric kinds built on windows and other metrics: days since, active weeks, change,
baseline ratio, attributes and expressions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from metrics_testkit import Ev, add_account, derived, metric, store_events
from sqlalchemy import Engine

from monitor.metrics import compute_metrics, load_accounts
from monitor.rules.expr import Value
from monitor.rules.model import (
    ActiveUsers,
    ActiveWeeks,
    Attribute,
    BaselineRatio,
    Change,
    DaysSince,
    EventCount,
    Metric,
    PropertyAggregate,
)

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LOGINS_7D = metric("logins_7d", EventCount(("Signed In",), 7))


def compute(
    engine: Engine, evs: list[Ev], metrics: list[Metric], **account: object
) -> dict[str, Value]:
    """The metrics of account "acme" at T, given its events."""
    with engine.begin() as conn:
        add_account(conn, "acme", **account)
    store_events(engine, evs)
    with engine.connect() as conn:
        return compute_metrics(conn, metrics, T, load_accounts(conn, T))["acme"]


def ev(name: str, days_ago: float, user: str = "u1", **properties: object) -> Ev:
    return Ev("acme", name, T - timedelta(days=days_ago), user, properties=properties)


def test_days_since_counts_whole_days_back_to_the_last_event(engine: Engine) -> None:
    metrics = [
        metric("since_login", DaysSince(("Signed In",))),
        metric("since_ticket", DaysSince(("Support Ticket Opened",))),
        metric("since_any", DaysSince()),
        metric("since_export", DaysSince(("Report Exported",))),
    ]
    evs = [
        ev("Signed In", 3.5),  # Oct 29, 21:00: 4 calendar days before Nov 2
        ev("Signed In", -0.1),  # later today, after the instant: not seen yet
        ev("Support Ticket Opened", 400),  # long before any window: found in the history
        ev("Report Created", 0.1),  # today, before the instant
    ]

    assert compute(engine, evs, metrics) == {
        "since_login": 4,
        "since_ticket": 400,
        "since_any": 0,
        "since_export": None,  # never happened
    }


def test_active_weeks_counts_consecutive_weeks_up_to_a_gap(engine: Engine) -> None:
    metrics = [
        metric("weeks", ActiveWeeks(("Report Created",), max_weeks=8)),
        metric("busy_weeks", ActiveWeeks(("Report Created",), max_weeks=8, min_events=2)),
        metric("capped", ActiveWeeks(("Report Created",), max_weeks=2)),
    ]
    # Weeks are the 7-day blocks ending today: days 0-6 ago, 7-13, 14-20, ...
    evs = [
        ev("Report Created", 0.2),
        ev("Report Created", 6.3),  # week 0 has two
        ev("Report Created", 13),  # week 1 has one, on its first day
        ev("Report Created", 15),  # week 2
        ev("Report Created", 29),  # week 4: week 3 is the gap
    ]

    assert compute(engine, evs, metrics) == {"weeks": 3, "busy_weeks": 1, "capped": 2}


def test_change_compares_with_the_window_just_before(engine: Engine) -> None:
    metrics = [
        LOGINS_7D,
        metric("change", Change("logins_7d")),
        metric("users_7d", ActiveUsers(7)),
        metric("users_change", Change("users_7d")),
        metric("recent", EventCount(("Report Created",), 7)),
        metric("recent_change", Change("recent")),
    ]
    evs = [
        *(ev("Signed In", d, user=f"u{d}") for d in (1, 2, 3)),  # this week: 3 logins
        *(ev("Signed In", d, user="u9") for d in (8, 9, 10, 11)),  # the week before: 4
        ev("Report Created", 2),  # nothing the week before: no change to speak of
    ]

    assert compute(engine, evs, metrics) == {
        "logins_7d": 3,
        "change": pytest.approx(-0.25),
        "users_7d": 3,
        "users_change": pytest.approx(2.0),
        "recent": 1,
        "recent_change": None,
    }


def test_baseline_ratio_compares_with_the_usual_level_per_window(engine: Engine) -> None:
    metrics = [
        metric("help_7d", EventCount(("page:/help",), 7)),
        metric("help_vs_usual", BaselineRatio("help_7d", 28)),
        metric("nps", PropertyAggregate(("NPS Submitted",), "score", "avg", 7)),
        metric("nps_vs_usual", BaselineRatio("nps", 28)),
        metric("tickets_7d", EventCount(("Support Ticket Opened",), 7)),
        metric("tickets_vs_usual", BaselineRatio("tickets_7d", 28)),
    ]
    help_view = Ev("acme", "page:/help", T, type="page")
    evs = [
        *(Ev("acme", "page:/help", T - timedelta(days=d, hours=1), type="page") for d in range(6)),
        help_view,
        # The 28 days before the window (days 7..34 ago): 8 views, i.e. 2 per 7 days.
        *(Ev("acme", "page:/help", T - timedelta(days=7 + 3 * d), type="page") for d in range(8)),
        ev("Support Ticket Opened", 40),  # outside both: a zero baseline
        ev("NPS Submitted", 1, score=6),
        ev("NPS Submitted", 10, score=8),
        ev("NPS Submitted", 20, score=10),
    ]

    assert compute(engine, evs, metrics) == {
        "help_7d": 7,
        "help_vs_usual": pytest.approx(3.5),
        "nps": 6.0,
        "nps_vs_usual": pytest.approx(6 / 9),  # an average is not scaled by days
        "tickets_7d": 0,
        "tickets_vs_usual": None,
    }


def test_expressions_see_attributes_and_earlier_metrics(engine: Engine) -> None:
    metrics = [
        LOGINS_7D,
        metric("seats_metric", Attribute("seats")),
        metric("industry", Attribute("attrs.industry")),
        derived("per_seat", "logins_7d / seats"),
        derived("double", "per_seat * 2"),
        derived("region", "attrs.region"),  # not set: null, not an error
        derived("renewal_soon", "days_to_renewal < 90"),
        derived("eu", "'eu' in attrs.regions"),
    ]

    values = compute(
        engine,
        [ev("Signed In", d) for d in range(5)],
        metrics,
        seats=4,
        attributes={"industry": "retail", "regions": ["eu", "apac"]},
    )

    assert values == {
        "logins_7d": 5,
        "seats_metric": 4,
        "industry": "retail",
        "per_seat": 1.25,
        "double": 2.5,
        "region": None,
        "renewal_soon": None,
        "eu": True,
    }


def test_usage_metrics_of_an_account_without_usage_are_all_null(engine: Engine) -> None:
    metrics = [
        LOGINS_7D,
        metric("change", Change("logins_7d")),
        metric("ratio", BaselineRatio("logins_7d", 28)),
        metric("since", DaysSince()),
        metric("weeks", ActiveWeeks(("Signed In",), 4)),
        metric("users", ActiveUsers(30)),
        metric("arr", Attribute("arr")),
        derived("arr_k", "arr / 1000"),
    ]

    values = compute(engine, [], metrics, arr=50_000.0)

    assert values == dict.fromkeys(values) | {"arr": 50_000.0, "arr_k": 50.0}


def test_a_bad_reference_is_a_clear_error(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="'nope'"):
            compute_metrics(conn, [metric("c", Change("nope"))], T, [])
        with pytest.raises(ValueError, match="not an account attribute"):
            compute_metrics(conn, [metric("a", Attribute("colour"))], T, [])


def test_an_expression_failing_on_an_accounts_data_leaves_that_value_empty(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = [LOGINS_7D, derived("bad", "attrs.industry + 1"), derived("ok", "logins_7d + 1")]

    values = compute(engine, [ev("Signed In", 1)], metrics, attributes={"industry": "retail"})

    assert values == {"logins_7d": 1, "bad": None, "ok": 2}
    assert "metric bad (attrs.industry + 1) has no value for account acme" in caplog.text
