"""Segment-spec event lines sampled from a portfolio: fast, seeded, streamed day by day.

Speed comes from doing the JSON work once: every event kind (``Signed In``, a /help page
view, an NPS answer with its score, ...) and every user (``userId`` plus
``context.groupId``) is serialised by orjson up front into a fragment, and a line is one
f-string joining a timestamp, a ``messageId`` and two fragments. Each line starts with its
timestamp, so sorting a day's lines as plain strings sorts them by time.

Each user's ``group`` call (their account) and ``identify`` call (email, role) come just
before the account's first event: ~10% of users send events without
``context.groupId``, and an importer finds their account from the earlier ``group`` call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from random import Random

import orjson

from monitor.demo.behaviour import WEEKDAY_FACTORS, Behaviour
from monitor.demo.model import WORKDAY_MS, Account, Portfolio
from monitor.timeutil import MS_PER_DAY, date_of_day, day_number, to_ms

# The default event vocabulary of the spec (section 3).
LOGIN = "Signed In"
CORE_FEATURES = ("Report Created", "Dashboard Shared", "Report Exported", "Integration Connected")
SUPPORT_TICKET = "Support Ticket Opened"
NPS = "NPS Submitted"
HELP_PATHS = (
    "/help/getting-started",
    "/help/reports/filters",
    "/help/integrations/salesforce",
    "/help/billing",
    "/help/sso-setup",
)
REPORT_PATHS = ("/reports/weekly-revenue", "/reports/pipeline", "/reports/churn-cohorts")
DASHBOARD_PATH = "/dashboard"
_HALF_WORKDAY_MS = WORKDAY_MS // 2 - 1

# NPS answers (score: weight): happy accounts are mostly promoters, unhappy ones detractors.
_NPS_HAPPY = {10: 30, 9: 30, 8: 20, 7: 10, 6: 5, 5: 3, 3: 2}
_NPS_UNHAPPY = {9: 4, 8: 8, 7: 14, 6: 20, 5: 16, 4: 14, 3: 12, 2: 6, 0: 6}

Mix = tuple[list[str], list[float]]
"""Event-kind fragments and their cumulative weights, ready for ``Random.choices``."""


def _fragment(message: dict[str, object]) -> str:
    """A JSON object's members without the braces, to splice into a line."""
    return orjson.dumps(message).decode()[1:-1]


def _track(event: str, properties: dict[str, object] | None = None) -> str:
    return _fragment({"type": "track", "event": event, "properties": properties or {}})


def _page(path: str) -> str:
    title = path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ").capitalize()
    return _fragment({"type": "page", "name": title, "properties": {"path": path}})


def _mix(weighted: Sequence[tuple[float, str]]) -> Mix:
    return [f for _, f in weighted], list(accumulate(w for w, _ in weighted))


def _spread(weight: float, fragments: Sequence[str]) -> list[tuple[float, str]]:
    return [(weight / len(fragments), f) for f in fragments]


def _usage_mix(nps_scores: dict[int, int]) -> Mix:
    """Everyday use: logins, core features, dashboards and reports, a little help."""
    nps_total = sum(nps_scores.values())
    return _mix(
        [
            (30, _track(LOGIN)),
            (12, _track(CORE_FEATURES[0])),
            (6, _track(CORE_FEATURES[1])),
            (8, _track(CORE_FEATURES[2])),
            (1, _track(CORE_FEATURES[3])),
            (20, _page(DASHBOARD_PATH)),
            *_spread(14, [_page(p) for p in REPORT_PATHS]),
            *_spread(3, [_page(p) for p in HELP_PATHS]),
            (0.4, _track(SUPPORT_TICKET, {"priority": "normal"})),
            *[(0.3 * w / nps_total, _track(NPS, {"score": s})) for s, w in nps_scores.items()],
        ]
    )


_HAPPY_MIX = _usage_mix(_NPS_HAPPY)
_UNHAPPY_MIX = _usage_mix(_NPS_UNHAPPY)
# After a long silence users mostly sign in and look around before working again.
_RETURNING_MIX = _mix(
    [
        (65, _track(LOGIN)),
        (20, _page(DASHBOARD_PATH)),
        (8, _page(REPORT_PATHS[0])),
        (5, _page(HELP_PATHS[0])),
        (2, _track(CORE_FEATURES[0])),
    ]
)
# A confused account: help articles and tickets on top of its usual usage.
_HELP_MIX = _mix(
    [
        *_spread(85, [_page(p) for p in HELP_PATHS]),
        (10, _track(SUPPORT_TICKET, {"priority": "normal"})),
        (5, _track(SUPPORT_TICKET, {"priority": "high"})),
    ]
)


@cache
def _clock_strings() -> tuple[list[str], list[str]]:
    """ "HH:MM:SS." for every second of a day and "mmmZ" for every millisecond."""
    seconds = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400)]
    return seconds, [f"{ms:03d}Z" for ms in range(1000)]


