"""The integer time units the store uses: epoch days and epoch milliseconds (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

EPOCH = date(1970, 1, 1)
MS_PER_DAY = 86_400_000


def day_number(day: date) -> int:
    """Days since 1970-01-01 for a calendar date."""
    return (day - EPOCH).days


def day_of_ms(ts_ms: int) -> int:
    """The UTC day number an epoch-millisecond instant falls on."""
    return ts_ms // MS_PER_DAY


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC)


def date_of_day(day: int) -> date:
    return EPOCH + timedelta(days=day)
