"""The digest's daily slot: one run per local day at the configured wall time, DST-safe.

Expected instants are written out in UTC, so each test states exactly when a CS team
in that zone gets its digest on the days around a clock change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise

import pytest

from monitor.daemon.slots import DailySlot, DailySlotTrigger


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def fire_times(slot: DailySlot, start: datetime, count: int) -> list[datetime]:
    """The trigger's next ``count`` fire times from ``start``, as APScheduler asks them."""
    trigger = DailySlotTrigger(slot)
    times: list[datetime] = []
    previous = None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, start)
        assert previous is not None
        times.append(previous)
    return times


CASES = [
    # zone, wall time, first day shown, expected runs (UTC), why
    (
        "Europe/Berlin",
        "08:00",
        utc(2026, 3, 27),
        [utc(2026, 3, 27, 7), utc(2026, 3, 28, 7), utc(2026, 3, 29, 6), utc(2026, 3, 30, 6)],
    ),
    (
        "Europe/Berlin",
        "08:00",
        utc(2026, 10, 23, 12),
        [utc(2026, 10, 24, 6), utc(2026, 10, 25, 7), utc(2026, 10, 26, 7)],
    ),
    (
        "America/New_York",
        "08:00",
        utc(2026, 3, 6, 20),
        [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)],
    ),
    (
        "America/New_York",
        "08:00",
        utc(2026, 10, 30, 20),
        [utc(2026, 10, 31, 12), utc(2026, 11, 1, 13), utc(2026, 11, 2, 13)],
    ),
    # 02:30 does not exist on spring-forward day (02:00 -> 03:00): it runs at 03:00 local.
    (
        "Europe/Berlin",
        "02:30",
        utc(2026, 3, 27, 12),
        [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)],
    ),
    (
        "America/New_York",
        "02:30",
        utc(2026, 3, 6, 20),
        [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)],
    ),
    # 02:30 happens twice on Berlin's fall-back day (03:00 -> 02:00): it runs once, the
    # first time (CEST). New York repeats 01:00-02:00 instead.
    (
        "Europe/Berlin",
        "02:30",
        utc(2026, 10, 23, 12),
        [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
    ),
    (
        "America/New_York",
        "01:30",
        utc(2026, 10, 30, 20),
        [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)],
    ),
]


@pytest.mark.parametrize(("zone", "wall", "start", "expected"), CASES)
def test_one_run_per_local_day_across_dst_changes(
    zone: str, wall: str, start: datetime, expected: list[datetime]
) -> None:
    slot = DailySlot.parse(wall, zone)
    runs = fire_times(slot, start, len(expected))
    assert runs == expected
    local_days = [slot.local_date(run) for run in runs]
    assert len(set(local_days)) == len(runs)  # exactly one run per local day
    assert all((b - a).days == 1 for a, b in pairwise(local_days))


@pytest.mark.parametrize(("zone", "wall", "start", "expected"), CASES)
def test_runs_at_the_wall_time_or_the_first_valid_time_after_it(
    zone: str, wall: str, start: datetime, expected: list[datetime]
) -> None:
    slot = DailySlot.parse(wall, zone)
    for run in fire_times(slot, start, len(expected)):
        local = run.astimezone(slot.zone)
        assert local.time() >= slot.wall
        assert local.strftime("%H:%M") in (wall, "03:00")


def test_first_fire_time_at_the_exact_slot_instant_is_that_instant() -> None:
    slot = DailySlot.parse("08:00", "Europe/Berlin")
    trigger = DailySlotTrigger(slot)
    assert trigger.get_next_fire_time(None, utc(2026, 3, 29, 6)) == utc(2026, 3, 29, 6)
    assert trigger.get_next_fire_time(None, utc(2026, 3, 29, 6, 0, 1)) == utc(2026, 3, 30, 6)


def test_latest_slot_and_whether_it_passed_today() -> None:
    slot = DailySlot.parse("08:00", "America/New_York")
    before = utc(2026, 11, 1, 12, 59)  # 07:59 EST on fall-back day
    after = utc(2026, 11, 1, 13, 0)  # 08:00 EST
    assert slot.latest_at_or_before(before) == (date(2026, 10, 31), utc(2026, 10, 31, 12))
    assert slot.latest_at_or_before(after) == (date(2026, 11, 1), after)
    assert slot.passed_today(before) is None
    assert slot.passed_today(after) == date(2026, 11, 1)
