"""Loading rule folders: the parsed model, merging across files, and problem reporting."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from monitor.rules.loader import load_rules
from monitor.rules.model import (
    ActiveWeeks,
    Attribute,
    BaselineRatio,
    Change,
    DaysSince,
    Derived,
    EventCount,
    PropertyAggregate,
    RuleSet,
)
from monitor.rules.problems import RuleError

SHIPPED = Path(__file__).parents[2] / "rules"

METRICS = """
[event_sets]
logins = ["Signed In"]

[metrics.logins_14d]
kind = "count"
events = "logins"
window = "14d"
description = "Sign-ins in the last 14 days"
"""

ALERT = """
[[alert]]
name = "few_logins"
kind = "churn_risk"
description = "Few sign-ins."
when = "logins_14d < 3"
severity = "warning"
summary = "Only {{ logins_14d }} sign-ins"
"""


def write_rules(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(dedent(text), encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(RuleError) as caught:
        load_rules(folder)
    return [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


# --- the shipped rules ---------------------------------------------------------------


def test_shipped_rules_load_with_every_definition() -> None:
    rules = load_rules(SHIPPED)
    assert len(rules.metrics) == 21
    assert [rule.tier for rule in rules.tiering.rules] == ["S", "A", "B"]
    assert len(rules.scorecard.measures) == 7
    assert rules.scorecard.bands_by_tier["S"].green == 75
    assert {rule.name for rule in rules.alerts} >= {"usage_drop", "dormant", "reactivation"}
    assert [rule.name for rule in rules.renewals] == ["renewal"]
    assert len(rules.fingerprint) == 64
    assert rules.files == tuple(str(SHIPPED / n) for n in sorted(
        p.name for p in SHIPPED.glob("*.toml")
    ))  # fmt: skip


def test_metrics_come_after_the_metrics_they_use() -> None:
    rules = load_rules(SHIPPED)
    position = {metric.name: index for index, metric in enumerate(rules.metrics)}
    for metric in rules.metrics:
        source = metric.source
        used = (
            source.expr.names & position.keys()
            if isinstance(source, Derived)
            else {source.of}
            if isinstance(source, Change | BaselineRatio)
            else set()
        )
        assert all(position[name] < position[metric.name] for name in used), metric.name


def test_shipped_metric_kinds_become_the_model_sources() -> None:
    rules = load_rules(SHIPPED)
    assert rules.metric("core_actions_30d").source == EventCount(
        ("Report Created", "Dashboard Shared", "Report Exported", "Integration Connected"), 30
    )
    assert rules.metric("logins_before_7d").source == EventCount(("Signed In",), 28, 7)
    assert rules.metric("help_views_vs_baseline").source == BaselineRatio("help_views_14d", 84)
    assert rules.metric("days_since_activity").source == DaysSince(())
    assert rules.metric("nps_avg_90d").source == PropertyAggregate(
        ("NPS Submitted",), "score", "avg", 90
    )
    assert rules.metric("active_weeks").source == ActiveWeeks(
        ("Report Created", "Dashboard Shared", "Report Exported", "Integration Connected"), 12
    )
    assert rules.metric("arr").source == Attribute("arr")
    assert rules.metric("logins_14d").origin.line > 1


def test_alert_rule_defaults_and_escalation_levels() -> None:
    rules = load_rules(SHIPPED)
    usage_drop = next(rule for rule in rules.alerts if rule.name == "usage_drop")
    assert usage_drop.for_ == timedelta(days=2)
    assert usage_drop.tiers == ("S", "A", "B")
    assert [(lv.severity, lv.when is None) for lv in usage_drop.severities] == [
        ("critical", False),
        ("warning", True),
    ]
    renewal = rules.renewals[0]
    assert renewal.thresholds_days == (90, 60, 30, 7)
    assert renewal.thresholds_by_tier["S"] == (180, 90, 60, 30, 7)


def test_fingerprint_follows_content_not_location(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(SHIPPED, copy)
    assert load_rules(copy).fingerprint == load_rules(SHIPPED).fingerprint
    alerts = copy / "alerts.toml"
    alerts.write_text(alerts.read_text() + "\n# a comment\n")
    assert load_rules(copy).fingerprint != load_rules(SHIPPED).fingerprint


# --- files and merging -------------------------------------------------------------


def test_definitions_may_be_split_across_files_and_tests_are_ignored(tmp_path: Path) -> None:
    folder = write_rules(tmp_path / "rules", a_metrics=METRICS, b_alerts=ALERT)
    write_rules(folder / "tests", broken="this is not = = toml")
    rules = load_rules(folder)
    assert [m.name for m in rules.metrics] == ["logins_14d"]
    assert [a.name for a in rules.alerts] == ["few_logins"]
    assert rules.tiering.rules == ()  # no [tiers]: every account is B


def test_a_definition_in_two_files_names_both_places(tmp_path: Path) -> None:
    again = METRICS.split("\n\n", 1)[1]  # the metric without the event set
    folder = write_rules(tmp_path / "rules", a=METRICS, b=again)
    assert problems_of(folder) == [
        f'{folder}/b.toml:1:1: metric "logins_14d" is already defined at {folder}/a.toml:5:1'
    ]


def test_tiers_defined_in_two_files(tmp_path: Path) -> None:
    tiers = '[tiers]\noverride_attribute = "tier_override"\n'
    folder = write_rules(tmp_path / "rules", a=tiers, b=tiers)
    assert problems_of(folder) == [
        f"{folder}/b.toml:1:1: [tiers] is already defined at {folder}/a.toml:1:1"
    ]


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    broken = METRICS.replace('window = "14d"', 'window = "14 days"') + ALERT.replace(
        'severity = "warning"', 'severity = "high"\nrepeat = "0h"'
    ).replace("[[alert]]", "[[alert]]\ncolour = 'red'")
    folder = write_rules(tmp_path / "rules", rules=broken)
    found = problems_of(folder)
    assert len(found) == 4
    assert any('window: expected a duration like "14d" or "2w", got "14 days"' in p for p in found)
    assert any('severity: expected "info", "warning" or "critical", got "high"' in p for p in found)
    assert any("repeat: must be longer than 0" in p for p in found)
    assert any('unknown key "colour"' in p for p in found)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}:0:0: the rules folder does not exist"
    ]
    (tmp_path / "empty").mkdir()
    assert "no rule files" in problems_of(tmp_path / "empty")[0]


def test_toml_syntax_errors_stop_before_validation(tmp_path: Path) -> None:
    folder = write_rules(
        tmp_path / "rules", a="[metrics.x\n", b=ALERT.replace("logins_14d <", "nope <")
    )
    found = problems_of(folder)
    assert len(found) == 1
    assert found[0].startswith(f"{folder}/a.toml:1:11: TOML syntax:")


def test_unknown_section_suggests_the_right_one(tmp_path: Path) -> None:
    folder = write_rules(tmp_path / "rules", a=METRICS + ALERT.replace("[[alert]]", "[[alerts]]"))
    (found,) = problems_of(folder)
    assert found.endswith("alert rules are written as [[alert]] tables")


# --- rules and their options -----------------------------------------------------------


def test_disabled_rules_are_validated_but_left_out(tmp_path: Path) -> None:
    disabled = ALERT.replace("[[alert]]", "[[alert]]\nenabled = false")
    rules = load_rules(write_rules(tmp_path / "ok", a=METRICS, b=disabled))
    assert rules.alerts == ()
    broken = disabled.replace('severity = "warning"', 'severity = "loud"')
    assert len(problems_of(write_rules(tmp_path / "bad", a=METRICS, b=broken))) == 1


def test_repeat_takes_hours_but_for_takes_whole_days(tmp_path: Path) -> None:
    alert = ALERT.replace("[[alert]]", '[[alert]]\nrepeat = "12h"\nfor = "1w"\ntiers = ["S"]')
    rules = load_rules(write_rules(tmp_path / "ok", a=METRICS, b=alert))
    (rule,) = rules.alerts
    assert (rule.repeat, rule.for_, rule.tiers) == (timedelta(hours=12), timedelta(days=7), ("S",))
    hours = ALERT.replace("[[alert]]", '[[alert]]\nfor = "12h"')
    (found,) = problems_of(write_rules(tmp_path / "bad", a=METRICS, b=hours))
    assert found.endswith('for: expected whole days like "14d" or "2w", got "12h"')


def test_escalation_must_be_above_the_base_severity(tmp_path: Path) -> None:
    alert = ALERT.replace("[[alert]]", '[[alert]]\nescalate = { info = "true", critcal = "true" }')
    found = problems_of(write_rules(tmp_path / "rules", a=METRICS, b=alert))
    assert any('"info" is not above the base severity "warning"' in p for p in found)
    assert any('unknown severity "critcal" (did you mean "critical"?)' in p for p in found)


@pytest.mark.parametrize(
    ("section", "expression", "ok"),
    [
        ("tier", "logins_14d > 3 and attrs.region == 'EU'", True),
        ("tier", "band == 'red'", False),  # tiers are decided before the score
        ("alert", "band == 'red' and tier == 'S' and score < 40", True),
        ("alert", "attrs.anything == 1 and days_to_renewal < 30", True),
        ("metric", "logins_14d / seats", True),
        ("metric", "tier == 'S'", False),
    ],
)
def test_names_each_expression_may_use(
    tmp_path: Path, section: str, expression: str, ok: bool
) -> None:
    extra = {
        "tier": f'[[tiers.rule]]\ntier = "S"\nwhen = "{expression}"\n',
        "alert": ALERT.replace('"logins_14d < 3"', f'"{expression}"'),
        "metric": f'[metrics.derived]\nkind = "expr"\nexpr = "{expression}"\ndescription = "d"\n',
    }[section]
    folder = write_rules(tmp_path / "rules", a=METRICS, b=extra)
    if ok:
        load_rules(folder)
    else:
        assert "band" in problems_of(folder)[0] or "tier" in problems_of(folder)[0]


def test_metric_names_may_not_shadow_attributes_or_alert_names(tmp_path: Path) -> None:
    shadows = """
    [metrics.seats]
    kind = "count"
    events = ["Signed In"]
    window = "7d"
    description = "d"

    [metrics.score]
    kind = "attribute"
    attribute = "arr"
    description = "d"

    [metrics.arr]
    kind = "attribute"
    description = "fine: the attribute itself"
    """
    found = problems_of(write_rules(tmp_path / "rules", a=shadows))
    assert [p.split(": ", 1)[1] for p in found] == [
        '"seats" is a built-in account attribute; choose another name',
        '"score" is reserved for alert conditions; choose another name',
    ]


def test_scorecard_measures(tmp_path: Path) -> None:
    scorecard = """
    [scorecard]
    min_coverage = 0.5
    bands = { green = 80, yellow = 50 }

    [[scorecard.measure]]
    metric = "logins_14d"
    weight = 2
    lower_is_better = [[1, 100], [5, 50]]
    otherwise = 10
    """
    rules = load_rules(write_rules(tmp_path / "rules", a=METRICS, b=scorecard))
    (measure,) = rules.scorecard.measures
    assert measure.label == "Sign-ins in the last 14 days"  # the metric's description
    assert (measure.direction, measure.steps, measure.otherwise) == (
        "lower_is_better",
        ((1.0, 100.0), (5.0, 50.0)),
        10.0,
    )
    assert (rules.scorecard.bands.green, rules.scorecard.min_coverage) == (80, 0.5)


def test_a_measure_on_an_attribute_explains_how_to_score_it(tmp_path: Path) -> None:
    scorecard = (
        '[[scorecard.measure]]\nmetric = "seats"\nweight = 1\nhigher_is_better = [[1, 100]]\n'
    )
    (found,) = problems_of(write_rules(tmp_path / "rules", a=METRICS, b=scorecard))
    assert found.endswith(
        '"seats" is an account attribute, not a metric: define [metrics.seats] with '
        'kind = "attribute" to score it'
    )


def test_renewal_thresholds_by_tier(tmp_path: Path) -> None:
    renewal = """
    [[renewal]]
    name = "renewal"
    description = "Renewal soon."
    thresholds = [30, 90, 60]
    thresholds_by_tier = { S = [180, 90] }
    severity = "info"
    when = "arr > 0"
    summary = "Renewal in {{ days_to_renewal }} days"
    """
    rules = load_rules(write_rules(tmp_path / "rules", a=METRICS, b=renewal))
    (rule,) = rules.renewals
    assert rule.thresholds_days == (90, 60, 30)
    assert rule.thresholds_by_tier == {"S": (180, 90)}
    assert rule.when is not None
    bad = renewal.replace("[180, 90]", "[180, -1]").replace(
        'severity = "info"', 'for = "2d"\nseverity = "info"'
    )
    found = problems_of(write_rules(tmp_path / "bad", a=METRICS, b=bad))
    assert any(
        "thresholds_by_tier: S: expected a positive whole number" in p or "positive" in p
        for p in found
    )
    assert any('"for" does not apply' in p for p in found)


def test_rule_set_is_frozen_data(tmp_path: Path) -> None:
    rules = load_rules(write_rules(tmp_path / "rules", a=METRICS))
    assert isinstance(rules, RuleSet)
    with pytest.raises(AttributeError):
        rules.alerts = ()  # type: ignore[misc]
