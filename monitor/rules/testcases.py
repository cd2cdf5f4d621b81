"""Rule unit test files (``rules/tests/*.toml``): parsing and validation.

Each ``[[test]]`` gives an account, an instant ``at``, its input (metric values given
directly, or compact usage events) and what the rules must conclude. Names in a test
(metrics, rules) are checked against the rule set, so a renamed rule fails loudly
instead of leaving a test that silently asserts nothing. See docs/rules.md.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.rules.fields import Node
from monitor.rules.model import TIERS, Attribute, Derived, Origin, RuleSet
from monitor.rules.problems import (
    Problems,
    RuleError,
    RuleProblem,
    SourceFile,
    did_you_mean,
    parse_source,
    quote,
)

Scalar = float | int | bool | str | None
NULL = "null"
"""TOML has no null: ``"null"`` in ``expect.metrics`` means "no data"."""

TEST_KEYS = ("name", "at", "account", "metrics", "events", "contracts", "expect")
ACCOUNT_FIELDS = ("account_id", "name", "arr", "seats", "plan", "csm_email")
ACCOUNT_DATES = ("created_at", "renewal_date")
EVENT_KEYS = ("event", "page", "user", "days_ago", "count", "properties")
CONTRACT_KEYS = ("contract_id", "start", "end", "arr", "status")
CONTRACT_STATUSES = ("active", "renewed", "churned")
EXPECT_KEYS = ("tier", "band", "score", "alerts", "pending", "not_alerts", "metrics", "severities")
BANDS = ("green", "yellow", "red", "unknown")
SEVERITIES = ("info", "warning", "critical")
_DAY_RANGE = re.compile(r"(\d+)\.\.(\d+)")


@dataclass(frozen=True)
class AccountInput:
    account_id: str = "acct-1"
    name: str = "Test account"
    arr: float = 0.0
    seats: int = 0
    plan: str | None = None
    csm_email: str | None = None
    created_at: date | None = None
    renewal_date: date | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventInput:
    """``count`` events per listed day: a track ``event`` or a ``page`` view (a path)."""

    event: str | None
    page: str | None
    user: str
    days_ago: tuple[int, ...]
    count: int
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class ContractInput:
    contract_id: str
    start: date
    end: date
    arr: float
    status: str


@dataclass(frozen=True)
class Expectation:
    tier: str | None = None
    band: str | None = None
    score: tuple[float, float] | None = None
    alerts: tuple[str, ...] = ()
    """Rules expected firing; ``rule:days`` also checks a renewal's threshold."""
    pending: tuple[str, ...] = ()
    not_alerts: tuple[str, ...] = ()
    metrics: Mapping[str, Scalar] = field(default_factory=dict)
    severities: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleTestCase:
    name: str
    at: datetime
    account: AccountInput
    metrics: Mapping[str, Scalar] | None
    """Metric values given directly (the pure path), or None when events are given."""
    events: tuple[EventInput, ...]
    contracts: tuple[ContractInput, ...]
    expect: Expectation
    origin: Origin


def load_rule_tests(path: Path, rules: RuleSet) -> list[RuleTestCase]:
    """Every test in ``path`` (a ``.toml`` file or a folder of them); raises
    :class:`RuleError` with every problem of every file."""
    if not path.exists():
        raise RuleError([RuleProblem(str(path), 0, 0, "the rule tests folder does not exist")])
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not files:
        raise RuleError([RuleProblem(str(path), 0, 0, "no rule test files (*.toml) here")])
    problems = Problems()
    cases: list[RuleTestCase] = []
    for file in files:
        parsed = parse_source(str(file), file.read_bytes())
        if isinstance(parsed, RuleProblem):
            problems.add(parsed)
            continue
        cases += _file_cases(parsed, rules, problems)
    problems.raise_if_any()
    return cases


def _file_cases(source: SourceFile, rules: RuleSet, problems: Problems) -> list[RuleTestCase]:
    root = Node(source, (), source.data, problems)
    root.check_keys(("test",))
    if "test" not in source.data:
        root.report(root.here(), "no [[test]] in this file")
    cases: list[RuleTestCase] = []
    names: dict[str, Node] = {}
    for node in root.children("test"):
        case = _case(node, rules)
        if case.name in names:
            node.report_value("name", f"{quote(case.name)} is already the name of a test")
        names[case.name] = node
        if not node.failed:
            cases.append(case)
    return cases


