"""Alert state in the store: load and save ``alerts`` rows and ``alert_events``, set-wise.

Every function takes a :class:`Connection` inside the caller's transaction, so the
cycle's state changes, their events and the outbox rows commit (or roll back) together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, false, func, insert, select, tuple_, update

from monitor.alerting.lifecycle import OPEN_STATES, AlertEvent, AlertRow
from monitor.clock import ensure_utc
from monitor.store.engine import is_postgres, is_sqlite
from monitor.store.schema import accounts, alert_events, alerts

ALERT_LOCK_KEY = 0x63736D6F6E_0001
"""The PostgreSQL advisory lock ("csmon" + 1) that serialises writers of alert state."""

_PAIRS_PER_QUERY = 400  # (account, key) pairs per IN: 800 parameters, far below limits
_UPDATED = [c.name for c in alerts.columns if c.name != "alert_id"]
T = TypeVar("T")


def lock_alert_state(conn: Connection) -> None:
    """Make this transaction the only writer of alert state until it ends.

    Two evaluators (two replicas, or a cron ``csmon evaluate`` next to the daemon) must
    not both read the same open alerts and both queue the same notifications.

    * PostgreSQL: ``pg_advisory_xact_lock``; released at commit or rollback, and by the
      server when the client dies, so it can never be left behind.
    * SQLite: a write that matches no row, which makes the transaction take the
      database's write lock before anything is read; a second writer waits
      (``busy_timeout``) and then reads the state the first one committed.

    Snooze and acknowledge (:mod:`monitor.alerting.actions`) take the same lock, so the
    cycle never overwrites one made while it ran.
    """
    if is_postgres(conn):
        conn.execute(select(func.pg_advisory_xact_lock(ALERT_LOCK_KEY)))
    elif is_sqlite(conn):
        conn.execute(update(alerts).where(false()).values(state=alerts.c.state))


def latest_evaluation(conn: Connection) -> datetime | None:
    """The latest instant any alert was evaluated at (None before the first cycle)."""
    latest = conn.scalar(select(func.max(alerts.c.last_evaluated_at)))
    return None if latest is None else ensure_utc(latest)


def load_open_alerts(conn: Connection) -> dict[tuple[str, str], AlertRow]:
    """Every pending or firing alert, by (account_id, key): one query."""
    rows = conn.execute(select(alerts).where(alerts.c.state.in_(OPEN_STATES))).mappings()
    return {(r["account_id"], r["key"]): AlertRow.from_mapping(r) for r in rows}


def load_alerts_by_key(
    conn: Connection, pairs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], AlertRow]:
    """The stored rows (any state) of the given (account_id, key) pairs."""
    found: dict[tuple[str, str], AlertRow] = {}
    for chunk in _chunks(sorted(pairs), _PAIRS_PER_QUERY):
        query = select(alerts).where(tuple_(alerts.c.account_id, alerts.c.key).in_(chunk))
        for r in conn.execute(query).mappings():
            found[(r["account_id"], r["key"])] = AlertRow.from_mapping(r)
    return found


def load_alert(conn: Connection, alert_id: int) -> AlertRow | None:
    row = conn.execute(select(alerts).where(alerts.c.alert_id == alert_id)).mappings().first()
    return None if row is None else AlertRow.from_mapping(row)


def save_alerts(conn: Connection, rows: Sequence[AlertRow]) -> list[AlertRow]:
    """Insert the new rows and update the others (executemany); returns every row with
    its ``alert_id``, in the order given."""
    new = [i for i, row in enumerate(rows) if row.alert_id is None]
    saved = list(rows)
    if new:
        # A plain executemany, then the ids by (account, key): INSERT ... RETURNING of
        # many rows is one huge statement, which psycopg parses 5x slower than this.
        conn.execute(insert(alerts), [rows[i].columns() for i in new])
        ids = _ids_by_key(conn, [(rows[i].account_id, rows[i].key) for i in new])
        for i in new:
            saved[i] = replace(rows[i], alert_id=ids[(rows[i].account_id, rows[i].key)])
    changed = [row for row in rows if row.alert_id is not None]
    if changed:
        conn.execute(
            update(alerts)
            .where(alerts.c.alert_id == bindparam("p_alert_id"))
            .values({name: bindparam(f"p_{name}", type_=alerts.c[name].type) for name in _UPDATED}),
            [_update_params(row) for row in changed],
        )
    return saved


def _ids_by_key(conn: Connection, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    columns = (alerts.c.account_id, alerts.c.key, alerts.c.alert_id)
    for chunk in _chunks(sorted(pairs), _PAIRS_PER_QUERY):
        query = select(*columns).where(tuple_(alerts.c.account_id, alerts.c.key).in_(chunk))
        found.update(((account, key), alert_id) for account, key, alert_id in conn.execute(query))
    return found


def save_events(conn: Connection, events: Iterable[tuple[int, AlertEvent]]) -> int:
    """Append ``(alert_id, event)`` pairs to ``alert_events``; returns how many."""
    rows = [
        {
            "alert_id": alert_id,
            "at": event.at,
            "change": event.change,
            "severity": event.severity,
            "actor": event.actor,
            "note": event.note,
        }
        for alert_id, event in events
    ]
    if rows:
        conn.execute(insert(alert_events), rows)
    return len(rows)


def load_events(conn: Connection, alert_id: int) -> list[AlertEvent]:
    """An alert's history, oldest first."""
    query = (
        select(alert_events)
        .where(alert_events.c.alert_id == alert_id)
        .order_by(alert_events.c.event_id)
    )
    return [
        AlertEvent(r["change"], r["at"], r["severity"], r["actor"], r["note"])
        for r in conn.execute(query).mappings()
    ]


@dataclass(frozen=True)
class AlertListing:
    """An alert with the account facts ``csmon alerts list`` shows next to it."""

    alert: AlertRow
    account_name: str | None
    owner: str | None


def list_alerts(
    conn: Connection,
    *,
    states: Collection[str],
    account_id: str | None = None,
    owner: str | None = None,
    limit: int | None = None,
) -> list[AlertListing]:
    """Alerts in ``states``, most recently evaluated first, optionally only one
    account's or one owner's (CSM email, case-insensitive)."""
    query = (
        select(alerts, accounts.c.name.label("account_name"), accounts.c.csm_email)
        .select_from(alerts.outerjoin(accounts, accounts.c.account_id == alerts.c.account_id))
        .where(alerts.c.state.in_(list(states)))
        .order_by(alerts.c.last_evaluated_at.desc(), alerts.c.alert_id.desc())
    )
    if account_id is not None:
        query = query.where(alerts.c.account_id == account_id)
    if owner is not None:
        query = query.where(func.lower(accounts.c.csm_email) == owner.strip().lower())
    if limit is not None:
        query = query.limit(limit)
    return [
        AlertListing(AlertRow.from_mapping(r), r["account_name"], r["csm_email"])
        for r in conn.execute(query).mappings()
    ]


def _update_params(row: AlertRow) -> dict[str, Any]:
    params = {f"p_{name}": value for name, value in row.columns().items()}
    params["p_alert_id"] = row.alert_id
    return params


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
