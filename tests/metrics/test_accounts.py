"""Account facts: the renewal date, and the built-in attributes at an instant."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from metrics_testkit import add_account, add_contract
from sqlalchemy import Engine

from monitor.metrics import BUILTIN_ATTRIBUTES, AccountFacts, load_accounts

T = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)


def facts_by_id(engine: Engine) -> dict[str, AccountFacts]:
    with engine.connect() as conn:
        return {f.account_id: f for f in load_accounts(conn, T)}


def test_the_renewal_date_is_the_end_of_the_active_contract(engine: Engine) -> None:
    with engine.begin() as conn:
        add_account(conn, "acme", renewal_date=date(2027, 6, 30))
        add_contract(conn, "c-old", "acme", date(2024, 1, 1), date(2025, 12, 31), "renewed")
        add_contract(conn, "c-1", "acme", date(2026, 1, 1), date(2026, 12, 31), "active")
        add_contract(conn, "c-2", "acme", date(2026, 3, 1), date(2027, 2, 28), "active")
        add_contract(conn, "c-later", "acme", date(2027, 3, 1), date(2028, 2, 28), "churned")

    acme = facts_by_id(engine)["acme"]

    # Of two active contracts the later end wins; renewed/churned ones and the CRM
    # field do not count while an active contract exists.
    assert (acme.renewal_date, acme.active_contract_id) == (date(2027, 2, 28), "c-2")


def test_without_an_active_contract_the_crm_renewal_date_is_used(engine: Engine) -> None:
    with engine.begin() as conn:
        add_account(conn, "crm", renewal_date=date(2027, 6, 30))
        add_contract(conn, "c-gone", "crm", date(2025, 1, 1), date(2025, 12, 31), "churned")
        add_account(conn, "unknown")

    facts = facts_by_id(engine)

    assert (facts["crm"].renewal_date, facts["crm"].active_contract_id) == (
        date(2027, 6, 30),
        None,
    )
    assert facts["unknown"].renewal_date is None


def test_builtin_attributes_at_an_instant(engine: Engine) -> None:
    with engine.begin() as conn:
        add_account(
            conn,
            "acme",
            name="Acme <Corp>",
            arr=120_000.5,
            seats=40,
            plan="enterprise",
            csm_email="kim@example.com",
            created_at=date(2026, 10, 1),
            attributes={
                "industry": "retail",
                "strategic": "false",
                "regions": ["eu", "us"],
                "contact": {"name": "Kim"},
            },
        )
        add_contract(conn, "c-1", "acme", date(2026, 1, 1), date(2026, 12, 2), "active")
        add_account(conn, "stub", is_stub=True, attributes={"strategic": True})

    facts = facts_by_id(engine)
    acme = facts["acme"].attribute_values(T)
    stub = facts["stub"].attribute_values(T)

    assert acme == {
        "account_id": "acme",
        "name": "Acme <Corp>",
        "arr": 120_000.5,
        "seats": 40,
        "plan": "enterprise",
        "csm_email": "kim@example.com",
        "days_to_renewal": 30,  # Nov 2 -> Dec 2, whatever the time of day
        "age_days": 32,  # Oct 1 -> Nov 2
        "is_stub": False,
        "strategic": False,  # "false" from a CSV file is not a yes
        "attrs.industry": "retail",
        "attrs.strategic": "false",
        "attrs.regions": ("eu", "us"),  # a list, for `'eu' in attrs.regions`
        "attrs.contact": '{"name": "Kim"}',
    }
    assert acme.keys() >= BUILTIN_ATTRIBUTES
    assert stub["strategic"] is True and stub["is_stub"] is True
    assert stub["days_to_renewal"] is None and stub["age_days"] is None


@pytest.mark.parametrize(
    ("flag", "strategic"),
    [(True, True), ("true", True), ("Yes", True), (1, True), (False, False), ("no", False),
     ("0", False), ("", False), (0, False), (None, False)],
)  # fmt: skip
def test_strategic_reads_crm_flags_as_yes_or_no(flag: object, strategic: bool) -> None:
    facts = AccountFacts("a", "A", 0.0, 0, None, None, None, None, None, {"strategic": flag})

    assert facts.attribute_values(T)["strategic"] is strategic


def test_days_to_renewal_is_negative_once_the_date_has_passed() -> None:
    facts = AccountFacts("a", "A", 0.0, 0, None, None, date(2026, 1, 1), date(2026, 10, 30), None)

    values = facts.attribute_values(datetime(2026, 11, 2, tzinfo=UTC))

    assert (values["days_to_renewal"], values["age_days"]) == (-3, 305)


def test_accounts_with_contracts_but_none_active_are_former_customers(engine: Engine) -> None:
    with engine.begin() as conn:
        for account_id in ("current", "churned", "crm_only"):
            add_account(conn, account_id)
        add_contract(conn, "c1", "current", date(2026, 1, 1), date(2027, 1, 1), "active")
        add_contract(conn, "c0", "current", date(2025, 1, 1), date(2026, 1, 1), "renewed")
        add_contract(conn, "c2", "churned", date(2025, 1, 1), date(2026, 1, 1), "churned")
        facts = {f.account_id: f for f in load_accounts(conn, datetime(2026, 11, 2, tzinfo=UTC))}
    assert facts["churned"].former_customer
    assert not facts["current"].former_customer
    assert not facts["crm_only"].former_customer
