"""Tokenizer: source text to a list of positioned tokens.

Numbers are plain decimal digits (``1500``, ``1_500``, ``0.25``, ``2e3``); text is quoted
with ``'`` or ``"``; a name is letters, digits and ``_`` and may be dotted
(``attrs.industry`` is one name). Operators borrowed from other languages (``&&``,
``||``, ``!``, ``=``) are refused with a pointer to ours, because an ops person who
writes them meant something sensible and deserves to be told the spelling.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from monitor.rules.expr.errors import ExprError

Kind = Literal["num", "str", "name", "op", "end"]
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",")
# Operators from other languages, refused with a pointer to ours.
FOREIGN = {"&&": "and", "||": "or", "!": "not", "=": "=="}
UNSUPPORTED = {
    "**": "`**` (power) is not supported",
    "//": "`//` is not supported: use `/`, and `round()` for a whole number",
    "<>": "`<>` is not an operator here; use `!=`",
}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
CURLY_QUOTES = "\u2018\u2019\u201c\u201d"

# ASCII only: str.isdigit() would accept "²" or Arabic-Indic digits.
_NUMBER = re.compile(r"(?:[0-9](?:_?[0-9])*(?:\.[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)")
_EXPONENT = re.compile(r"[eE][+-]?[0-9](?:_?[0-9])*")
_WORD = re.compile(r"[A-Za-z0-9_.]*")
_NAME_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    offset: int
    value: float | int | str | None = None

    @property
    def end(self) -> int:
        return self.offset + len(self.text)


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source``, ending with an ``end`` token; raise at the first bad one."""
    tokens, error = tokenize_until_error(source)
    if error is not None:
        raise error
    return tokens


def tokenize_until_error(source: str) -> tuple[list[Token], ExprError | None]:
    """The tokens before the first bad one (then an ``end`` token there) and its error.

    The parser raises the error only when it reaches that spot, so that of several
    problems the leftmost is reported.
    """
    tokens: list[Token] = []
    try:
        _scan(source, tokens)
    except ExprError as error:
        tokens.append(Token("end", "", error.offset))
        return tokens, error
    # The end sits right after the last token, so "expected an operand after `>`"
    # points just past the `>` rather than at trailing blanks.
    tokens.append(Token("end", "", len(source.rstrip())))
    return tokens, None


def _scan(source: str, tokens: list[Token]) -> None:
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif "0" <= ch <= "9" or (ch == "." and i + 1 < n and "0" <= source[i + 1] <= "9"):
            i = _number(source, i, tokens)
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            i = _name(source, i, tokens)
        elif ch in "'\"":
            i = _string(source, i, tokens)
        else:
            i = _operator(source, i, tokens)


def shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(source: str, i: int, tokens: list[Token]) -> int:
    match = _NUMBER.match(source, i)
    assert match is not None  # the caller saw a digit (or a dot and a digit)
    j = match.end()
    exponent = _EXPONENT.match(source, j)
    if exponent:
        j = exponent.end()
    tail = _WORD.match(source, j)
    if tail is not None and tail.end() > j:
        # "100k", "1.2.3", "1__0", "2x": one clear message for the whole word.
        bad = source[i : tail.end()]
        raise ExprError(
            f"`{shorten(bad)}` is not a number (write numbers like `1500`, `1_500` or `0.25`)",
            source,
            i,
        )
    text = source[i:j]
    digits = text.replace("_", "")
    try:
        value: float | int = float(digits) if any(c in digits for c in ".eE") else int(digits)
    except ValueError:  # more digits than Python converts (4300)
        raise ExprError(f"`{shorten(text)}` has too many digits", source, i) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError(f"`{shorten(text)}` is too large a number", source, i)
    tokens.append(Token("num", text, i, value))
    return j


def _name(source: str, i: int, tokens: list[Token]) -> int:
    j = i
    while True:
        part = _NAME_PART.match(source, j)
        if part is None:
            # Only reachable after a dot: "attrs." or "attrs.1x".
            raise ExprError(f"expected a name after `{source[i:j]}`", source, j)
        j = part.end()
        # Letters beyond ASCII (an accented name) are not allowed inside names either.
        if j < len(source) and source[j].isalpha():
            raise ExprError(_unexpected(source[j]), source, j)
        if j < len(source) and source[j] == ".":
            j += 1
            continue
        break
    tokens.append(Token("name", source[i:j], i))
    return j


def _string(source: str, i: int, tokens: list[Token]) -> int:
    quote, j, parts = source[i], i + 1, []
    while j < len(source) and source[j] != quote and source[j] != "\n":
        if source[j] == "\\" and j + 1 < len(source) and source[j + 1] != "\n":
            escaped = ESCAPES.get(source[j + 1])
            if escaped is None:
                raise ExprError(
                    f"unknown escape `\\{source[j + 1]}` in text "
                    "(use `\\\\` for a backslash, `\\'` or `\\\"` for a quote)",
                    source,
                    j,
                )
            parts.append(escaped)
            j += 2
        else:
            parts.append(source[j])
            j += 1
    if j >= len(source) or source[j] != quote:
        raise ExprError(f"unterminated string: add the closing {quote}", source, i)
    tokens.append(Token("str", source[i : j + 1], i, "".join(parts)))
    return j + 1


def _operator(source: str, i: int, tokens: list[Token]) -> int:
    two = source[i : i + 2]
    if two in UNSUPPORTED:
        raise ExprError(UNSUPPORTED[two], source, i)
    if two not in ("==", "!="):
        for foreign, ours in FOREIGN.items():
            if source.startswith(foreign, i):
                raise ExprError(f"`{foreign}` is not an operator here; use `{ours}`", source, i)
    for op in OPERATORS:
        if source.startswith(op, i):
            tokens.append(Token("op", op, i))
            return i + len(op)
    raise ExprError(_unexpected(source[i]), source, i)


def _unexpected(ch: str) -> str:
    if ch in CURLY_QUOTES:
        return f"unexpected character `{ch}`: quote text with straight quotes ' or \""
    if ch == "`" or not ch.isprintable():
        return f"unexpected character U+{ord(ch):04X}"
    return f"unexpected character `{ch}`"
