"""Durations in rule files: ``"14d"`` (days), ``"2w"`` (weeks), ``"12h"`` (hours).

One number and one unit, nothing else: the short forms CS ops already know from
other tools, and no room for ambiguity (``"1m"`` is neither minutes nor months here).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class DurationError(ValueError):
    """A duration that cannot be used; the message is one phrase fit for a user."""


def parse_duration(text: str, *, allow_hours: bool = False) -> timedelta:
    """Parse ``"14d"``, ``"2w"`` or (when ``allow_hours``) ``"12h"``.

    Raises :class:`DurationError` naming the accepted forms.
    """
    match = _DURATION.fullmatch(text.strip())
    units = '"12h", "14d" or "2w"' if allow_hours else '"14d" or "2w"'
    if match is None:
        raise DurationError(f"expected a duration like {units}, got {json.dumps(text)}")
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "h" and not allow_hours:
        raise DurationError(f"expected whole days like {units}, got {json.dumps(text)}")
    return amount * _UNITS[unit]


def parse_days(text: str) -> int:
    """A duration in whole days (``"2w"`` is 14)."""
    return parse_duration(text).days


def format_duration(duration: timedelta) -> str:
    """The shortest rule-file spelling of ``duration`` (``"14d"``, ``"2w"``, ``"36h"``)."""
    hours = int(duration.total_seconds() // 3600)
    if hours % (24 * 7) == 0 and hours:
        return f"{hours // (24 * 7)}w"
    if hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"
