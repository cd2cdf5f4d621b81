"""csmon's side of the benchmark: the steps a deployment runs, each through csmon's API.

Every function here is one measured step (see :mod:`measure`): it opens its own engine
on the store's URL, does one thing and returns plain data. The store is a fresh SQLite
file or a fresh PostgreSQL schema (:func:`fresh_store`), dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from workload import NEXT, Workload

from monitor.alerting import evaluate_and_alert
from monitor.clock import FixedClock
from monitor.config import SHIPPED, IngestSettings, Settings
from monitor.ingest.crm import import_accounts, import_contracts, import_users
from monitor.ingest.events import import_events
from monitor.rules.expr import Value
from monitor.rules.loader import load_rules
from monitor.store import create_store_engine, upgrade

RULES = SHIPPED / "rules"
IMPORT_CLOCK = FixedClock(NEXT)
"""The importers' "now": the end of the generated data (no event is in the future)."""


@dataclass(frozen=True)
class Imported:
    lines: int
    accepted: int
    duplicate: int
    rejected: int


@dataclass(frozen=True)
class Evaluated:
    accounts: int
    evaluation_seconds: float
    """Metrics, tiers, scores, rules and snapshots (``Evaluation.seconds``); the rest of
    the step's time is the alert state and the outbox."""
    alerts_changed: int
    notifications_queued: int
    metrics: dict[str, dict[str, Value]]
    """account_id -> metric -> value, for the cross-check with DuckDB."""


@contextmanager
def fresh_store(backend: str, folder: Path, pg_url: str | None) -> Iterator[str]:
    """The URL of an empty store: a new SQLite file in ``folder``, or a new schema of
    the PostgreSQL database at ``pg_url`` (dropped afterwards, like the test suite's)."""
    if backend == "sqlite":
        path = folder / "csmon-bench.db"
        for leftover in folder.glob("csmon-bench.db*"):
            leftover.unlink()
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in folder.glob("csmon-bench.db*"):
                leftover.unlink()
        return
    if pg_url is None:
        raise ValueError("the postgresql backend needs --pg-url")
    schema = f"csmon_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in pg_url else "?"
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def setup_store(url: str, workload: Workload) -> int:
    """Create the tables and import the CRM files; return the accounts imported."""
    engine = create_store_engine(url)
    try:
        upgrade(engine)
        accounts = import_accounts(engine, workload.accounts_csv, clock=IMPORT_CLOCK)
        import_users(engine, workload.users_csv, clock=IMPORT_CLOCK)
        import_contracts(engine, workload.contracts_csv, clock=IMPORT_CLOCK)
    finally:
        engine.dispose()
    return accounts.accepted


def import_event_file(url: str, path: Path) -> Imported:
    """``csmon import events FILE`` with the default ingest settings."""
    engine = create_store_engine(url)
    try:
        report = import_events(engine, path, IngestSettings(), clock=IMPORT_CLOCK)
    finally:
        engine.dispose()
    return Imported(report.rows, report.accepted, report.duplicate, report.rejected)


def evaluate(url: str, at: datetime) -> Evaluated:
    """One evaluation cycle as the daemon runs it every hour: every metric, tier, score
    and alert rule for every customer, snapshots stored, alert state and outbox updated."""
    engine = create_store_engine(url)
    try:
        rules = load_rules(RULES)
        outcome = evaluate_and_alert(engine, rules, Settings(database_url=url), at)
    finally:
        engine.dispose()
    evaluation = outcome.evaluation
    return Evaluated(
        accounts=len(evaluation.accounts),
        evaluation_seconds=evaluation.seconds,
        alerts_changed=outcome.alerts_changed,
        notifications_queued=outcome.notifications_queued,
        metrics={r.account_id: dict(r.metrics) for r in evaluation.accounts},
    )
