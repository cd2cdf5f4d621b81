"""Account facts from the CRM tables, and the built-in attributes rules can use.

Built-in attributes (always available to expressions, besides ``attrs.<key>``):

``account_id``, ``name``, ``arr``, ``seats``, ``plan``, ``csm_email``
    the CRM fields as imported;
``days_to_renewal``
    the renewal date minus the evaluation instant's UTC date, in days (negative once
    the date has passed; null when unknown). The renewal date is the ``end`` of the
    account's contract with status ``active`` (the latest end if there are several),
    else the CRM field ``renewal_date``;
``age_days``
    the instant's UTC date minus ``created_at``, in days (null when unknown);
``is_stub``
    true while the account is only known from events or contracts, not from the CRM;
``strategic``
    the free attribute ``strategic`` read as a yes/no flag (true, "true", "yes",
    "1", non-zero numbers); false when absent;
``attrs.<key>``
    every free CRM attribute (industry, region, tier_override, ...): text, numbers,
    true/false and lists as they are, a nested object as its JSON text. A name that
    is not set for an account is null, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, func, select

from monitor.clock import ensure_utc
from monitor.rules.expr import Value
from monitor.store.schema import accounts, contracts

BUILTIN_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "account_id",
        "name",
        "arr",
        "seats",
        "plan",
        "csm_email",
        "days_to_renewal",
        "age_days",
        "is_stub",
        "strategic",
    }
)
ATTRS_PREFIX = "attrs."
ACTIVE = "active"
_FALSE_WORDS = frozenset({"", "false", "no", "n", "0", "off"})


@dataclass(frozen=True)
class AccountFacts:
    """What the CRM says about one account (instant-independent)."""

    account_id: str
    name: str
    arr: float
    seats: int
    plan: str | None
    csm_email: str | None
    created_at: date | None
    renewal_date: date | None
    """End of the active contract (the latest if several), else the CRM field."""
    active_contract_id: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    is_stub: bool = False
    former_customer: bool = False
    """Has contracts but none active (churned or lapsed): kept for history and KPIs,
    not evaluated for health or alerts."""

    def attribute_values(self, at: datetime) -> dict[str, Value]:
        """The built-in attributes at instant ``at`` (see the module docstring)."""
        today = ensure_utc(at).date()
        head, tail = self._fixed_values
        return {
            **head,
            "days_to_renewal": _days_between(today, self.renewal_date),
            "age_days": _days_between(self.created_at, today),
            **tail,
        }

    @cached_property
    def _fixed_values(self) -> tuple[dict[str, Value], dict[str, Value]]:
        """The attributes that do not depend on the instant (an evaluation asks for
        every account's at several instants), before and after the ones that do."""
        head: dict[str, Value] = {
            "account_id": self.account_id,
            "name": self.name,
            "arr": self.arr,
            "seats": self.seats,
            "plan": self.plan,
            "csm_email": self.csm_email,
        }
        tail: dict[str, Value] = {
            "is_stub": self.is_stub,
            "strategic": is_truthy(self.attributes.get("strategic")),
        }
        for key, value in self.attributes.items():
            tail[ATTRS_PREFIX + key] = _scalar(value)
        return head, tail


def is_builtin_attribute(name: str) -> bool:
    """Whether ``name`` is a built-in attribute or an ``attrs.<key>`` name."""
    return name in BUILTIN_ATTRIBUTES or (
        name.startswith(ATTRS_PREFIX) and len(name) > len(ATTRS_PREFIX)
    )


def load_accounts(conn: Connection, at: datetime) -> list[AccountFacts]:
    """Every account in the store, ordered by id, with its renewal date resolved.

    1. One query for the active contracts: per account the latest ``end_date`` (ties
       broken by the highest contract id, so the choice is stable).
    2. One query for the accounts that have any contract: those with contracts but
       none active are former customers.
    3. One query for the accounts themselves.

    ``at`` is the evaluation instant. The CRM tables hold current facts only (no
    history), so every instant sees the same facts; the instant-dependent attributes
    come from :meth:`AccountFacts.attribute_values`.
    """
    del at  # see the docstring: kept so callers need not change when history arrives
    active: dict[str, tuple[date, str]] = {}
    rows = conn.execute(
        select(contracts.c.account_id, contracts.c.end_date, contracts.c.contract_id).where(
            func.lower(contracts.c.status) == ACTIVE
        )
    )
    for account_id, end_date, contract_id in rows:
        best = active.get(account_id)
        if best is None or (end_date, contract_id) > best:
            active[account_id] = (end_date, contract_id)

    with_contracts = set(conn.scalars(select(contracts.c.account_id).distinct()))
    facts: list[AccountFacts] = []
    for row in conn.execute(select(accounts).order_by(accounts.c.account_id)).mappings():
        contract = active.get(row["account_id"])
        facts.append(
            AccountFacts(
                account_id=row["account_id"],
                name=row["name"],
                arr=float(row["arr"] or 0.0),
                seats=int(row["seats"] or 0),
                plan=row["plan"],
                csm_email=row["csm_email"],
                created_at=row["created_at"],
                renewal_date=contract[0] if contract else row["renewal_date"],
                active_contract_id=contract[1] if contract else None,
                attributes=_attributes(row["attributes"]),
                is_stub=bool(row["is_stub"]),
                former_customer=contract is None and row["account_id"] in with_contracts,
            )
        )
    return facts


def is_truthy(value: object) -> bool:
    """A CRM flag as a boolean: CSV files bring ``"false"``/``"no"`` as text."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)


def _days_between(start: date | None, end: date | None) -> int | None:
    if start is None or end is None:
        return None
    return (end - start).days


def _attributes(raw: object) -> dict[str, Any]:
    # Some drivers hand JSON back as text when the column was written by hand.
    if isinstance(raw, str):
        raw = json.loads(raw)
    return dict(raw) if isinstance(raw, dict) else {}


def _scalar(value: object) -> Value:
    """An expression value: scalars as they are, lists as lists (for ``in``), and
    anything else (a nested object) as its JSON text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return tuple(_scalar(item) for item in value)
    return json.dumps(value, sort_keys=True)
