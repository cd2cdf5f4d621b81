"""DuckDB computing csmon's metrics from the same files: the yardstick of the benchmark.

The SQL lives beside this module, one file per step, so it can be read (and run) on
its own: ``duckdb_crm.sql`` (the CRM files as tables), ``duckdb_events.sql`` (append a
JSONL file to the ``events`` table, with csmon's import semantics) and
``duckdb_metrics.sql`` (every metric of ``rules/metrics.toml`` at one instant, from the
raw events). This module only runs them and times them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from workload import Workload, instant_params

from monitor.rules.expr import Value

SQL_DIR = Path(__file__).resolve().parent
CRM_SQL = SQL_DIR / "duckdb_crm.sql"
EVENTS_SQL = SQL_DIR / "duckdb_events.sql"
METRICS_SQL = SQL_DIR / "duckdb_metrics.sql"
_PARAMETER = re.compile(r"\$([a-z_]+)")
_COMMENT = re.compile(r"--[^\n]*")
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)

Metrics = dict[str, dict[str, Value]]
"""account_id -> metric name -> value, as csmon's evaluation reports them."""


@dataclass(frozen=True)
class ReferenceRun:
    """What DuckDB did on one workload, and how long it took."""

    load_seconds: float
    """CRM files and the events before T, read into query-ready tables."""
    query_seconds: float
    """Every metric for every account at T."""
    next_load_seconds: float
    """The next hour's events appended."""
    next_query_seconds: float
    """Every metric at T + 1h."""
    events: int
    """Rows of the ``events`` table after the first load (valid lines with an account)."""
    metrics: dict[datetime, Metrics]
    """The values at T and at T + 1h."""


def statements(path: Path) -> list[str]:
    """The statements of a SQL file (separated by ``;`` at a line end), comments kept."""
    parts = _STATEMENT_END.split(path.read_text())
    return [part for part in parts if _has_code(part)]


def _has_code(sql: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in sql.splitlines())


def run_script(
    con: duckdb.DuckDBPyConnection, path: Path, params: Mapping[str, object]
) -> list[tuple[Any, ...]]:
    """Run every statement of ``path``, each given the parameters it names; return the
    last statement's rows."""
    rows: list[tuple[Any, ...]] = []
    for sql in statements(path):
        used = set(_PARAMETER.findall(_COMMENT.sub("", sql)))
        named = {name: params[name] for name in used}
        rows = con.execute(sql, named).fetchall()
    return rows


def connect(threads: int) -> duckdb.DuckDBPyConnection:
    """An in-memory database using ``threads`` cores, reading times in UTC, quiet."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def load(con: duckdb.DuckDBPyConnection, workload: Workload) -> None:
    """The CRM tables, then the events before T."""
    run_script(
        con,
        CRM_SQL,
        {
            "accounts_csv": str(workload.accounts_csv),
            "users_csv": str(workload.users_csv),
            "contracts_csv": str(workload.contracts_csv),
        },
    )
    append_events(con, workload.events)


def append_events(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    run_script(con, EVENTS_SQL, {"path": str(path)})


def query_metrics(con: duckdb.DuckDBPyConnection, at: datetime) -> Metrics:
    """Every metric of every CRM account at ``at``."""
    cursor = con.execute(METRICS_SQL.read_text(), instant_params(at))
    names = [column[0] for column in cursor.description or ()]
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def run_reference(workload: Workload, threads: int) -> ReferenceRun:
    """1. Load the CRM files and the events before T; 2. compute the metrics at T;
    3. append the next hour's events; 4. compute the metrics at T + 1h. Each timed."""
    con = connect(threads)
    try:
        first, second = workload.instants
        started = time.perf_counter()
        load(con, workload)
        loaded = time.perf_counter()
        at_first = query_metrics(con, first)
        queried = time.perf_counter()
        row = con.execute("SELECT count(*) FROM events").fetchone()
        rows = int(row[0]) if row else 0
        next_started = time.perf_counter()
        append_events(con, workload.next_hour)
        next_loaded = time.perf_counter()
        at_second = query_metrics(con, second)
        next_queried = time.perf_counter()
    finally:
        con.close()
    return ReferenceRun(
        load_seconds=loaded - started,
        query_seconds=queried - loaded,
        next_load_seconds=next_loaded - next_started,
        next_query_seconds=next_queried - next_loaded,
        events=rows,
        metrics={first: at_first, second: at_second},
    )
