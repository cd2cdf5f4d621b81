"""The synthetic portfolio: accounts with a hidden fate, their users and contract history.

Pure and seeded: :func:`build_portfolio` turns :class:`DemoParams` into a
:class:`Portfolio` using ``random.Random(seed)`` only, so the same parameters always
give the same portfolio. Each account carries its ground truth (archetype, fate and the
behaviour that drives its events), which tests and backtests compare csmon's verdicts with.

Time inside the model is counted in *ages*: whole days before ``end`` (0 = the day
``end`` falls on), so "the last 14 days" reads ``age < 14`` everywhere.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from random import Random

from monitor.clock import ensure_utc
from monitor.demo.behaviour import (
    ARCHETYPE_SHARES,
    FATES,
    WEEKDAY_FACTORS,
    Archetype,
    Behaviour,
    Fate,
    behaviour_for,
)
from monitor.demo.contracts import YEAR, Contract, contract_chain
from monitor.demo.names import FIRST_NAMES, LAST_NAMES, company_names, csm_emails, domain_of

# ARR is Pareto distributed: P(arr >= x) = (XM / x) ** ALPHA, so ~20% of accounts are at
# 20k or more, a few percent at 100k or more, and the top 10% hold well over half the ARR.
ARR_XM = 4_800.0
ARR_ALPHA = 1.12
ARR_CAP = 2_500_000.0
# (upper ARR bound, plan, list price per seat and year): seats follow from ARR.
PLANS = (
    (10_000.0, "starter", 480.0),
    (40_000.0, "team", 600.0),
    (120_000.0, "business", 840.0),
    (math.inf, "enterprise", 1_080.0),
)
INDUSTRIES = (
    "software",
    "financial services",
    "healthcare",
    "manufacturing",
    "retail",
    "logistics",
    "education",
    "media",
)
# (region, weight, UTC hour its working day starts): every working day fits one UTC day.
REGIONS = (("EMEA", 0.40, 7), ("NA", 0.35, 13), ("APAC", 0.15, 0), ("LATAM", 0.10, 12))
WORKDAY_MS = 10 * 3_600_000


@dataclass(frozen=True)
class DemoParams:
    end: datetime
    """The instant the data ends: "now" for the generated portfolio."""
    seed: int = 42
    accounts: int = 500
    days: int = 90
    events_per_account_day: float = 11.0
    """Portfolio-wide mean, calibrated: 2,000 accounts x 90 days is then ~2M events."""

    def __post_init__(self) -> None:
        if self.accounts < 1 or self.days < 1 or self.events_per_account_day < 0:
            raise ValueError("accounts and days must be positive, events per day not negative")
        object.__setattr__(self, "end", ensure_utc(self.end))

    @property
    def end_date(self) -> date:
        return self.end.date()


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    role: str
    weight: float
    """Relative activity among the account's users (champions use the product most)."""
    sends_group_id: bool
    """False for ~10% of users: their events omit ``context.groupId`` and rely on ``group``."""


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    arr: float
    """ARR of the active contract; 0 for a churned account."""
    seats: int
    plan: str
    csm_email: str
    renewal_date: date | None
    """End of the active contract; None for a churned account."""
    created_at: date
    industry: str
    region: str
    strategic: bool
    archetype: Archetype
    fate: Fate
    behaviour: Behaviour
    users: tuple[User, ...]
    contracts: tuple[Contract, ...]


@dataclass(frozen=True)
class Portfolio:
    params: DemoParams
    accounts: tuple[Account, ...]

    @property
    def archetype_counts(self) -> Counter[Archetype]:
        """How many accounts of each kind the generator planted."""
        return Counter(a.archetype for a in self.accounts)

    @property
    def users(self) -> int:
        return sum(len(a.users) for a in self.accounts)

    @property
    def contracts(self) -> list[Contract]:
        return [c for a in self.accounts for c in a.contracts]


def build_portfolio(params: DemoParams) -> Portfolio:
    """The portfolio for ``params``.

    1. Deal the archetypes and the Pareto ARR values out over the accounts.
    2. Give each account its identity, users, contract history and behaviour.
    3. Flag a few accounts strategic, and scale every account's event rate so the
       portfolio's mean events per account and day hit the target.
    """
    rng = Random(params.seed)
    n = params.accounts
    archetypes = _deal_archetypes(rng, n)
    arrs = _pareto_arrs(rng, archetypes)
    names = company_names(rng, n)
    csms = csm_emails(n)
    width = max(4, len(str(n)))
    drafts = [
        _account(
            rng,
            params,
            f"acc-{i + 1:0{width}d}",
            names[i],
            rng.choice(csms),
            archetypes[i],
            arrs[i],
        )
        for i in range(n)
    ]
    strategic = _pick_strategic(rng, drafts)
    scale = _rate_scale(params, drafts)
    accounts = tuple(
        replace(
            a,
            strategic=a.account_id in strategic,
            behaviour=replace(a.behaviour, base_rate=a.behaviour.base_rate * scale),
        )
        for a in drafts
    )
    return Portfolio(params, accounts)


def _deal_archetypes(rng: Random, n: int) -> list[Archetype]:
    minimum = 1 if n >= 2 * len(ARCHETYPE_SHARES) else 0
    dealt: list[Archetype] = []
    for archetype, share in ARCHETYPE_SHARES.items():
        dealt += [archetype] * max(minimum, round(share * n))
    dealt = dealt[:n] + [Archetype.HEALTHY] * max(0, n - len(dealt))
    rng.shuffle(dealt)
    return dealt


