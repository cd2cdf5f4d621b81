"""How each kind of account behaves: archetypes, their fate, and the activity curve.

Ages are whole days before the portfolio's ``end`` (0 = the day ``end`` falls on), so
"the last 14 days" reads ``age < 14``. A :class:`Behaviour` is pure data plus the curve
it implies; the event generator samples events from it and tests check the curve shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from random import Random


class Archetype(StrEnum):
    HEALTHY = "healthy"
    GROWING = "growing"
    """Usage and active users climb over the window; will expand at renewal."""
    DECAYING = "decaying"
    """Usage falls over the last weeks; will churn at renewal."""
    HELP_SPIKE = "help_spike"
    """A sudden burst of /help views and support tickets in the last ~2 weeks."""
    REACTIVATED = "reactivated"
    """Silent for weeks, then logins resume in the last days."""
    ONBOARDING = "onboarding"
    """Created in the last 30 days; usage ramps up from creation."""
    DORMANT = "dormant"
    """A paying customer with no activity in the whole window."""
    CHURNED = "churned"
    """A former customer: the last contract churned; events stop at the churn date."""


class Fate(StrEnum):
    """What happens (or happened) at the account's renewal: the ground truth."""

    RENEW = "renew"
    EXPAND = "expand"
    CHURN = "churn"
    CHURNED = "churned"


# Shares of the portfolio; healthy accounts are the rest. Each planted archetype gets at
# least one account whenever the portfolio is big enough to hold them all.
ARCHETYPE_SHARES = {
    Archetype.GROWING: 0.12,
    Archetype.DECAYING: 0.10,
    Archetype.CHURNED: 0.10,
    Archetype.HELP_SPIKE: 0.06,
    Archetype.ONBOARDING: 0.06,
    Archetype.REACTIVATED: 0.05,
    Archetype.DORMANT: 0.04,
}
FATES = {
    Archetype.HEALTHY: Fate.RENEW,
    Archetype.GROWING: Fate.EXPAND,
    Archetype.DECAYING: Fate.CHURN,
    Archetype.HELP_SPIKE: Fate.RENEW,
    Archetype.REACTIVATED: Fate.RENEW,
    Archetype.ONBOARDING: Fate.RENEW,
    Archetype.DORMANT: Fate.CHURN,
    Archetype.CHURNED: Fate.CHURNED,
}

NEVER = 1_000_000
"""An age no window reaches: "no start" / "no end" for the age bounds below."""
WEEKDAY_FACTORS = (1.05, 1.1, 1.05, 1.0, 0.8, 0.2, 0.2)
"""Activity by weekday, Monday first: weekends see ~20% of a weekday's activity."""
USERS_EXPONENT = 0.8
"""Events grow slightly slower than users: big accounts have more occasional users."""


@dataclass(frozen=True)
class Behaviour:
    """What drives an account's events; ages are days before ``end``.

    An account is active at ``age`` when ``stop_age < age <= created_age`` and the age is
    outside the silent gap ``resume_age < age <= silent_from_age``.
    """

    base_rate: float
    """Events on an average weekday at full activity."""
    work_start_ms: int
    """When the account's working day starts, in ms after UTC midnight."""
    happy: bool
    """Sets the NPS scores its users give."""
    early_users: int
    """Growing accounts: only the first N users are active in the first half of the window."""
    created_age: int = NEVER
    """Onboarding: no events before the account was created."""
    stop_age: int = -1
    """Churned: no events from the churn date on."""
    silent_from_age: int = -1
    resume_age: int = -1
    """Reactivated: silent from ``silent_from_age`` down to ``resume_age``; dormant:
    silent for ever (``silent_from_age`` is NEVER and nothing resumes)."""
    decay_from_age: int = -1
    decay_to_age: int = 0
    decay_floor: float = 1.0
    """Decaying and churned: usage falls from full at ``decay_from_age`` to
    ``decay_floor`` at ``decay_to_age``, accelerating as the end nears."""
    growth_days: int = 0
    """Growing: usage climbs from 55% to 145% of ``base_rate`` over this many days."""
    ramp_days: int = 0
    """Onboarding: usage ramps up from 30% over this many days after creation."""
    spike_age: int = -1
    """Help spike: extra /help views and tickets at ages below this."""

    def activity(self, age: int) -> float:
        """The multiplier of ``base_rate`` at ``age`` (before weekday seasonality)."""
        if age > self.created_age or age <= self.stop_age:
            return 0.0
        if self.resume_age < age <= self.silent_from_age:
            return 0.0
        level = 1.0
        if age < self.decay_from_age:
            span = max(1, self.decay_from_age - self.decay_to_age)
            x = max(0.0, (age - self.decay_to_age) / span)
            level = self.decay_floor + (1.0 - self.decay_floor) * x**1.5
        if self.growth_days:
            level *= 0.55 + 0.9 * max(0.0, 1.0 - age / self.growth_days)
        if self.ramp_days and self.created_age - age < self.ramp_days:
            level *= 0.3 + 0.7 * (self.created_age - age) / self.ramp_days
        return level

    def returning(self, age: int) -> bool:
        """True after a reactivated account's gap: its users mostly sign in and look around."""
        return 0 <= age <= self.resume_age < self.silent_from_age

    def help_extra(self, age: int) -> float:
        """Extra /help views and tickets per weekday during a help spike."""
        return max(2.0, 0.35 * self.base_rate) if age < self.spike_age else 0.0


def behaviour_for(
    rng: Random,
    archetype: Archetype,
    *,
    days: int,
    users: int,
    start_hour: int,
    created_age: int,
    end_age: int,
) -> Behaviour:
    """The activity curve of one account: what its archetype means in days and levels.

    ``created_age`` is the age of the account's creation, ``end_age`` that of its last
    contract's end (negative while the contract runs).
    """
    base = Behaviour(
        base_rate=users**USERS_EXPONENT,
        work_start_ms=start_hour * 3_600_000,
        happy=archetype not in (Archetype.DECAYING, Archetype.HELP_SPIKE, Archetype.CHURNED),
        early_users=users,
    )
    match archetype:
        case Archetype.GROWING:
            return replace(base, growth_days=days, early_users=max(1, round(users * 0.6)))
        case Archetype.DECAYING:
            return replace(
                base, decay_from_age=rng.randint(28, 42), decay_floor=rng.uniform(0.05, 0.2)
            )
        case Archetype.HELP_SPIKE:
            return replace(base, spike_age=rng.randint(9, 14))
        case Archetype.REACTIVATED:
            resume = rng.randint(3, 6)
            return replace(base, resume_age=resume, silent_from_age=resume + rng.randint(24, 45))
        case Archetype.ONBOARDING:
            return replace(base, created_age=created_age, ramp_days=21)
        case Archetype.DORMANT:
            return replace(base, silent_from_age=NEVER)
        case Archetype.CHURNED:
            return replace(
                base,
                stop_age=end_age,
                decay_from_age=end_age + rng.randint(25, 40),
                decay_to_age=end_age,
                decay_floor=0.1,
            )
    return base