def _case(node: Node, rules: RuleSet) -> RuleTestCase:
    node.check_keys(TEST_KEYS)
    name = node.text("name")
    at = _instant(node, "at")
    account_node = node.child("account")
    account = _account(account_node) if account_node is not None else AccountInput()
    given = node.child("metrics")
    events = [_event(child) for child in node.children("events")]
    if given is not None and events:
        node.report(
            node.key_pos("events"), "give either [test.metrics] or [[test.events]], not both"
        )
    contracts = [
        _contract(child, index, account) for index, child in enumerate(node.children("contracts"))
    ]
    expect_node = node.child("expect")
    if expect_node is None:
        node.missing("expect")
    expect = _expect(expect_node, rules) if expect_node is not None else Expectation()
    metrics = _given_metrics(given, rules) if given is not None else None
    for child in (account_node, given, expect_node):
        if child is not None and child.failed:
            node.failed = True
    return RuleTestCase(
        name, at, account, metrics, tuple(events), tuple(contracts), expect, node.origin()
    )


def _instant(node: Node, key: str) -> datetime:
    value = node.data.get(key)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value is None:
        node.missing(key)
    else:
        node.wrong(key, "an instant like 2026-03-02T09:00:00Z", value)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _date(node: Node, key: str) -> date | None:
    value = node.data.get(key)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if value is not None:
        node.wrong(key, "a date like 2026-03-02", value)
    return None


def _account(node: Node) -> AccountInput:
    default = AccountInput()
    account_id = node.text("account_id", default.account_id)
    attributes = {
        key: value
        for key, value in node.entries()
        if key not in ACCOUNT_FIELDS and key not in ACCOUNT_DATES
    }
    return AccountInput(
        account_id=account_id,
        name=node.text("name", account_id),
        arr=node.number("arr", 0, low=0),
        seats=node.integer("seats", 0, low=0),
        plan=node.text("plan", "") or None,
        csm_email=node.text("csm_email", "") or None,
        created_at=_date(node, "created_at"),
        renewal_date=_date(node, "renewal_date"),
        attributes=attributes,
    )


def _event(node: Node) -> EventInput:
    node.check_keys(EVENT_KEYS)
    given = [key for key in ("event", "page") if node.has(key)]
    if len(given) != 1:
        node.report(node.here(), 'give exactly one of "event" (a track event) or "page" (a path)')
    event = node.text("event") if node.has("event") else None
    page = node.text("page") if node.has("page") else None
    if page is not None and not page.startswith("/"):
        node.report_value("page", f'expected a path starting with "/", got {quote(page)}')
    properties = node.child("properties")
    return EventInput(
        event=event,
        page=page,
        user=node.text("user", "u1"),
        days_ago=_days_ago(node),
        count=node.integer("count", 1, low=1),
        properties=dict(properties.data) if properties is not None else {},
    )


def _days_ago(node: Node) -> tuple[int, ...]:
    """An int, a list of ints, or an inclusive range ``"0..13"``."""
    value = node.data.get("days_ago")
    if value is None:
        node.missing("days_ago")
        return ()
    if isinstance(value, str) and (match := _DAY_RANGE.fullmatch(value.strip())):
        low, high = int(match.group(1)), int(match.group(2))
        if low <= high:
            return tuple(range(low, high + 1))
    items = value if isinstance(value, list) else [value]
    if items and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in items):
        return tuple(items)
    node.wrong("days_ago", 'days before "at": 3, [0, 1, 2] or "0..13"', value)
    return ()


def _contract(node: Node, index: int, account: AccountInput) -> ContractInput:
    node.check_keys(CONTRACT_KEYS)
    start, end = _date(node, "start"), _date(node, "end")
    for key, value in (("start", start), ("end", end)):
        if value is None and not node.has(key):
            node.missing(key)
    return ContractInput(
        contract_id=node.text("contract_id", f"contract-{index + 1}"),
        start=start or date(1970, 1, 1),
        end=end or date(1970, 1, 1),
        arr=node.number("arr", account.arr, low=0),
        status=node.choice("status", CONTRACT_STATUSES, "active"),
    )


