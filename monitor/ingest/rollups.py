"""What one batch of events adds to the daily rollups, counted before it is written.

The read-ahead thread counts a batch's usage events per rollup key while it prepares
the batch, so the writer only adds a few thousand sums to the rollup tables instead of
grouping tens of thousands of rows itself (the writer is the import's bottleneck).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from monitor.ingest.segment import ROLLED_UP_TYPES

EventRow = tuple[str, str, str, str, str, int, int, str | None]
"""A row of ``events``: message_id, account_id, user_id, type, name, ts_ms, day, properties."""
NumberRow = tuple[str, str, int, str, str, float]
"""A numeric rollup property of a usage event: message_id, account_id, day, name,
property, value."""

EventKey = tuple[int, str, str]
"""``event_daily``'s key: day, account_id, event name."""
UserKey = tuple[int, str, str]
"""``user_daily``'s key: day, account_id, user_id."""
PropertyKey = tuple[int, str, str, str]
"""``property_daily``'s key: day, account_id, event name, property."""

CountDelta = tuple[int, str, str, int]
"""A row to add to ``event_daily`` or ``user_daily``: its key, then the count."""
PropertyDelta = tuple[int, str, str, str, int, float]
"""A row to add to ``property_daily``: its key, then the count and the total."""

_USAGE = frozenset(ROLLED_UP_TYPES)


@dataclass
class RollupDeltas:
    """Counts (and property sums) to add to the rollups, per rollup key."""

    events: Counter[EventKey] = field(default_factory=Counter)
    users: Counter[UserKey] = field(default_factory=Counter)
    properties: dict[PropertyKey, list[float]] = field(default_factory=dict)
    """Per key: [count, total]."""

    def add(self, row: EventRow) -> None:
        """Count one event row (identify and group calls are not usage: ignored)."""
        _message_id, account, user, kind, name, _ts, day, _props = row
        if kind in _USAGE:
            self.events[day, account, name] += 1
            self.users[day, account, user] += 1

    def add_number(self, row: NumberRow) -> None:
        _message_id, account, day, name, prop, value = row
        sums = self.properties.get((day, account, name, prop))
        if sums is None:
            self.properties[day, account, name, prop] = [1.0, value]
        else:
            sums[0] += 1
            sums[1] += value

    @classmethod
    def of(
        cls,
        rows: Iterable[EventRow],
        numbers: Iterable[NumberRow],
        skip: Collection[str] = (),
    ) -> RollupDeltas:
        """The deltas of ``rows`` and ``numbers``, leaving out the messageIds in ``skip``."""
        deltas = cls()
        for row in rows:
            if row[0] not in skip:
                deltas.add(row)
        for number in numbers:
            if number[0] not in skip:
                deltas.add_number(number)
        return deltas

    def days(self) -> frozenset[int]:
        """The days these deltas add to (user and property deltas come from the same
        usage events, so the event deltas name them all)."""
        return frozenset(day for day, _account, _name in self.events)

    def event_rows(self) -> list[CountDelta]:
        return [(*key, count) for key, count in self.events.items()]

    def user_rows(self) -> list[CountDelta]:
        return [(*key, count) for key, count in self.users.items()]

    def property_rows(self) -> list[PropertyDelta]:
        return [(*key, int(count), total) for key, (count, total) in self.properties.items()]
