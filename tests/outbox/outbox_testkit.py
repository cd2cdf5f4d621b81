"""Builders and probes for the outbox tests: queue rows, read them back, make channels."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from support.slack_api import TOKEN, FakeSlackApi
from support.smtp import SmtpServer

from monitor.clock import Clock, ensure_utc
from monitor.notify import (
    AlertLine,
    Channel,
    EmailChannel,
    EmailSettings,
    MetricValue,
    Notification,
    Rendered,
    SlackChannel,
    SlackSettings,
)
from monitor.outbox import DispatchReport, OutboxMessage, RetryPolicy, dispatch_due, enqueue
from monitor.store.schema import outbox

ALERTS_DIR = Path(__file__).resolve().parents[2] / "alerts"
SUMMARY = "Sign-ins -72% vs the previous 14 days"


def notification(account: str = "Acme Rockets", *, created_at: datetime) -> Notification:
    line = AlertLine(
        account_id="acc-" + account.lower().replace(" ", "-"),
        account_name=account,
        tier="S",
        score=41.6,
        band="red",
        band_trend="▼ from green",
        rule="usage_drop",
        kind="churn_risk",
        severity="critical",
        state="firing",
        summary=SUMMARY,
        values=(MetricValue("logins_change_14d", -0.72, "logins_change_14d <= -0.4"),),
        arr=120_000.0,
        renewal_date=date(2027, 1, 15),
        owner="jane@example.com",
        explain_command="csmon explain acc-0001",
        alert_id=101,
    )
    return Notification(recipient="jane@example.com", alerts=(line,), created_at=created_at)


def queue(
    engine: Engine, clock: Clock, *destinations: tuple[str, str], account: str = "Acme Rockets"
) -> list[int]:
    """One row per (channel, target), all for the same notification, due now."""
    note = notification(account, created_at=clock.now())
    with engine.begin() as conn:
        return enqueue(
            conn,
            [OutboxMessage(ch, target, note, (101,)) for ch, target in destinations],
            now=clock.now(),
        )


def rows(engine: Engine) -> dict[int, dict[str, Any]]:
    """Every outbox row by id, instants in UTC."""
    with engine.connect() as conn:
        found = conn.execute(select(outbox).order_by(outbox.c.notification_id)).mappings()
        return {
            r["notification_id"]: {
                k: ensure_utc(v) if isinstance(v, datetime) else v for k, v in r.items()
            }
            for r in found
        }


def row(engine: Engine, notification_id: int) -> dict[str, Any]:
    return rows(engine)[notification_id]


def slack(fake: FakeSlackApi, clock: Clock, token: str = TOKEN, **settings: Any) -> SlackChannel:
    config = SlackSettings.model_validate(
        {"token": token, "base_url": fake.base_url, "timeout_seconds": 2, **settings}
    )
    return SlackChannel(config, clock=clock)


def email(host: str, port: int, clock: Clock, **settings: Any) -> EmailChannel:
    config = EmailSettings.model_validate(
        {"smtp_host": host, "smtp_port": port, "ssl_mode": "none", "timeout_seconds": 2, **settings}
    )
    return EmailChannel(config, clock=clock)


def email_for(server: SmtpServer, clock: Clock, **settings: Any) -> EmailChannel:
    return email(server.host, server.port, clock, **settings)


def dispatch(
    engine: Engine,
    channels: Mapping[str, Channel],
    clock: Clock,
    *,
    worker: str = "test-worker",
    templates_dir: Path = ALERTS_DIR,
    policy: RetryPolicy | None = None,
    **options: Any,
) -> DispatchReport:
    """One dispatch run (shipped templates by default) with a seeded jitter."""
    if policy is not None:
        options["policy"] = policy
    return dispatch_due(
        engine, channels, templates_dir, clock=clock, worker=worker, rng=random.Random(7), **options
    )


class Recorder:
    """A channel that keeps what it was given (thread-safe), optionally failing first."""

    def __init__(self, name: str = "console", fail_with: list[Exception] | None = None) -> None:
        self.name = name
        self.sent: list[tuple[str, Rendered]] = []
        self._failures = list(fail_with or [])
        self._lock = threading.Lock()

    def send(self, target: str, rendered: Rendered) -> None:
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            self.sent.append((target, rendered))

    @property
    def targets(self) -> list[str]:
        with self._lock:
            return [target for target, _ in self.sent]
