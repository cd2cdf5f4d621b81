"""Escaping and number formatting shared by the templates and the built-in messages.

Pure functions only. Slack escaping follows Slack's formatting rules: ``&``, ``<`` and
``>`` are control characters and become ``&amp; &lt; &gt;``, in that order; nothing else
is entity-encoded (HTML escaping would also turn ``"`` into ``&#34;``, which Slack shows
literally).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_PARTIAL_ENTITY = re.compile(r"&[a-z#0-9]{0,5}$")
_WHITESPACE = re.compile(r"\s+")
# C0/C1 control characters other than tab and newline: an account named "\x1b[2J"
# must not clear the operator's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class SlackSafe(str):
    """Text that is already escaped for Slack (a template macro's output)."""

    __slots__ = ()


def slack_escape(value: object) -> str:
    """Escape a value for Slack mrkdwn or plain_text; ``None`` becomes empty."""
    if value is None:
        return ""
    if isinstance(value, SlackSafe):
        return value
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blank_none(value: object) -> object:
    """Jinja ``finalize`` for text and HTML: ``{{ None }}`` prints nothing, not "None"."""
    return "" if value is None else value


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with "…" when cut.

    A cut never leaves half an entity such as ``&am`` behind (Slack would show it).
    """
    if len(text) <= limit:
        return text
    head = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return head + "…"


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace (including newlines: header injection) into single spaces."""
    return truncate(_WHITESPACE.sub(" ", text).strip(), limit)


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def fmt_metric(value: object) -> str:
    """A metric value for people: ``-0.45``, ``1,234.5``, ``12``, ``yes``, ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        if abs(value) < 1:
            return f"{value:.2g}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def fmt_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def fmt_money(value: float | None, symbol: str = "$") -> str:
    return "n/a" if value is None else f"{symbol}{value:,.0f}"


def fmt_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def days_until(value: date | None, today: date) -> int | None:
    return None if value is None else (value - today).days


FILTERS: dict[str, Any] = {
    "metric": fmt_metric,
    "score": fmt_score,
    "money": fmt_money,
    "isodate": fmt_date,
}
"""Filters available in every template (in addition to Jinja's built-ins)."""
