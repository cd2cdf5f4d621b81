"""Tiering: S / A / B by first matching rule, optional Pareto share, manual override."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.rules.expr import Value
from monitor.rules.model import TIERS, Tier, Tiering

FALLBACK_TIER: Tier = "B"


@dataclass(frozen=True)
class TierResult:
    tier: Tier
    reason: str
    """Why, in words: "override tier_override=S", "rule 1: arr >= 100000 or strategic", ..."""


def assign_tiers(
    tiering: Tiering, envs: Mapping[str, Mapping[str, Value]]
) -> dict[str, TierResult]:
    """Tier every account. ``envs`` maps account id to its metric/attribute values.

    1. A valid override attribute (``attrs.tier_override`` = S/A/B) wins.
    2. With ``pareto_share``, the smallest set of accounts (largest ARR first) whose
       ARR reaches that share of the total is S.
    3. Otherwise the first rule whose ``when`` holds; accounts matching none get B.
    """
    pareto = _pareto_set(tiering.pareto_share, envs) if tiering.pareto_share else set()
    results: dict[str, TierResult] = {}
    override_key = f"attrs.{tiering.override_attribute}"
    for account_id, env in envs.items():
        override = env.get(override_key)
        if isinstance(override, str) and override.upper() in TIERS:
            tier: Tier = override.upper()  # type: ignore[assignment]
            results[account_id] = TierResult(tier, f"override {tiering.override_attribute}={tier}")
        elif account_id in pareto:
            share = f"{tiering.pareto_share:.0%}"
            results[account_id] = TierResult("S", f"among the accounts holding {share} of ARR")
        else:
            results[account_id] = _first_match(tiering, env)
    return results


def _first_match(tiering: Tiering, env: Mapping[str, Value]) -> TierResult:
    for number, rule in enumerate(tiering.rules, start=1):
        if rule.when.test(env):
            return TierResult(rule.tier, f"rule {number}: {rule.when.source}")
    return TierResult(FALLBACK_TIER, "no tier rule matched")


def _pareto_set(share: float, envs: Mapping[str, Mapping[str, Value]]) -> set[str]:
    arr = {account_id: _number(env.get("arr")) for account_id, env in envs.items()}
    total = sum(arr.values())
    if total <= 0:
        return set()
    chosen: set[str] = set()
    running = 0.0
    # Ties broken by id so the set is deterministic.
    ranked: Sequence[tuple[str, float]] = sorted(arr.items(), key=lambda kv: (-kv[1], kv[0]))
    for account_id, value in ranked:
        if running >= share * total:
            break
        chosen.add(account_id)
        running += value
    return chosen


def _number(value: Value) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
