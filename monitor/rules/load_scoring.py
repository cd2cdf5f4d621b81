"""Validating ``[tiers]`` and ``[scorecard]`` into :class:`Tiering` and :class:`Scorecard`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Literal

from monitor.rules.fields import Node, format_number
from monitor.rules.model import TIERS, Bands, Measure, Scorecard, Tiering, TierRule
from monitor.rules.problems import did_you_mean, quote, toml_repr

TIERS_KEYS = ("override_attribute", "pareto_share", "rule")
TIER_RULE_KEYS = ("tier", "when")
SCORECARD_KEYS = ("min_coverage", "bands", "bands_by_tier", "measure")
BANDS_KEYS = ("green", "yellow")
MEASURE_KEYS = ("metric", "label", "weight", "higher_is_better", "lower_is_better", "otherwise")
Direction = Literal["higher_is_better", "lower_is_better"]
DIRECTIONS: tuple[Direction, ...] = ("higher_is_better", "lower_is_better")
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def load_tiering(node: Node | None, names: Collection[str]) -> Tiering:
    """``[tiers]`` and its ``[[tiers.rule]]``; rule conditions may use ``names``.

    Without a ``[tiers]`` table every account is tier B.
    """
    if node is None:
        return Tiering(rules=())
    node.check_keys(TIERS_KEYS)
    override = node.text("override_attribute", "tier_override")
    if not ATTRIBUTE_KEY.fullmatch(override):
        hint = ' (without "attrs.")' if override.startswith("attrs.") else ""
        node.report_value(
            "override_attribute",
            f"expected the key of a CRM attribute{hint}, got {quote(override)}",
        )
    pareto = (
        node.number("pareto_share", low=0, high=1, low_open=True)
        if node.has("pareto_share")
        else None
    )
    rules: list[TierRule] = []
    for rule in node.children("rule"):
        rule.check_keys(TIER_RULE_KEYS)
        tier = rule.choice("tier", TIERS)
        when = rule.expression("when", names)
        if when is not None:
            rules.append(TierRule(tier, when, rule.origin()))
    return Tiering(tuple(rules), override, pareto)


def load_scorecard(node: Node | None, descriptions: Mapping[str, str]) -> Scorecard:
    """``[scorecard]`` with its ``[[scorecard.measure]]``; ``descriptions`` are the
    metrics that may be scored (a label defaults to the metric's description)."""
    if node is None:
        return Scorecard(measures=())
    node.check_keys(SCORECARD_KEYS)
    min_coverage = node.number("min_coverage", 0.5, low=0, high=1)
    bands_node = node.child("bands")
    bands = _bands(bands_node) if bands_node is not None else Bands()
    by_tier: dict[str, Bands] = {}
    tiers_node = node.child("bands_by_tier")
    if tiers_node is not None:
        tiers_node.check_keys(TIERS)
        for tier in TIERS:
            tier_node = tiers_node.child(tier)
            if tier_node is not None:
                by_tier[tier] = _bands(tier_node)
    measures = [_measure(measure, descriptions) for measure in node.children("measure")]
    return Scorecard(tuple(measures), bands, by_tier, min_coverage)


def _bands(node: Node) -> Bands:
    node.check_keys(BANDS_KEYS)
    green = node.number("green", low=0, high=100)
    yellow = node.number("yellow", low=0, high=100)
    if node.has("green") and node.has("yellow") and not node.failed and green <= yellow:
        shown = toml_repr(node.data["green"])
        node.report_value("green", f"must be above yellow ({format_number(yellow)}), got {shown}")
    return Bands(green, yellow)


def _measure(node: Node, descriptions: Mapping[str, str]) -> Measure:
    node.check_keys(MEASURE_KEYS)
    metric = node.text("metric")
    if metric and metric not in descriptions:
        node.report_value("metric", _unknown_metric(metric, descriptions))
    label = node.text("label", descriptions.get(metric) or metric or "?")
    weight = node.number("weight", low=0, low_open=True)
    given = [key for key in DIRECTIONS if node.has(key)]
    if len(given) == 2:
        node.report(
            node.key_pos(given[1]),
            "give either higher_is_better or lower_is_better, not both",
        )
    elif not given:
        node.report(node.here(), 'missing required key "higher_is_better" or "lower_is_better"')
    direction = given[0] if given else DIRECTIONS[0]
    steps = _steps(node, direction) if given else ()
    otherwise = node.number("otherwise", 0, low=0, high=100)
    return Measure(metric, weight, steps, direction, otherwise, label, node.origin())


def _unknown_metric(metric: str, descriptions: Mapping[str, str]) -> str:
    from monitor.metrics.accounts import is_builtin_attribute

    if is_builtin_attribute(metric):
        return (
            f"{quote(metric)} is an account attribute, not a metric: define "
            f'[metrics.{metric}] with kind = "attribute" to score it'
        )
    return f"unknown metric {quote(metric)}{did_you_mean(metric, descriptions)}"


def _steps(node: Node, key: str) -> tuple[tuple[float, float], ...]:
    """``[[threshold, points], ...]``: points 0-100, thresholds distinct."""
    raw = node.data[key]
    if not isinstance(raw, list) or not raw:
        node.wrong(key, "a list of [threshold, points] pairs", raw)
        return ()
    steps: list[tuple[float, float]] = []
    seen: set[float] = set()
    for index, pair in enumerate(raw):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair)
        ):
            node.wrong(key, "a [threshold, points] pair of numbers", pair, index)
            continue
        threshold, points = float(pair[0]), float(pair[1])
        if not 0 <= points <= 100:
            node.report_value(
                key, f"points must be between 0 and 100, got {toml_repr(pair[1])}", index, 1
            )
        if threshold in seen:
            node.report_value(key, f"threshold {toml_repr(pair[0])} is given twice", index, 0)
        seen.add(threshold)
        steps.append((threshold, points))
    return tuple(steps)
