"""Writing a portfolio to a folder: the CRM files (CSV) and the events (Segment JSONL).

The files are what a real deployment would import, in the formats ``csmon import``
reads: ``accounts.csv``, ``users.csv``, ``contracts.csv`` and ``events.jsonl`` (or
``events.jsonl.gz``). Same portfolio, same bytes: nothing here depends on the clock,
the locale or the platform's line endings.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from monitor.clock import Clock
from monitor.demo.events import event_days
from monitor.demo.model import DemoParams, Portfolio, build_portfolio

ACCOUNT_COLUMNS = (
    "account_id",
    "name",
    "arr",
    "seats",
    "plan",
    "csm_email",
    "renewal_date",
    "created_at",
    "industry",
    "region",
    "strategic",
)
USER_COLUMNS = ("user_id", "account_id", "email", "role")
CONTRACT_COLUMNS = ("contract_id", "account_id", "start", "end", "arr", "status")
FILE_NAMES = ("accounts.csv", "users.csv", "contracts.csv", "events.jsonl", "events.jsonl.gz")
"""Every file the writer may create: what ``csmon demo --force`` may replace."""


@dataclass(frozen=True)
class DemoFiles:
    accounts: Path
    users: Path
    contracts: Path
    events: Path
    event_lines: int
    """Lines in the events file: track and page events plus identify and group calls."""

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.accounts, self.users, self.contracts, self.events)

    @property
    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.paths)


def generate(
    folder: Path,
    *,
    clock: Clock,
    seed: int = 42,
    accounts: int = 500,
    days: int = 90,
    events_per_account_day: float = 11.0,
    compress: bool = False,
) -> tuple[Portfolio, DemoFiles]:
    """Build the portfolio ending at the clock's now and write it into ``folder``."""
    params = DemoParams(
        end=clock.now(),
        seed=seed,
        accounts=accounts,
        days=days,
        events_per_account_day=events_per_account_day,
    )
    portfolio = build_portfolio(params)
    return portfolio, write_portfolio(portfolio, folder, compress=compress)


def write_portfolio(portfolio: Portfolio, folder: Path, *, compress: bool = False) -> DemoFiles:
    """Write the four files into ``folder`` (created if missing), replacing older ones.

    ``compress`` gzips the events (level 1: the file shrinks ~8x at little cost).
    """
    folder.mkdir(parents=True, exist_ok=True)
    accounts = folder / "accounts.csv"
    _write_csv(accounts, ACCOUNT_COLUMNS, _account_rows(portfolio))
    users = folder / "users.csv"
    _write_csv(
        users,
        USER_COLUMNS,
        ((u.user_id, a.account_id, u.email, u.role) for a in portfolio.accounts for u in a.users),
    )
    contracts = folder / "contracts.csv"
    _write_csv(
        contracts,
        CONTRACT_COLUMNS,
        (
            (c.contract_id, c.account_id, c.start, c.end, _money(c.arr), c.status)
            for c in portfolio.contracts
        ),
    )
    events = folder / ("events.jsonl.gz" if compress else "events.jsonl")
    if compress:
        # mtime=0 keeps the gzip header, and so the file, identical from run to run.
        with gzip.GzipFile(events, "wb", compresslevel=1, mtime=0) as packed:
            lines = write_events(portfolio, packed)
    else:
        with events.open("wb") as plain:
            lines = write_events(portfolio, plain)
    return DemoFiles(accounts, users, contracts, events, lines)


class ByteSink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def write_events(portfolio: Portfolio, out: ByteSink) -> int:
    """Stream the portfolio's event lines into ``out``, a day at a time; return the count."""
    count = 0
    for lines in event_days(portfolio):
        out.write("".join(lines).encode())
        count += len(lines)
    return count


def _account_rows(portfolio: Portfolio) -> Iterable[Sequence[object]]:
    for a in portfolio.accounts:
        yield (
            a.account_id,
            a.name,
            _money(a.arr),
            a.seats,
            a.plan,
            a.csm_email,
            a.renewal_date or "",
            a.created_at,
            a.industry,
            a.region,
            "true" if a.strategic else "false",
        )


def _money(amount: float) -> str:
    return f"{amount:.2f}"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
