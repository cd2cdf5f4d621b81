"""``import_events``: Segment JSONL into events, rollups, users and rejects (both backends)."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select, text

from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.errors import InputFileError
from monitor.ingest.events import import_events
from monitor.ingest.report import ImportReport
from monitor.store.schema import accounts, users
from monitor.timeutil import MS_PER_DAY, day_number

DAY_MS = "2026-11-01T10:00:00Z"
DAY = day_number(date(2026, 11, 1))

_ids = itertools.count(1)


def msg(kind: str = "track", **fields: Any) -> dict[str, Any]:
    """A valid message of ``kind``; fields set to None are left out."""
    base: dict[str, Any] = {
        "type": kind,
        "messageId": f"m-{next(_ids)}",
        "timestamp": DAY_MS,
        "userId": "u-1",
    }
    if kind == "track":
        base |= {"event": "Signed In", "context": {"groupId": "acct-1"}}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def write(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """JSONL with one message per line; str items are written verbatim (bad lines)."""
    data = b"".join(
        (line.encode() if isinstance(line, str) else orjson.dumps(line)) + b"\n" for line in lines
    )
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def run(engine: Engine, path: Path, clock: FixedClock, **settings: Any) -> ImportReport:
    return import_events(engine, path, IngestSettings(**settings), clock=clock)


def query(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def rollups(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup table, sorted in Python (collations differ between the backends)."""
    return {
        table: sorted(query(engine, f"SELECT * FROM {table}"))
        for table in ("event_daily", "user_daily", "property_daily")
    }


