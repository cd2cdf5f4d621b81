"""The checkpoints that ``for`` looks back on, and each account's envs there.

A rule with ``for`` holds when its condition holds at T and at each daily checkpoint:
the ends of the UTC days before T's, newest first (see :mod:`verdicts`). Only the
metrics those conditions read are computed at the checkpoints, and an account's envs
there are built only when one of its ``for`` conditions holds at T: a verdict looks
back only then, so most accounts of a healthy portfolio never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import overload

from monitor.evaluation.judge import Env, tier_and_score
from monitor.evaluation.verdicts import checkpoint_days
from monitor.metrics import AccountFacts, MetricValues
from monitor.metrics.sources import day_end
from monitor.rules.expr import Value
from monitor.rules.model import BaselineRatio, Change, Derived, Metric, RuleSet
from monitor.timeutil import day_of_ms, to_ms

SCORE_NAMES = frozenset({"tier", "score", "band"})


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


def histories(
    rules: RuleSet,
    facts: Sequence[AccountFacts],
    past: Sequence[datetime],
    values: MetricValues | None,
    needs_score: bool,
) -> dict[str, Sequence[Env]]:
    """Per account, its envs at the checkpoints ``past``, newest first.

    When the conditions read tier, score or band at the checkpoints, every account is
    tiered and scored there (tiers can depend on the whole portfolio, e.g. Pareto), so
    all envs are built at once. Otherwise each account's are built on first use.
    """
    if values is None or not past:
        return {f.account_id: () for f in facts}
    if not needs_score:
        return {f.account_id: _Lazy(_builder(f, past, values), len(past)) for f in facts}
    by_instant = []
    for index, instant in enumerate(past):
        envs = {f.account_id: env_at(f, instant, values.at(index, f)) for f in facts}
        tier_and_score(rules, envs)
        by_instant.append(envs)
    return {f.account_id: [envs[f.account_id] for envs in by_instant] for f in facts}


def env_at(facts: AccountFacts, at: datetime, metrics: Mapping[str, Value]) -> Env:
    """An account's env at an instant: its built-in attributes, then its metrics."""
    env = facts.attribute_values(at)
    env.update(metrics)
    return env


def _builder(
    facts: AccountFacts, past: Sequence[datetime], values: MetricValues
) -> Callable[[int], Env]:
    return lambda index: env_at(facts, past[index], values.at(index, facts))


class _Lazy(Sequence[Env]):
    """Envs built on first access, then kept."""

    def __init__(self, build: Callable[[int], Env], length: int) -> None:
        self._build = build
        self._built: dict[int, Env] = {}
        self._length = length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Env: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Env]: ...
    def __getitem__(self, index: int | slice) -> Env | Sequence[Env]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError(index)
        index %= self._length
        env = self._built.get(index)
        if env is None:
            env = self._built[index] = self._build(index)
        return env
