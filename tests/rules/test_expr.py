"""The expression language: operators, null semantics, and every error message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.rules.expr import FUNCTIONS, ExprError, ExprEvalError, Value, compile_expr

END = "the end of the expression"


def ev(source: str, **env: Value) -> Value:
    return compile_expr(source)(env)


def error_of(source: str, env: dict[str, Value] | None = None) -> ExprError:
    """The error raised while compiling ``source`` or evaluating it with ``env``."""
    with pytest.raises(ExprError) as caught:
        compile_expr(source)(env or {})
    return caught.value


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2", 3),
        ("5 - 7", -2),
        ("6 * 7", 42),
        ("7 / 2", 3.5),
        ("6 / 3", 2.0),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("-(2)", -2),
        ("1_000 + 0.5", 1000.5),
        ("2e3", 2000.0),
        (".5 + 1", 1.5),
        ("'ab' + 'cd'", "abcd"),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("3 >= 4", False),
        ("'apple' < 'banana'", True),
        ("1 == 1.0", True),
        ("1 != 1", False),
        ("true == 1", False),
        ("'S' == 1", False),
        ("[1, 2] == [1, 2]", True),
        ("[1] == [true]", False),
        ("true and false", False),
        ("true or false", True),
        ("not true", False),
        ("'S' in ['S', 'A']", True),
        ("'x' in [1, 2, 'x']", True),
        ("1.0 in [1, 2]", True),
        ("true in [1]", False),
        ("3 not in [1, 2]", True),
        ("'dash' in 'dashboard'", True),
        ("'a' not in 'xyz'", True),
        ("[1] in [[1], 2]", True),
        ("'it\\'s \"ok\"\\n'", 'it\'s "ok"\n'),
        ('"tab\\there"', "tab\there"),
        ("attrs.industry", None),
        ("null", None),
    ],
)
def test_operators_and_literals(source: str, expected: Value) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 2 - 3", 5),
        ("12 / 2 / 3", 2.0),
        ("2 * 3 % 4", 2),
        ("-2 * -3", 6),
        ("--2", 2),
        ("not 1 == 2", True),
        ("not true and false", False),
        ("not (true and false)", True),
        ("true or true and false", True),
        ("(true or true) and false", False),
        ("1 + 1 == 2 and 'a' in ['a']", True),
        ("not 'a' in ['b']", True),
    ],
)
def test_precedence(source: str, expected: Value) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("min(3, 1, 2) + max(1, 5)", 6),
        ("min(4)", 4),
        ("min(1, x)", None),
        ("abs(-2.5)", 2.5),
        ("abs(x)", None),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.4)", 2),
        ("round(2.675, 2)", 2.68),
        ("round(1234, -2)", 1200),
        ("round(1250, -2)", 1300),
        ("round(7, 2)", 7),
        ("round(x)", None),
        ("round(2.5, x)", None),
        ("clamp(15, 0, 10)", 10),
        ("clamp(-1, 0, 10)", 0),
        ("clamp(x, 0, 10)", None),
        ("ratio(1, 4)", 0.25),
        ("ratio(1, 0)", None),
        ("ratio(x, 4)", None),
        ("coalesce(null, x, 3)", 3),
        ("coalesce(x)", None),
        ("is_null(x)", True),
        ("is_null(0)", False),
        ("lower('ABC')", "abc"),
        ("lower(x)", None),
        ("contains('abc', 'b')", True),
        ("contains(x, 'b')", None),
        ("starts_with('/help/x', '/help')", True),
        ("starts_with('/x', '/help')", False),
    ],
)
def test_functions(source: str, expected: Value) -> None:
    value = ev(source, x=None)
    assert value == expected
    assert type(value) is type(expected)


def test_every_documented_function_is_tested_above() -> None:
    assert set(FUNCTIONS) == {
        "min", "max", "abs", "round", "coalesce", "is_null",
        "clamp", "ratio", "lower", "contains", "starts_with",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x + 1", None),
        ("1 - x", None),
        ("x * x", None),
        ("x > 1", None),
        ("x == null", None),
        ("x != 1", None),
        ("'a' == x", None),
        ("1 / 0", None),
        ("1.5 / 0.0", None),
        ("5 % 0", None),
        ("not x", None),
        ("-x", None),
        ("x in [1]", None),
        ("x not in [1]", None),
        ("1 in x", None),
        ("x in ['a', y]", None),
        # Kleene logic: the whole truth table with null.
        ("x and false", False),
        ("false and x", False),
        ("x and true", None),
        ("true and x", None),
        ("x and x", None),
        ("x or true", True),
        ("true or x", True),
        ("x or false", None),
        ("false or x", None),
        ("x or x", None),
    ],
)
def test_null_means_no_data_and_never_a_silent_zero(source: str, expected: Value) -> None:
    assert ev(source, x=None, y=2) is expected


def test_names_read_the_env_and_missing_names_are_null() -> None:
    expr = compile_expr("logins_14d / seats < 0.5 and tier in ['S', 'A']")
    assert expr.names == {"logins_14d", "seats", "tier"}
    assert expr({"logins_14d": 3, "seats": 10, "tier": "S"}) is True
    assert expr({"logins_14d": 30, "seats": 10, "tier": "S"}) is False
    assert expr({"logins_14d": 3, "seats": 10, "tier": "B"}) is False
    assert expr({"logins_14d": 3, "seats": 0, "tier": "S"}) is None
    assert expr({"seats": 10, "tier": "S"}) is None
    assert ev("attrs.industry == 'retail'", **{"attrs.industry": "retail"}) is True
    assert ev("x in [y, 3]", x=3, y=1) is True


def test_test_is_true_only_for_true() -> None:
    expr = compile_expr("x > 1")
    assert expr.test({"x": 2})
    assert not expr.test({"x": 0})
    assert not expr.test({"x": None})
    assert not compile_expr("x").test({"x": 1})


def test_expressions_compare_by_source() -> None:
    assert compile_expr("a + 1") == compile_expr("a + 1")
    assert compile_expr("a + 1") != compile_expr("a+1")
    assert len({compile_expr("a"), compile_expr("a")}) == 1


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("a >", "expected an operand after `>`, found the end of the expression", 4),
        ("a > ", "expected an operand after `>`, found the end of the expression", 4),
        ("a > > b", "expected an operand after `>`, found `>`", 5),
        ("a and", "expected an operand after `and`, found the end of the expression", 6),
        ("(a + 1", f"expected `)` to close the `(` opened at column 1, found {END}", 7),
        ("abs(a) + (a b)", "expected `)` to close the `(` opened at column 10, found `b`", 13),
        ("[1, 2", f"expected `]` to close the `[` opened at column 1, found {END}", 6),
        ("min(1 2)", "expected `)` to close the `(` opened at column 4, found `2`", 7),
        ("a && b", "`&&` is not an operator here; use `and`", 3),
        ("a || b", "`||` is not an operator here; use `or`", 3),
        ("!a", "`!` is not an operator here; use `not`", 1),
        ("a = 1", "`=` is not an operator here; use `==`", 3),
        ("a ** 2", "`**` (power) is not supported", 3),
        ("a // 2", "`//` is not supported: use `/`, and `round()` for a whole number", 3),
        ("True", "unknown name `True` (did you mean `true`?)", 1),
        ("x == None", "unknown name `None` (did you mean `null`?)", 6),
        ("a AND b", f"expected an operator or {END}, found `AND` (did you mean `and`?)", 3),
        ("a < b < c", "comparisons cannot be chained; write `a < b and b < c`", 7),
        ("0 <= x + 1 < 10", "comparisons cannot be chained; write `0 <= x + 1 and x + 1 < 10`", 12),
        ("a < b < ", "comparisons cannot be chained; write `a < b and b < c`", 7),
        ("frob(1)", "unknown function `frob`; functions: abs, clamp, coalesce, contains,", 1),
        ("rond(1)", "unknown function `rond` (did you mean `round`?); functions: abs,", 1),
        ("ratio(1)", "`ratio` takes 2 arguments, got 1", 1),
        ("x + round()", "`round` takes 1 or 2 arguments, got 0", 5),
        ("abs(1, 2)", "`abs` takes 1 argument, got 2", 1),
        ("max()", "`max` takes at least 1 argument, got 0", 1),
        ("'abc", "unterminated string: add the closing '", 1),
        ('"abc\n"', 'unterminated string: add the closing "', 1),
        ("'a\\qb'", "unknown escape `\\q` in text (use `\\\\` for a backslash, `\\'` or", 3),
        ("a $ b", "unexpected character `$`", 3),
        ("a > > b $", "expected an operand after `>`, found `>`", 5),  # the leftmost problem
        ("(a $", "unexpected character `$`", 4),
        ("a ` b", "unexpected character U+0060", 3),
        ("\u2018S\u2019", "unexpected character `\u2018`: quote text with straight quotes", 1),
        ("a b", "expected an operator or the end of the expression, found `b`", 3),
        ("a)", "expected an operator or the end of the expression, found `)`", 2),
        ("", "expected an expression, found nothing", 1),
        ("   ", "expected an expression, found nothing", 1),
        ("()", "expected an expression inside `( )`", 2),
        ("a in", "expected an operand after `in`, found the end of the expression", 5),
        ("a not b", "expected an operator or the end of the expression, found `not`", 3),
        ("1 + and", "expected an operand after `+`, found `and`", 5),
        ("1.2.3", "`1.2.3` is not a number (write numbers like `1500`, `1_500` or `0.25`)", 1),
        ("2x", "`2x` is not a number", 1),
        ("100k", "`100k` is not a number", 1),
        ("1__0", "`1__0` is not a number", 1),
        ("1e999", "`1e999` is too large a number", 1),
        ("9" * 5000, "has too many digits", 1),
        ("attrs.", "expected a name after `attrs.`", 7),
        ("attrs.1x", "expected a name after `attrs.`", 7),
        ("caf\u00e9", "unexpected character `\u00e9`", 4),
        ("-" * 150 + "1", "nested too deeply (more than 40 levels)", 42),
        ("(" * 150 + "1" + ")" * 150, "nested too deeply (more than 40 levels)", 42),
        ("not " * 50 + "x", "nested too deeply (more than 40 levels)", 165),
        ("[" * 60 + "]" * 60, "nested too deeply (more than 40 levels)", 42),
        (" or ".join(["x"] * 150), "too long or too deeply nested (more than 100 operators", 503),
    ],
)  # fmt: skip
def test_syntax_errors_say_what_was_expected_and_where(
    source: str, message: str, column: int
) -> None:
    error = error_of(source)
    assert type(error) is ExprError
    assert message in error.message
    assert (error.line, error.column) == (1, column)
    assert error.offset == column - 1
    assert str(error) == f"1:{column}: {error.message}"


def test_the_full_list_of_functions_is_offered_for_an_unknown_one() -> None:
    message = error_of("frob(1)").message
    assert message.endswith(", ".join(sorted(FUNCTIONS)))


def test_positions_on_later_lines() -> None:
    error = error_of("a > 1 and\n  b >")
    assert (error.line, error.column, error.offset) == (2, 6, 15)
    error = error_of("(a\n  + 1\n  b)")
    assert error.message == ("expected `)` to close the `(` opened at line 1, column 1, found `b`")
    assert (error.line, error.column) == (3, 3)


def test_render_on_the_first_line_adds_the_column_where_the_expression_starts() -> None:
    error = error_of_names("seats > 3 and login_14d > 3", {"logins_14d", "seats"})
    assert error.render("rules/alerts.toml", 12, 9) == (
        "rules/alerts.toml:12:23: unknown name `login_14d` (did you mean `logins_14d`?)\n"
        "  seats > 3 and login_14d > 3\n"
        "                ^"
    )


def test_render_on_a_later_line_uses_the_expressions_own_column() -> None:
    error = error_of("a > 1 and\n\tb >")
    assert error.render("rules/alerts.toml", 12, 9) == (
        "rules/alerts.toml:13:5: expected an operand after `>`, found the end of the expression\n"
        "  \tb >\n"
        "  \t   ^"
    )


def error_of_names(source: str, names: set[str]) -> ExprError:
    with pytest.raises(ExprError) as caught:
        compile_expr(source, names=names)
    return caught.value


def test_unknown_names_are_reported_with_a_suggestion() -> None:
    names = {"logins_14d", "seats", "arr"}
    compile_expr("logins_14d / seats > arr", names=names)
    error = error_of_names("seats > 3 and login_14d > 3", names)
    assert error.message == "unknown name `login_14d` (did you mean `logins_14d`?)"
    assert error.column == 15
    assert error_of_names("zzz > 1", names).message == "unknown name `zzz`"


def test_prefix_wildcards_allow_free_attributes() -> None:
    compile_expr("attrs.region == 'EU'", names={"attrs.*"})
    assert error_of_names("region == 'EU'", {"attrs.*"}).message == "unknown name `region`"


@pytest.mark.parametrize(
    ("source", "env", "message", "column"),
    [
        ("x + 1", {"x": "abc"}, "cannot apply `+` to text and a number", 3),
        ("x * y", {"x": 2, "y": "a"}, "cannot apply `*` to a number and text", 3),
        ("x - 1", {"x": True}, "cannot apply `-` to true/false and a number", 3),
        ("arr > 'x'", {"arr": 5}, "cannot compare a number with text using `>`", 5),
        ("x < y", {"x": [1], "y": [2]}, "cannot compare a list with a list using `<`", 3),
        ("x >= 1", {"x": False}, "cannot compare true/false with a number using `>=`", 3),
        ("seats and true", {"seats": 3}, "`and` expects true/false on both sides, got a number", 7),
        ("true and seats", {"seats": 3}, "`and` expects true/false on both sides, got a number", 6),
        ("seats or true", {"seats": 3}, "`or` expects true/false on both sides, got a number", 7),
        ("false or t", {"t": "y"}, "`or` expects true/false on both sides, got text", 7),
        ("not x", {"x": 3}, "`not` expects true/false, got a number", 1),
        ("-x", {"x": "a"}, "cannot negate text", 1),
        ("1 in x", {"x": 2}, "`in` expects a list or text on its right, got a number", 3),
        ("1 + abs(x)", {"x": "a"}, "`abs` expects numbers, got text", 9),
        ("clamp(1, 5, x)", {"x": 0}, "`clamp` needs lo <= hi, got 5 and 0", 10),
        ("lower(x)", {"x": 1}, "`lower` expects text, got a number", 7),
        ("round(1.5, x)", {"x": 0.5}, "`round` expects a whole number of digits, got a number", 12),
        ("round(x)", {"x": 1e308 * 10}, "`round` cannot make a whole number of inf", 7),
        ("x / 3", {"x": 10**400}, "the result of `/` is too large a number", 3),
        ("ratio(x, 3)", {"x": 10**400}, "`ratio` result is too large a number", 1),
        ("x\n  + 1", {"x": "a"}, "cannot apply `+` to text and a number", 3),
    ],
)
def test_type_errors_are_positioned_evaluation_errors(
    source: str, env: dict[str, Value], message: str, column: int
) -> None:
    expr = compile_expr(source)
    with pytest.raises(ExprEvalError) as caught:
        expr(env)
    assert caught.value.message == message
    assert caught.value.column == column


def test_type_errors_between_constants_are_found_when_compiling() -> None:
    with pytest.raises(ExprEvalError, match="cannot apply `\\+` to text and a number") as caught:
        compile_expr("x > 1 or 'abc' + 1 > 2")
    assert caught.value.column == 16


def test_false_and_true_short_circuit_the_other_side() -> None:
    assert ev("false and x > 1", x="text") is False
    assert ev("true or x > 1", x="text") is True


def test_the_deepest_accepted_expressions_compile_and_evaluate() -> None:
    assert ev(" + ".join(["1"] * 101)) == 101  # 100 operators: the limit
    assert ev("(" * 40 + "1" + ")" * 40) == 1
    assert ev("-" * 40 + "x", x=1) == 1
    value = ev("[" * 40 + "]" * 40)
    for _ in range(39):
        assert isinstance(value, tuple)
        (value,) = value
    assert value == ()
    with pytest.raises(ExprError, match="nested too deeply"):
        compile_expr("-" * 41 + "x")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("1 + not x", "`not` cannot follow `+`: write `(not ...)` in parentheses"),
        ("x == not y", "`not` cannot follow `==`: write `(not ...)` in parentheses"),
        ("(a) < (b) <= c + 1", "chained; write `(a) < (b) and (b) <= c + 1`"),
        ("a < b < c < d", "chained; write `a < b and b < c`"),
    ],
)
def test_not_and_chains_in_the_wrong_place(source: str, message: str) -> None:
    assert message in error_of(source).message


DOCS = Path(__file__).parents[2] / "docs" / "expressions.md"


def test_the_examples_in_the_language_reference_hold() -> None:
    text = DOCS.read_text(encoding="utf-8")
    claims = re.findall(r"`([^`]+)` is (`[^`]+`|true|false)", text)
    assert len(claims) >= 10
    for source, value in claims:
        if "..." in source:
            continue  # prose: "`x in [...]` is true when ..."
        assert ev(source) == ev(value.strip("`")), source


def test_the_null_table_in_the_language_reference_holds() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## Missing data")[1].split("\n## ")[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 9
    for sources, value in rows:
        expected = ev(re.findall(r"`([^`]+)`", value)[0])
        for source in re.findall(r"`([^`]+)`", sources):
            assert ev(source) is expected, source
