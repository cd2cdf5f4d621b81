"""Property-based tests: nothing crashes, arithmetic agrees with Python, printing round-trips.

Python's ``eval`` appears here only as the test's oracle, never in csmon itself.
"""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from monitor.rules.expr import FUNCTIONS, ExprError, Value, compile_expr
from monitor.rules.expr.nodes import unparse
from monitor.rules.expr.parser import parse

ALPHABET = st.sampled_from(list("abxyz_019 .,()[]'\"\\+-*/%<>=!&|andortuefl\n\t$`eE"))

ATOMS = st.sampled_from(
    [
        *("x", "y", "s", "n", "attrs.a", "0", "1", "-3", "2.5", "1e308", "9" * 400),
        *("'a'", "''", "true", "false", "null", "[]", "[1, 'a', null]", "[[1]]"),
    ]
)
OPERATORS = st.sampled_from(
    ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in"]
)


def call(name: str, args: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    return args.map(lambda items: f"{name}({', '.join(items)})")


def well_formed() -> st.SearchStrategy[str]:
    """Syntactically valid expressions, of every type combination (most are type errors)."""
    return st.recursive(
        ATOMS,
        lambda inner: (
            st.tuples(inner, OPERATORS, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
            | inner.map(lambda s: f"(not {s})")
            | inner.map(lambda s: f"-{s}")
            | st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
            | st.sampled_from(sorted(FUNCTIONS)).flatmap(
                lambda name: call(
                    name,
                    st.lists(
                        inner,
                        min_size=FUNCTIONS[name].min_args,
                        max_size=FUNCTIONS[name].max_args or 4,
                    ),
                )
            )
        ),
        max_leaves=8,
    )


ENV_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400) | st.sampled_from([10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.tuples(st.integers(-3, 3), st.text(max_size=2)),
)


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=40) | st.text(max_size=30))
def test_any_text_either_compiles_or_raises_a_positioned_error(source: str) -> None:
    try:
        compile_expr(source)
    except ExprError as exc:
        assert 0 <= exc.offset <= len(source)
        assert exc.line >= 1 and exc.column >= 1
        assert exc.render("f.toml", 3, 8).startswith("f.toml:")


@settings(max_examples=300, deadline=None)
@given(well_formed(), st.data())
def test_any_valid_expression_evaluates_or_raises_an_expr_error(
    source: str, data: st.DataObject
) -> None:
    try:
        expr = compile_expr(source)  # constants are folded: evaluation errors show here
    except ExprError as exc:
        assert 0 <= exc.offset <= len(source)
        return
    env = {name: data.draw(ENV_VALUES, label=name) for name in sorted(expr.names)}
    try:
        value = expr(env)
    except ExprError as exc:
        assert 0 <= exc.offset <= len(source)
        return
    assert value is None or isinstance(value, bool | int | float | str | tuple)


def arithmetic() -> st.SearchStrategy[str]:
    number = st.integers(-50, 50).map(str) | st.sampled_from(["0.5", "2.25", "0", "0.0", "1e2"])
    return st.recursive(
        number,
        lambda inner: (
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            )
            | inner.map(lambda s: f"-{s}")
        ),
        max_leaves=8,
    )


def python_oracle(source: str) -> Value:
    """Python's own value of the same text, with division by zero meaning null."""
    try:
        value: Value = eval(source, {"__builtins__": {}})  # the oracle only, never in csmon
    except ZeroDivisionError:
        return None
    return value


def same(ours: Value, theirs: Value) -> bool:
    """Identical values (the same operations in the same order), nan equal to nan."""
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours):
        return math.isnan(theirs)
    return type(ours) is type(theirs) and ours == theirs


@settings(max_examples=200, deadline=None)
@given(arithmetic())
def test_arithmetic_agrees_with_python(source: str) -> None:
    # A zero divisor anywhere makes Python raise and our result null: no operator
    # here can turn a null back into a number.
    assert same(compile_expr(source)({}), python_oracle(source))


@settings(max_examples=200, deadline=None)
@given(arithmetic(), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), arithmetic())
def test_comparisons_agree_with_python(left: str, op: str, right: str) -> None:
    source = f"{left} {op} {right}"
    ours = compile_expr(source)({})
    if python_oracle(left) is None or python_oracle(right) is None:
        assert ours is None
    else:
        assert same(ours, python_oracle(source))


TEXTS = st.text(st.sampled_from(list("aS '\"\\\n\t\u00e9")), max_size=4).map(
    lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.sampled_from(["x", "y", "attrs.k", "1", "2.5", "0", "true", "null", "[1, 'a']"]) | TEXTS,
        lambda inner: (
            st.tuples(
                inner,
                st.sampled_from(["+", "-", "*", "/", "<", "==", "!=", "and", "or", "in"]),
                inner,
            ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
            | st.tuples(inner, st.sampled_from(["+", "*", "and", "or", "not in"]), inner).map(
                lambda t: f"{t[0]} {t[1]} {t[2]}"
            )
            | inner.map(lambda s: f"not {s}")
            | inner.map(lambda s: f"-{s}")
            | inner.map(lambda s: f"coalesce({s}, 1)")
            | st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
        ),
        max_leaves=6,
    )
)
def test_printed_tree_parses_back_to_the_same_value(source: str) -> None:
    env: dict[str, Value] = {"x": 3, "y": None, "attrs.k": "S"}

    def value(text: str) -> object:
        try:
            return compile_expr(text)(env)
        except ExprError as exc:
            return ("error", exc.message)

    try:
        tree = parse(source)
    except ExprError:
        assume(False)  # e.g. `x + not x` or `a < b < c`: invalid here as in Python
        return
    printed = unparse(tree)
    assert unparse(parse(printed)) == printed
    assert value(printed) == value(source)
