"""``csmon import accounts|users|contracts``: CRM records from CSV or JSON into the store.

Every import is an upsert keyed by the record's id, written so that re-importing a
file changes nothing at all, not even ``updated_at``: a row is only written when its
stored values would change. Users and contracts naming an account the store does not
know create a stub account, which the next accounts import fills in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, select

from monitor.clock import Clock
from monitor.errors import InputFileError
from monitor.ingest.crm_rows import (
    ACCOUNTS,
    CONTRACTS,
    USERS,
    RecordKind,
    Row,
    header_problem,
    validate,
)
from monitor.ingest.progress import Progress, no_progress
from monitor.ingest.records import Record
from monitor.ingest.report import ImportReport, Reject, finish_import, record_rejects, start_import
from monitor.ingest.stubs import ensure_accounts
from monitor.ingest.tabular import Layout, open_records
from monitor.store.upsert import upsert

DEFAULT_BATCH_ROWS = 5_000
"""Rows validated and written per transaction. CRM files are small; this bounds memory
for the big ones and keeps each transaction short for readers of the store."""

_LOOKUP_CHUNK = 500  # ids per SELECT, far below every driver's bound-parameter limit

T = TypeVar("T")


def import_accounts(
    engine: Engine,
    path: Path,
    *,
    clock: Clock,
    progress: Progress = no_progress,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> ImportReport:
    """Upsert accounts by ``account_id``; every other column becomes a free attribute.

    An imported account is no longer a stub. Attributes merge: a column the file does
    not have leaves the stored attribute as it was.
    """
    return import_records(
        ACCOUNTS, engine, path, clock=clock, progress=progress, batch_size=batch_size
    )


def import_users(
    engine: Engine,
    path: Path,
    *,
    clock: Clock,
    progress: Progress = no_progress,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> ImportReport:
    """Upsert users/contacts by ``user_id``; unknown accounts are created as stubs."""
    return import_records(
        USERS, engine, path, clock=clock, progress=progress, batch_size=batch_size
    )


def import_contracts(
    engine: Engine,
    path: Path,
    *,
    clock: Clock,
    progress: Progress = no_progress,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> ImportReport:
    """Upsert contracts by ``contract_id``; unknown accounts are created as stubs.

    ``accounts.renewal_date`` is left alone: the evaluation takes an account's renewal
    date from its active contract.
    """
    return import_records(
        CONTRACTS, engine, path, clock=clock, progress=progress, batch_size=batch_size
    )


def import_records(
    kind: RecordKind,
    engine: Engine,
    path: Path,
    *,
    clock: Clock,
    progress: Progress = no_progress,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> ImportReport:
    """Import one file of ``kind`` records.

    1. Open the file; refuse it (:class:`InputFileError`) if it cannot be read at all
       or, for CSV, if its header lacks a required column. Nothing is recorded then.
    2. Record the import in ``imports``, so rejects can refer to it.
    3. Per batch: validate each record, reject ids seen earlier in the file (the first
       occurrence wins), then in one transaction write the changed rows, the stub
       accounts and the rejects.
    4. Store the final counts.
    """
    with open_records(path) as source:
        if source.columns is not None:
            problem = header_problem(kind, source.columns)
            if problem is not None:
                raise InputFileError(f"{path} {problem}.")
        report = start_import(engine, kind.kind, str(path), clock.now())
        typed = source.layout is not Layout.CSV
        first_lines: dict[str, int] = {}
        reported = 0
        for batch in _batches(source.records(), batch_size):
            rows, rejects = _validate_batch(kind, batch, typed, first_lines)
            with engine.begin() as conn:
                _store(conn, kind, rows, clock.now(), report)
                record_rejects(conn, report, rejects)
            position = source.bytes_read()
            progress(position - reported)
            reported = position
    progress(source.bytes_read() - reported)
    finish_import(engine, report, clock.now())
    return report


def _validate_batch(
    kind: RecordKind, records: Sequence[Record], typed: bool, first_lines: dict[str, int]
) -> tuple[list[Row], list[Reject]]:
    rows: list[Row] = []
    rejects: list[Reject] = []
    for record in records:
        result = validate(kind, record, typed=typed)
        if isinstance(result, Reject):
            rejects.append(result)
        elif result.key in first_lines:
            reason = (
                f"{kind.key} {result.key!r} already appeared on line "
                f"{first_lines[result.key]}; the first occurrence is kept."
            )
            rejects.append(Reject(record.line, "duplicate_in_file", reason, record.raw))
        else:
            first_lines[result.key] = result.line
            rows.append(result)
    return rows, rejects


def _store(
    conn: Connection, kind: RecordKind, rows: Sequence[Row], now: datetime, report: ImportReport
) -> None:
    """Write the rows whose stored values would change; count the others as duplicates.

    1. Read the stored rows of this batch's ids.
    2. Lay each row over its stored row; identical → duplicate, else stamp ``updated_at``.
    3. Create stub accounts for unknown accounts the rows name.
    4. Upsert the changed rows.
    """
    stored = _stored_rows(conn, kind, [row.key for row in rows])
    changed: list[dict[str, object]] = []
    for row in rows:
        old = stored.get(row.key)
        new = merge(kind, row, old)
        if old is not None and unchanged(new, old, ignore="updated_at"):
            report.duplicate += 1
        else:
            new["updated_at"] = now
            changed.append(new)
    if kind.account_column is not None:
        account_ids = {str(row.values[kind.account_column]) for row in rows}
        report.stub_accounts.extend(ensure_accounts(conn, account_ids, now))
    if changed:
        conn.execute(upsert(conn, kind.table, [kind.key]), changed)
    report.accepted += len(changed)


def _stored_rows(
    conn: Connection, kind: RecordKind, keys: Sequence[str]
) -> dict[str, dict[str, object]]:
    key_column = kind.table.c[kind.key]
    stored: dict[str, dict[str, object]] = {}
    for chunk in _batches(keys, _LOOKUP_CHUNK):
        for found in conn.execute(select(kind.table).where(key_column.in_(chunk))).mappings():
            stored[found[kind.key]] = dict(found)
    return stored


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# -- merging onto the stored row (pure) ------------------------------------------------


def merge(kind: RecordKind, row: Row, stored: Mapping[str, object] | None) -> dict[str, object]:
    """The complete row to store: ``row``'s columns laid over the stored row (or defaults).

    Free attributes merge one by one, so a file without a ``region`` column keeps the
    stored region; an empty ``region`` cell removes it.
    """
    merged = dict(stored) if stored is not None else {kind.key: row.key, **kind.defaults()}
    merged.update(row.values)
    merged.update(kind.fixed)
    if kind.free_attributes:
        attributes = dict(_mapping(merged.get("attributes")))
        for name, value in row.attributes.items():
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
        merged["attributes"] = attributes
    return merged


def unchanged(merged: Mapping[str, object], stored: Mapping[str, object], ignore: str) -> bool:
    """Whether storing ``merged`` would change nothing but the ``ignore`` column.

    JSON values compare by their serialised form, so ``true`` differs from ``1`` and
    ``1`` from ``1.0`` (Python's ``==`` says they are equal).
    """
    for name, value in merged.items():
        old = stored.get(name)
        if name == ignore:
            continue
        if isinstance(value, dict | list) or isinstance(old, dict | list):
            if _canonical(value) != _canonical(old):
                return False
        elif value != old:
            return False
    return True


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}
