"""Throughput of ``csmon import events``: events/s and peak memory on SQLite (and PostgreSQL).

Generates a Segment JSONL.gz file of N events over K accounts with the spec's default
event vocabulary (or takes one via ``--file``), imports it into a fresh SQLite file
and, with ``--database-url``, into a fresh schema of that PostgreSQL database, and
prints events/s and peak RSS for each. Not a test: run it by hand, see bench/README.md.

    .venv/bin/python bench/import_events.py --events 1000000 --accounts 2000
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.ingest.events import import_events
from monitor.store import create_store_engine, upgrade

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# (type, event name or page path, relative weight): the spec's default vocabulary.
VOCABULARY = [
    ("track", "Signed In", 30),
    ("track", "Report Created", 10),
    ("track", "Dashboard Shared", 5),
    ("track", "Report Exported", 5),
    ("track", "Integration Connected", 1),
    ("track", "Support Ticket Opened", 2),
    ("track", "NPS Submitted", 1),
    ("page", "/dashboard", 25),
    ("page", "/reports/weekly", 10),
    ("page", "/help/billing", 4),
    ("page", "/help/getting-started", 3),
]


def generate_messages(
    events: int, accounts: int, users_per_account: int, days: int, seed: int, shuffled: bool = False
) -> Iterator[dict[str, object]]:
    """One ``group`` call per user, then ``events`` track/page calls spread over ``days``.

    Half of the usage events carry ``context.groupId``; the others rely on the
    earlier group call to find their account, as browser SDKs often do. Events come in
    time order, as Segment exports do; ``shuffled`` spreads every batch over all days
    (the worst case for rollups: each event then touches a different rollup row).
    """
    rng = random.Random(seed)
    start_ms = int((NOW - timedelta(days=days)).timestamp() * 1000)
    span_ms = days * 86_400_000
    kinds, weights = zip(*((v[:2], v[2]) for v in VOCABULARY), strict=True)
    users = [
        (f"acct-{a:05d}", f"user-{a:05d}-{u:03d}")
        for a in range(accounts)
        for u in range(users_per_account)
    ]
    for account, user in users:
        yield {
            "type": "group", "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
            "timestamp": _iso(start_ms), "userId": user, "groupId": account,
            "traits": {"name": account.replace("acct", "Account")},
        }  # fmt: skip
    stamps = [start_ms + rng.randrange(span_ms) for _ in range(events)]
    if not shuffled:
        stamps.sort()
    for kind_what, ts_ms in zip(rng.choices(kinds, weights, k=events), stamps, strict=True):
        kind, what = kind_what
        account, user = users[rng.randrange(len(users))]
        message: dict[str, object] = {
            "type": kind, "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
            "timestamp": _iso(ts_ms), "userId": user,
        }  # fmt: skip
        if rng.random() < 0.5:
            message["context"] = {"groupId": account, "library": {"name": "analytics-node"}}
        if kind == "page":
            message["properties"] = {"path": what, "title": what.title()}
        else:
            message["event"] = what
            message["properties"] = {"score": rng.randint(0, 10)} if what == "NPS Submitted" else {}
        yield message


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def write_file(path: Path, messages: Iterator[dict[str, object]]) -> int:
    lines = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        for message in messages:
            out.write(orjson.dumps(message) + b"\n")
            lines += 1
    return lines


@dataclass
class Measurement:
    lines: int
    accepted: int
    duplicate: int
    rejected: int
    seconds: float
    cpu_seconds: float
    """User + system CPU time of the importing process: above ``seconds`` when the
    read-ahead thread and the database driver overlap on two cores."""
    rss_before_mb: float
    rss_peak_mb: float


def measure_import(url: str, path: Path, batch_size: int, profile: bool) -> Measurement:
    """Import ``path`` into the store at ``url`` (migrated first) and measure it.

    Run in a fresh process (see :func:`measure_in_child`), so the peak RSS belongs
    to this import alone.
    """
    engine = create_store_engine(url)
    upgrade(engine)
    settings = IngestSettings(batch_size=batch_size)
    clock = FixedClock(NOW)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    try:
        report = import_events(engine, path, settings, clock=clock)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profiler is not None:
        profiler.stop()
        profiler.print()
    return Measurement(
        lines=report.rows,
        accepted=report.accepted,
        duplicate=report.duplicate,
        rejected=report.rejected,
        seconds=elapsed,
        cpu_seconds=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        rss_before_mb=before.ru_maxrss / 1024,
        rss_peak_mb=after.ru_maxrss / 1024,
    )


def measure_in_child(url: str, path: Path, batch_size: int, profile: bool) -> Measurement:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(measure_import, url, path, batch_size, profile).result()


def print_result(backend: str, m: Measurement) -> None:
    print(
        f"{backend:10} {m.lines:>10,} lines in {m.seconds:6.1f} s = "
        f"{m.lines / m.seconds:>8,.0f} events/s; CPU {m.cpu_seconds:.1f} s; "
        f"peak RSS {m.rss_peak_mb:,.0f} MB (+{m.rss_peak_mb - m.rss_before_mb:,.0f} MB); "
        f"accepted {m.accepted:,}, duplicate {m.duplicate:,}, rejected {m.rejected:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--users-per-account", type=int, default=10)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--shuffled", action="store_true", help="events in random time order (worst case)"
    )
    parser.add_argument("--batch-size", type=int, default=IngestSettings().batch_size)
    parser.add_argument("--file", type=Path, help="import this JSONL(.gz) instead of generating")
    parser.add_argument("--database-url", help="also import into a fresh schema of this PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="csmon-bench-") as tmp:
        path = args.file
        if path is None:
            path = Path(tmp) / "events.jsonl.gz"
            started = time.perf_counter()
            messages = generate_messages(
                args.events,
                args.accounts,
                args.users_per_account,
                args.days,
                args.seed,
                args.shuffled,
            )
            lines = write_file(path, messages)
            print(
                f"generated  {lines:>10,} lines ({path.stat().st_size / 1e6:,.0f} MB gzip) "
                f"in {time.perf_counter() - started:.1f} s"
            )
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        print_result("sqlite", measure_in_child(sqlite_url, path, args.batch_size, args.profile))
        if args.database_url:
            measured = _measure_postgres(args.database_url, path, args.batch_size, args.profile)
            print_result("postgresql", measured)


def _measure_postgres(url: str, path: Path, batch_size: int, profile: bool) -> Measurement:
    """Import into a schema of its own, dropped afterwards, so runs never mix."""
    schema = f"csmon_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        schema_url = f"{url}{sep}options=-csearch_path%3D{schema}"
        return measure_in_child(schema_url, path, batch_size, profile)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
