"""Test data for the metric tests: accounts, contracts and events written to the store.

Events are written as Segment JSONL and imported with the real importer, so the raw
``events`` table and the three rollups are exactly what production has.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert

from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.ingest.events import import_events
from monitor.rules.expr import compile_expr
from monitor.rules.model import Derived, Metric, MetricSource, Origin
from monitor.store.schema import accounts, contracts
from monitor.timeutil import day_of_ms, to_ms

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Ev:
    """One track/page (or other) event as stored."""

    account_id: str
    name: str
    at: datetime
    user_id: str = "u1"
    type: str = "track"
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ms(self) -> int:
        return to_ms(self.at)

    @property
    def day(self) -> int:
        return day_of_ms(self.ms)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def add_account(conn: Connection, account_id: str, **fields: Any) -> None:
    row: dict[str, Any] = {
        "account_id": account_id,
        "name": account_id.title(),
        "arr": 10_000.0,
        "seats": 10,
        "attributes": {},
        "is_stub": False,
        "updated_at": NOW,
    }
    row.update(fields)
    conn.execute(insert(accounts), [row])


def add_contract(
    conn: Connection, contract_id: str, account_id: str, start: date, end: date, status: str
) -> None:
    conn.execute(
        insert(contracts),
        [
            {
                "contract_id": contract_id,
                "account_id": account_id,
                "start_date": start,
                "end_date": end,
                "arr": 1000.0,
                "status": status,
                "updated_at": NOW,
            }
        ],
    )


def store_events(engine: Engine, evs: Iterable[Ev]) -> None:
    """Import ``evs`` with the real importer (Segment JSONL); every line must be accepted."""
    evs = list(evs)
    if not evs:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        path.write_bytes(b"".join(orjson.dumps(segment_message(ev)) + b"\n" for ev in evs))
        clock = FixedClock(max(ev.at for ev in evs))
        report = import_events(engine, path, IngestSettings(), clock=clock)
    assert report.accepted == len(evs), report


def segment_message(ev: Ev) -> dict[str, Any]:
    """The Segment call that the importer stores as ``ev``."""
    message: dict[str, Any] = {
        "type": ev.type,
        "messageId": uuid.uuid4().hex,
        "timestamp": ev.at.isoformat(),
        "userId": ev.user_id,
        "context": {"groupId": ev.account_id},
        "properties": dict(ev.properties),
    }
    if ev.type == "track":
        message["event"] = ev.name
    elif ev.type == "page":
        message["properties"]["path"] = ev.name.removeprefix("page:") + "/some/page"
    return message


def metric(name: str, source: MetricSource) -> Metric:
    return Metric(name=name, source=source, description=name, origin=Origin("test.toml", 1))


def derived(name: str, source: str) -> Metric:
    """An ``expr`` metric, compiled by the real expression language."""
    return metric(name, Derived(compile_expr(source)))
