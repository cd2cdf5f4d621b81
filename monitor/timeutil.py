"""The integer time units the store uses: epoch days and epoch milliseconds (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

EPOCH = date(1970, 1, 1)
EPOCH_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
MS_PER_DAY = 86_400_000
_MS = timedelta(milliseconds=1)


def day_number(day: date) -> int:
    """Days since 1970-01-01 for a calendar date."""
    return (day - EPOCH).days


def day_of_ms(ts_ms: int) -> int:
    """The UTC day number an epoch-millisecond instant falls on."""
    return ts_ms // MS_PER_DAY


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, exact (integer arithmetic: a float timestamp can land a
    millisecond short, and the last millisecond of a day matters, see day ends)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH_INSTANT) // _MS


def from_ms(ts_ms: int) -> datetime:
    return EPOCH_INSTANT + timedelta(milliseconds=ts_ms)


def date_of_day(day: int) -> date:
    return EPOCH + timedelta(days=day)
