"""Closures for the operators, with the null and type rules of the language.

Each operator has a *fast path* (both operands of one expected type: a single type
check and a C-level ``operator`` call) and a *slow path* that handles everything else:
null, int/float mixes, division by zero, overflow and type errors. Operands that are
names or constants are read inline instead of through another closure, because a
Python call costs about as much as the operation itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.rules.expr.errors import ExprEvalError
from monitor.rules.expr.functions import Value, is_number, kind

Env = Mapping[str, Value]
Fn = Callable[[Env], Value]
Fail = Callable[[str], ExprEvalError]
Slow = Callable[[Any, Any], Value]


@dataclass(frozen=True, slots=True)
class Constant:
    """A compiled operand whose value is known at compile time."""

    value: Value


@dataclass(frozen=True, slots=True)
class Variable:
    """A compiled operand that is a name; a name the env lacks is null (no data)."""

    name: str


Code = Constant | Variable | Fn

NUMBERS = frozenset({int, float})
ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
EQUALITY: dict[str, Callable[[Any, Any], Any]] = {"==": operator.eq, "!=": operator.ne}


def as_fn(code: Code) -> Fn:
    if isinstance(code, Constant):
        value = code.value
        return lambda env: value
    if isinstance(code, Variable):
        name = code.name
        return lambda env: env.get(name)
    return code


def equal(a: Value, b: Value) -> bool:
    """Equality without surprises: 1 == 1.0, but true != 1 and 'S' != 1 (no error)."""
    a_number, b_number = is_number(a), is_number(b)
    if a_number or b_number:
        return a_number and b_number and a == b
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# --- binary operators: one shape of closure, parameterised by the operator ----------


def binary(op: str, left: Code, right: Code, fail: Fail) -> Fn:
    """``left op right`` for arithmetic, ordering and equality operators."""
    if op in ARITHMETIC:
        apply, fast, slow = ARITHMETIC[op], NUMBERS, _arithmetic_slow(op, fail)
    elif op in ORDERING:
        apply, fast, slow = ORDERING[op], NUMBERS | {str}, _ordering_slow(op, fail)
    else:
        apply, fast, slow = EQUALITY[op], NUMBERS | {str, bool}, _equality_slow(op)
    if isinstance(right, Constant):
        return _with_constant(apply, _fast_for(right.value, fast), slow, left, right.value)
    if isinstance(left, Variable) and isinstance(right, Variable):
        return _two_names(apply, fast, slow, left.name, right.name)
    return _general(apply, fast, slow, as_fn(left), as_fn(right))


def _fast_for(constant: Value, fast: frozenset[type]) -> frozenset[type]:
    """The operand types that take the fast path against ``constant``."""
    if type(constant) not in fast:
        return frozenset()
    return NUMBERS if type(constant) in NUMBERS else frozenset({type(constant)})


def _with_constant(
    apply: Callable[[Any, Any], Any], fast: frozenset[type], slow: Slow, left: Code, c: Value
) -> Fn:
    if isinstance(left, Variable):
        name = left.name

        def name_op_constant(env: Env) -> Value:
            a = env.get(name)
            if type(a) in fast:
                try:
                    return apply(a, c)  # type: ignore[no-any-return]
                except ArithmeticError:
                    pass  # division by zero, overflow: the slow path decides
            return slow(a, c)

        return name_op_constant
    get = as_fn(left)

    def op_constant(env: Env) -> Value:
        a = get(env)
        if type(a) in fast:
            try:
                return apply(a, c)  # type: ignore[no-any-return]
            except ArithmeticError:
                pass
        return slow(a, c)

    return op_constant


def _two_names(
    apply: Callable[[Any, Any], Any], fast: frozenset[type], slow: Slow, x: str, y: str
) -> Fn:
    def name_op_name(env: Env) -> Value:
        a, b = env.get(x), env.get(y)
        if type(a) is type(b) and type(a) in fast:
            try:
                return apply(a, b)  # type: ignore[no-any-return]
            except ArithmeticError:
                pass
        return slow(a, b)

    return name_op_name


def _general(
    apply: Callable[[Any, Any], Any], fast: frozenset[type], slow: Slow, left: Fn, right: Fn
) -> Fn:
    def op(env: Env) -> Value:
        a, b = left(env), right(env)
        if type(a) is type(b) and type(a) in fast:
            try:
                return apply(a, b)  # type: ignore[no-any-return]
            except ArithmeticError:
                pass
        return slow(a, b)

    return op


def _arithmetic_slow(op: str, fail: Fail) -> Slow:
    apply = ARITHMETIC[op]

    def arithmetic(a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        if is_number(a) and is_number(b):
            try:
                return apply(a, b)  # type: ignore[no-any-return]
            except ZeroDivisionError:
                return None
            except OverflowError:
                raise fail(f"the result of `{op}` is too large a number") from None
        if op == "+" and isinstance(a, str) and isinstance(b, str):
            return a + b
        raise fail(f"cannot apply `{op}` to {kind(a)} and {kind(b)}")

    return arithmetic


def _ordering_slow(op: str, fail: Fail) -> Slow:
    apply = ORDERING[op]

    def ordering(a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
            return apply(a, b)  # type: ignore[no-any-return]
        raise fail(f"cannot compare {kind(a)} with {kind(b)} using `{op}`")

    return ordering


def _equality_slow(op: str) -> Slow:
    negated = op == "!="

    def equality(a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        return equal(a, b) is not negated

    return equality


# --- membership ----------------------------------------------------------------------


def membership(negated: bool, left: Code, right: Code, fail: Fail) -> Fn:
    """``x in list`` (kind-aware equality) or ``part in text``; null on either side: null."""
    get = as_fn(left)
    if isinstance(right, Constant) and isinstance(right.value, tuple):
        return _in_constant_list(negated, get, right.value)
    items_of = as_fn(right)

    def member(env: Env) -> Value:
        a, b = get(env), items_of(env)
        if a is None or b is None:
            return None
        if isinstance(b, tuple):
            return any(equal(a, item) for item in b) is not negated
        if isinstance(a, str) and isinstance(b, str):
            return (a in b) is not negated
        raise fail(f"`in` expects a list or text on its right, got {kind(b)}")

    return member


def _in_constant_list(negated: bool, get: Fn, items: tuple[Value, ...]) -> Fn:
    # One set per kind, so that a lookup is a hash probe and `true in [1]` stays false.
    texts = frozenset(i for i in items if type(i) is str)
    numbers = frozenset(i for i in items if is_number(i))
    flags = frozenset(i for i in items if type(i) is bool)
    lists = tuple(i for i in items if isinstance(i, tuple))

    def member_of_constant(env: Env) -> Value:
        a = get(env)
        t = type(a)
        if t is str:
            return (a in texts) is not negated
        if t is int or t is float:
            return (a in numbers) is not negated
        if t is bool:
            return (a in flags) is not negated
        if a is None:
            return None
        return any(equal(a, item) for item in lists) is not negated

    return member_of_constant


# --- logic and unary operators ---------------------------------------------------------


def conjunction(left: Fn, right: Fn, fail: Fail) -> Fn:
    """Kleene ``and``: false wins over null; ``right`` is not evaluated after false."""

    def both(env: Env) -> Value:
        a = left(env)
        if a is False:
            return False
        if a is not True and a is not None:
            raise fail(f"`and` expects true/false on both sides, got {kind(a)}")
        b = right(env)
        if b is True:
            return a  # true and true: true; null and true: null
        if b is False or b is None:
            return b
        raise fail(f"`and` expects true/false on both sides, got {kind(b)}")

    return both


def disjunction(left: Fn, right: Fn, fail: Fail) -> Fn:
    """Kleene ``or``: true wins over null; ``right`` is not evaluated after true."""

    def either(env: Env) -> Value:
        a = left(env)
        if a is True:
            return True
        if a is not False and a is not None:
            raise fail(f"`or` expects true/false on both sides, got {kind(a)}")
        b = right(env)
        if b is False:
            return a  # false or false: false; null or false: null
        if b is True or b is None:
            return b
        raise fail(f"`or` expects true/false on both sides, got {kind(b)}")

    return either


def negation(operand: Code, fail: Fail) -> Fn:
    """``not x``; ``not null`` is null."""
    get = as_fn(operand)

    def invert(env: Env) -> Value:
        x = get(env)
        if x is True:
            return False
        if x is False:
            return True
        if x is None:
            return None
        raise fail(f"`not` expects true/false, got {kind(x)}")

    if isinstance(operand, Variable):
        name = operand.name

        def invert_name(env: Env) -> Value:
            x = env.get(name)
            if x is True:
                return False
            if x is False:
                return True
            if x is None:
                return None
            raise fail(f"`not` expects true/false, got {kind(x)}")

        return invert_name
    return invert


def minus(operand: Code, fail: Fail) -> Fn:
    """``-x``; ``-null`` is null; a bool is not a number."""
    get = as_fn(operand)

    def negate(env: Env) -> Value:
        x = get(env)
        if type(x) is int or type(x) is float:
            return -x
        if x is None:
            return None
        raise fail(f"cannot negate {kind(x)}")

    return negate
