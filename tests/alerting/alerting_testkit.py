"""A tiny portfolio for the alerting tests, built with the real importers.

Five accounts: Acme (a1) and Beta (a2) belong to jane, Gamma (a3) to bob, Delta (a4)
has no CSM, Happy (a5) is healthy. a1-a4 last signed in 12 days before T0 (the rule
``quiet`` fires) and created 5 reports the day before T0 (band yellow; ``few_reports``
fires); a5 signs in and reports every day (green, no alerts). a3's contract ends 45
days after T0 (the 60-day renewal threshold fires).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import orjson
from sqlalchemy import Engine, select

from monitor.alerting.lifecycle import AlertRow
from monitor.clock import FixedClock
from monitor.config import IngestSettings, Settings
from monitor.ingest.crm import import_accounts, import_contracts
from monitor.ingest.events import import_events
from monitor.notify import Notification, notification_from_dict
from monitor.rules.loader import load_rules
from monitor.rules.model import RuleSet
from monitor.store.schema import alert_events, alerts, outbox

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
JANE, BOB = "jane@example.com", "bob@example.com"

METRICS = """
[event_sets]
logins = ["Signed In"]
reports = ["Report Created"]

[metrics.days_since_login]
kind = "days_since"
events = "logins"
description = "Days since the last sign-in"

[metrics.reports_30d]
kind = "count"
events = "reports"
window = "30d"
description = "Reports created in 30 days"

[metrics.arr]
kind = "attribute"
description = "ARR"

[tiers]
[[tiers.rule]]
tier = "S"
when = "arr >= 100000"

[[tiers.rule]]
tier = "A"
when = "arr >= 20000"

[[tiers.rule]]
tier = "B"
when = "true"

[scorecard]
min_coverage = 0.5
bands = { green = 70, yellow = 40 }

[[scorecard.measure]]
metric = "reports_30d"
label = "Reports (30d)"
weight = 1
higher_is_better = [[10, 100], [3, 50]]
otherwise = 0
"""

QUIET = """
[[alert]]
name = "quiet"
kind = "churn_risk"
description = "No sign-ins lately."
when = "days_since_login >= 10"
severity = "warning"
escalate = { critical = "arr >= 50000" }
for = "0d"
repeat = "7d"
summary = "No sign-in for {{ days_since_login }} days"
"""

FEW_REPORTS = """
[[alert]]
name = "few_reports"
kind = "churn_risk"
description = "Few reports."
when = "reports_30d < 10"
severity = "info"
for = "0d"
repeat = "30d"
enabled = {enabled}
summary = "{{{{ reports_30d }}}} reports in 30 days"
"""

RENEWAL = """
[[renewal]]
name = "renewal"
description = "The contract ends soon."
thresholds = [60, 30]
severity = "info"
summary = "Renewal in {{ days_to_renewal }} days"
"""

ACCOUNTS = [
    {"account_id": "a1", "name": "Acme", "arr": "10000", "csm_email": JANE, "region": "EMEA"},
    {"account_id": "a2", "name": "Beta", "arr": "10000", "csm_email": JANE, "region": "AMER"},
    {"account_id": "a3", "name": "Gamma", "arr": "10000", "csm_email": BOB, "region": "EMEA"},
    {"account_id": "a4", "name": "Delta", "arr": "10000", "csm_email": "", "region": "EMEA"},
    {"account_id": "a5", "name": "Happy", "arr": "10000", "csm_email": BOB, "region": "EMEA"},
]


def write_rules(folder: Path, *, few_reports: bool | None = True, renewal: bool = True) -> RuleSet:
    """The test rules; ``few_reports=False`` disables that rule, None deletes it."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.toml"):
        old.unlink()
    alerts_toml = QUIET
    if few_reports is not None:
        alerts_toml += FEW_REPORTS.format(enabled=str(few_reports).lower())
    if renewal:
        alerts_toml += RENEWAL
    (folder / "metrics.toml").write_text(dedent(METRICS), encoding="utf-8")
    (folder / "alerts.toml").write_text(dedent(alerts_toml), encoding="utf-8")
    return load_rules(folder)


