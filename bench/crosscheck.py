"""The proof that csmon and DuckDB did the same work: every account x metric cell equal.

Pure functions: the values come from csmon's evaluation and from the reference SQL.
Numbers are equal within a relative tolerance (the two sum and divide in different
orders); null, true/false and text must match exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.rules.expr import Value

REL_TOL = 1e-9
ABS_TOL = 1e-9
MetricTable = Mapping[str, Mapping[str, Value]]
"""account_id -> metric name -> value."""


@dataclass(frozen=True)
class Mismatch:
    account_id: str
    metric: str
    csmon: Value
    duckdb: Value

    def describe(self) -> str:
        return f"{self.account_id} {self.metric}: csmon {self.csmon!r}, DuckDB {self.duckdb!r}"


@dataclass(frozen=True)
class CrossCheck:
    """How the two tables compare, over csmon's accounts and the metrics both have."""

    accounts: int
    metrics: tuple[str, ...]
    """The metrics compared: csmon's, in definition order, that DuckDB computes too."""
    cells: int
    mismatches: list[Mismatch] = field(default_factory=list)
    missing_accounts: list[str] = field(default_factory=list)
    """Accounts csmon evaluated that the reference has no row for."""
    uncovered: tuple[str, ...] = ()
    """csmon's metrics the reference SQL does not compute (say, after a rules edit)."""

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.missing_accounts and not self.uncovered


def same_value(a: Value, b: Value) -> bool:
    """Equal as metric values: numbers within the tolerance, the rest exactly."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def cross_check(csmon: MetricTable, duckdb: MetricTable, metrics: Sequence[str]) -> CrossCheck:
    """Compare every cell of csmon's accounts x ``metrics`` (csmon's metric names)."""
    reference_names = set(next(iter(duckdb.values()), {}))
    compared = tuple(m for m in metrics if m in reference_names)
    uncovered = tuple(m for m in metrics if m not in reference_names)
    mismatches: list[Mismatch] = []
    missing: list[str] = []
    for account_id in sorted(csmon):
        reference = duckdb.get(account_id)
        if reference is None:
            missing.append(account_id)
            continue
        ours = csmon[account_id]
        for metric in compared:
            if not same_value(ours.get(metric), reference[metric]):
                mismatches.append(Mismatch(account_id, metric, ours.get(metric), reference[metric]))
    return CrossCheck(
        accounts=len(csmon),
        metrics=compared,
        cells=len(compared) * (len(csmon) - len(missing)),
        mismatches=mismatches,
        missing_accounts=missing,
        uncovered=uncovered,
    )
