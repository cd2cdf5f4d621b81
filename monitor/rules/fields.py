"""Reading the tables of a rule file key by key, reporting every problem in place.

A :class:`Node` is one TOML table together with its path in the file, so that each
getter can point a problem at the exact key or value. Getters never raise: a
problem is recorded (and :attr:`Node.failed` set) and a harmless placeholder is
returned so that validation can go on and find the next problem too. Builders
check ``failed`` before they make a model object.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from monitor.rules.durations import DurationError, parse_duration
from monitor.rules.expr import Expr, ExprError, compile_expr
from monitor.rules.model import Origin
from monitor.rules.problems import (
    Problems,
    RuleProblem,
    SourceFile,
    did_you_mean,
    one_of,
    quote,
    toml_repr,
)
from monitor.rules.toml_positions import Path, Pos

_RENDERED_AT = re.compile(r"(\d+):(\d+): ")
Word = TypeVar("Word", bound=str)


@dataclass
class Node:
    """One table of a rule file, read with positions (see the module docstring)."""

    source: SourceFile
    path: Path
    data: Mapping[str, Any]
    problems: Problems
    failed: bool = False
    misspelt: list[str] = field(default_factory=list)
    """Unknown keys reported with a suggestion (see :meth:`missing`)."""

    # --- places ------------------------------------------------------------------

    def here(self) -> Pos:
        """Where the table starts: its header, or its key for an inline table."""
        return self.source.positions.key(self.path)

    def key_pos(self, key: str) -> Pos:
        return self.source.positions.key((*self.path, key))

    def value_pos(self, key: str, *index: int | str) -> Pos:
        return self.source.positions.value((*self.path, key, *index))

    def origin(self) -> Origin:
        pos = self.here()
        return Origin(self.source.name, pos.line, pos.column)

    def has(self, key: str) -> bool:
        return key in self.data

    # --- reporting ---------------------------------------------------------------

    def report(self, pos: Pos, message: str) -> None:
        self.failed = True
        self.problems.at(self.source, pos, message)

    def report_value(self, key: str, message: str, *index: int | str) -> None:
        self.report(self.value_pos(key, *index), f"{key}: {message}")

    def wrong(self, key: str, expected: str, value: object, *index: int | str) -> None:
        self.report_value(key, f"expected {expected}, got {toml_repr(value)}", *index)

    def missing(self, key: str) -> None:
        # A misspelt key ("sumary") is already reported with its correction: saying
        # that "summary" is missing as well would only be noise.
        if not did_you_mean(key, self.misspelt):
            self.report(self.here(), f"missing required key {quote(key)}")
        self.failed = True

    def check_keys(self, allowed: Collection[str], hints: Mapping[str, str] | None = None) -> None:
        """Report every key that is not ``allowed``; ``hints`` explains known misplacements."""
        for key in self.data:
            if key in allowed:
                continue
            hint = (hints or {}).get(key)
            suggestion = did_you_mean(key, allowed)
            if suggestion and not hint:
                self.misspelt.append(key)
            self.report(self.key_pos(key), hint or f"unknown key {quote(key)}{suggestion}")

    # --- scalars -----------------------------------------------------------------

    def _get(self, key: str, default: object) -> object:
        if key in self.data:
            return self.data[key]
        if default is None:
            self.missing(key)
        return default

    def text(self, key: str, default: str | None = None, *, nonempty: bool = True) -> str:
        """A string; required when ``default`` is None."""
        value = self._get(key, default)
        if isinstance(value, str):
            if nonempty and key in self.data and not value.strip():
                self.report_value(key, "must not be empty")
            return value
        if value is not None:
            self.wrong(key, "a string", value)
        return default or ""

    def choice(self, key: str, options: Sequence[Word], default: Word | None = None) -> Word:
        """One of ``options`` (typically Literal words such as severities)."""
        value = self.text(key, default)
        for option in options:
            if value == option:
                return option
        if value:
            self.report_value(
                key,
                f"expected {one_of(options)}, got {quote(value)}{did_you_mean(value, options)}",
            )
        return default or options[0]

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
    ) -> float:
        """An int or float within ``[low, high]`` (``(low, high]`` when ``low_open``)."""
        value = self._get(key, default)
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(key, "a number", value)
            return default or 0.0
        problem = range_problem(float(value), low, high, low_open)
        if problem:
            self.report_value(key, f"{problem}, got {toml_repr(value)}")
        return float(value)

    def integer(self, key: str, default: int | None = None, *, low: int | None = None) -> int:
        value = self._get(key, default)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong(key, "a whole number", value)
            return default or 0
        if low is not None and value < low:
            self.report_value(key, f"must be at least {low}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.wrong(key, "true or false", value)
            return default
        return value

    def duration(
        self,
        key: str,
        default: str | None = None,
        *,
        allow_hours: bool = False,
        positive: bool = False,
    ) -> timedelta:
        """A duration string such as ``"14d"`` (see :mod:`monitor.rules.durations`)."""
        duration = self._duration(key, default, allow_hours)
        if duration is None:
            return timedelta(0)
        if positive and duration <= timedelta(0):
            self.report_value(key, 'must be longer than 0, e.g. "7d"')
        return duration

    def days(self, key: str, default: str | None = None, *, low: int = 0) -> int:
        """A duration in whole days, at least ``low``."""
        duration = self._duration(key, default, allow_hours=False)
        if duration is None:
            return max(low, 0)
        if duration.days < low:
            self.report_value(key, f"must be at least {low} day{'s' * (low != 1)}")
        return duration.days

    def _duration(self, key: str, default: str | None, allow_hours: bool) -> timedelta | None:
        value = self._get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            self.wrong(key, 'a duration like "14d" or "2w"', value)
            return None
        try:
            return parse_duration(value, allow_hours=allow_hours)
        except DurationError as exc:
            self.report_value(key, str(exc))
            return None

    # --- lists and tables ----------------------------------------------------------

    def texts(self, key: str, default: Sequence[str] | None = None) -> list[str]:
        """A non-empty list of non-empty strings; required when ``default`` is None."""
        if key not in self.data:
            if default is None:
                self.missing(key)
            return list(default or [])
        value = self.data[key]
        if not isinstance(value, list) or not value:
            self.wrong(key, "a non-empty list of strings", value)
            return list(default or [])
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.wrong(key, "a non-empty string", item, index)
            else:
                items.append(item)
        return items

    def choices(self, key: str, options: Sequence[Word], default: Sequence[Word]) -> list[Word]:
        """A non-empty list of distinct strings, each one of ``options``."""
        chosen: list[Word] = []
        for index, item in enumerate(self.texts(key, default)):
            match = next((option for option in options if option == item), None)
            if match is None:
                self.report_value(
                    key,
                    f"expected {one_of(options)}, got {quote(item)}{did_you_mean(item, options)}",
                    index,
                )
            elif match in chosen:
                self.report_value(key, f"{quote(item)} is listed twice", index)
            else:
                chosen.append(match)
        return chosen

    def child(self, key: str) -> Node | None:
        """A sub-table (``[a.b]`` or an inline table); None when absent or not a table."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.wrong(key, "a table", value)
            return None
        return Node(self.source, (*self.path, key), value, self.problems)

    def children(self, key: str) -> list[Node]:
        """The tables of an array of tables (``[[a.b]]``)."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.wrong(
                key, f"a list of tables ([[{'.'.join(map(str, (*self.path, key)))}]])", value
            )
            return []
        return [
            Node(self.source, (*self.path, key, index), item, self.problems)
            for index, item in enumerate(value)
        ]

    def entries(self) -> Iterator[tuple[str, Any]]:
        yield from self.data.items()

    # --- expressions -------------------------------------------------------------

    def expression(self, key: str, names: Collection[str]) -> Expr | None:
        """Compile the expression at ``key`` against ``names``; problems go in place."""
        source = self.text(key)
        if not source.strip():
            return None
        try:
            return compile_expr(source, names=names)
        except ExprError as exc:
            self.failed = True
            self.problems.add(expression_problem(self.source, exc, self.value_pos(key)))
            return None


def expression_problem(source: SourceFile, exc: ExprError, start: Pos) -> RuleProblem:
    """An expression error at its true place in the file.

    The expression module renders the error itself (message, source line, caret)
    given where the expression's text starts; its position is read back from that
    header so the problem sorts and compares like any other.
    """
    rendered = exc.render(source.name, start.line, start.column)
    head, _, snippet = rendered.partition("\n")
    match = _RENDERED_AT.match(head, len(source.name) + 1)
    if match is None:  # pragma: no cover - the renderer's format is a contract
        line = start.line + exc.line - 1
        column = start.column + exc.column - 1 if exc.line == 1 else exc.column
        return source.problem(Pos(line, column), exc.message)
    line, column = int(match.group(1)), int(match.group(2))
    return RuleProblem(source.name, line, column, head[match.end() :], snippet)


def range_problem(
    value: float, low: float | None, high: float | None, low_open: bool = False
) -> str:
    """ "must be between 0 and 100" (or "greater than 0", ...), or "" when in range."""
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if not (too_low or too_high):
        return ""
    if low is not None and high is not None:
        lower = f"{format_number(low)} (excluded)" if low_open else format_number(low)
        return f"must be between {lower} and {format_number(high)}"
    if low is not None:
        comparison = "greater than" if low_open else "at least"
        return f"must be {comparison} {format_number(low)}"
    return f"must be at most {format_number(high or 0)}"


def format_number(value: float) -> str:
    """``14`` for 14.0, ``0.5`` for 0.5."""
    return str(int(value)) if value == int(value) else str(value)
