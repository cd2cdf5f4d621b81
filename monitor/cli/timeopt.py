"""Parsing of ``--at`` instants given on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, time

from monitor.clock import Clock
from monitor.errors import CsmonError


def parse_instant(text: str | None, clock: Clock) -> datetime:
    """``None``/``now`` → the clock's now; an ISO date → its midnight UTC; an ISO datetime
    (``Z`` or an offset; naive means UTC) → that instant."""
    if text is None or text.lower() == "now":
        return clock.now()
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CsmonError(
            f"--at {text!r} is not a date or time; use e.g. 2026-11-02 or 2026-11-02T09:00:00Z."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
