"""Alert verdicts: `for` judged at daily checkpoints, severities, renewal thresholds."""

from __future__ import annotations

from datetime import timedelta

from monitor.evaluation.verdicts import alert_verdict, renewal_verdict
from monitor.rules.expr import Value, compile_expr
from monitor.rules.model import AlertRule, Origin, RenewalRule, SeverityLevel

HERE = Origin("rules/alerts.toml", 1)


def drop_rule(for_days: int = 2) -> AlertRule:
    return AlertRule(
        name="usage_drop",
        kind="churn_risk",
        when=compile_expr("change <= -0.4"),
        severities=(
            SeverityLevel("warning", None),
            SeverityLevel("critical", compile_expr("change <= -0.7")),
        ),
        tiers=("S", "A"),
        for_=timedelta(days=for_days),
        repeat=timedelta(days=7),
        summary="down {{ change | percent }}",
        description="",
        origin=HERE,
    )


def env(change: float | None) -> dict[str, Value]:
    return {"change": change}


def test_for_needs_the_condition_at_each_daily_checkpoint() -> None:
    rule = drop_rule(for_days=2)
    assert alert_verdict(rule, "S", env(-0.5), [env(-0.5), env(-0.6)]).state == "firing"
    held_one = alert_verdict(rule, "S", env(-0.5), [env(-0.5), env(-0.1)])
    assert held_one.state == "pending" and held_one.held_days == 1
    assert alert_verdict(rule, "S", env(-0.5), [env(None), env(-0.6)]).state == "pending"
    assert alert_verdict(rule, "S", env(-0.1), [env(-0.5), env(-0.6)]).state == "inactive"


def test_for_zero_fires_at_once_and_tiers_filter() -> None:
    rule = drop_rule(for_days=0)
    assert alert_verdict(rule, "A", env(-0.5), []).state == "firing"
    assert alert_verdict(rule, "B", env(-0.9), []).state == "inactive"


def test_the_most_severe_matching_level_applies_and_values_are_recorded() -> None:
    rule = drop_rule(for_days=0)
    warning = alert_verdict(rule, "S", env(-0.5), [])
    critical = alert_verdict(rule, "S", env(-0.75), [])
    assert (warning.severity, critical.severity) == ("warning", "critical")
    assert critical.values == {"change": -0.75}


def renewal(**kwargs: object) -> RenewalRule:
    fields: dict[str, object] = {
        "name": "renewal",
        "thresholds_days": (90, 60, 30, 7),
        "thresholds_by_tier": {"S": (180, 90, 30)},
        "severities": (SeverityLevel("info", None),),
        "tiers": ("S", "A", "B"),
        "when": None,
        "summary": "",
        "description": "",
        "origin": HERE,
    }
    fields.update(kwargs)
    return RenewalRule(**fields)  # type: ignore[arg-type]


def test_renewal_fires_once_per_contract_per_threshold() -> None:
    rule = renewal()
    at_45 = renewal_verdict(rule, "A", "c-1", {"days_to_renewal": 45})
    assert at_45.state == "firing" and at_45.threshold_days == 60
    assert at_45.key == "renewal:c-1:60"
    # Still 60 the next day: the same key, so the alert state dedupes it.
    assert renewal_verdict(rule, "A", "c-1", {"days_to_renewal": 44}).key == at_45.key
    assert renewal_verdict(rule, "A", "c-1", {"days_to_renewal": 30}).key == "renewal:c-1:30"
    assert renewal_verdict(rule, "A", "c-2", {"days_to_renewal": 30}).key == "renewal:c-2:30"
    assert renewal_verdict(rule, "A", "c-1", {"days_to_renewal": 120}).state == "inactive"
    assert renewal_verdict(rule, "A", "c-1", {"days_to_renewal": -3}).state == "inactive"
    assert renewal_verdict(rule, "A", "c-1", {"days_to_renewal": None}).state == "inactive"


def test_renewal_thresholds_per_tier() -> None:
    rule = renewal()
    assert renewal_verdict(rule, "S", "c", {"days_to_renewal": 150}).threshold_days == 180
    assert renewal_verdict(rule, "B", "c", {"days_to_renewal": 150}).state == "inactive"