def _given_metrics(node: Node, rules: RuleSet) -> dict[str, Scalar]:
    """Metric values given directly: only metrics measured from usage may be given."""
    values: dict[str, Scalar] = {}
    for name, value in node.entries():
        if not _known_metric(node, name, rules):
            continue
        source = rules.metric(name).source
        if isinstance(source, Derived):
            node.report(
                node.key_pos(name),
                f"{quote(name)} is computed from other metrics (kind expr); "
                "give the metrics it uses instead",
            )
        elif isinstance(source, Attribute):
            node.report(
                node.key_pos(name),
                f"{quote(name)} is the account attribute {quote(source.attribute)}; "
                "set it in [test.account]",
            )
        else:
            values[name] = _scalar(node, name, value)
    return values


def _known_metric(node: Node, name: str, rules: RuleSet) -> bool:
    known = [metric.name for metric in rules.metrics]
    if name in known:
        return True
    node.report(node.key_pos(name), f"unknown metric {quote(name)}{did_you_mean(name, known)}")
    return False


def _scalar(node: Node, key: str, value: object) -> Scalar:
    if value == NULL:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    node.wrong(key, 'a number, true/false, a string or "null"', value)
    return None


def _expect(node: Node, rules: RuleSet) -> Expectation:
    node.check_keys(EXPECT_KEYS)
    rule_names = [rule.name for rule in rules.alerts] + [rule.name for rule in rules.renewals]
    metrics_node = node.child("metrics")
    severities_node = node.child("severities")
    expect = Expectation(
        tier=node.choice("tier", TIERS) if node.has("tier") else None,
        band=node.choice("band", BANDS) if node.has("band") else None,
        score=_score_range(node),
        alerts=_rule_list(node, "alerts", rules, rule_names),
        pending=_rule_list(node, "pending", rules, rule_names),
        not_alerts=_rule_list(node, "not_alerts", rules, rule_names),
        metrics=_expected_metrics(metrics_node, rules) if metrics_node else {},
        severities=_severities(severities_node, rule_names) if severities_node else {},
    )
    for child in (metrics_node, severities_node):
        if child is not None and child.failed:
            node.failed = True
    return expect


def _expected_metrics(node: Node, rules: RuleSet) -> dict[str, Scalar]:
    return {
        name: _scalar(node, name, value)
        for name, value in node.entries()
        if _known_metric(node, name, rules)
    }


def _score_range(node: Node) -> tuple[float, float] | None:
    value = node.data.get("score")
    if value is None:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
        and value[0] <= value[1]
    ):
        return float(value[0]), float(value[1])
    node.wrong("score", "a range [min, max] such as [70, 100]", value)
    return None


def _rule_list(
    node: Node, key: str, rules: RuleSet, rule_names: Collection[str]
) -> tuple[str, ...]:
    """Rule names; ``renewal:180`` names a renewal rule's threshold."""
    if not node.has(key):
        return ()
    entries = node.texts(key)
    renewals = {rule.name for rule in rules.renewals}
    for index, entry in enumerate(entries):
        rule, _, days = entry.partition(":")
        if rule not in rule_names:
            hint = did_you_mean(rule, rule_names) or " (disabled rules cannot be tested)"
            node.report_value(key, f"unknown rule {quote(rule)}{hint}", index)
        elif days and (rule not in renewals or not days.isdigit()):
            node.report_value(
                key,
                f'{quote(entry)}: only renewal rules take a threshold, as in "renewal:90"',
                index,
            )
    return tuple(entries)


def _severities(node: Node, rule_names: Collection[str]) -> dict[str, str]:
    severities: dict[str, str] = {}
    for rule in node.data:
        if rule not in rule_names:
            node.report(
                node.key_pos(rule), f"unknown rule {quote(rule)}{did_you_mean(rule, rule_names)}"
            )
        else:
            severities[rule] = node.choice(rule, SEVERITIES)
    return severities


__all__ = ["RuleTestCase", "load_rule_tests"]
