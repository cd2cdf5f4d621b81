"""From metric values to verdicts: tier, health score and alert rules per account.

Pure functions over plain dicts ("envs": name -> value, one per account and instant),
shared by the full evaluation and by rule unit tests given metric values directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.evaluation.summary import render_summary
from monitor.evaluation.verdicts import Verdict, alert_verdict, renewal_verdict
from monitor.rules.expr import Value
from monitor.rules.model import Band, RuleSet, Tier
from monitor.scoring import MeasureResult, ScoreResult, TierResult, assign_tiers, score_account

Env = dict[str, Value]


@dataclass(frozen=True)
class AccountResult:
    """Everything an evaluation concluded about one account at one instant."""

    account_id: str
    tier: Tier
    tier_reason: str
    score: float | None
    band: Band
    coverage: float
    measures: tuple[MeasureResult, ...]
    metrics: Mapping[str, Value]
    verdicts: tuple[Verdict, ...]
    summaries: Mapping[str, str]
    """Rendered summary per verdict key, for pending and firing verdicts."""

    @property
    def firing(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.state == "firing")

    @property
    def pending(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.state == "pending")


def tier_and_score(
    rules: RuleSet, envs: Mapping[str, Env]
) -> dict[str, tuple[TierResult, ScoreResult]]:
    """Tier and score every account, and add ``tier``, ``score``, ``band`` to its env
    so that alert conditions can use them."""
    tiers = assign_tiers(rules.tiering, envs)
    results: dict[str, tuple[TierResult, ScoreResult]] = {}
    for account_id, env in envs.items():
        tier = tiers[account_id]
        score = score_account(rules.scorecard, tier.tier, env)
        env["tier"], env["score"], env["band"] = tier.tier, score.score, score.band
        results[account_id] = (tier, score)
    return results


def judge_account(
    rules: RuleSet,
    account_id: str,
    tiered: tuple[TierResult, ScoreResult],
    now: Env,
    history: Sequence[Env],
    contract_id: str | None,
) -> AccountResult:
    """Alert verdicts for one account, given its env at T and at the checkpoints (the
    ends of the days before T's, newest first)."""
    tier, score = tiered
    verdicts = [alert_verdict(rule, tier.tier, now, history) for rule in rules.alerts]
    verdicts += [renewal_verdict(rule, tier.tier, contract_id, now) for rule in rules.renewals]
    templates = {rule.name: rule.summary for rule in rules.alerts}
    templates |= {rule.name: rule.summary for rule in rules.renewals}
    summaries = {
        v.key: render_summary(templates[v.rule], v.rule, now)
        for v in verdicts
        if v.state != "inactive"
    }
    metrics = {m.name: now.get(m.name) for m in rules.metrics}
    return AccountResult(
        account_id=account_id,
        tier=tier.tier,
        tier_reason=tier.reason,
        score=score.score,
        band=score.band,
        coverage=score.coverage,
        measures=score.measures,
        metrics=metrics,
        verdicts=tuple(verdicts),
        summaries=summaries,
    )
