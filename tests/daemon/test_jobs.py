"""The job functions at exact instants: drop-folder sync, retention, the digest's
once-per-local-day claim."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from daemon_testkit import drop_portfolio
from sqlalchemy import Engine, func, insert, select

from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.daemon import jobs
from monitor.daemon.slots import DailySlot
from monitor.daemon.sync import kind_of, sync_drop_folder
from monitor.store.schema import accounts, contracts, event_daily, events, imports, job_runs
from monitor.timeutil import day_number, to_ms

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_file_names_the_sync_takes_and_leaves() -> None:
    assert kind_of("accounts-2026-11-02.csv") == "accounts"
    assert kind_of("Contracts.JSON") == "contracts"
    assert kind_of("users.jsonl.gz") == "users"
    assert kind_of("events-0001.jsonl.gz") == "events"
    assert kind_of("events.csv") is None  # events are Segment JSON lines
    assert kind_of("accounts.csv.part") is None  # still being written
    assert kind_of(".accounts.csv") is None
    assert kind_of("notes.txt") is None


def test_sync_imports_in_order_and_moves_files_to_done_or_failed(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    drop = tmp_path / "drop"
    drop_portfolio(drop, AT, accounts=3)
    lines = [
        {"type": "track", "event": "Signed In", "userId": "u1", "messageId": f"m{n}",
         "context": {"groupId": "acc-1"}, "timestamp": (AT - timedelta(hours=n)).isoformat()}
        for n in range(5)
    ]  # fmt: skip
    (drop / "events-1.jsonl.gz").write_bytes(gzip.compress(b"\n".join(map(orjson.dumps, lines))))
    (drop / "accounts-broken.csv").write_bytes(b"account_id,name\n\xff\xfe,bad\n")
    (drop / "readme.txt").write_text("not for import", encoding="utf-8")

    report = sync_drop_folder(engine, drop, IngestSettings(), clock=clock)

    assert [(f.kind, f.path.parent.name) for f in report.files] == [
        ("accounts", "failed"),  # not UTF-8: cannot be read at all
        ("accounts", "done"),
        ("contracts", "done"),
        ("events", "done"),
    ]
    assert "not UTF-8" in (report.failed[0].error or "")
    assert (drop / "failed" / "accounts-broken.csv").is_file()
    assert count(engine, accounts) == 3 and count(engine, contracts) == 3
    assert count(engine, events) == 5
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["readme.txt"]
    # The same export delivered again changes nothing, and is kept apart from the first.
    drop_portfolio(drop, AT, accounts=3)
    again = sync_drop_folder(engine, drop, IngestSettings(), clock=clock)
    assert [(f.report.accepted, f.report.duplicate) for f in again.files if f.report] == [
        (0, 3),
        (0, 3),
    ]
    assert len(list((drop / "done").glob("*accounts.csv"))) == 2
    assert count(engine, imports) == 5  # the unreadable file left no import record


def test_retention_deletes_old_raw_events_and_keeps_rollups(engine: Engine) -> None:
    today = day_number(AT.date())
    rows = [
        {"message_id": f"m{age}", "account_id": "a", "user_id": "u", "type": "track",
         "name": "Signed In", "ts_ms": to_ms(AT - timedelta(days=age)), "day": today - age,
         "properties": None}
        for age in (0, 179, 180, 181, 400)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(events), rows)
        conn.execute(
            insert(event_daily),
            [{"account_id": "a", "day": r["day"], "name": "Signed In", "count": 1} for r in rows],
        )
    deleted = jobs.delete_old_events(engine, IngestSettings(raw_retention_days=180), at=AT)
    assert deleted == 2  # 181 and 400 days old; 180 days is still kept
    with engine.connect() as conn:
        kept = set(conn.execute(select(events.c.message_id)).scalars())
    assert kept == {"m0", "m179", "m180"}
    assert count(engine, event_daily) == 5


def test_retention_deletes_in_batches(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "RETENTION_BATCH", 3)
    old = day_number(AT.date()) - 500
    with engine.begin() as conn:
        conn.execute(
            insert(events),
            [{"message_id": f"m{n}", "account_id": "a", "user_id": None, "type": "track",
              "name": "x", "ts_ms": 0, "day": old, "properties": None} for n in range(7)],
        )  # fmt: skip
    assert jobs.delete_old_events(engine, IngestSettings(), at=AT) == 7
    assert count(engine, events) == 0


def test_digest_runs_once_per_local_day_whoever_asks(engine: Engine) -> None:
    slot = DailySlot.parse("08:00", "Europe/Berlin")
    built: list[str] = []

    def build(_conn: object, day: object) -> None:
        built.append(str(day))

    at_slot = datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET, fall-back day
    assert jobs.digest(engine, slot, at=at_slot, worker="a", build=build) is not None
    # The same day again: a restart, a second replica, a `run --once` next to the daemon.
    assert (
        jobs.digest(engine, slot, at=at_slot + timedelta(minutes=5), worker="b", build=build)
        is None
    )
    assert jobs.digest(engine, slot, at=at_slot, worker="c", today_only=True, build=build) is None
    # --once before today's slot does nothing; after it, the next day runs.
    next_morning = datetime(2026, 10, 26, 6, 59, tzinfo=UTC)
    assert (
        jobs.digest(engine, slot, at=next_morning, worker="c", today_only=True, build=build) is None
    )
    at_eight = next_morning + timedelta(minutes=1)
    assert jobs.digest(engine, slot, at=at_eight, worker="c", today_only=True, build=build)
    assert built == ["2026-10-25", "2026-10-26"]
    with engine.connect() as conn:
        assert conn.execute(select(job_runs.c.slot, job_runs.c.worker)).all() == [
            ("2026-10-25", "a"),
            ("2026-10-26", "c"),
        ]


def test_a_failed_digest_is_not_marked_as_run(engine: Engine) -> None:
    slot = DailySlot.parse("08:00", "UTC")

    def broken(_conn: object, _day: object) -> None:
        raise RuntimeError("template exploded")

    with pytest.raises(RuntimeError):
        jobs.digest(engine, slot, at=AT, worker="a", build=broken)
    assert jobs.digest(engine, slot, at=AT, worker="a") is not None  # tried again
