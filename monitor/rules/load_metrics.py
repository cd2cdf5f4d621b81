"""Validating ``[event_sets]`` and ``[metrics.NAME]`` into :class:`Metric` definitions.

Every metric is checked against its kind's keys, and its references resolved: event
set names, the window metric a ``change``/``baseline_ratio`` is ``of``, and the names
a derived ``expr`` uses. Metrics come out in dependency order (each after the
metrics it uses); a cycle among derived metrics is an error naming the cycle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.metrics.accounts import BUILTIN_ATTRIBUTES, is_builtin_attribute
from monitor.rules.expr.tokens import KEYWORDS
from monitor.rules.fields import Node
from monitor.rules.model import (
    ActiveUsers,
    ActiveWeeks,
    Attribute,
    BaselineRatio,
    Change,
    DaysSince,
    Derived,
    DistinctEvents,
    EventCount,
    Metric,
    MetricSource,
    PropertyAggregate,
)
from monitor.rules.problems import did_you_mean, one_of, quote

KINDS = (
    "count",
    "active_users",
    "distinct",
    "days_since",
    "property",
    "active_weeks",
    "attribute",
    "expr",
    "change",
    "baseline_ratio",
)
WINDOW_KINDS = ("count", "active_users", "distinct", "property")
COMMON_KEYS = ("kind", "description", "unit")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "count": ("events", "window", "offset"),
    "active_users": ("window", "offset"),
    "distinct": ("events", "window", "offset"),
    "days_since": ("events",),
    "property": ("events", "property", "aggregate", "window", "offset"),
    "active_weeks": ("events", "max_weeks", "min_events"),
    "attribute": ("attribute",),
    "expr": ("expr",),
    "change": ("of",),
    "baseline_ratio": ("of", "baseline"),
}
ATTRIBUTE_NAMES = BUILTIN_ATTRIBUTES | {"attrs.*"}
"""What every expression may use: the built-in attributes and any ``attrs.<key>``."""
ALERT_ONLY_NAMES = frozenset({"tier", "score", "band"})
"""Names alert conditions see besides metrics and attributes; no metric may take them."""
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PAGE_EVENT = re.compile(r"page:/[^/?#]*")
AGGREGATES: tuple[Literal["sum", "avg", "count"], ...] = ("sum", "avg", "count")


def metric_nodes(metric_tables: Sequence[Node]) -> dict[str, Node]:
    """Every ``[metrics.NAME]`` defined (valid or not), for resolving references."""
    nodes: dict[str, Node] = {}
    for name, table in merge_entries(metric_tables, "metric").items():
        node = table.child(name)
        nodes[name] = node or Node(table.source, (*table.path, name), {}, table.problems, True)
    return nodes


def merge_entries(tables: Sequence[Node], what: str) -> dict[str, Node]:
    """The entries of one kind of table across files: name -> the table holding it.

    A name defined twice is reported at its second definition, naming the first.
    """
    merged: dict[str, Node] = {}
    for table in tables:
        for name in table.data:
            first = merged.setdefault(name, table)
            if first is not table:
                pos = first.key_pos(name)
                table.report(
                    table.key_pos(name),
                    f"{what} {quote(name)} is already defined at "
                    f"{first.source.name}:{pos.line}:{pos.column}",
                )
    return merged


def load_event_sets(tables: Sequence[Node]) -> dict[str, tuple[str, ...]]:
    """``[event_sets]`` from every file: name -> events, each event name checked."""
    return {
        name: event_list(table, name) for name, table in merge_entries(tables, "event set").items()
    }


def event_list(node: Node, key: str) -> tuple[str, ...]:
    """A non-empty list of event names at ``key``, each checked."""
    events = node.texts(key)
    for index, event in enumerate(events):
        problem = event_name_problem(event)
        if problem:
            node.report_value(key, problem, index)
    return tuple(events)


def event_name_problem(event: str) -> str:
    if event.startswith("page:") and not PAGE_EVENT.fullmatch(event):
        return (
            f"{quote(event)}: page views are matched by the first segment of their path, "
            'e.g. "page:/help"'
        )
    return ""


@dataclass(frozen=True)
class _Context:
    event_sets: Mapping[str, tuple[str, ...]]
    nodes: Mapping[str, Node]
    """Every metric defined, by name, valid or not."""

    def kind_of(self, name: str) -> object:
        return self.nodes[name].data.get("kind")


def load_metrics(
    nodes: Mapping[str, Node], event_sets: Mapping[str, tuple[str, ...]]
) -> tuple[Metric, ...]:
    """Validate every metric (see the module docstring); dependency-ordered result."""
    context = _Context(event_sets, nodes)
    built: dict[str, Metric] = {}
    for name, node in nodes.items():
        if node.failed:  # not a table: already reported
            continue
        metric = _metric(name, node, context)
        if metric is not None and not node.failed:
            built[name] = metric
    return dependency_order(built, nodes)


def _metric(name: str, node: Node, context: _Context) -> Metric | None:
    kind = node.choice("kind", KINDS)
    if node.failed:
        node.check_keys((*COMMON_KEYS, *{key for keys in KIND_KEYS.values() for key in keys}))
        return None
    node.check_keys((*COMMON_KEYS, *KIND_KEYS[kind]), _misplaced_keys(kind))
    description = node.text("description")
    unit = node.text("unit", "", nonempty=False)
    _check_name(name, node, kind)
    source = _source(name, kind, node, context)
    if source is None:
        return None
    return Metric(name, source, description, node.origin(), unit)


def _misplaced_keys(kind: str) -> dict[str, str]:
    """Explanations for keys that belong to other kinds of metric."""
    hints: dict[str, str] = {}
    for key in {k for keys in KIND_KEYS.values() for k in keys} - set(KIND_KEYS[kind]):
        users = [other for other, keys in KIND_KEYS.items() if key in keys]
        hints[key] = (
            f"{quote(key)} does not apply to {quote(kind)} metrics (only to {one_of(users)})"
        )
    return hints


def _check_name(name: str, node: Node, kind: str) -> None:
    header = node.here()
    if name in KEYWORDS:
        node.report(
            header, f"{quote(name)} is a word of the expression language; choose another name"
        )
    elif not NAME.fullmatch(name):
        node.report(
            header,
            f"metric name {quote(name)} is not a valid name: use letters, digits and _ "
            "(not starting with a digit)",
        )
    elif name in ALERT_ONLY_NAMES:
        node.report(header, f"{quote(name)} is reserved for alert conditions; choose another name")
    elif name in BUILTIN_ATTRIBUTES and not (
        kind == "attribute" and node.data.get("attribute", name) == name
    ):
        node.report(
            header,
            f"{quote(name)} is a built-in account attribute; choose another name",
        )


def _source(name: str, kind: str, node: Node, context: _Context) -> MetricSource | None:
    if kind == "count":
        return EventCount(_events(node, context), *_window(node))
    if kind == "active_users":
        return ActiveUsers(*_window(node))
    if kind == "distinct":
        return DistinctEvents(_events(node, context), *_window(node))
    if kind == "days_since":
        return DaysSince(_events(node, context, required=False))
    if kind == "property":
        events = _events(node, context)
        prop = node.text("property")
        aggregate = node.choice("aggregate", AGGREGATES)
        window, offset = _window(node)
        return PropertyAggregate(events, prop, aggregate, window, offset)
    if kind == "active_weeks":
        events = _events(node, context)
        return ActiveWeeks(
            events, node.integer("max_weeks", low=1), node.integer("min_events", 1, low=1)
        )
    if kind == "attribute":
        return _attribute(name, node)
    if kind == "expr":
        names = ATTRIBUTE_NAMES | context.nodes.keys()
        expr = node.expression("expr", names)
        return Derived(expr) if expr is not None else None
    of = _window_metric(node, context)
    if kind == "change":
        return Change(of)
    return BaselineRatio(of, node.days("baseline", low=1))


def _window(node: Node) -> tuple[int, int]:
    return node.days("window", low=1), node.days("offset", "0d")


def _events(node: Node, context: _Context, *, required: bool = True) -> tuple[str, ...]:
    """``events`` is the name of an event set or a list of event names."""
    if not node.has("events"):
        if required:
            node.missing("events")
        return ()
    value = node.data["events"]
    if isinstance(value, str):
        if value in context.event_sets:
            return context.event_sets[value]
        node.report_value(
            "events",
            f"unknown event set {quote(value)}{did_you_mean(value, context.event_sets)}; "
            f"name an [event_sets] entry, or list events: [{quote(value)}]",
        )
        return ()
    return event_list(node, "events")


def _attribute(name: str, node: Node) -> Attribute:
    attribute = node.text("attribute", name)
    if not is_builtin_attribute(attribute):
        choices = sorted(BUILTIN_ATTRIBUTES)
        where = node.value_pos("attribute") if node.has("attribute") else node.here()
        # Not close to a built-in: most likely a CRM attribute written without "attrs.".
        hint = did_you_mean(attribute, choices) or f" (did you mean {quote('attrs.' + attribute)}?)"
        node.report(
            where,
            f"{quote(attribute)} is not an account attribute{hint}: use one of "
            f"{', '.join(choices)}, or attrs.<key> for a CRM attribute",
        )
    return Attribute(attribute)


def _window_metric(node: Node, context: _Context) -> str:
    """The ``of`` of a change/baseline_ratio metric: a count/active_users/distinct/property."""
    of = node.text("of")
    if not of:
        return of
    if of not in context.nodes:
        node.report_value("of", f"unknown metric {quote(of)}{did_you_mean(of, context.nodes)}")
    elif (kind := context.kind_of(of)) not in WINDOW_KINDS and isinstance(kind, str):
        node.report_value(
            "of",
            f'{quote(of)} is a metric of kind {quote(kind)}; "of" must name a window '
            f"metric (kind {one_of(WINDOW_KINDS)})",
        )
    return of


def uses(metric: Metric) -> frozenset[str]:
    """The names a metric's definition refers to."""
    source = metric.source
    if isinstance(source, Derived):
        return frozenset(source.expr.names)
    if isinstance(source, Change | BaselineRatio):
        return frozenset({source.of})
    return frozenset()


def dependency_order(
    metrics: Mapping[str, Metric], nodes: Mapping[str, Node]
) -> tuple[Metric, ...]:
    """``metrics`` in definition order, except that each comes after those it uses.

    A cycle is reported once, at the first of its metrics, naming the whole cycle.
    """
    order: list[Metric] = []
    state: dict[str, str] = {}  # "visiting" or "done"
    reported: set[frozenset[str]] = set()

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*trail[trail.index(name) :], name]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                first = min(cycle[:-1], key=list(nodes).index)
                start = cycle.index(first)
                shown = [*cycle[start:-1], *cycle[:start], first]
                node = nodes[first]
                key = "expr" if node.has("expr") else "of"
                node.report_value(key, f"metrics form a cycle: {' -> '.join(shown)}")
            return
        state[name] = "visiting"
        for used in sorted(uses(metrics[name]) & metrics.keys(), key=list(metrics).index):
            visit(used, [*trail, name])
        state[name] = "done"
        order.append(metrics[name])

    for name in metrics:
        visit(name, [])
    return tuple(order)