@dataclass
class _Stream:
    """One account's precomputed fragments and the state of its event stream."""

    behaviour: Behaviour
    users: list[str]
    user_weights: list[float]
    early_users: list[str]
    early_weights: list[float]
    groups: list[str]
    identifies: list[str]
    mix: Mix
    introduced: bool = False

    @classmethod
    def of(cls, account: Account) -> _Stream:
        traits = {"name": account.name, "plan": account.plan, "industry": account.industry}
        users, groups, identifies = [], [], []
        for user in account.users:
            context = {"context": {"groupId": account.account_id}} if user.sends_group_id else {}
            users.append(_fragment({"userId": user.user_id, **context}))
            group = {"type": "group", "userId": user.user_id, "groupId": account.account_id}
            groups.append(_fragment({**group, "traits": traits}))
            identify = {"email": user.email, "role": user.role}
            identifies.append(
                _fragment({"type": "identify", "userId": user.user_id, "traits": identify})
            )
        weights = list(accumulate(u.weight for u in account.users))
        early = account.behaviour.early_users
        return cls(
            behaviour=account.behaviour,
            users=users,
            user_weights=weights,
            early_users=users[:early],
            early_weights=weights[:early],
            groups=groups,
            identifies=identifies,
            mix=_HAPPY_MIX if account.behaviour.happy else _UNHAPPY_MIX,
        )

    def sample(self, age: int, weekday: float, rng: Random) -> tuple[list[str], list[str]]:
        """The kinds and users of the account's events on one day (times come later)."""
        behaviour = self.behaviour
        level = behaviour.activity(age) * weekday
        if level <= 0.0:
            return [], []
        noise = 0.7 + 0.6 * rng.random()
        count = int(behaviour.base_rate * level * noise + rng.random())
        mix = _RETURNING_MIX if behaviour.returning(age) else self.mix
        kinds = rng.choices(mix[0], cum_weights=mix[1], k=count)
        help_extra = behaviour.help_extra(age) * weekday
        if help_extra:
            extra = int(help_extra * noise + rng.random())
            kinds += rng.choices(_HELP_MIX[0], cum_weights=_HELP_MIX[1], k=extra)
        if not kinds:
            return [], []
        if age > behaviour.growth_days // 2:
            users, weights = self.early_users, self.early_weights
        else:
            users, weights = self.users, self.user_weights
        return kinds, rng.choices(users, cum_weights=weights, k=len(kinds))


def event_days(portfolio: Portfolio) -> Iterator[list[str]]:
    """The event lines (each ending in a newline) of each UTC day, oldest day first, each
    day's lines sorted by timestamp. Events fall in ``[end - days, end)``.

    Memory holds one day's lines at a time, so 20,000 accounts stream as well as 40.
    """
    params = portfolio.params
    rng = Random(f"csmon-demo-events-{params.seed}")
    random = rng.random
    id_prefix = f"{rng.getrandbits(32):08x}-"
    seconds, millis = _clock_strings()
    end_ms = to_ms(params.end)
    start_ms = end_ms - params.days * MS_PER_DAY
    end_day = day_number(params.end_date)
    streams = [_Stream.of(a) for a in portfolio.accounts if a.users]
    seq = 0
    for day in range(start_ms // MS_PER_DAY, (end_ms - 1) // MS_PER_DAY + 1):
        age = end_day - day
        day_ms = day * MS_PER_DAY
        # The window's edges cut the first and last day: lines must fall in [lo, hi).
        lo, hi = max(0, start_ms - day_ms), min(MS_PER_DAY, end_ms - day_ms)
        stamp = f"{date_of_day(day).isoformat()}T"
        weekday = WEEKDAY_FACTORS[date_of_day(day).weekday()]
        lines: list[str] = []
        for stream in streams:
            kinds, users = stream.sample(age, weekday, rng)
            if not kinds:
                continue
            # Working hours peak mid-day: a sum of two uniforms is triangular over the
            # workday. The first 2 ms of the workday are kept for the intro calls.
            start = stream.behaviour.work_start_ms + 2
            times = [start + int((random() + random()) * _HALF_WORKDAY_MS) for _ in kinds]
            events: list[tuple[int, str, str]] | zip[tuple[int, str, str]]
            events = zip(times, kinds, users, strict=True)
            if lo > 0 or hi < MS_PER_DAY:
                events = [event for event in events if lo + 1 < event[0] < hi]
                if not events:
                    continue
            if not stream.introduced:
                # Each user's group call, then identify, just before the account's first
                # event: the account of an event without context.groupId is then known.
                stream.introduced = True
                at = max(lo, start - 2)
                for ms, intro in ((at, stream.groups), (at + 1, stream.identifies)):
                    clock = f"{stamp}{seconds[ms // 1000]}{millis[ms % 1000]}"
                    lines += [
                        f'{{"timestamp":"{clock}","messageId":"{id_prefix}{n}",{fragment}}}\n'
                        for n, fragment in enumerate(intro, seq)
                    ]
                    seq += len(intro)
            before = len(lines)
            lines += [
                f'{{"timestamp":"{stamp}{seconds[ms // 1000]}{millis[ms % 1000]}",'
                f'"messageId":"{id_prefix}{n}",{kind},{user}}}\n'
                for n, (ms, kind, user) in enumerate(events, seq)
            ]
            seq += len(lines) - before
        lines.sort()
        yield lines
