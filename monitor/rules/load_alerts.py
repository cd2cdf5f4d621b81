"""Validating ``[[alert]]`` and ``[[renewal]]`` rules.

Conditions (``when``, ``escalate``) may use the built-in attributes, every metric,
and ``tier``, ``score`` and ``band``. Summaries are Jinja2 templates, compiled here
so that a syntax error or an unknown name is reported at load time, at its line,
instead of degrading a message at 3 a.m.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from difflib import get_close_matches

from jinja2 import TemplateSyntaxError, meta

from monitor.evaluation.summary import ENVIRONMENT, compile_summary
from monitor.rules.fields import Node
from monitor.rules.model import (
    SEVERITY_RANK,
    TIERS,
    AlertKind,
    AlertRule,
    RenewalRule,
    Severity,
    SeverityLevel,
    Tier,
)
from monitor.rules.problems import did_you_mean, one_of, quote
from monitor.rules.toml_positions import Pos

ALERT_KEYS = (
    "name", "kind", "description", "when", "severity", "escalate", "tiers",
    "for", "repeat", "summary", "enabled",
)  # fmt: skip
RENEWAL_KEYS = (
    "name", "description", "thresholds", "thresholds_by_tier", "severity", "escalate",
    "tiers", "when", "summary", "enabled",
)  # fmt: skip
ALERT_KINDS: tuple[AlertKind, ...] = ("churn_risk", "opportunity")
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
RULE_NAME = re.compile(r"[a-z0-9_]+")
_ALERT_HINTS = {
    "thresholds": '"thresholds" belongs to [[renewal]] rules',
    "thresholds_by_tier": '"thresholds_by_tier" belongs to [[renewal]] rules',
}
_RENEWAL_HINTS = {
    "kind": '[[renewal]] rules have no "kind" (they are always renewal alerts)',
    "for": '[[renewal]] rules fire once per contract and threshold: "for" does not apply',
    "repeat": '[[renewal]] rules fire once per contract and threshold: "repeat" does not apply',
}


@dataclass(frozen=True)
class _Common:
    """What alert and renewal rules share."""

    name: str
    description: str
    severities: tuple[SeverityLevel, ...]
    tiers: tuple[Tier, ...]
    summary: str
    enabled: bool


def load_alert_rules(
    alerts: Sequence[Node], renewals: Sequence[Node], names: Collection[str]
) -> tuple[tuple[AlertRule, ...], tuple[RenewalRule, ...]]:
    """Every enabled alert and renewal rule; names are unique across both kinds."""
    seen: dict[str, Node] = {}
    alert_rules: list[AlertRule] = []
    renewal_rules: list[RenewalRule] = []
    for node in alerts:
        node.check_keys(ALERT_KEYS, _ALERT_HINTS)
        common = _common(node, names, seen)
        kind = _alert_kind(node)
        when = node.expression("when", names)
        for_ = node.duration("for", "0d")
        repeat = node.duration("repeat", "7d", allow_hours=True, positive=True)
        if common.enabled and when is not None and not node.failed:
            alert_rules.append(
                AlertRule(
                    common.name,
                    kind,
                    when,
                    common.severities,
                    common.tiers,
                    for_,
                    repeat,
                    common.summary,
                    common.description,
                    node.origin(),
                )
            )
    for node in renewals:
        node.check_keys(RENEWAL_KEYS, _RENEWAL_HINTS)
        common = _common(node, names, seen)
        thresholds = _thresholds(node, "thresholds")
        by_tier = _thresholds_by_tier(node)
        when = node.expression("when", names) if node.has("when") else None
        if common.enabled and not node.failed:
            renewal_rules.append(
                RenewalRule(
                    common.name,
                    thresholds,
                    by_tier,
                    common.severities,
                    common.tiers,
                    when,
                    common.summary,
                    common.description,
                    node.origin(),
                )
            )
    return tuple(alert_rules), tuple(renewal_rules)


def _common(node: Node, names: Collection[str], seen: dict[str, Node]) -> _Common:
    name = node.text("name")
    if name and not RULE_NAME.fullmatch(name):
        node.report_value("name", f"use lowercase letters, digits and _ only, got {quote(name)}")
    elif name in seen:
        first = seen[name]
        pos = first.value_pos("name")
        node.report_value(
            "name", f"{quote(name)} is already the name of the rule at "
            f"{first.source.name}:{pos.line}:{pos.column}",
        )  # fmt: skip
    elif name:
        seen[name] = node
    description = node.text("description")
    severities = _severities(node, names)
    tiers = tuple(node.choices("tiers", TIERS, TIERS))
    summary = _summary(node, names)
    enabled = node.boolean("enabled", True)
    return _Common(name, description, severities, tiers, summary, enabled)


def _alert_kind(node: Node) -> AlertKind:
    if node.data.get("kind") == "renewal":
        node.report_value("kind", "renewal rules are written as [[renewal]] tables")
        return ALERT_KINDS[0]
    return node.choice("kind", ALERT_KINDS)


def _severities(node: Node, names: Collection[str]) -> tuple[SeverityLevel, ...]:
    """The base severity, and the higher levels of ``escalate``, most severe first."""
    base = node.choice("severity", SEVERITIES)
    escalate = node.child("escalate")
    if escalate is None:
        return (SeverityLevel(base, None),)
    levels = [SeverityLevel(base, None)]
    for key in escalate.data:
        level = next((severity for severity in SEVERITIES if severity == key), None)
        if level is None:
            escalate.report(
                escalate.key_pos(key),
                f"escalate: unknown severity {quote(key)}{did_you_mean(key, SEVERITIES)}; "
                f"expected {one_of(SEVERITIES)}",
            )
        elif SEVERITY_RANK[level] <= SEVERITY_RANK[base]:
            above = [s for s in SEVERITIES if SEVERITY_RANK[s] > SEVERITY_RANK[base]]
            allowed = f"only {one_of(above)} can be" if above else "nothing is above critical"
            escalate.report(
                escalate.key_pos(level),
                f"escalate: {quote(level)} is not above the base severity {quote(base)} "
                f"({allowed})",
            )
        else:
            when = escalate.expression(level, names)
            if when is not None:
                levels.append(SeverityLevel(level, when))
    if escalate.failed:
        node.failed = True
    return tuple(sorted(levels, key=lambda lv: -SEVERITY_RANK[lv.severity]))


def _thresholds(node: Node, key: str, parent: Node | None = None) -> tuple[int, ...]:
    """A non-empty list of distinct positive whole days."""
    raw = node.data.get(key)
    if raw is None:
        node.missing(key)
        return ()
    if not isinstance(raw, list) or not raw:
        node.wrong(key, "a list of days such as [90, 60, 30]", raw)
        return ()
    days: list[int] = []
    for index, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            node.wrong(key, "a positive whole number of days", item, index)
        elif item in days:
            node.report_value(key, f"{item} is listed twice", index)
        else:
            days.append(item)
    if node.failed and parent is not None:
        parent.failed = True
    return tuple(sorted(days, reverse=True))


def _thresholds_by_tier(node: Node) -> dict[str, tuple[int, ...]]:
    by_tier = node.child("thresholds_by_tier")
    if by_tier is None:
        return {}
    by_tier.check_keys(TIERS)
    return {tier: _thresholds(by_tier, tier, node) for tier in TIERS if tier in by_tier.data}


def _summary(node: Node, names: Collection[str]) -> str:
    """The summary template, compiled; problems reported where they are in the file."""
    text = node.text("summary")
    if not text:
        return text
    start = node.value_pos("summary")
    try:
        compile_summary(text)
    except TemplateSyntaxError as exc:
        line = exc.lineno or 1
        pos = Pos(start.line + line - 1, start.column if line == 1 else 1)
        message = exc.message or "invalid template"
        node.report(pos, f"summary: {message[:1].lower()}{message[1:]}")
        return text
    for name in sorted(meta.find_undeclared_variables(ENVIRONMENT.parse(text))):
        if name not in names:
            node.report(
                _offset_pos(start, text, _find_name(text, name)),
                f"summary: unknown name `{name}`{_suggest_name(name, names)}",
            )
    return text


def _suggest_name(name: str, names: Collection[str]) -> str:
    """Names are shown in backticks, as in expression errors."""
    close = get_close_matches(name, [n for n in names if not n.endswith(".*")], n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _find_name(text: str, name: str) -> int:
    match = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)
    return match.start() if match else 0


def _offset_pos(start: Pos, text: str, offset: int) -> Pos:
    """The file position of character ``offset`` of a string whose text starts at ``start``."""
    before = text[:offset]
    newlines = before.count("\n")
    if newlines == 0:
        return Pos(start.line, start.column + offset)
    return Pos(start.line + newlines, offset - before.rfind("\n"))
