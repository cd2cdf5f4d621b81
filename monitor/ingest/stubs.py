"""Stub accounts: usage or contracts that arrive before the CRM sync are never dropped.

An event or contract naming an account the CRM import has not brought yet creates a
minimal account marked ``is_stub``; the next CRM import fills it in and clears the mark.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, select

from monitor.store.schema import accounts
from monitor.store.upsert import insert_ignore

_LOOKUP_CHUNK = 500  # stay far below every driver's bound-parameter limit


def ensure_accounts(conn: Connection, account_ids: Collection[str], now: datetime) -> list[str]:
    """Create stub accounts for the ids not in the store; return the ids created, sorted."""
    wanted = sorted(set(account_ids))
    known: set[str] = set()
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        known.update(
            conn.scalars(select(accounts.c.account_id).where(accounts.c.account_id.in_(chunk)))
        )
    missing = [account_id for account_id in wanted if account_id not in known]
    if missing:
        conn.execute(
            insert_ignore(conn, accounts, ["account_id"]),
            [
                {
                    "account_id": account_id,
                    "name": account_id,
                    "arr": 0.0,
                    "seats": 0,
                    "attributes": {},
                    "is_stub": True,
                    "updated_at": now,
                }
                for account_id in missing
            ],
        )
    return missing
