"""Source sync from a drop folder: what a CRM export or an event shipper leaves there.

Files are recognised by name (case-insensitive):

==================  ===============================================  ==================
name                format                                            importer
==================  ===============================================  ==================
``accounts*``       .csv, .json, .jsonl, .ndjson (optionally .gz)     import_accounts
``users*``          same                                              import_users
``contracts*``      same                                              import_contracts
``events*``         .jsonl, .ndjson, .json (optionally .gz)           import_events
==================  ===============================================  ==================

They are imported in that order (accounts first, so users, contracts and events find
their accounts; within a kind by name, so dated exports go in date order) and moved to
``done/``. A file that cannot be read at all goes to ``failed/`` with a log line; bad
rows inside a readable file are rejected row by row and the file still counts as done.
A database error leaves the file where it is, for the next run.

Writers should write under a hidden or ``.tmp``/``.part`` name and rename when
complete: such names are never picked up.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.clock import Clock
from monitor.config import IngestSettings
from monitor.errors import InputFileError
from monitor.ingest.crm import import_accounts, import_contracts, import_users
from monitor.ingest.events import import_events
from monitor.ingest.report import ImportReport

log = logging.getLogger(__name__)

KINDS = ("accounts", "users", "contracts", "events")
_TABULAR = (".csv", ".json", ".jsonl", ".ndjson")
_EVENTS = (".jsonl", ".ndjson", ".json")
_IN_PROGRESS = (".tmp", ".part", ".partial", ".crdownload")
DONE, FAILED = "done", "failed"

Importer = Callable[[Engine, Path, IngestSettings, Clock], ImportReport]
_IMPORTERS: dict[str, Importer] = {
    "accounts": lambda e, p, s, c: import_accounts(e, p, clock=c),
    "users": lambda e, p, s, c: import_users(e, p, clock=c),
    "contracts": lambda e, p, s, c: import_contracts(e, p, clock=c),
    "events": lambda e, p, s, c: import_events(e, p, s, clock=c),
}


def kind_of(name: str) -> str | None:
    """The import kind a drop-folder file name stands for, or None to leave it alone."""
    lower = name.lower()
    if lower.startswith(".") or lower.endswith(_IN_PROGRESS):
        return None
    bare = lower.removesuffix(".gz")
    for kind in KINDS:
        suffixes = _EVENTS if kind == "events" else _TABULAR
        if lower.startswith(kind) and bare.endswith(suffixes):
            return kind
    return None


def pending_files(drop_dir: Path) -> list[tuple[str, Path]]:
    """The files to import, in import order: (kind, path)."""
    found = [
        (kind, path)
        for path in drop_dir.iterdir()
        if path.is_file() and (kind := kind_of(path.name)) is not None
    ]
    return sorted(found, key=lambda item: (KINDS.index(item[0]), item[1].name))


@dataclass
class FileOutcome:
    path: Path
    """Where the file is now (in ``done/`` or ``failed/``)."""
    kind: str
    report: ImportReport | None
    error: str | None = None


@dataclass
class SyncReport:
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def done(self) -> Sequence[FileOutcome]:
        return [f for f in self.files if f.error is None]

    @property
    def failed(self) -> Sequence[FileOutcome]:
        return [f for f in self.files if f.error is not None]


def sync_drop_folder(
    engine: Engine, drop_dir: Path, ingest: IngestSettings, *, clock: Clock
) -> SyncReport:
    """Import every recognised file in ``drop_dir`` and move it away (module docstring)."""
    report = SyncReport()
    if not drop_dir.is_dir():
        log.warning("The drop folder %s does not exist; nothing to sync", drop_dir)
        return report
    for kind, path in pending_files(drop_dir):
        try:
            imported = _IMPORTERS[kind](engine, path, ingest, clock)
        except InputFileError as exc:
            moved = move_to(path, drop_dir / FAILED, clock.now())
            log.error(
                "Cannot import %s, moved it to %s: %s",
                path.name,
                moved.parent,
                exc,
                extra={"kind": kind},
            )
            report.files.append(FileOutcome(moved, kind, None, str(exc)))
            continue
        moved = move_to(path, drop_dir / DONE, clock.now())
        log.info(
            "Imported %s: %d accepted, %d duplicate, %d rejected",
            path.name,
            imported.accepted,
            imported.duplicate,
            imported.rejected,
            extra={"kind": kind, "import_id": imported.import_id},
        )
        report.files.append(FileOutcome(moved, kind, imported))
    return report


def move_to(path: Path, folder: Path, now: datetime) -> Path:
    """Move ``path`` into ``folder``; a name already there gets a UTC time prefix, so
    a re-delivered export never overwrites the earlier one."""
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{now:%Y%m%dT%H%M%S%fZ}-{path.name}"
    shutil.move(path, target)
    return target
