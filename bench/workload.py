"""The benchmark's input: a demo portfolio of a given size, its instants, and its files.

The portfolio comes from the demo generator (:func:`monitor.demo.generate`), ending one
hour after the evaluation instant T. Its event file is then cut in two at T:
``events.jsonl`` (everything before T: the history a full evaluation at T reads) and
``next_hour.jsonl`` (the hour from T to T + 1h: what arrives before the next hourly
evaluation). Both halves come from one generation, so the hour continues the same
accounts, users and behaviour, and messageIds never collide.

Generation is the slow part at 20,000 accounts (about a minute for 4 GB of JSONL), so
a folder that already holds the files of the same parameters is reused.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from monitor.clock import FixedClock
from monitor.demo import generate
from monitor.timeutil import day_of_ms, to_ms

T = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
"""The full evaluation's instant: a Tuesday afternoon (UTC), inside most accounts'
working hours, so the following hour carries a realistic share of the day's events."""
NEXT = T + timedelta(hours=1)
"""The next hourly evaluation: also where the generated data ends."""
SEED = 42
MANIFEST = "manifest.json"
_TIMESTAMP_PREFIX = b'{"timestamp":"'


@dataclass(frozen=True)
class Size:
    """A portfolio size: ``accounts`` accounts with ``days`` days of usage before T."""

    accounts: int
    days: int = 90
    events_per_account_day: float = 11.0

    @property
    def label(self) -> str:
        return f"{self.accounts:,} accounts x {self.days} days"


@dataclass(frozen=True)
class Workload:
    """The files of one portfolio and what they hold."""

    size: Size
    folder: Path
    accounts_csv: Path
    users_csv: Path
    contracts_csv: Path
    events: Path
    """Every event line before T."""
    next_hour: Path
    """The event lines from T to T + 1 hour."""
    event_lines: int
    next_hour_lines: int
    generate_seconds: float | None = None
    """None when the files were reused from an earlier run."""

    @property
    def instants(self) -> tuple[datetime, datetime]:
        return T, NEXT


def instant_params(at: datetime) -> dict[str, object]:
    """What the reference SQL needs of an instant: epoch ms, epoch day, UTC date."""
    ms = to_ms(at)
    return {"t_ms": ms, "t_day": day_of_ms(ms), "t_date": at.astimezone(UTC).date()}


def prepare(size: Size, root: Path, *, regenerate: bool = False) -> Workload:
    """The workload of ``size`` under ``root``, generated unless already there.

    1. Reuse ``root/<accounts>x<days>/`` if its manifest matches ``size`` and the seed.
    2. Otherwise generate the portfolio ending at T + 1h (plain JSONL: both csmon and
       DuckDB read it fastest), cut the last hour off into ``next_hour.jsonl`` and
       write the manifest last, so an interrupted generation is never reused.
    """
    folder = root / f"{size.accounts}x{size.days}"
    wanted = {"size": asdict(size), "seed": SEED, "end": NEXT.isoformat()}
    manifest = folder / MANIFEST
    if not regenerate and manifest.is_file():
        stored = json.loads(manifest.read_text())
        if stored.get("params") == wanted:
            return _workload(size, folder, stored["event_lines"], stored["next_hour_lines"], None)
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    _, files = generate(
        folder,
        clock=FixedClock(NEXT),
        seed=SEED,
        accounts=size.accounts,
        days=size.days,
        events_per_account_day=size.events_per_account_day,
    )
    next_hour = folder / "next_hour.jsonl"
    tail_lines = split_at(files.events, T, next_hour)
    seconds = time.perf_counter() - started
    head_lines = files.event_lines - tail_lines
    manifest.write_text(
        json.dumps(
            {"params": wanted, "event_lines": head_lines, "next_hour_lines": tail_lines},
            indent=2,
        )
    )
    return _workload(size, folder, head_lines, tail_lines, seconds)


def _workload(
    size: Size, folder: Path, lines: int, next_lines: int, seconds: float | None
) -> Workload:
    return Workload(
        size=size,
        folder=folder,
        accounts_csv=folder / "accounts.csv",
        users_csv=folder / "users.csv",
        contracts_csv=folder / "contracts.csv",
        events=folder / "events.jsonl",
        next_hour=folder / "next_hour.jsonl",
        event_lines=lines,
        next_hour_lines=next_lines,
        generate_seconds=seconds,
    )


def split_at(path: Path, at: datetime, tail: Path) -> int:
    """Move the lines of ``path`` stamped at or after ``at`` into ``tail``; return how many.

    The generator writes lines in timestamp order, each starting with its timestamp,
    so those lines are a suffix of the file: a binary search over byte offsets finds
    its start without reading the gigabytes before it.
    """
    cut = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z").encode()
    with path.open("rb") as source:
        size = source.seek(0, os.SEEK_END)
        lo, hi = 0, size  # invariant: the suffix starts at a line start in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            start = _line_start_after(source, mid)
            if start >= size or _stamp(source, start) >= cut:
                hi = mid
            else:
                lo = start + 1
        start = _line_start_after(source, lo)
        source.seek(start)
        with tail.open("wb") as out:
            shutil.copyfileobj(source, out)
    with path.open("r+b") as source:
        source.truncate(start)
    with tail.open("rb") as out:
        return sum(1 for _ in out)


def _line_start_after(source: BinaryIO, offset: int) -> int:
    """The offset of the first line starting at or after ``offset``."""
    if offset == 0:
        return 0
    source.seek(offset - 1)
    source.readline()  # the rest of the line ``offset - 1`` is in (just "\n" at a start)
    return source.tell()


def _stamp(source: BinaryIO, start: int) -> bytes:
    source.seek(start)
    line = source.readline()
    if not line.startswith(_TIMESTAMP_PREFIX):
        raise ValueError(f"line at byte {start} does not start with its timestamp: {line[:60]!r}")
    return line[len(_TIMESTAMP_PREFIX) : len(_TIMESTAMP_PREFIX) + 24]
