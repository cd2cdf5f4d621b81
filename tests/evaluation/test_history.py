"""Checkpoint envs are built when a verdict looks back, and only as far as it looks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.evaluation.history import _Lazy
from monitor.evaluation.verdicts import alert_verdict
from monitor.rules.expr import compile_expr
from monitor.rules.model import AlertRule, Origin, SeverityLevel


def lazy(values: list[int], built: list[int]) -> _Lazy:
    def build(index: int) -> dict[str, object]:
        built.append(index)
        return {"logins": values[index]}

    return _Lazy(build, len(values))  # type: ignore[arg-type]


def test_lazy_envs_index_slice_and_build_once() -> None:
    built: list[int] = []
    envs = lazy([5, 6, 7], built)
    assert len(envs) == 3 and built == []
    assert envs[-1] == {"logins": 7} and envs[2] is envs[-1]
    assert [e["logins"] for e in envs[:2]] == [5, 6]
    assert built == [2, 0, 1]  # each built once
    with pytest.raises(IndexError):
        envs[3]


def test_a_verdict_builds_checkpoints_only_while_the_condition_held() -> None:
    rule = AlertRule(
        name="quiet",
        kind="churn_risk",
        description="",
        when=compile_expr("logins < 3"),
        severities=(SeverityLevel("warning", None),),
        for_=timedelta(days=5),
        repeat=timedelta(days=7),
        summary="",
        tiers=("S", "A", "B"),
        origin=Origin("rules/alerts.toml", 1),
    )
    built: list[int] = []
    # Held at the end of yesterday, not the day before: the rest is never built.
    verdict = alert_verdict(rule, "A", {"logins": 1}, lazy([2, 9, 0, 0, 0], built))
    assert verdict.state == "pending" and verdict.held_days == 1
    assert built == [0, 1]
    built.clear()
    # Not holding at T: no checkpoint is looked at.
    alert_verdict(rule, "A", {"logins": 8}, lazy([0, 0, 0, 0, 0], built))
    assert built == []
