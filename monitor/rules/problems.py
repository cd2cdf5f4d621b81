"""Problems found in rule files, each with its place: ``file:line:col: message``.

Validation collects every problem it finds (:class:`Problems`) instead of stopping at
the first, so one ``csmon rules check`` shows everything to fix. A problem renders
like a compiler error: the position, the message, the source line and a caret.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import cached_property
from typing import Any

from monitor.errors import CsmonError
from monitor.rules.toml_positions import Pos, Positions, find_positions

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")


@dataclass(frozen=True, order=True)
class RuleProblem:
    """One problem, at a 1-based line and column of a file (line 0: the file as a whole)."""

    file: str
    line: int
    column: int
    message: str
    snippet: str = ""
    """What is shown under the message: the source line and a caret under the column."""

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        head = f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{head}\n{self.snippet}" if self.snippet else head


class RuleError(CsmonError):
    """The rule files (or rule test files) are invalid; holds every problem found."""

    def __init__(self, problems: Iterable[RuleProblem]) -> None:
        self.problems: list[RuleProblem] = sorted(set(problems))
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)

    def __str__(self) -> str:
        return self.render()


def caret_snippet(source_line: str, column: int) -> str:
    """The source line, and a caret under ``column`` (tabs kept so the caret lines up)."""
    pad = "".join("\t" if ch == "\t" else " " for ch in source_line[: max(column - 1, 0)])
    return f"  {source_line}\n  {pad}^"


@dataclass
class SourceFile:
    """One rule file's text, parsed document and positions."""

    name: str
    """How messages name the file, e.g. ``rules/alerts.toml``."""
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    positions: Positions = field(default_factory=Positions)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def problem(self, pos: Pos, message: str) -> RuleProblem:
        lines = self.lines
        source_line = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
        snippet = caret_snippet(source_line, pos.column) if source_line else ""
        return RuleProblem(self.name, pos.line, pos.column, message, snippet)


def parse_source(name: str, raw: bytes) -> SourceFile | RuleProblem:
    """Decode and parse one TOML file; a syntax error becomes a positioned problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RuleProblem(name, 0, 0, f"is not UTF-8 text (byte {exc.start + 1})")
    source = SourceFile(name, text)
    try:
        source.data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return toml_syntax_problem(source, str(exc))
    source.positions = find_positions(text)
    return source


def toml_syntax_problem(source: SourceFile, error: str) -> RuleProblem:
    """Turn tomllib's ``"Invalid value (at line 3, column 8)"`` into a RuleProblem."""
    match = _TOML_POSITION.search(error)
    if match is not None:
        message = error[: match.start()]
        pos = Pos(int(match.group(1)), int(match.group(2)))
    else:
        end = _TOML_AT_END.search(error)
        message = error[: end.start()] if end else error
        lines = source.lines
        pos = Pos(max(len(lines), 1), len(lines[-1]) + 1 if lines else 1)
    return source.problem(pos, f"TOML syntax: {message[:1].lower()}{message[1:]}")


class Problems:
    """Collects problems while a whole rule set (or test file) is validated."""

    def __init__(self) -> None:
        self.items: list[RuleProblem] = []

    def add(self, problem: RuleProblem) -> None:
        self.items.append(problem)

    def at(self, source: SourceFile, pos: Pos, message: str) -> None:
        self.items.append(source.problem(pos, message))

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise RuleError(self.items)


def quote(text: str) -> str:
    """A name as it appears in messages: in double quotes, like in the TOML file."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean "when"?)`` for a close option, else the empty string."""
    choices = list(options)
    same_letters = [option for option in choices if option.casefold() == word.casefold()]
    close = same_letters or get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {quote(close[0])}?)" if close else ""


def one_of(options: Sequence[str]) -> str:
    """``"a", "b" or "c"``."""
    quoted = [quote(option) for option in options]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def toml_repr(value: object, limit: int = 40) -> str:
    """A value as TOML would spell it, cut to ``limit`` characters, for 'got ...'."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = quote(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(toml_repr(item, limit) for item in value) + "]"
    elif isinstance(value, dict):
        return "a table"
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
