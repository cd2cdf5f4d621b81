"""One evaluation of the whole portfolio at an instant T.

1. Load the current customers (former ones are history, not evaluated) and compute
   every metric for all of them, set-wise in SQL, at T; and at the daily checkpoints
   (the ends of the days before T's) that ``for`` needs, only the metrics those
   conditions read.
2. Tier and score every account (pure Python).
3. Judge each account's alert rules at T against its checkpoints (an account's
   values there are built only when a ``for`` condition of it holds at T).
4. Optionally store a health snapshot per account (same T: replaced, not duplicated).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.clock import ensure_utc
from monitor.evaluation.history import checkpoint_metrics, checkpoints, env_at, histories
from monitor.evaluation.judge import AccountResult, Env, judge_account, tier_and_score
from monitor.evaluation.snapshots import store_snapshots
from monitor.metrics import AccountFacts, DayCache, load_accounts, metric_values
from monitor.rules.expr import Value
from monitor.rules.model import Attribute, Derived, RuleSet


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
        now = metric_values(conn, rules.metrics, [at], cache=cache)
        then = metric_values(conn, past_metrics, past, cache=cache) if past else None
    envs = {f.account_id: env_at(f, at, now.at(0, f)) for f in facts}
    tiered = tier_and_score(rules, envs)
    history = histories(rules, facts, past, then, past_needs_score)
    results = [
        judge_account(
            rules,
            f.account_id,
            tiered[f.account_id],
            envs[f.account_id],
            history[f.account_id],
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
