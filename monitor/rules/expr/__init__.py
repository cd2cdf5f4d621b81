"""The safe expression language of rule files.

Expressions such as ``logins_14d / seats < 0.5 and tier in ['S', 'A']`` are parsed
once when rules load (errors carry their position) and compiled to closures, so an
evaluation costs about a microsecond. Never Python ``eval``, never SQL. The language
is documented for CS ops in ``docs/expressions.md``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches

from monitor.rules.expr.compiler import Fn, compile_node
from monitor.rules.expr.errors import ExprError, ExprEvalError
from monitor.rules.expr.functions import FUNCTIONS, Value
from monitor.rules.expr.nodes import Name, Node, walk
from monitor.rules.expr.parser import parse

__all__ = ["FUNCTIONS", "Expr", "ExprError", "ExprEvalError", "Value", "compile_expr"]


@dataclass(frozen=True, slots=True)
class Expr:
    """A compiled expression. Call it with an env (name -> value) to evaluate it.

    A name the env lacks is null (no data). Two expressions are equal when their
    source text is.
    """

    source: str
    names: frozenset[str]
    """Every name the expression reads."""
    _fn: Fn = field(repr=False, compare=False)

    def __call__(self, env: Mapping[str, Value]) -> Value:
        """The value; raise :class:`ExprEvalError` on a type error (``'a' + 1``)."""
        return self._fn(env)

    def test(self, env: Mapping[str, Value]) -> bool:
        """True only when the value is exactly true: null (no data) is not true."""
        return self._fn(env) is True


def compile_expr(source: str, *, names: Collection[str] | None = None) -> Expr:
    """Parse and compile ``source``; raise :class:`ExprError` with its position.

    With ``names``, every name used must be one of them (a name ending in ``.*``
    allows any name with that prefix, e.g. ``attrs.*``).
    """
    tree = parse(source)
    used = _names(tree)
    if names is not None:
        _check_names(source, used, names)
    return Expr(source, frozenset(n.name for n in used), compile_node(tree, source))


def _names(node: Node) -> list[Name]:
    return [each for each in walk(node) if isinstance(each, Name)]


def _check_names(source: str, used: list[Name], allowed: Collection[str]) -> None:
    prefixes = tuple(n[:-1] for n in allowed if n.endswith(".*"))
    known = [n for n in allowed if not n.endswith(".*")]
    for node in used:
        if node.name in allowed or (prefixes and node.name.startswith(prefixes)):
            continue
        close = get_close_matches(node.name, known, n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise ExprError(f"unknown name `{node.name}`{hint}", source, node.offset)
