"""One evaluation of the whole portfolio at an instant T.

1. Load the current customers (former ones are history, not evaluated) and compute
   every metric for all of them, set-wise in SQL, at T; and at the daily checkpoints
   (the ends of the days before T's) that ``for`` needs, only the metrics those
   conditions read.
2. Tier and score every account (pure Python).
3. Judge each account's alert rules at T against its checkpoints.
4. Optionally store a health snapshot per account (same T: replaced, not duplicated).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.clock import ensure_utc
from monitor.evaluation.judge import AccountResult, Env, judge_account, tier_and_score
from monitor.evaluation.snapshots import store_snapshots
from monitor.evaluation.verdicts import checkpoint_days
from monitor.metrics import AccountFacts, DayCache, compute_metrics_at, load_accounts
from monitor.metrics.sources import day_end
from monitor.rules.expr import Value
from monitor.rules.model import Attribute, BaselineRatio, Change, Derived, Metric, RuleSet
from monitor.timeutil import day_of_ms, to_ms

SCORE_NAMES = frozenset({"tier", "score", "band"})


@dataclass(frozen=True)
class Evaluation:
    at: datetime
    fingerprint: str
    accounts: list[AccountResult]
    facts: Mapping[str, AccountFacts]
    seconds: float

    def result(self, account_id: str) -> AccountResult:
        for result in self.accounts:
            if result.account_id == account_id:
                return result
        raise KeyError(account_id)


def checkpoints(rules: RuleSet, at: datetime) -> list[datetime]:
    """The daily checkpoints that the longest ``for`` needs: the ends of the UTC days
    before T's, newest first.

    Day ends, not T-1d, T-2d, ...: a day end sees whole days, so its values come from
    the rollups alone and stay the same all day (every hourly evaluation reads them
    from :class:`~monitor.metrics.DayCache` instead of computing them again).
    """
    days = max((checkpoint_days(rule.for_) for rule in rules.alerts), default=0)
    today = day_of_ms(to_ms(at))
    return [day_end(today - k) for k in range(1, days + 1)]


def checkpoint_metrics(rules: RuleSet) -> tuple[list[Metric], bool]:
    """The metrics the ``for`` checks read at past checkpoints, and whether they also
    need tier, score and band there.

    Only conditions of rules with a ``for`` are judged at checkpoints, so only the
    metrics they name (and the metrics those are computed from) are computed there:
    usually a fraction of the whole set.
    """
    wanted: set[str] = set()
    for rule in rules.alerts:
        if checkpoint_days(rule.for_) > 0:
            wanted |= rule.when.names
    needs_score = bool(wanted & SCORE_NAMES)
    if needs_score:
        wanted |= {m.metric for m in rules.scorecard.measures}
        for tier_rule in rules.tiering.rules:
            wanted |= tier_rule.when.names
    for metric in reversed(rules.metrics):  # dependents come after what they use
        if metric.name in wanted:
            wanted |= _uses(metric)
    return [m for m in rules.metrics if m.name in wanted], needs_score


def _uses(metric: Metric) -> set[str]:
    source = metric.source
    if isinstance(source, Derived):
        return set(source.expr.names)
    if isinstance(source, Change | BaselineRatio):
        return {source.of}
    return set()


def evaluate_accounts(
    engine: Engine, rules: RuleSet, at: datetime, *, store: bool = False
) -> Evaluation:
    """Evaluate every current customer at ``at``; with ``store``, keep the snapshots.

    Metrics go through the store's cache of day ends (:class:`~monitor.metrics.DayCache`):
    the checkpoints are day ends, and T is the day end before it plus T's own day, so
    after the first evaluation of a day the others read one day of raw events. The
    cache is written even on a dry run: it is not state anyone reads, only a copy of
    what the rollups say.
    """
    started = time.perf_counter()
    at = ensure_utc(at)
    past = checkpoints(rules, at)
    past_metrics, past_needs_score = checkpoint_metrics(rules)
    cache = DayCache(engine)
    with engine.connect() as conn:
        facts = [f for f in load_accounts(conn, at) if not f.former_customer]
        now_values = compute_metrics_at(conn, rules.metrics, [at], facts, cache=cache)[at]
        past_values = (
            compute_metrics_at(conn, past_metrics, past, facts, cache=cache) if past else {}
        )
    envs = _envs(facts, at, now_values)
    tiered = tier_and_score(rules, envs)
    history: list[dict[str, Env]] = []
    for instant in past:
        past_envs = _envs(facts, instant, past_values[instant])
        if past_needs_score:
            tier_and_score(rules, past_envs)
        history.append(past_envs)
    results = [
        judge_account(
            rules,
            f.account_id,
            tiered[f.account_id],
            envs[f.account_id],
            [envs_at[f.account_id] for envs_at in history],
            f.active_contract_id,
        )
        for f in facts
    ]
    evaluation = Evaluation(
        at=at,
        fingerprint=rules.fingerprint,
        accounts=results,
        facts={f.account_id: f for f in facts},
        seconds=time.perf_counter() - started,
    )
    if store:
        with engine.begin() as conn:
            store_snapshots(conn, evaluation)
    return evaluation


def _envs(
    facts: Sequence[AccountFacts], at: datetime, metrics: Mapping[str, Mapping[str, Value]]
) -> dict[str, Env]:
    envs: dict[str, Env] = {}
    for f in facts:
        env = f.attribute_values(at)
        env.update(metrics[f.account_id])
        envs[f.account_id] = env
    return envs


def evaluate_env(
    rules: RuleSet,
    env_now: Mapping[str, Value],
    history: Sequence[Mapping[str, Value]],
    at: datetime,
) -> AccountResult:
    """Judge one account from given metric values (rule unit tests, ``rules diff``).

    Metrics not given are null, except attribute and expression metrics, which are
    computed from the given values as in a real evaluation. ``at`` is accepted for
    symmetry with :func:`evaluate_accounts`; the envs already hold the values at T.
    """
    del at
    account_id = str(env_now.get("account_id") or "account")
    now = _complete(rules, env_now)
    past = [_complete(rules, env) for env in history]
    tiered = tier_and_score(rules, {account_id: now})[account_id]
    for env in past:
        tier_and_score(rules, {account_id: env})
    contract = env_now.get("active_contract_id")
    return judge_account(
        rules, account_id, tiered, now, past, contract if isinstance(contract, str) else None
    )


def _complete(rules: RuleSet, given: Mapping[str, Value]) -> Env:
    env: Env = dict(given)
    for metric in rules.metrics:
        source = metric.source
        if isinstance(source, Attribute):
            env[metric.name] = given.get(source.attribute)
        elif isinstance(source, Derived):
            env[metric.name] = source.expr(env)
        else:
            env.setdefault(metric.name, None)
    return env
