"""``for`` is judged at day ends: the condition holds at T and held at the end of each
of the UTC days before T's, as many as ``for`` has days."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from metrics_testkit import Ev, add_account, store_events
from sqlalchemy import Engine

from monitor.evaluation import evaluate_accounts
from monitor.evaluation.history import checkpoints
from monitor.evaluation.run import Evaluation
from monitor.evaluation.verdicts import Verdict
from monitor.rules.loader import load_rules

RULES = Path(__file__).parents[2] / "rules"
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ONE_LOGIN_A_WEEK = """
[[alert]]
name = "one_login_a_week"
kind = "churn_risk"
description = "Exactly one sign-in in the last 7 days."
when = "logins_7d == 1"
severity = "warning"
for = "1d"
summary = "One sign-in in 7 days"
"""


def test_checkpoints_are_the_ends_of_the_days_before_t() -> None:
    rules = load_rules(RULES)
    assert max(rule.for_.days for rule in rules.alerts) == 7
    assert checkpoints(rules, T) == [
        datetime(2026, 3, 1, 23, 59, 59, 999_000, tzinfo=UTC),
        datetime(2026, 2, 28, 23, 59, 59, 999_000, tzinfo=UTC),
        *(datetime(2026, 2, day, 23, 59, 59, 999_000, tzinfo=UTC) for day in range(27, 22, -1)),
    ]
    # At a day end itself, the checkpoints are still the days before.
    assert checkpoints(rules, checkpoints(rules, T)[0])[0] == checkpoints(rules, T)[1]


def test_a_condition_that_held_at_yesterdays_end_counts_for_a_day(
    engine: Engine, tmp_path: Path
) -> None:
    """The only sign-in came yesterday after T's time of day: at T-24h there was none,
    but at the end of yesterday there was one, so the rule has held for its day."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(RULES, rules_dir)
    with (rules_dir / "alerts.toml").open("a") as alerts:
        alerts.write(ONE_LOGIN_A_WEEK)
    with engine.begin() as conn:
        add_account(conn, "acme", created_at=datetime(2025, 1, 15, tzinfo=UTC))
    store_events(engine, [Ev("acme", "Signed In", datetime(2026, 3, 1, 10, 0, tzinfo=UTC))])

    verdict = _verdict(evaluate_accounts(engine, load_rules(rules_dir), T))
    assert verdict.state == "firing" and verdict.held_days == 1
    # Just before the sign-in, yesterday's end is the day before it: not held yet.
    at_eleven = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert _verdict(evaluate_accounts(engine, load_rules(rules_dir), at_eleven)).state == "pending"


def _verdict(evaluation: Evaluation) -> Verdict:
    return next(v for v in evaluation.result("acme").verdicts if v.rule == "one_login_a_week")
