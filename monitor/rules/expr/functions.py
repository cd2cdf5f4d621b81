"""The functions an expression may call: a fixed, documented whitelist.

Every function is null-aware: an argument with no data (null) gives null, except
``coalesce`` and ``is_null``, whose job is to handle null. A wrongly typed argument
raises :class:`ArgumentTypeError`; the compiler turns it into a positioned
:class:`~monitor.rules.expr.errors.ExprEvalError` pointing at that argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

Value = bool | int | float | str | None | tuple["Value", ...]
Number = int | float


class ArgumentTypeError(Exception):
    """A wrongly typed argument; ``index`` says which one (None: the call as a whole)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


def is_number(value: Value) -> bool:
    return type(value) is int or type(value) is float  # a bool is not a number here


def kind(value: Value) -> str:
    """How a value is named in messages: ``a number``, ``text``, ``true/false``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, tuple):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"  # only from a caller's env, never from the language


def _numbers(name: str, args: tuple[Value, ...]) -> tuple[Number, ...] | None:
    for arg in args:
        if type(arg) is not int and type(arg) is not float:
            break
    else:
        return args  # type: ignore[return-value]  # all numbers: the common case, fast
    for index, arg in enumerate(args):
        if arg is not None and not is_number(arg):
            raise ArgumentTypeError(f"`{name}` expects numbers, got {kind(arg)}", index)
    return None


def _texts(name: str, args: tuple[Value, ...]) -> list[str] | None:
    for index, arg in enumerate(args):
        if arg is not None and not isinstance(arg, str):
            raise ArgumentTypeError(f"`{name}` expects text, got {kind(arg)}", index)
    if any(arg is None for arg in args):
        return None
    return [arg for arg in args if isinstance(arg, str)]


def _min(*args: Value) -> Value:
    nums = _numbers("min", args)
    return None if nums is None else min(nums)


def _max(*args: Value) -> Value:
    nums = _numbers("max", args)
    return None if nums is None else max(nums)


def _abs(x: Value) -> Value:
    nums = _numbers("abs", (x,))
    return None if nums is None else abs(nums[0])


# Wide enough for every float's digits (309 before the point, 15 after), so that
# quantize() never runs out of precision.
_ROUNDING = Context(prec=400, rounding=ROUND_HALF_UP)
MAX_DIGITS = 15


def _round(x: Value, *rest: Value) -> Value:
    """Halves round away from zero (2.5 -> 3, as people expect; Python's round gives 2)."""
    digits = rest[0] if rest else 0
    if digits is not None and type(digits) is not int:
        raise ArgumentTypeError(f"`round` expects a whole number of digits, got {kind(digits)}", 1)
    if isinstance(digits, int) and not -MAX_DIGITS <= digits <= MAX_DIGITS:
        raise ArgumentTypeError(
            f"`round` rounds to between {-MAX_DIGITS} and {MAX_DIGITS} digits, got {digits}", 1
        )
    nums = _numbers("round", (x,))
    if nums is None or digits is None:
        return None
    number, places = nums[0], digits
    if isinstance(number, int):
        if places >= 0:
            return number
        unit: int = 10**-places
        rounded = (abs(number) + unit // 2) // unit * unit
        return rounded if number >= 0 else -rounded
    if not math.isfinite(number):
        if not rest:
            raise ArgumentTypeError(f"`round` cannot make a whole number of {number}", 0)
        return number
    exact = Decimal(repr(number)).quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    return float(exact) if rest else int(exact)


def _coalesce(*args: Value) -> Value:
    return next((a for a in args if a is not None), None)


def _is_null(x: Value) -> Value:
    return x is None


def _clamp(x: Value, lo: Value, hi: Value) -> Value:
    nums = _numbers("clamp", (x, lo, hi))
    if nums is None:
        return None
    if nums[1] > nums[2]:
        raise ArgumentTypeError(f"`clamp` needs lo <= hi, got {nums[1]} and {nums[2]}", 1)
    return max(nums[1], min(nums[2], nums[0]))


def _ratio(a: Value, b: Value) -> Value:
    nums = _numbers("ratio", (a, b))
    if nums is None or nums[1] == 0:
        return None
    try:
        return nums[0] / nums[1]
    except OverflowError:  # two huge whole numbers
        raise ArgumentTypeError("`ratio` result is too large a number") from None


def _lower(s: Value) -> Value:
    texts = _texts("lower", (s,))
    return None if texts is None else texts[0].lower()


def _contains(s: Value, sub: Value) -> Value:
    texts = _texts("contains", (s, sub))
    return None if texts is None else texts[1] in texts[0]


def _starts_with(s: Value, prefix: Value) -> Value:
    texts = _texts("starts_with", (s, prefix))
    return None if texts is None else texts[0].startswith(texts[1])


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Value]
    min_args: int
    max_args: int | None  # None: any number
    doc: str
    example: str = ""

    def accepts(self, count: int) -> bool:
        return self.min_args <= count and (self.max_args is None or count <= self.max_args)

    @property
    def arity_text(self) -> str:
        plural = "" if (self.max_args or self.min_args) == 1 else "s"
        if self.max_args is None:
            return f"at least {self.min_args} argument{plural}"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument{plural}"
        if self.max_args == self.min_args + 1:
            return f"{self.min_args} or {self.max_args} arguments"
        return f"{self.min_args} to {self.max_args} arguments"


FUNCTIONS: dict[str, Function] = {
    "min": Function(_min, 1, None, "smallest of the numbers; null if any is null", "min(3, 7) = 3"),
    "max": Function(_max, 1, None, "largest of the numbers; null if any is null", "max(3, 7) = 7"),
    "abs": Function(_abs, 1, 1, "absolute value", "abs(-0.4) = 0.4"),
    "round": Function(
        _round,
        1,
        2,
        "round(x): whole number; round(x, digits): to that many decimals; halves round "
        "away from zero",
        "round(2.5) = 3, round(0.125, 2) = 0.13",
    ),
    "coalesce": Function(
        _coalesce, 1, None, "the first argument that is not null", "coalesce(null, 0) = 0"
    ),
    "is_null": Function(_is_null, 1, 1, "true when the value is null (no data)", "is_null(null)"),
    "clamp": Function(
        _clamp, 3, 3, "clamp(x, lo, hi): x limited to [lo, hi]", "clamp(140, 0, 100) = 100"
    ),
    "ratio": Function(
        _ratio, 2, 2, "ratio(a, b) = a / b, null when b is 0 or null", "ratio(3, 0) = null"
    ),
    "lower": Function(_lower, 1, 1, "text in lower case", "lower('EU') = 'eu'"),
    "contains": Function(
        _contains, 2, 2, "contains(text, part): part occurs in text", "contains('pro-eu', 'eu')"
    ),
    "starts_with": Function(
        _starts_with,
        2,
        2,
        "starts_with(text, prefix)",
        "starts_with('/help/sso', '/help')",
    ),
}
