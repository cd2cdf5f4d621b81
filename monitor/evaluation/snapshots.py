"""Health snapshots: one row per account per evaluation instant, the portfolio's history.

Trends, the digest and backtests read them. Writing the same instant again replaces
the rows, so evaluating twice at the same T leaves one snapshot, not two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from monitor.store.schema import health_snapshots
from monitor.store.upsert import upsert
from monitor.timeutil import to_ms

if TYPE_CHECKING:
    from monitor.evaluation.run import Evaluation

_CHUNK = 2_000


def store_snapshots(conn: Connection, evaluation: Evaluation) -> None:
    at_ms = to_ms(evaluation.at)
    rows: list[dict[str, Any]] = [
        {
            "account_id": result.account_id,
            "evaluated_at_ms": at_ms,
            "tier": result.tier,
            "score": result.score,
            "band": result.band,
            "metrics": dict(result.metrics),
            "rule_results": {
                v.key: {"rule": v.rule, "state": v.state, "severity": v.severity}
                for v in result.verdicts
                if v.state != "inactive"
            },
            "ruleset_hash": evaluation.fingerprint,
        }
        for result in evaluation.accounts
    ]
    statement = upsert(conn, health_snapshots, ["account_id", "evaluated_at_ms"])
    for start in range(0, len(rows), _CHUNK):
        conn.execute(statement, rows[start : start + _CHUNK])
