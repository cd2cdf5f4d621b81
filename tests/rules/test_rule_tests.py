"""Rule unit tests: the runner, its failure messages, and broken test files."""

from __future__ import annotations

import shutil
from pathlib import Path
from textwrap import dedent

import pytest

from monitor.rules.loader import load_rules
from monitor.rules.model import RuleSet
from monitor.rules.problems import RuleError
from monitor.rules.testing import RuleTestResult, run_rule_tests

SHIPPED = Path(__file__).parents[2] / "rules"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(SHIPPED)


def run(rules: RuleSet, tmp_path: Path, text: str) -> list[RuleTestResult]:
    path = tmp_path / "cases.toml"
    path.write_text(dedent(text), encoding="utf-8")
    return run_rule_tests(rules, path)


def problems(rules: RuleSet, tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(RuleError) as caught:
        run(rules, tmp_path, text)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


@pytest.mark.slow
def test_the_default_rule_tests_pass(rules: RuleSet) -> None:
    results = run_rule_tests(rules, SHIPPED / "tests")
    failed = {r.case.name: (r.error, r.failures) for r in results if not r.passed}
    assert failed == {}
    assert len(results) >= 40


def test_unmet_expectations_say_what_was_expected_and_what_came(
    rules: RuleSet, tmp_path: Path
) -> None:
    (result,) = run(
        rules,
        tmp_path,
        """
        [[test]]
        name = "wrong on purpose"
        at = 2026-03-02T09:00:00Z
        account = { arr = 10000, seats = 10, created_at = 2025-01-15 }
        metrics = { logins_14d = 40, tickets_30d = 12, days_since_activity = 1 }
        [test.expect]
        tier = "S"
        band = "green"
        score = [0, 10]
        alerts = ["dormant"]
        not_alerts = ["ticket_surge"]
        severities = { ticket_surge = "warning" }
        metrics = { logins_per_seat_14d = 3.5 }
        """,
    )
    assert not result.passed
    assert result.failures == (
        "tier: expected S, got B (rule 3: true)",
        "band: expected green, got unknown (score 78.8, 33% of the weight with data)",
        "score: expected 0 to 10, got 78.8",
        "alerts: expected dormant firing, got inactive",
        "not_alerts: expected ticket_surge not firing, got firing critical",
        "severities: expected ticket_surge warning, got firing critical",
        "metrics.logins_per_seat_14d: expected 3.5, got 4",
    )


def test_pending_and_renewal_thresholds_are_described(rules: RuleSet, tmp_path: Path) -> None:
    (result,) = run(
        rules,
        tmp_path,
        """
        [[test]]
        name = "thresholds"
        at = 2026-03-02T09:00:00Z
        account = { arr = 150000, renewal_date = 2026-07-30 }
        metrics = {}
        expect = { alerts = ["renewal:90"], pending = ["renewal"] }
        """,
    )
    assert result.failures == (
        "alerts: expected renewal:90 firing, got firing info at the 180-day threshold",
        "pending: expected renewal pending, got firing info at the 180-day threshold",
    )


def test_given_metrics_are_held_constant_so_for_is_met(rules: RuleSet, tmp_path: Path) -> None:
    (result,) = run(
        rules,
        tmp_path,
        """
        [[test]]
        name = "held"
        at = 2026-03-02T09:00:00Z
        account = { arr = 10000, seats = 20, created_at = 2025-01-15 }
        metrics = { active_users_30d = 2 }
        expect = { alerts = ["low_seat_utilization"] }
        """,
    )
    assert result.passed, result.failures


def test_a_rejected_event_is_an_error_not_a_pass(rules: RuleSet, tmp_path: Path) -> None:
    (result,) = run(
        rules,
        tmp_path,
        f"""
        [[test]]
        name = "bad event"
        at = 2026-03-02T09:00:00Z
        expect = {{ band = "unknown" }}
        [[test.events]]
        event = "{"x" * 300}"
        days_ago = 1
        """,
    )
    assert not result.passed
    assert result.error is not None
    assert result.error.startswith("the importer rejected 1 event record(s): ")


def test_broken_test_files_report_every_problem_in_place(rules: RuleSet, tmp_path: Path) -> None:
    found = problems(
        rules,
        tmp_path,
        """
        [[test]]
        name = "broken"
        at = "yesterday"
        metrics = { seat_utilization = 0.5, logins14d = 3, arr = 5 }
        [[test.events]]
        event = "Signed In"
        days_ago = "3 to 5"
        [test.expect]
        alerts = ["usage_dorp", "dormant:30"]
        band = "amber"
        """,
    )
    assert found == [
        '4:7: at: expected an instant like 2026-03-02T09:00:00Z, got "yesterday"',
        '5:13: "seat_utilization" is computed from other metrics (kind expr); '
        "give the metrics it uses instead",
        '5:37: unknown metric "logins14d" (did you mean "logins_14d"?)',
        '5:52: "arr" is the account attribute "arr"; set it in [test.account]',
        "6:1: give either [test.metrics] or [[test.events]], not both",
        '8:13: days_ago: expected days before "at": 3, [0, 1, 2] or "0..13", got "3 to 5"',
        '10:12: alerts: unknown rule "usage_dorp" (did you mean "usage_drop"?)',
        '10:26: alerts: "dormant:30": only renewal rules take a threshold, as in "renewal:90"',
        '11:9: band: expected "green", "yellow", "red" or "unknown", got "amber"',
    ]


def test_a_test_folder_with_a_toml_syntax_error(rules: RuleSet, tmp_path: Path) -> None:
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "a.toml").write_text("[[test]\n")
    with pytest.raises(RuleError) as caught:
        run_rule_tests(rules, folder)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(folder / "a.toml"), 1)
    assert problem.message.startswith("TOML syntax:")


def test_tests_of_a_copied_rules_folder_follow_its_rules(tmp_path: Path) -> None:
    """Editing a rule makes its unit test fail: the tests guard the rules."""
    copy = tmp_path / "rules"
    shutil.copytree(SHIPPED, copy)
    alerts = copy / "alerts.toml"
    alerts.write_text(alerts.read_text().replace("tickets_30d >= 5", "tickets_30d >= 7"))
    results = run_rule_tests(load_rules(copy), copy / "tests")
    failed = [r.case.name for r in results if not r.passed]
    assert failed == ["ticket_surge is a warning from 5 tickets at twice the usual level"]


def test_an_empty_test_folder_is_an_error(rules: RuleSet, tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"no rule test files \(\*\.toml\) here"):
        run_rule_tests(rules, tmp_path)
