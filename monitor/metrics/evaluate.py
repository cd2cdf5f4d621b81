"""Metric definitions compiled to small functions over the term values of one account.

Compiling registers every term a metric needs (so the SQL knows what to compute) and
returns a function reading those terms by id, so the per-account loop does no
planning, hashing of definitions or SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from monitor.metrics.accounts import is_builtin_attribute
from monitor.metrics.plan import (
    ALL_EVENTS,
    CountTerm,
    LastDayTerm,
    Span,
    TermRegistry,
    active_week_spans,
    events_key,
    source_span,
    window_term,
)
from monitor.metrics.results import AccountTerms
from monitor.rules.expr import ExprEvalError, Value
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
    PropertyAggregate,
    WindowSource,
)

log = logging.getLogger(__name__)

MetricFn = Callable[[AccountTerms, Mapping[str, Value], int], Value]
"""(term values, env so far, the instant's day number) -> the metric's value."""

HAS_DATA = LastDayTerm(ALL_EVENTS)
"""Any usage at all up to the instant: usage metrics are None without it."""


@dataclass(frozen=True)
class CompiledMetric:
    name: str
    compute: MetricFn
    uses_events: bool
    """Usage-based: None for an account with no track/page event up to the instant."""


@dataclass(frozen=True)
class Compiled:
    metrics: tuple[CompiledMetric, ...]
    terms: TermRegistry
    has_data: int | None
    """The term id of :data:`HAS_DATA`; None when no metric uses events (no query)."""

    def evaluate(
        self, terms: AccountTerms, attributes: Mapping[str, Value], day: int
    ) -> dict[str, Value]:
        """Every metric of one account at one instant, in definition order."""
        has_data = self.has_data is not None and terms.last_day(self.has_data) is not None
        env = dict(attributes)
        values: dict[str, Value] = {}
        for metric in self.metrics:
            value = metric.compute(terms, env, day) if has_data or not metric.uses_events else None
            values[metric.name] = env[metric.name] = value
        return values


def compile_metrics(metrics: Sequence[Metric]) -> Compiled:
    """Compile ``metrics`` (in dependency order); ValueError for a bad reference."""
    registry = TermRegistry()
    windows: dict[str, WindowSource] = {}
    compiled: list[CompiledMetric] = []
    for metric in metrics:
        source = metric.source
        if isinstance(source, EventCount | DistinctEvents | ActiveUsers | PropertyAggregate):
            windows[metric.name] = source
            fn = _window(registry, source, source_span(source))
        elif isinstance(source, Change):
            fn = _change(registry, _window_of(windows, metric.name, source.of))
        elif isinstance(source, BaselineRatio):
            of = _window_of(windows, metric.name, source.of)
            fn = _baseline_ratio(registry, of, source.baseline_days)
        elif isinstance(source, DaysSince):
            fn = _days_since(registry, source)
        elif isinstance(source, ActiveWeeks):
            fn = _active_weeks(registry, source)
        elif isinstance(source, Attribute):
            fn = _attribute(metric.name, source.attribute)
        else:
            fn = _derived(metric.name, source)
        uses_events = not isinstance(source, Attribute | Derived)
        compiled.append(CompiledMetric(metric.name, fn, uses_events))
    has_data = registry.add(HAS_DATA) if registry.ids else None
    return Compiled(tuple(compiled), registry, has_data)


def _window_of(windows: Mapping[str, WindowSource], name: str, of: str) -> WindowSource:
    try:
        return windows[of]
    except KeyError:
        raise ValueError(
            f"metric {name!r} refers to {of!r}, which is not an earlier "
            "count, active_users, distinct or property metric"
        ) from None


Reader = Callable[[AccountTerms], float | int | None]


def _reader(registry: TermRegistry, source: WindowSource, span: Span) -> Reader:
    """The value of a window metric over ``span``: counts are 0 on an empty window,
    an average over no values is None."""
    term_id = registry.add(window_term(source, span))
    if not isinstance(source, PropertyAggregate):
        return lambda terms: terms.count(term_id)
    if source.aggregate == "sum":
        return lambda terms: terms.property(term_id)[0]
    if source.aggregate == "count":
        return lambda terms: terms.property(term_id)[1]

    def average(terms: AccountTerms) -> float | None:
        total, count = terms.property(term_id)
        return total / count if count else None

    return average


def _window(registry: TermRegistry, source: WindowSource, span: Span) -> MetricFn:
    read = _reader(registry, source, span)
    return lambda terms, _env, _day: read(terms)


def _change(registry: TermRegistry, of: WindowSource) -> MetricFn:
    span = source_span(of)
    current = _reader(registry, of, span)
    previous = _reader(registry, of, span.shifted(span.days))

    def change(terms: AccountTerms, _env: Mapping[str, Value], _day: int) -> Value:
        cur, prev = current(terms), previous(terms)
        if cur is None or not prev:
            return None
        return (cur - prev) / prev

    return change


def _baseline_ratio(registry: TermRegistry, of: WindowSource, baseline_days: int) -> MetricFn:
    span = source_span(of)
    current = _reader(registry, of, span)
    baseline = _reader(registry, of, span.before(baseline_days))
    # An average is already per value: only totals scale with the number of days.
    scale = 1.0 if _is_average(of) else span.days / baseline_days

    def ratio(terms: AccountTerms, _env: Mapping[str, Value], _day: int) -> Value:
        cur, base = current(terms), baseline(terms)
        if cur is None or not base:
            return None
        return cur / (base * scale)

    return ratio


def _is_average(source: WindowSource) -> bool:
    return isinstance(source, PropertyAggregate) and source.aggregate == "avg"


def _days_since(registry: TermRegistry, source: DaysSince) -> MetricFn:
    term_id = registry.add(LastDayTerm(events_key(source.events)))

    def days_since(terms: AccountTerms, _env: Mapping[str, Value], day: int) -> Value:
        last = terms.last_day(term_id)
        return None if last is None else day - last

    return days_since


def _active_weeks(registry: TermRegistry, source: ActiveWeeks) -> MetricFn:
    events = events_key(source.events)
    blocks = [registry.add(CountTerm(events, span)) for span in active_week_spans(source.max_weeks)]
    minimum = source.min_events

    def active_weeks(terms: AccountTerms, _env: Mapping[str, Value], _day: int) -> Value:
        weeks = 0
        for block in blocks:
            if terms.count(block) < minimum:
                break
            weeks += 1
        return weeks

    return active_weeks


def _attribute(name: str, attribute: str) -> MetricFn:
    if not is_builtin_attribute(attribute):
        raise ValueError(f"metric {name!r}: {attribute!r} is not an account attribute")
    return lambda _terms, env, _day: env.get(attribute)


def _derived(name: str, source: Derived) -> MetricFn:
    expr = source.expr
    names = tuple(expr.names)
    warned = False

    def derived(_terms: AccountTerms, env: Mapping[str, Value], _day: int) -> Value:
        nonlocal warned
        try:
            # Names an account does not have (an unset attrs.X) are null, not an error.
            return expr({name: env.get(name) for name in names})
        except ExprEvalError as exc:
            # A type clash in one account's data (text where a number was expected)
            # leaves that value without data instead of stopping the whole evaluation.
            if not warned:
                warned = True
                log.warning(
                    "metric %s (%s) has no value for account %s (and maybe others): %s",
                    name,
                    expr.source,
                    env.get("account_id"),
                    exc.message,
                )
            return None

    return derived
