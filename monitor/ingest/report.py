"""The durable record of one import: its counts, and a dead-letter row per rejected input."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, update

from monitor.store.schema import import_rejects, imports

RAW_KEEP_CHARS = 2_000  # enough to see what was wrong, bounded so junk cannot bloat the db


@dataclass
class Reject:
    line: int
    reason_code: str
    """A stable machine-readable reason, e.g. ``invalid_json`` or ``missing_timestamp``."""
    reason: str
    """One sentence for a person: what was wrong with this row."""
    raw: str


@dataclass
class ImportReport:
    """What an import did. ``accepted + duplicate + rejected`` equals the rows read."""

    kind: str
    source: str
    import_id: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    stub_accounts: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def rows(self) -> int:
        return self.accepted + self.duplicate + self.rejected


def start_import(engine: Engine, kind: str, source: str, started_at: datetime) -> ImportReport:
    """Create the ``imports`` row first, so rejects can refer to it from the first batch."""
    with engine.begin() as conn:
        result = conn.execute(
            insert(imports).values(kind=kind, source=source, started_at=started_at)
        )
        import_id = result.inserted_primary_key[0] if result.inserted_primary_key else 0
    return ImportReport(kind=kind, source=source, import_id=int(import_id))


def record_rejects(conn: Connection, report: ImportReport, rejects: list[Reject]) -> None:
    """Store a batch of rejects in the caller's transaction and count them."""
    if not rejects:
        return
    conn.execute(
        insert(import_rejects),
        [
            {
                "import_id": report.import_id,
                "line": r.line,
                "reason_code": r.reason_code,
                "reason": r.reason,
                "raw": r.raw[:RAW_KEEP_CHARS],
            }
            for r in rejects
        ],
    )
    report.rejected_by_reason.update(r.reason_code for r in rejects)


def finish_import(engine: Engine, report: ImportReport, finished_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(imports)
            .where(imports.c.import_id == report.import_id)
            .values(
                finished_at=finished_at,
                accepted=report.accepted,
                duplicate=report.duplicate,
                rejected=report.rejected,
                stub_accounts=len(report.stub_accounts),
            )
        )
