"""Daily wall-clock slots that survive DST: the digest's schedule.

APScheduler's ``CronTrigger`` fires twice for a time in the repeated hour of a
fall-back day and an hour late for a time in the spring-forward gap (library-facts §1).
A :class:`DailySlot` instead gives every local date exactly one instant:

* a wall time that exists once: that instant;
* a wall time that exists twice (fall-back): its first occurrence;
* a wall time that does not exist (spring-forward gap): the first wall-clock minute
  after it that does exist, e.g. 02:30 on the day Berlin jumps from 02:00 to 03:00
  runs at 03:00.

:class:`DailySlotTrigger` feeds those instants to APScheduler; the job itself claims
the slot's local date in the database (``job_runs``), so a restart, a replica or a
``run --once`` next to the daemon never runs a day twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

_MINUTE = timedelta(minutes=1)
_MAX_GAP = timedelta(days=2)  # the longest real gap (Samoa, 2011) skipped one whole day


def wall_time_exists(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether the local wall time ``naive`` happens at all in ``zone`` (not in a gap)."""
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


@dataclass(frozen=True)
class DailySlot:
    """One run per local day at ``wall`` in ``zone``."""

    wall: time
    zone: ZoneInfo

    @staticmethod
    def parse(hh_mm: str, zone_name: str) -> DailySlot:
        return DailySlot(time.fromisoformat(hh_mm), ZoneInfo(zone_name))

    def instant_on(self, day: date) -> datetime:
        """The UTC instant of ``day``'s slot (rules in the module docstring)."""
        naive = datetime.combine(day, self.wall)
        probe = naive
        while not wall_time_exists(probe, self.zone):
            probe += _MINUTE
            if probe - naive > _MAX_GAP:  # pragma: no cover - no such zone exists
                raise ValueError(f"no valid local time after {naive} in {self.zone}")
        # fold=0 picks the first of two occurrences on a fall-back day.
        return probe.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def next_after(self, moment: datetime) -> datetime:
        """The first slot instant strictly after ``moment``."""
        day = self.local_date(moment) - timedelta(days=1)
        while (instant := self.instant_on(day)) <= moment:
            day += timedelta(days=1)
        return instant

    def latest_at_or_before(self, moment: datetime) -> tuple[date, datetime]:
        """The local date and instant of the most recent slot at or before ``moment``."""
        day = self.local_date(moment) + timedelta(days=1)
        while (instant := self.instant_on(day)) > moment:
            day -= timedelta(days=1)
        return day, instant

    def passed_today(self, moment: datetime) -> date | None:
        """``moment``'s local date if its slot has come by ``moment``, else None."""
        day, _ = self.latest_at_or_before(moment)
        return day if day == self.local_date(moment) else None


class DailySlotTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler is untyped
    """An APScheduler trigger firing at each :class:`DailySlot` instant."""

    def __init__(self, slot: DailySlot) -> None:
        self.slot = slot

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            return self.slot.next_after(previous_fire_time)
        return self.slot.next_after(now - timedelta(microseconds=1))

    def __str__(self) -> str:
        return f"daily at {self.slot.wall:%H:%M} {self.slot.zone.key}"

    def __repr__(self) -> str:
        return f"<DailySlotTrigger ({self})>"
