"""Parsing and checking of single CRM values: money, integers, dates, emails, choices,
free attributes. Pure functions; each raises :class:`FieldError` with a stable code."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime

MAX_ID_CHARS = 200
MAX_SEATS = 2**31 - 1  # the seats column is a 32-bit integer
_CURRENCY = "$€£"
_DECIMAL = re.compile(
    r"(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+)(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+"
)
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}\S*)?")
_EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\".]+(?:\.[^@\s<>,;\".]+)+")
# No leading zeros (01234 is a code, not a number) and no more digits than a float keeps.
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(\.\d{1,15})?")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_TRUE, _FALSE = ("true", "yes"), ("false", "no")
_TIERS = ("S", "A", "B")


class FieldError(Exception):
    """One problem with one value; ``code`` is the stable reject reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


ValueParser = Callable[[str, object], object]
"""(name as written in the file, value) → normalised value, ``None`` when empty."""


def _text(name: str, value: object) -> str | None:
    """Stripped text; JSON integers are accepted as their digits (ids are often numbers)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FieldError("invalid_value", f"{name} must be text, not {_json_type(value)}")


def parse_text(max_chars: int | None = None) -> ValueParser:
    def parse(name: str, value: object) -> object:
        text = _text(name, value)
        if text is not None and max_chars is not None and len(text) > max_chars:
            raise FieldError(
                "row_too_long", f"{name} is {len(text)} characters long; at most {max_chars} fit"
            )
        return text

    return parse


parse_id = parse_text(MAX_ID_CHARS)


def _number(name: str, value: object, *, currency: bool) -> float | None:
    """A JSON number, or text such as ``12000.50``, ``12,000.50``, ``12_000``, ``$12,000``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        number = _decimal_text(value.strip(), currency=currency)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value) if abs(value) < 1e300 else math.inf
    else:
        raise FieldError("invalid_number", f"{name} must be a number, not {_json_type(value)}")
    if number is None or not math.isfinite(number):
        example = "12000.50 or $12,000.50" if currency else "1200 or 1,200"
        raise FieldError("invalid_number", f"{name} {value!r} is not a number such as {example}")
    if number < 0:
        raise FieldError("invalid_value", f"{name} {value!r} must not be negative")
    return number


def _decimal_text(text: str, *, currency: bool) -> float | None:
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = text[0], text[1:].lstrip()
    if currency and text[:1] in _CURRENCY:
        text = text[1:].lstrip()
    elif currency and text[-1:] in _CURRENCY:
        text = text[:-1].rstrip()
    if not sign and text[:1] in ("+", "-"):  # "$-100"
        sign, text = text[0], text[1:]
    if not _DECIMAL.fullmatch(text):
        return None
    return float(sign + text.replace(",", "").replace("_", ""))


def parse_money(name: str, value: object) -> object:
    return _number(name, value, currency=True)


def parse_int(name: str, value: object) -> object:
    number = _number(name, value, currency=False)
    if number is None:
        return None
    if number != int(number):
        raise FieldError("invalid_number", f"{name} {value!r} is not a whole number")
    if number > MAX_SEATS:
        raise FieldError("invalid_number", f"{name} {value!r} is too large")
    return int(number)


def parse_date(name: str, value: object) -> object:
    """An ISO date, or an ISO date-time cut to its date as written (no zone conversion)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else ""
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        if len(text) > 10:
            datetime.fromisoformat(text)  # validates the time part too
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise FieldError(
            "invalid_date", f"{name} {value!r} is not an ISO date (YYYY-MM-DD)"
        ) from None


def parse_email(name: str, value: object) -> object:
    text = _text(name, value)
    if text is None:
        return None
    if len(text) > 320 or not _EMAIL.fullmatch(text):
        raise FieldError("invalid_email", f"{name} {text!r} is not an email address")
    return text.lower()


def parse_choice(*choices: str) -> ValueParser:
    """One of ``choices``; case, spaces and dashes do not matter (``Decision Maker``)."""

    def parse(name: str, value: object) -> object:
        text = _text(name, value)
        if text is None:
            return None
        normalised = re.sub(r"[\s\-_]+", "_", text.lower())
        if normalised not in choices:
            raise FieldError(
                "invalid_value", f"{name} {text!r} must be one of {', '.join(choices)}"
            )
        return normalised

    return parse


def parse_attribute(name: str, value: object, *, typed: bool) -> object:
    """A free attribute: JSON values keep their type; CSV text gets light typing.

    ``None`` means empty (the attribute is removed). ``tier_override`` must be S, A
    or B and ``strategic`` a boolean, whatever the format.
    """
    if isinstance(value, str):
        value = value.strip() or None
        if value is not None and not typed:
            value = _light_type(value)
    if name == "tier_override" and value is not None:
        tier = str(value).upper()
        if tier not in _TIERS:
            raise FieldError("invalid_value", f"tier_override {value!r} must be S, A or B")
        return tier
    if name == "strategic" and value is not None and not isinstance(value, bool):
        flag = str(value).lower()
        if flag not in ("1", "0", *_TRUE, *_FALSE):
            raise FieldError("invalid_value", f"strategic {value!r} must be true or false")
        return flag in ("1", *_TRUE)
    return value


def _light_type(text: str) -> object:
    lowered = text.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    match = _PLAIN_NUMBER.fullmatch(text)
    if match is None:
        return text
    return float(text) if match.group(1) else int(text)


def check_storable(name: str, value: object) -> None:
    """Refuse what no database column stores: NUL, unpaired surrogates, NaN, Infinity."""
    if _unstorable(name, str) or _unstorable(value, str):
        raise FieldError(
            "invalid_encoding", f"{name!r} holds a NUL character or an unpaired surrogate"
        )
    if _unstorable(value, float):
        raise FieldError("invalid_number", f"{name} holds NaN or Infinity, which JSON lacks")


def _unstorable(value: object, kind: type) -> bool:
    if isinstance(value, dict):
        return any(_unstorable(k, kind) or _unstorable(v, kind) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(item, kind) for item in value)
    if isinstance(value, float):
        return kind is float and not math.isfinite(value)
    return isinstance(value, str) and kind is str and _UNSTORABLE.search(value) is not None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", bool: "a boolean", float: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")
