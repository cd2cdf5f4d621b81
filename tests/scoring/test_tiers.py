"""Tiers: first matching rule, the Pareto option and manual overrides."""

from __future__ import annotations

from monitor.rules.expr import Value, compile_expr
from monitor.rules.model import Origin, Tiering, TierRule
from monitor.scoring import assign_tiers

HERE = Origin("rules/tiers.toml", 1)
DEFAULT = Tiering(
    rules=(
        TierRule("S", compile_expr("arr >= 100000 or strategic"), HERE),
        TierRule("A", compile_expr("arr >= 20000"), HERE),
    )
)


def env(arr: float, **extra: Value) -> dict[str, Value]:
    return {"arr": arr, "strategic": False, **extra}


def test_first_matching_rule_wins_and_unmatched_accounts_are_b() -> None:
    tiers = assign_tiers(
        DEFAULT,
        {
            "big": env(150_000),
            "edge": env(100_000),
            "strategic": env(5_000, strategic=True),
            "mid": env(20_000),
            "small": env(19_999),
        },
    )
    assert {k: v.tier for k, v in tiers.items()} == {
        "big": "S",
        "edge": "S",
        "strategic": "S",
        "mid": "A",
        "small": "B",
    }
    assert tiers["mid"].reason == "rule 2: arr >= 20000"
    assert tiers["small"].reason == "no tier rule matched"


def test_override_attribute_beats_rules_and_invalid_overrides_are_ignored() -> None:
    tiers = assign_tiers(
        DEFAULT,
        {
            "down": env(500_000, **{"attrs.tier_override": "b"}),
            "up": env(1_000, **{"attrs.tier_override": "S"}),
            "junk": env(1_000, **{"attrs.tier_override": "gold"}),
        },
    )
    assert tiers["down"].tier == "B" and tiers["down"].reason == "override tier_override=B"
    assert tiers["up"].tier == "S"
    assert tiers["junk"].tier == "B"


def test_pareto_makes_the_smallest_set_holding_the_share_of_arr_tier_s() -> None:
    pareto = Tiering(rules=DEFAULT.rules[1:], pareto_share=0.8)
    arr = {"a": 500.0, "b": 300.0, "c": 100.0, "d": 60.0, "e": 40.0}  # total 1000
    tiers = assign_tiers(pareto, {k: env(v) for k, v in arr.items()})
    # a + b = 800 reaches 80%: exactly those two are S, the rest by the rules.
    assert {k for k, v in tiers.items() if v.tier == "S"} == {"a", "b"}
    assert tiers["c"].tier == "B"