def _pareto_arrs(rng: Random, archetypes: list[Archetype]) -> list[float]:
    """One ARR per account: stratified Pareto draws, one per quantile slice, so even 40
    accounts show the shape. The largest tenth goes to current customers, as big
    accounts rarely churn, which keeps the S tier populated in small portfolios."""
    n = len(archetypes)
    values = []
    for i in range(n):
        u = (i + rng.random()) / n
        arr = min(ARR_CAP, ARR_XM * (1.0 - u) ** (-1.0 / ARR_ALPHA))
        step = 100 if arr < 20_000 else 500 if arr < 100_000 else 5_000
        values.append(float(round(arr / step) * step))
    values.sort(reverse=True)
    customers = [i for i, a in enumerate(archetypes) if a is not Archetype.CHURNED]
    big = rng.sample(customers, min(len(customers), max(1, n // 10)))
    rest = sorted(set(range(n)) - set(big))
    rng.shuffle(rest)
    arrs = [0.0] * n
    for value, index in zip(values, big + rest, strict=True):
        arrs[index] = value
    return arrs


def _plan(arr: float) -> tuple[str, float]:
    return next((name, price) for bound, name, price in PLANS if arr < bound)


def _account(
    rng: Random,
    params: DemoParams,
    account_id: str,
    name: str,
    csm_email: str,
    archetype: Archetype,
    arr: float,
) -> Account:
    """One account, before calibration: its event rate is still in relative units."""
    history = _history(rng, params, account_id, archetype, arr)
    last = history[-1]
    active = last.status == "active"
    plan, seat_price = _plan(last.arr)
    seats = max(3, round(last.arr / seat_price * rng.uniform(0.8, 1.25)))
    users = _users(rng, account_id, name, seats)
    region, _, start_hour = rng.choices(REGIONS, weights=[r[1] for r in REGIONS])[0]
    return Account(
        account_id=account_id,
        name=name,
        arr=last.arr if active else 0.0,
        seats=seats,
        plan=plan,
        csm_email=csm_email,
        renewal_date=last.end if active else None,
        created_at=history[0].start,
        industry=rng.choice(INDUSTRIES),
        region=region,
        strategic=False,
        archetype=archetype,
        fate=FATES[archetype],
        behaviour=behaviour_for(
            rng,
            archetype,
            days=params.days,
            users=len(users),
            start_hour=start_hour,
            created_age=(params.end_date - history[0].start).days,
            end_age=(params.end_date - last.end).days,
        ),
        users=users,
        contracts=history,
    )


def _history(
    rng: Random, params: DemoParams, account_id: str, archetype: Archetype, arr: float
) -> tuple[Contract, ...]:
    """When the account's contracts ran: renewals spread over the next year, churns in the
    past two years (40% of them inside the window, so backtests can see them coming)."""
    end = params.end_date
    if archetype is Archetype.ONBOARDING:
        start = end - timedelta(days=rng.randint(3, 29))
        return contract_chain(rng, account_id, start + YEAR, 1, arr, "active")
    if archetype is Archetype.CHURNED:
        if rng.random() < 0.4:
            offset = rng.randint(3, max(3, params.days - 10))
        else:
            offset = rng.randint(params.days + 1, 700)
        years = rng.choice((1, 2, 3))
        return contract_chain(rng, account_id, end - timedelta(days=offset), years, arr, "churned")
    # Decaying accounts renew soon, so the risk they carry is one a CSM can still act on.
    offset = rng.randint(20, 150) if archetype is Archetype.DECAYING else rng.randint(1, 365)
    # Accounts other than onboarding ones started at least a month before the window.
    years = max(rng.choice((1, 2, 3)), math.ceil((offset + params.days + 30) / 365))
    return contract_chain(rng, account_id, end + timedelta(days=offset), years, arr, "active")


def _users(rng: Random, account_id: str, company: str, seats: int) -> tuple[User, ...]:
    """Seats x an activity share users: one decision maker, a few champions, the rest users."""
    count = max(2, round(seats * rng.uniform(0.45, 0.9)))
    champions = min(count - 1, 1 + count // 40)
    domain = domain_of(company)
    number = account_id.removeprefix("acc-")
    taken: set[str] = set()
    users = []
    for i in range(count):
        role = "decision_maker" if i == 0 else "champion" if i <= champions else "user"
        local = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}".lower()
        if local in taken:
            local = f"{local}{i}"
        taken.add(local)
        weight = {"decision_maker": 0.5, "champion": 4.0}.get(
            role, min(8.0, rng.paretovariate(1.6))
        )
        users.append(
            User(
                user_id=f"usr-{number}-{i + 1:04d}",
                email=f"{local}@{domain}",
                role=role,
                weight=weight,
                sends_group_id=rng.random() >= 0.1,
            )
        )
    return tuple(users)


def _pick_strategic(rng: Random, drafts: list[Account]) -> set[str]:
    """A few mid-sized active accounts flagged strategic: S tier without S-tier ARR."""
    candidates = [a.account_id for a in drafts if 0 < a.arr < 100_000]
    return set(rng.sample(candidates, min(len(candidates), max(1, len(drafts) // 50))))


def _rate_scale(params: DemoParams, drafts: list[Account]) -> float:
    """The factor that makes the expected events per account and day hit the target."""
    end = params.end_date
    weekday = [WEEKDAY_FACTORS[(end - timedelta(days=age)).weekday()] for age in range(params.days)]
    expected = 0.0
    for draft in drafts:
        b = draft.behaviour
        expected += b.base_rate * sum(b.activity(a) * weekday[a] for a in range(params.days))
    target = params.events_per_account_day * params.accounts * params.days
    return target / expected if expected else 0.0
