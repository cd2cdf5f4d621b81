"""What one benchmark run measured, the ratios and targets derived from it.

Plain data, no I/O: :mod:`run` fills it, :mod:`report` renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crosscheck import CrossCheck
from csmon_steps import Evaluated, Imported
from duckdb_reference import ReferenceRun
from measure import Measured
from workload import Workload


@dataclass
class BackendRun:
    """csmon's steps on one store (SQLite or PostgreSQL) for one workload."""

    backend: str
    crm: Measured[int]
    events: Measured[Imported]
    full: Measured[Evaluated]
    next_import: Measured[Imported]
    next_eval: Measured[Evaluated]
    checks: list[CrossCheck] = field(default_factory=list)
    """At T, then at T + 1h (empty when DuckDB was skipped)."""

    @property
    def events_per_second(self) -> float:
        return self.events.value.lines / self.events.seconds

    @property
    def next_cost(self) -> float:
        """The next hourly evaluation's whole cost: import the hour, then evaluate."""
        return self.next_import.seconds + self.next_eval.seconds

    @property
    def mismatches(self) -> int:
        return sum(len(c.mismatches) + len(c.missing_accounts) for c in self.checks)


@dataclass
class SizeRun:
    workload: Workload
    duckdb: Measured[ReferenceRun] | None
    backends: list[BackendRun] = field(default_factory=list)


@dataclass
class BenchRun:
    command: str
    started: str
    machine: str
    threads: int
    sizes: list[SizeRun] = field(default_factory=list)
    demo: Measured[int] | None = None
    """``csmon demo`` end to end (its exit status as the value)."""

    @property
    def mismatches(self) -> int:
        return sum(b.mismatches for s in self.sizes for b in s.backends)

    @property
    def uncovered(self) -> set[str]:
        return {m for s in self.sizes for b in s.backends for c in b.checks for m in c.uncovered}


@dataclass(frozen=True)
class Target:
    """A goal of the issue and where one measurement stands against it."""

    goal: str
    where: str
    measured: str
    met: bool


Check = Callable[[SizeRun, BackendRun], Target | None]


def _import_rate(size: SizeRun, run: BackendRun) -> Target | None:
    goal = 300_000 if run.backend == "sqlite" else 150_000
    rate = run.events_per_second
    return Target(
        f"import >= {goal // 1000}k events/s", _where(size, run), f"{rate:,.0f}/s", rate >= goal
    )


def _import_vs_duckdb(size: SizeRun, run: BackendRun) -> Target | None:
    if size.duckdb is None or run.backend != "sqlite":
        return None
    ratio = run.events.seconds / size.duckdb.value.load_seconds
    return Target("import <= 7x DuckDB's load", _where(size, run), f"{ratio:.1f}x", ratio <= 7)


def _import_memory(size: SizeRun, run: BackendRun) -> Target | None:
    rss = run.events.peak_rss_mb
    return Target("import memory < 300 MB RSS", _where(size, run), f"{rss:,.0f} MB", rss < 300)


def _evaluation_vs_duckdb(size: SizeRun, run: BackendRun) -> Target | None:
    if size.duckdb is None:
        return None
    limit = 2 if run.backend == "sqlite" else 3
    ratio = run.full.seconds / size.duckdb.value.query_seconds
    return Target(
        f"full evaluation <= {limit}x DuckDB's metric query",
        _where(size, run),
        f"{ratio:.1f}x",
        ratio <= limit,
    )


def _next_hour(size: SizeRun, run: BackendRun) -> Target | None:
    share = run.next_eval.seconds / run.full.seconds
    return Target(
        "next hourly evaluation <= 25% of a full one",
        _where(size, run),
        f"{share:.0%}",
        share <= 0.25,
    )


def _where(size: SizeRun, run: BackendRun) -> str:
    return f"{size.workload.size.accounts:,} accounts, {run.backend}"


CHECKS: tuple[Check, ...] = (
    _import_rate,
    _import_vs_duckdb,
    _import_memory,
    _evaluation_vs_duckdb,
    _next_hour,
)
DEMO_GOAL_SECONDS = 15.0


def targets(bench: BenchRun) -> list[Target]:
    """Every target of the issue against every measurement it applies to."""
    found = [
        target
        for check in CHECKS
        for size in bench.sizes
        for run in size.backends
        if (target := check(size, run)) is not None
    ]
    if bench.demo is not None:
        seconds = bench.demo.seconds
        found.append(
            Target(
                f"`csmon demo` end to end <= {DEMO_GOAL_SECONDS:.0f} s",
                "500 accounts, SQLite",
                f"{seconds:.1f} s",
                bench.demo.value == 0 and seconds <= DEMO_GOAL_SECONDS,
            )
        )
    return found