def local_settings(tmp_path: Path, **fields: Any) -> Settings:
    """Settings without Slack or SMTP: alerts go to the console and the file."""
    fields.setdefault("notify", {"file_path": str(tmp_path / "notifications.jsonl")})
    return Settings(**fields)


@dataclass
class Portfolio:
    engine: Engine
    folder: Path

    def import_accounts(self, rows: Iterable[Mapping[str, str]], at: datetime = T0) -> None:
        rows = list(rows)
        path = self.folder / f"accounts-{uuid.uuid4().hex}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        report = import_accounts(self.engine, path, clock=FixedClock(at))
        assert report.rejected == 0, report

    def import_contracts(self, rows: Iterable[Mapping[str, str]]) -> None:
        rows = list(rows)
        path = self.folder / f"contracts-{uuid.uuid4().hex}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        report = import_contracts(self.engine, path, clock=FixedClock(T0))
        assert report.rejected == 0, report

    def track(self, account_id: str, event: str, times: Iterable[datetime]) -> None:
        lines = [
            orjson.dumps(
                {
                    "type": "track",
                    "event": event,
                    "userId": f"u-{account_id}",
                    "messageId": uuid.uuid4().hex,
                    "context": {"groupId": account_id},
                    "timestamp": moment.isoformat(),
                }
            )
            for moment in times
        ]
        path = self.folder / f"events-{uuid.uuid4().hex}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        report = import_events(self.engine, path, IngestSettings(), clock=FixedClock(T0))
        assert report.accepted == len(lines), report


def build_portfolio(engine: Engine, folder: Path) -> Portfolio:
    folder.mkdir(parents=True, exist_ok=True)
    portfolio = Portfolio(engine, folder)
    portfolio.import_accounts(ACCOUNTS)
    end = (T0 + timedelta(days=45)).date().isoformat()
    portfolio.import_contracts(
        [
            {
                "contract_id": "c3",
                "account_id": "a3",
                "start": "2025-12-17",
                "end": end,
                "arr": "10000",
                "status": "active",
            }
        ]
    )
    for account in ("a1", "a2", "a3", "a4"):
        portfolio.track(account, "Signed In", [T0 - timedelta(days=12, hours=i) for i in range(2)])
        portfolio.track(
            account, "Report Created", [T0 - timedelta(days=1, hours=i) for i in range(5)]
        )
    daily = [T0 - timedelta(days=d, hours=1) for d in range(40)]
    portfolio.track("a5", "Signed In", daily)
    portfolio.track("a5", "Report Created", daily)
    return portfolio


# --- reading the store back ----------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    notification_id: int
    channel: str
    target: str
    recipient: str
    notification: Notification
    alert_ids: list[int]
    state: str
    next_attempt_at: datetime

    @property
    def alerts(self) -> list[tuple[str, str]]:
        """(account_id, rule) of every alert in the message, in message order."""
        return [(line.account_id, line.rule) for line in self.notification.alerts]


def outbox_rows(engine: Engine, after: int = 0) -> list[OutboxRow]:
    """Outbox rows with an id above ``after``, in insertion order."""
    query = (
        select(outbox).where(outbox.c.notification_id > after).order_by(outbox.c.notification_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        OutboxRow(
            r["notification_id"],
            r["channel"],
            r["target"],
            r["recipient"],
            notification_from_dict(r["payload"]),
            list(r["alert_ids"]),
            r["state"],
            r["next_attempt_at"],
        )
        for r in rows
    ]


def last_outbox_id(engine: Engine) -> int:
    rows = outbox_rows(engine)
    return rows[-1].notification_id if rows else 0


def by_target(rows: Iterable[OutboxRow], channel: str = "file") -> dict[str, list[tuple[str, str]]]:
    return {row.target: row.alerts for row in rows if row.channel == channel}


def alert_row(engine: Engine, account_id: str, key: str) -> AlertRow:
    query = select(alerts).where(alerts.c.account_id == account_id, alerts.c.key == key)
    with engine.connect() as conn:
        return AlertRow.from_mapping(conn.execute(query).mappings().one())


def changes_of(engine: Engine, alert_id: int | None) -> list[str]:
    query = (
        select(alert_events.c.change)
        .where(alert_events.c.alert_id == alert_id)
        .order_by(alert_events.c.event_id)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(alert_events.c.event_id)).all())
