"""Contract history: yearly contracts whose outcomes (renewed, expanded, churned) are real.

A chain of back-to-back yearly contracts ends in the account's current state: an active
contract (its end is the renewal date) or a churned one. Every earlier contract was
renewed; when its successor's ARR is higher, the renewal was an expansion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

YEAR = timedelta(days=365)
EXPANSION_SHARE = 0.4
"""Share of renewals that grew the contract (the rest renewed flat)."""


@dataclass(frozen=True)
class Contract:
    contract_id: str
    account_id: str
    start: date
    end: date
    arr: float
    status: str
    """active, renewed (a successor exists) or churned (the account left at ``end``)."""


def contract_chain(
    rng: Random, account_id: str, last_end: date, years: int, arr: float, last_status: str
) -> tuple[Contract, ...]:
    """``years`` back-to-back contracts, oldest first, the last ending at ``last_end`` with
    ``arr`` and ``last_status``; earlier ones were renewed flat or with an expansion."""
    number = account_id.removeprefix("acc-")
    arrs = [arr]
    for _ in range(years - 1):
        grew = rng.random() < EXPANSION_SHARE
        arrs.append(round(arrs[-1] / rng.uniform(1.1, 1.5) / 100) * 100.0 if grew else arrs[-1])
    arrs.reverse()
    return tuple(
        Contract(
            contract_id=f"ctr-{number}-{k + 1}",
            account_id=account_id,
            start=last_end - (years - k) * YEAR,
            end=last_end - (years - 1 - k) * YEAR,
            arr=arrs[k],
            status=last_status if k == years - 1 else "renewed",
        )
        for k in range(years)
    )
