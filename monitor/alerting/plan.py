"""Reconcile one evaluation with the stored alerts: what changes, pure and set-wise.

Every verdict of every account is matched with its stored row by (account, key) and
run through :func:`~monitor.alerting.lifecycle.transition`. Open alerts that no
verdict matches any more are resolved quietly: their rule was deleted or disabled,
their account is gone, or (renewals) the next threshold's key took over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.alerting.lifecycle import (
    RESOLVED,
    RESOLVED_ACCOUNT_GONE,
    RESOLVED_RULE_REMOVED,
    AlertRow,
    Transition,
    resolve_quietly,
    transition,
)
from monitor.evaluation import AccountResult, Evaluation, Verdict
from monitor.rules.model import RuleSet

Key = tuple[str, str]
"""(account_id, verdict key): identifies one alert."""


@dataclass(frozen=True)
class AlertChange:
    """One alert whose row changes in this evaluation."""

    stored: AlertRow | None
    row: AlertRow
    transition: Transition
    verdict: Verdict | None
    """None for quiet resolutions: no verdict matched the alert any more."""


def active_keys(evaluation: Evaluation) -> set[Key]:
    """The alerts the evaluation reports as pending or firing."""
    return {
        (result.account_id, verdict.key)
        for result in evaluation.accounts
        for verdict in result.verdicts
        if verdict.state != "inactive"
    }


def plan_alerts(
    evaluation: Evaluation,
    rules: RuleSet,
    stored: Mapping[Key, AlertRow],
    *,
    resolve_notices: bool = False,
) -> list[AlertChange]:
    """The changes ``evaluation`` makes to ``stored``, in account order.

    ``stored`` must hold every open alert and the stored row (in any state) of every
    active key, so that a new episode reuses its row.

    1. Per account and verdict: the lifecycle transition against the stored row;
       kept only when the row or its events change (same instant twice: nothing).
    2. Open alerts no verdict matched: resolved quietly, with the reason recorded.
    """
    at = evaluation.at
    repeats = {rule.name: rule.repeat for rule in rules.alerts}
    changes: list[AlertChange] = []
    matched: set[Key] = set()
    for result in evaluation.accounts:
        for verdict in result.verdicts:
            key = (result.account_id, verdict.key)
            matched.add(key)
            row = stored.get(key)
            if verdict.state == "inactive" and (row is None or not row.is_open):
                continue
            step = transition(
                row,
                verdict,
                at,
                repeats.get(verdict.rule),
                result.band,
                account_id=result.account_id,
                summary=result.summaries.get(verdict.key, ""),
                resolve_notices=resolve_notices,
            )
            if step.row is not None and (step.events or step.row != row):
                changes.append(AlertChange(row, step.row, step, verdict))
    changes.extend(_orphans(evaluation, rules, stored, matched, at))
    return changes


def _orphans(
    evaluation: Evaluation,
    rules: RuleSet,
    stored: Mapping[Key, AlertRow],
    matched: set[Key],
    at: datetime,
) -> Iterator[AlertChange]:
    rule_names = {rule.name for rule in rules.alerts} | {rule.name for rule in rules.renewals}
    results = {result.account_id: result for result in evaluation.accounts}
    for key, row in sorted(stored.items()):
        if not row.is_open or key in matched:
            continue
        if row.account_id not in evaluation.facts:
            step = resolve_quietly(row, at, RESOLVED_ACCOUNT_GONE, "account no longer in the store")
        elif row.rule not in rule_names:
            step = resolve_quietly(row, at, RESOLVED_RULE_REMOVED, "rule deleted or disabled")
        else:
            step = resolve_quietly(row, at, RESOLVED, _successor(results[row.account_id], row))
        assert step.row is not None
        yield AlertChange(row, step.row, step, None)


def _successor(result: AccountResult, row: AlertRow) -> str:
    """Why a renewal key left: the next threshold took over, or the date passed."""
    for verdict in result.verdicts:
        if verdict.rule == row.rule and verdict.state != "inactive":
            return f"superseded by {verdict.key}"
    return "renewal no longer within a threshold"