def test_track_event_is_stored_raw_and_counted_in_the_daily_rollups(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    path = write(
        tmp_path / "e.jsonl",
        [
            msg(messageId="a", event="NPS Submitted", properties={"score": 9, "comment": "ok"}),
            msg(messageId="b", event="NPS Submitted", properties={"score": 6}),
            msg(messageId="c", userId="u-2", timestamp="2026-11-02T01:00:00Z"),
        ],
    )
    report = run(engine, path, clock)

    assert (report.kind, report.accepted, report.duplicate, report.rejected) == ("events", 3, 0, 0)
    assert query(engine, "SELECT message_id, account_id, user_id, type, name, day FROM events "
                         "ORDER BY message_id") == [
        ("a", "acct-1", "u-1", "track", "NPS Submitted", DAY),
        ("b", "acct-1", "u-1", "track", "NPS Submitted", DAY),
        ("c", "acct-1", "u-2", "track", "Signed In", DAY + 1),
    ]  # fmt: skip
    ts_ms, properties = query(engine, "SELECT ts_ms, properties FROM events WHERE message_id='a'")[
        0
    ]
    assert ts_ms // MS_PER_DAY == DAY and ts_ms % MS_PER_DAY == 10 * 3_600_000
    assert json.loads(properties) == {"score": 9, "comment": "ok"}
    assert rollups(engine) == {
        "event_daily": [("acct-1", DAY, "NPS Submitted", 2), ("acct-1", DAY + 1, "Signed In", 1)],
        "user_daily": [("acct-1", "u-1", DAY, 2), ("acct-1", "u-2", DAY + 1, 1)],
        "property_daily": [("acct-1", DAY, "NPS Submitted", "score", 15.0, 2)],
    }


def test_page_calls_are_named_by_their_first_path_segment(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    ctx = {"groupId": "acct-1"}
    path = write(
        tmp_path / "e.jsonl",
        [
            msg("page", context=ctx, properties={"path": "/help/billing"}),
            msg("page", context=ctx, properties={"path": "/help/sso", "title": "SSO"}),
            msg("page", context=ctx, properties={"path": "/"}),
            msg("page", context=ctx),
        ],
    )
    run(engine, path, clock)
    assert rollups(engine)["event_daily"] == [
        ("acct-1", DAY, "page:/", 2),
        ("acct-1", DAY, "page:/help", 2),
    ]


def test_identify_and_group_are_stored_and_fill_users_but_are_not_counted(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    ann = {"email": "ann@x.io", "role": "champion", "company": {"id": "acct-2"}}
    path = write(
        tmp_path / "e.jsonl",
        [
            msg("identify", messageId="1", userId="ann", traits=ann),
            msg("group", messageId="2", userId="bob", groupId="acct-3", traits={"name": "Bo"}),
            msg("identify", messageId="3", userId="ann", traits={"name": "Ann"}),  # keeps email
        ],
    )
    report = run(engine, path, clock)

    assert report.accepted == 3
    assert query(engine, "SELECT type, name, account_id FROM events ORDER BY message_id") == [
        ("identify", "identify", "acct-2"),
        ("group", "group", "acct-3"),
        ("identify", "identify", "acct-2"),
    ]
    with engine.connect() as conn:
        stored = conn.execute(
            select(users.c.user_id, users.c.account_id, users.c.email, users.c.role).order_by(
                users.c.user_id
            )
        ).all()
    assert [tuple(r) for r in stored] == [
        ("ann", "acct-2", "ann@x.io", "champion"),
        ("bob", "acct-3", None, None),
    ]
    assert rollups(engine) == {"event_daily": [], "user_daily": [], "property_daily": []}


def test_account_comes_from_an_earlier_group_call_in_the_same_file(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    path = write(
        tmp_path / "e.jsonl",
        [
            msg(messageId="early", userId="u-9", context=None),  # no mapping yet
            msg("group", userId="u-9", groupId="acct-9"),
            msg(messageId="late", userId="u-9", context=None),
            msg(messageId="own", userId="u-9", context={"groupId": "acct-1"}),  # its own wins
        ],
    )
    report = run(engine, path, clock)

    assert report.accepted == 3
    assert report.rejected_by_reason == {"unknown_account": 1}
    assert query(engine, "SELECT line, reason_code FROM import_rejects") == [(1, "unknown_account")]
    tracks = "SELECT message_id, account_id FROM events WHERE type = 'track' ORDER BY message_id"
    assert query(engine, tracks) == [("late", "acct-9"), ("own", "acct-1")]


def test_account_mapping_carries_over_to_a_later_import_through_the_users_table(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    first = write(
        tmp_path / "first.jsonl",
        [
            msg("group", userId="u-1", groupId="acct-7"),
            msg("identify", userId="u-2", traits={"account_id": "acct-8"}),
        ],
    )
    second = write(
        tmp_path / "second.jsonl",
        [msg(userId="u-1", context=None), msg(userId="u-2", context=None)],
    )
    run(engine, first, clock)
    report = run(engine, second, clock, batch_size=100)

    assert (report.accepted, report.rejected) == (2, 0)
    assert query(engine, "SELECT user_id, account_id FROM events WHERE type = 'track' "
                         "ORDER BY user_id") == [("u-1", "acct-7"), ("u-2", "acct-8")]  # fmt: skip


def test_every_reject_reason_is_kept_with_its_line_and_good_rows_around_it_survive(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    good = [msg(messageId=f"good-{i}") for i in range(12)]
    bad: list[tuple[dict[str, Any] | str, str]] = [
        ('{"type": "track", ', "invalid_json"),
        ("[1, 2, 3]", "not_an_object"),
        (msg(type="screen"), "unknown_type"),
        (msg(messageId=None), "missing_message_id"),
        (msg(timestamp=None), "missing_timestamp"),
        (msg(timestamp="last tuesday"), "invalid_timestamp"),
        (msg(timestamp="2027-01-01T00:00:00Z"), "future_timestamp"),
        (msg(userId=None), "missing_user"),
        (msg(event=None), "missing_event"),
        (msg(userId="stranger", context=None), "unknown_account"),
        (msg(properties={"blob": "x" * 400}), "payload_too_large"),
        (msg(event=["not", "text"]), "invalid_field"),
    ]
    lines: list[dict[str, Any] | str] = []
    for good_line, (bad_line, _code) in zip(good, bad, strict=True):
        lines += [good_line, bad_line]
    lines.insert(6, "   ")  # blank lines are skipped but still numbered
    path = write(tmp_path / "e.jsonl", lines)

    report = run(engine, path, clock, max_payload_bytes=300, batch_size=100)

    bad_lines = [2, 4, 6, 9, 11, 13, 15, 17, 19, 21, 23, 25]  # the blank line 7 shifts the rest
    expected = list(zip(bad_lines, [code for _, code in bad], strict=True))
    assert query(engine, "SELECT line, reason_code FROM import_rejects ORDER BY line") == expected
    assert report.rejected_by_reason == {code: 1 for _, code in bad}
    assert report.accepted == 12
    assert query(engine, "SELECT count(*) FROM events WHERE message_id LIKE 'good-%'") == [(12,)]
    ((reason, raw),) = query(engine, "SELECT reason, raw FROM import_rejects WHERE line = 2")
    assert "not valid JSON" in reason
    assert raw == '{"type": "track", '
    assert query(engine, "SELECT rejected, accepted FROM imports") == [(12, 12)]


def test_duplicates_within_a_batch_across_batches_and_across_imports_count_once(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    lines = [msg(messageId=f"m{i}", userId=f"u{i % 7}") for i in range(250)]
    lines.insert(5, msg(messageId="m3", event="Other"))  # same batch as m3: first one wins
    lines.append(msg(messageId="m10"))  # a later batch repeats an earlier one
    path = write(tmp_path / "e.jsonl", lines)

    first = run(engine, path, clock, batch_size=100)
    assert (first.accepted, first.duplicate, first.rejected) == (250, 2, 0)
    assert query(engine, "SELECT name FROM events WHERE message_id = 'm3'") == [("Signed In",)]
    assert query(engine, "SELECT sum(count) FROM event_daily") == [(250,)]
    before = rollups(engine)

    again = run(engine, path, clock, batch_size=100)
    assert (again.accepted, again.duplicate, again.rejected) == (0, 252, 0)
    assert rollups(engine) == before
    assert query(engine, "SELECT count(*) FROM events") == [(250,)]


def test_rollups_equal_group_bys_over_the_raw_events(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    rng = random.Random(20261102)
    names = ["Signed In", "Report Created", "NPS Submitted", "Dashboard Shared"]
    lines: list[dict[str, Any]] = []
    for _ in range(1_500):
        account = f"acct-{rng.randrange(6)}"
        user = f"{account}-u{rng.randrange(4)}"
        moment = f"{date(2026, 10, 1) + timedelta(days=rng.randrange(30))}T{rng.randrange(24):02d}"
        base = {"userId": user, "timestamp": f"{moment}:00:00Z", "context": {"groupId": account}}
        props = {
            "score": rng.choice([rng.randrange(11), 2.5, True, "7", None]),
            "value": rng.choice([rng.randrange(100), None]),
        }
        if rng.random() < 0.2:
            lines.append(msg("page", **base, properties={"path": "/help/x"}))
        elif rng.random() < 0.05:
            lines.append(msg("group", **base, groupId=account))
        else:
            lines.append(msg(**base, event=rng.choice(names), properties=props))
        if rng.random() < 0.05:  # a duplicate of some earlier message
            lines.append(rng.choice(lines))
    half = len(lines) // 2
    run(engine, write(tmp_path / "a.jsonl", lines[:half]), clock, batch_size=100)
    run(engine, write(tmp_path / "b.jsonl", lines[half - 50 :]), clock, batch_size=130)

    raw = query(engine, "SELECT account_id, user_id, day, name, type, properties FROM events "
                        "WHERE type IN ('track', 'page')")  # fmt: skip
    expected_events: dict[tuple[Any, ...], int] = {}
    expected_users: dict[tuple[Any, ...], int] = {}
    expected_props: dict[tuple[Any, ...], list[float]] = {}
    for account, user, day, name, _type, properties in raw:
        expected_events[(account, day, name)] = expected_events.get((account, day, name), 0) + 1
        expected_users[(account, user, day)] = expected_users.get((account, user, day), 0) + 1
        for prop, value in json.loads(properties or "{}").items():
            if prop in ("score", "value") and type(value) in (int, float):
                total = expected_props.setdefault((account, day, name, prop), [0.0, 0])
                total[0] += value
                total[1] += 1
    got = rollups(engine)
    assert got["event_daily"] == sorted((*k, v) for k, v in expected_events.items())
    assert got["user_daily"] == sorted((*k, v) for k, v in expected_users.items())
    assert got["property_daily"] == sorted(
        (*k, pytest.approx(total), count) for k, (total, count) in expected_props.items()
    )
    assert len(raw) > 1_000


def test_gzip_file_is_read_like_plain_text(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    path = write(tmp_path / "e.jsonl.gz", [msg(), msg(), "oops"])
    report = run(engine, path, clock)
    assert (report.accepted, report.rejected_by_reason) == (2, {"invalid_json": 1})


def test_files_that_cannot_be_read_raise_one_clear_sentence(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    with pytest.raises(InputFileError, match=r"missing\.jsonl does not exist\.$"):
        run(engine, tmp_path / "missing.jsonl", clock)
    fake = tmp_path / "plain.jsonl.gz"
    fake.write_text('{"type": "track"}\n')
    with pytest.raises(InputFileError, match=r"is named \.gz but is not a gzip file\.$"):
        run(engine, fake, clock)
    assert query(engine, "SELECT count(*) FROM imports") == [(0,)]


def test_a_truncated_gzip_keeps_the_batches_before_the_damage(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    # Big enough that several read chunks decompress before the cut.
    whole = gzip.compress(b"".join(orjson.dumps(msg()) + b"\n" for _ in range(40_000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])

    with pytest.raises(InputFileError, match=r"could not be read past line \d+ .*truncated"):
        run(engine, path, clock, batch_size=5_000)
    (stored,) = query(engine, "SELECT count(*) FROM events")[0]
    assert 10_000 <= stored < 40_000
    assert query(engine, "SELECT accepted FROM imports") == [(stored,)]


def test_unknown_accounts_become_stubs_and_are_reported(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    with engine.begin() as conn:
        conn.execute(
            accounts.insert().values(
                account_id="acct-1", name="Acme", attributes={}, updated_at=clock.now()
            )
        )
    path = write(
        tmp_path / "e.jsonl",
        [msg(), msg(context={"groupId": "acct-z"}), msg("group", userId="u-5", groupId="acct-b")],
    )
    report = run(engine, path, clock, batch_size=100)

    assert report.stub_accounts == ["acct-b", "acct-z"]
    assert query(engine, "SELECT account_id, name FROM accounts WHERE is_stub ORDER BY 1") == [
        ("acct-b", "acct-b"),
        ("acct-z", "acct-z"),
    ]
    assert query(engine, "SELECT stub_accounts FROM imports") == [(2,)]
    assert run(engine, write(tmp_path / "f.jsonl", [msg(context={"groupId": "acct-z"})]),
               clock).stub_accounts == []  # fmt: skip


def test_progress_reports_every_byte_of_the_file(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    path = write(tmp_path / "e.jsonl.gz", [msg(properties={"i": i}) for i in range(1_000)])
    calls: list[int] = []
    import_events(engine, path, IngestSettings(batch_size=300), clock=clock, progress=calls.append)
    assert len(calls) == 4
    assert sum(calls) == path.stat().st_size


def test_sqlite_write_ahead_log_is_emptied_after_an_import(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write-ahead log only")
    run(engine, write(tmp_path / "e.jsonl", [msg() for _ in range(2_000)]), clock, batch_size=100)
    wal = Path(f"{engine.url.database}-wal")
    assert wal.stat().st_size < 3 * 4_096  # the import's closing commit at most


def test_postgresql_statistics_are_refreshed_after_a_big_import_only(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    """The evaluation after a first import must not plan with "empty table"
    statistics; an hourly trickle must not pay for an ANALYZE every time."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics only")

    def estimated_rows(table: str) -> float:
        sql = f"SELECT reltuples FROM pg_class WHERE oid = to_regclass('{table}')"
        return float(query(engine, sql)[0][0])

    assert estimated_rows("events") < 0  # never analysed
    run(engine, write(tmp_path / "big.jsonl", [msg() for _ in range(1_000)]), clock)
    assert estimated_rows("events") == 1_000
    assert estimated_rows("event_daily") > 0
    run(engine, write(tmp_path / "small.jsonl", [msg() for _ in range(20)]), clock)
    assert estimated_rows("events") == 1_000  # 2 % more rows: left to autovacuum
