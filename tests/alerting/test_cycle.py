"""Whole alerting cycles over a small portfolio: what is queued, when, and to whom."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alerting_testkit import (
    ACCOUNTS,
    BOB,
    JANE,
    T0,
    Portfolio,
    alert_row,
    build_portfolio,
    by_target,
    changes_of,
    event_count,
    last_outbox_id,
    local_settings,
    outbox_rows,
    write_rules,
)
from sqlalchemy import Engine, delete

from monitor.alerting import AlertingOutcome, ack, evaluate_and_alert, record_alerts, snooze
from monitor.clock import FixedClock
from monitor.config import Settings
from monitor.evaluation import evaluate_accounts
from monitor.notify import MetricValue
from monitor.rules.model import RuleSet
from monitor.store.schema import accounts

DAY = timedelta(days=1)


@pytest.fixture
def portfolio(engine: Engine, tmp_path: Path) -> Portfolio:
    return build_portfolio(engine, tmp_path / "files")


@pytest.fixture
def rules(tmp_path: Path) -> RuleSet:
    return write_rules(tmp_path / "rules")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return local_settings(tmp_path)


def run(
    portfolio: Portfolio, rules: RuleSet, settings: Settings, delta: timedelta
) -> AlertingOutcome:
    return evaluate_and_alert(portfolio.engine, rules, settings, T0 + delta)


def test_the_first_evaluation_queues_one_grouped_message_per_recipient_and_channel(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    outcome = run(portfolio, rules, settings, timedelta(0))
    rows = outbox_rows(portfolio.engine)
    assert by_target(rows) == {
        JANE: [("a1", "quiet"), ("a1", "few_reports"), ("a2", "quiet"), ("a2", "few_reports")],
        BOB: [("a3", "quiet"), ("a3", "few_reports"), ("a3", "renewal")],
        "file": [("a4", "quiet"), ("a4", "few_reports")],  # no owner: the fallback
    }
    console = by_target(rows, "console")
    assert console.pop("console") == by_target(rows).pop("file")
    assert console == {JANE: by_target(rows)[JANE], BOB: by_target(rows)[BOB]}
    assert len(rows) == outcome.notifications_queued == 6
    assert {row.state for row in rows} == {"pending"}
    assert {row.next_attempt_at.replace(tzinfo=None) for row in rows} == {T0.replace(tzinfo=None)}
    assert outcome.transitions == {"firing": 9, "notified": 9}
    assert outcome.alerts_changed == 9 and outcome.accounts == 5


def test_the_payload_round_trips_into_a_notification_that_explains_each_alert(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    jane = next(
        r for r in outbox_rows(portfolio.engine) if r.channel == "file" and r.target == JANE
    )
    assert jane.notification.recipient == JANE and jane.notification.created_at == T0
    line = jane.notification.alerts[0]
    stored = alert_row(portfolio.engine, "a1", "quiet")
    assert jane.alert_ids == [line.alert_id for line in jane.notification.alerts]
    assert (line.alert_id, line.account_id, line.account_name) == (stored.alert_id, "a1", "Acme")
    assert (line.tier, line.score, line.band, line.band_trend) == ("B", 50.0, "yellow", "")
    assert (line.rule, line.kind, line.severity, line.state) == (
        "quiet",
        "churn_risk",
        "warning",
        "firing",
    )
    assert line.summary == "No sign-in for 12 days"
    assert line.values[0] == MetricValue("days_since_login", 12, "days_since_login >= 10")
    assert ("arr", 10000.0, "critical if arr >= 50000") in line.values
    assert (line.arr, line.owner, line.explain_command) == (10000.0, JANE, "csmon explain a1")
    bob = next(r for r in outbox_rows(portfolio.engine) if r.target == BOB)
    renewal = bob.notification.alerts[-1]
    assert renewal.renewal_date == (T0 + 45 * DAY).date()
    assert renewal.values[0] == MetricValue("days_to_renewal", 45, "days_to_renewal <= 60")


def test_repeats_follow_each_rules_interval_and_the_same_instant_changes_nothing(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    events, last = event_count(portfolio.engine), last_outbox_id(portfolio.engine)
    again = run(portfolio, rules, settings, timedelta(0))
    assert (again.alerts_changed, again.notifications_queued) == (0, 0)
    assert event_count(portfolio.engine) == events  # a restart repeats nothing
    assert run(portfolio, rules, settings, DAY).notifications_queued == 0
    eight_days = run(portfolio, rules, settings, 8 * DAY)
    rows = outbox_rows(portfolio.engine, after=last)
    # quiet repeats every 7 days; few_reports (30d) and the renewal (once) stay silent.
    assert by_target(rows) == {
        JANE: [("a1", "quiet"), ("a2", "quiet")],
        BOB: [("a3", "quiet")],
        "file": [("a4", "quiet")],
    }
    assert eight_days.transitions == {"notified": 4}
    assert changes_of(portfolio.engine, alert_row(portfolio.engine, "a1", "quiet").alert_id) == [
        "firing",
        "notified",
        "notified",
    ]


def test_a_severity_rise_notifies_at_once(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    last = last_outbox_id(portfolio.engine)
    bigger = [{**ACCOUNTS[0], "arr": "60000"}]  # arr >= 50000 makes `quiet` critical
    portfolio.import_accounts(bigger, at=T0 + timedelta(hours=1))
    outcome = run(portfolio, rules, settings, timedelta(hours=1))
    rows = outbox_rows(portfolio.engine, after=last)
    assert by_target(rows) == {JANE: [("a1", "quiet")]}
    line = rows[0].notification.alerts[0]
    assert (line.severity, line.tier) == ("critical", "A")
    assert outcome.transitions == {"severity_up": 1, "notified": 1}


def test_snooze_silences_until_the_account_gets_worse(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    alert_id = alert_row(portfolio.engine, "a1", "quiet").alert_id
    assert alert_id is not None
    snooze(portfolio.engine, alert_id, T0 + 60 * DAY, "call booked", JANE, FixedClock(T0))
    last = last_outbox_id(portfolio.engine)
    run(portfolio, rules, settings, 8 * DAY)  # quiet's repeat is due, a1's is snoozed
    assert by_target(outbox_rows(portfolio.engine, after=last))[JANE] == [("a2", "quiet")]
    last = last_outbox_id(portfolio.engine)
    # 31 days on, a1's reports have left the 30-day window: yellow -> red.
    run(portfolio, rules, settings, 31 * DAY)
    jane = by_target(outbox_rows(portfolio.engine, after=last))[JANE]
    assert ("a1", "quiet") in jane
    row = alert_row(portfolio.engine, "a1", "quiet")
    assert row.snoozed_until is None
    assert changes_of(portfolio.engine, alert_id)[-3:] == ["snoozed", "unsnoozed_worse", "notified"]
    line = next(
        a
        for r in outbox_rows(portfolio.engine, after=last)
        for a in r.notification.alerts
        if (a.account_id, a.rule) == ("a1", "quiet")
    )
    assert (line.band, line.band_trend) == ("red", "▼ from yellow")


def test_an_acknowledged_alert_is_silent_until_its_severity_rises(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    alert_id = alert_row(portfolio.engine, "a1", "quiet").alert_id
    assert alert_id is not None
    ack(portfolio.engine, alert_id, JANE, FixedClock(T0 + timedelta(hours=2)))
    last = last_outbox_id(portfolio.engine)
    run(portfolio, rules, settings, 8 * DAY)
    assert by_target(outbox_rows(portfolio.engine, after=last))[JANE] == [("a2", "quiet")]
    last = last_outbox_id(portfolio.engine)
    portfolio.import_accounts([{**ACCOUNTS[0], "arr": "60000"}], at=T0 + 9 * DAY)
    run(portfolio, rules, settings, 9 * DAY)
    assert by_target(outbox_rows(portfolio.engine, after=last)) == {JANE: [("a1", "quiet")]}


@pytest.mark.parametrize("how", ["deleted", "disabled"])
def test_a_rule_removed_from_the_rule_set_resolves_its_alerts_quietly(
    portfolio: Portfolio, rules: RuleSet, settings: Settings, tmp_path: Path, how: str
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    last = last_outbox_id(portfolio.engine)
    fewer = write_rules(tmp_path / "rules", few_reports=None if how == "deleted" else False)
    outcome = run(
        portfolio,
        fewer,
        settings.model_copy(
            update={"routing": settings.routing.model_copy(update={"resolve_notices": True})}
        ),
        timedelta(hours=1),
    )
    assert outcome.transitions == {"resolved_rule_removed": 4}
    assert outbox_rows(portfolio.engine, after=last) == []
    row = alert_row(portfolio.engine, "a1", "few_reports")
    assert (row.state, row.resolved_at) == ("resolved", T0 + timedelta(hours=1))
    assert run(portfolio, fewer, settings, 2 * DAY).transitions == {}


def test_an_account_that_is_gone_has_its_alerts_resolved_quietly(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    with portfolio.engine.begin() as conn:
        conn.execute(delete(accounts).where(accounts.c.account_id == "a4"))
    outcome = run(portfolio, rules, settings, timedelta(hours=1))
    assert outcome.transitions == {"resolved_account_gone": 2}
    assert alert_row(portfolio.engine, "a4", "quiet").state == "resolved"


def test_an_account_without_owner_goes_to_the_configured_fallback(
    portfolio: Portfolio, rules: RuleSet, tmp_path: Path
) -> None:
    slack = local_settings(
        tmp_path, slack={"token": "xoxb-test"}, routing={"fallback": ["slack:#cs-unowned"]}
    )
    run(portfolio, rules, slack, timedelta(0))
    rows = outbox_rows(portfolio.engine)
    assert {r.channel for r in rows} == {"slack"}
    assert by_target(rows, "slack") == {
        f"user:{JANE}": [
            ("a1", "quiet"),
            ("a1", "few_reports"),
            ("a2", "quiet"),
            ("a2", "few_reports"),
        ],
        f"user:{BOB}": [("a3", "quiet"), ("a3", "few_reports"), ("a3", "renewal")],
        "#cs-unowned": [("a4", "quiet"), ("a4", "few_reports")],
    }
    assert next(r for r in rows if r.target == "#cs-unowned").recipient == "#cs-unowned"


def test_renewal_thresholds_fire_once_per_contract_and_threshold(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    renewals: list[str] = []
    for days in (1, 8, 14, 16, 20, 21, 40):
        last = last_outbox_id(portfolio.engine)
        run(portfolio, rules, settings, days * DAY)
        renewals += [
            f"+{days}d {a.values[0].condition}"
            for r in outbox_rows(portfolio.engine, after=last)
            if r.channel == "file"
            for a in r.notification.alerts
            if a.kind == "renewal"
        ]
    # The contract ends at +45d: within 60 days from the start, within 30 from +15d.
    assert renewals == ["+16d days_to_renewal <= 30"]
    assert alert_row(portfolio.engine, "a3", "renewal:c3:60").state == "resolved"
    assert changes_of(
        portfolio.engine, alert_row(portfolio.engine, "a3", "renewal:c3:60").alert_id
    ) == [
        "firing",
        "notified",
        "resolved",
    ]


def test_resolve_notices_tell_whoever_heard_of_the_alert(
    portfolio: Portfolio, rules: RuleSet, tmp_path: Path
) -> None:
    notices = local_settings(tmp_path, routing={"resolve_notices": True})
    run(portfolio, rules, notices, timedelta(0))
    last = last_outbox_id(portfolio.engine)
    portfolio.track("a2", "Signed In", [T0 + timedelta(hours=1)])
    run(portfolio, rules, notices, timedelta(hours=2))
    rows = outbox_rows(portfolio.engine, after=last)
    assert by_target(rows) == {JANE: [("a2", "quiet")]}
    assert rows[0].notification.alerts[0].state == "resolved"


def test_two_evaluators_at_once_queue_each_notification_once(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    evaluation = evaluate_accounts(portfolio.engine, rules, T0, store=True)
    outcomes: list[AlertingOutcome] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def evaluator() -> None:
        start.wait()
        try:
            outcomes.append(record_alerts(portfolio.engine, rules, settings, evaluation))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=evaluator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(o.notifications_queued for o in outcomes) == [0, 6]
    assert len(outbox_rows(portfolio.engine)) == 6


def test_an_evaluation_of_the_past_leaves_newer_alert_state_alone(
    portfolio: Portfolio, rules: RuleSet, settings: Settings
) -> None:
    run(portfolio, rules, settings, timedelta(0))
    events, last = event_count(portfolio.engine), last_outbox_id(portfolio.engine)
    # Ten days earlier nobody was quiet yet: applied, it would resolve every alert.
    past = run(portfolio, rules, settings, -10 * DAY)
    assert past.newer_state_at == T0
    assert "their state is from a later evaluation (2026-11-02 09:00 UTC)" in past.describe()
    assert (event_count(portfolio.engine), last_outbox_id(portfolio.engine)) == (events, last)
    assert alert_row(portfolio.engine, "a1", "quiet").state == "firing"
