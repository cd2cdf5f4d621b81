"""``csmon import events FILE``: Segment-spec JSONL (optionally gzip) into the store.

The file is streamed in batches of ``batch_size`` lines. Two threads share the work:
a read-ahead thread prepares batch N+1 (read, parse, validate, resolve accounts) while
the caller's thread writes batch N in one transaction with its rejects, stub accounts,
rollups and users. Memory stays flat whatever the file size (at most two batches
exist at a time) and an interrupted import leaves whole batches only. What is kept
across batches is bounded by users and accounts, never by events.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from monitor.clock import Clock
from monitor.config import IngestSettings
from monitor.errors import InputFileError
from monitor.ingest.bulk import checkpoint, in_turns, refresh_statistics, write_transaction
from monitor.ingest.event_writes import EventBlocks, store_events
from monitor.ingest.progress import Progress, no_progress
from monitor.ingest.report import (
    ImportReport,
    Reject,
    finish_import,
    record_rejects,
    start_import,
)
from monitor.ingest.rollups import EventRow, NumberRow, RollupDeltas
from monitor.ingest.segment import Limits, Message, parse_line, reject_line
from monitor.ingest.segment_fast import parse_usage_line
from monitor.ingest.sources import LineBatch, open_source, read_ahead
from monitor.ingest.stubs import ensure_accounts
from monitor.store.schema import event_daily, events, property_daily, user_daily, users
from monitor.store.upsert import upsert
from monitor.timeutil import MS_PER_DAY

_WAL_RESET_EVERY = 4
"""Batches between the writer's own checkpoints, which bound SQLite's write-ahead log
(the read-ahead thread copies most pages beforehand, see :func:`checkpoint`)."""
_LOOKUP_CHUNK = 500  # ids per IN (...) lookup: far below every driver's parameter limit
_PEOPLE_TYPES = ("identify", "group")
_WRITTEN = (events.name, event_daily.name, user_daily.name, property_daily.name)
"""The tables an events import fills, events first (its size decides on ANALYZE)."""
_OPTIONAL_USER_FIELDS: tuple[str, ...] = ("email", "role")

Person = tuple[str, str, str, str | None, str | None]
"""What a group/identify call says about its user: message_id, user_id, account, email, role."""


def import_events(
    engine: Engine,
    path: Path,
    settings: IngestSettings,
    *,
    clock: Clock,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import the events of ``path``; bad lines are rejected, never fatal.

    1. Open the file: :class:`InputFileError` if it cannot be read at all.
    2. Record the import (``imports`` row), so rejects can refer to it.
    3. Per batch of lines: prepare it (:meth:`_Preparer.prepare`, in the read-ahead
       thread), write it (:meth:`_Writer.write`), report the bytes consumed.
    4. Record the counts. If the file breaks off part-way (a truncated gzip), the
       batches before are kept, the counts recorded, and InputFileError raised.
    """
    limits = Limits.from_settings(settings, clock.now())
    with open_source(path) as source:
        report = start_import(engine, "events", str(path), clock.now())
        turn = threading.Lock()  # see monitor.ingest.bulk: Python stretches vs executemany
        preparer = _Preparer(engine, limits, turn)
        writer = _Writer(engine, clock, report, turn)
        lines = source.batches(settings.batch_size, settings.max_payload_bytes)
        try:
            with _collector_paused(), read_ahead(map(preparer.prepare, lines)) as batches:
                for batch in batches:
                    writer.write(batch)
                    progress(batch.consumed)
        except InputFileError:
            finish_import(engine, report, clock.now())
            raise
    checkpoint(engine, truncate=True)  # the last batch's pages; leave no big log behind
    refresh_statistics(engine, _WRITTEN, report.accepted)
    report.stub_accounts.sort()
    finish_import(engine, report, clock.now())
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the import, then restore it.

    Parsing allocates millions of short-lived objects without reference cycles; the
    collector's passes over them cost about a third of the parse time and free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_batch(
    batch: LineBatch, limits: Limits, turn: threading.Lock | None = None
) -> tuple[list[Message], list[Reject]]:
    """Parse every non-blank line: the valid messages in file order, and rejects for the rest.

    With a ``turn``, lines are parsed holding it, a stretch at a time (see :func:`in_turns`).
    """
    messages: list[Message] = []
    rejects: list[Reject] = []
    first = batch.first_line
    lines = enumerate(batch.lines) if turn is None else in_turns(list(enumerate(batch.lines)), turn)
    for offset, raw in lines:
        if not raw or raw.isspace():
            continue
        parsed = parse_usage_line(raw, first + offset, limits) or parse_line(
            raw, first + offset, limits
        )
        if type(parsed) is Message:
            messages.append(parsed)
        else:
            rejects.append(parsed)  # type: ignore[arg-type]
    return messages, rejects


class AccountResolver:
    """Which account each user belongs to, learned in file order.

    A ``group`` call maps its user to its ``groupId``; an ``identify`` call naming an
    account does the same. Users the file has not mapped yet are looked up in the
    ``users`` table once, batch-wise, when first needed. The map holds one entry per
    user (None: known to have no account), so it is bounded by users, not events.
    """

    def __init__(self) -> None:
        self._by_user: dict[str, str | None] = {}

    def prefetch(self, conn: Connection, messages: Iterable[Message]) -> None:
        """Load the stored accounts of the users these messages may need resolved."""
        by_user = self._by_user
        wanted = sorted(
            {m.user_id for m in messages if m.group_id is None and m.user_id not in by_user}
        )
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            query = select(users.c.user_id, users.c.account_id).where(users.c.user_id.in_(chunk))
            found = {row.user_id: row.account_id for row in conn.execute(query)}
            for user_id in chunk:
                by_user[user_id] = found.get(user_id)

    def account_of(self, message: Message) -> str | None:
        """The message's account, learning the user's account from group/identify calls."""
        if message.group_id is not None:
            if message.type in _PEOPLE_TYPES:
                self._by_user[message.user_id] = message.group_id
            return message.group_id
        return self._by_user.get(message.user_id)


@dataclass
class PreparedBatch:
    """A batch ready to write: only rows and counts, the lines and messages are gone."""

    consumed: int
    """File bytes read for this batch, for progress."""
    blocks: EventBlocks
    """The event rows, one per distinct messageId (the first in the file) with its
    account, and what they add to the rollups, ready for the writer."""
    numbers: list[NumberRow]
    """The numeric rollup properties of the usage event rows."""
    accounts: set[str]
    """The accounts of the event rows."""
    people: list[Person]
    rejects: list[Reject]
    repeated: int
    """Messages whose messageId already appeared earlier in the batch."""


class _Preparer:
    """Turns lines into rows; runs in the read-ahead thread, one batch after another.

    Resolving accounts here is safe although the previous batch may not be committed
    yet: the users that batch maps are already in the resolver's memory, and the
    ``users`` table is only asked about users the file has not mapped so far.
    """

    def __init__(self, engine: Engine, limits: Limits, turn: threading.Lock) -> None:
        self._engine = engine
        self._limits = limits
        self._turn = turn
        self._resolver = AccountResolver()

    def prepare(self, batch: LineBatch) -> PreparedBatch:
        """0. Checkpoint the WAL pages the writer committed last (see
           :func:`write_transaction`): done here, it overlaps with the next write.
        1. Parse and validate every line (pure).
        2. Look up the stored accounts of users the file has not mapped yet.
        3. In file order: resolve each message's account (none: an ``unknown_account``
           reject) and keep the first of repeated messageIds.
        4. Collect the batch's accounts and the numeric properties of its usage
           events, and count what the batch adds to the rollups (:class:`RollupDeltas`).
        """
        # The writer's commits leave their WAL checkpoint to this thread (SQLite only).
        checkpoint(self._engine)
        messages, rejects = parse_batch(batch, self._limits, self._turn)
        with self._engine.connect() as conn:
            self._resolver.prefetch(conn, messages)
        rows: list[EventRow] = []
        numbers: list[NumberRow] = []
        people: list[Person] = []
        repeated = 0
        seen: set[str] = set()  # bounded by the batch
        account_of = self._resolver.account_of
        deltas = RollupDeltas()
        add, add_number = deltas.add, deltas.add_number
        for m in in_turns(messages, self._turn):
            account = account_of(m)
            if account is None:
                rejects.append(_unknown_account(m, batch))
                continue
            if m.message_id in seen:
                repeated += 1
                continue
            seen.add(m.message_id)
            day = m.ts_ms // MS_PER_DAY
            row = (m.message_id, account, m.user_id, m.type, m.name, m.ts_ms, day, m.properties)
            rows.append(row)
            add(row)
            if m.numbers:  # only usage events carry numbers (see parse_message)
                for prop, value in m.numbers:
                    number = (m.message_id, account, day, m.name, prop, value)
                    numbers.append(number)
                    add_number(number)
            elif m.type in _PEOPLE_TYPES:
                people.append((m.message_id, m.user_id, account, m.email, m.role))
        rejects.sort(key=lambda r: r.line)
        with self._turn:
            blocks = EventBlocks.of(self._engine.dialect.name, rows, deltas)
        accounts = {row[1] for row in rows}
        return PreparedBatch(batch.consumed, blocks, numbers, accounts, people, rejects, repeated)


class _Writer:
    """Writes prepared batches in the caller's thread; knows the accounts checked so far."""

    def __init__(
        self, engine: Engine, clock: Clock, report: ImportReport, turn: threading.Lock
    ) -> None:
        self._engine = engine
        self._turn = turn
        self._clock = clock
        self._report = report
        self._known_accounts: set[str] = set()  # bounded by accounts
        self._batches = 0

    def write(self, batch: PreparedBatch) -> None:
        """Store one batch in one transaction, all-or-nothing.

        0. Every few batches, first empty SQLite's write-ahead log (see
           :func:`checkpoint`), so it stays a few batches long.
        1. Write the rejects and create stubs for accounts never seen before.
        2. Store the events whose messageId is not stored yet (earlier imports) and
           add them to the rollups (:func:`store_events`).
        3. Upsert the users that new group/identify calls describe.
        """
        now = self._clock.now()
        self._batches += 1
        if self._batches % _WAL_RESET_EVERY == 0:
            checkpoint(self._engine, truncate=True)
        with write_transaction(self._engine) as conn:
            # Python stretches hold the turn: beside the busy read-ahead thread each
            # small statement would otherwise wait for a GIL switch (see bulk).
            with self._turn:
                record_rejects(conn, self._report, batch.rejects)
                checked = self._ensure_accounts(conn, batch.accounts, now)
            stored = store_events(conn, batch.blocks, batch.numbers, self._turn)
            people = [p for p in batch.people if p[0] not in stored] if stored else batch.people
            with self._turn:
                _upsert_users(conn, people, now)
        self._known_accounts |= checked
        self._report.accepted += len(batch.blocks.events) - len(stored)
        self._report.duplicate += batch.repeated + len(stored)

    def _ensure_accounts(self, conn: Connection, account_ids: set[str], now: datetime) -> set[str]:
        """Create stubs for the accounts not checked before; return the ids checked."""
        unknown = account_ids - self._known_accounts
        if unknown:
            self._report.stub_accounts.extend(ensure_accounts(conn, unknown, now))
        return unknown


def _unknown_account(message: Message, batch: LineBatch) -> Reject:
    return reject_line(
        batch.lines[message.line - batch.first_line],
        message.line,
        "unknown_account",
        f"No account for user {message.user_id!r}: the message has no context.groupId "
        "and no earlier group or identify call (nor the users table) maps the user.",
    )


def _upsert_users(conn: Connection, people: list[Person], now: datetime) -> None:
    """Upsert the users that new group/identify calls describe, later calls winning.

    An identify call without an email or role must not erase the stored one, so
    rows are grouped by which of those they carry and each group updates only those.
    """
    latest: dict[str, dict[str, object]] = {}
    for _message_id, user_id, account, email, role in people:
        row = latest.setdefault(user_id, {"user_id": user_id})
        row["account_id"] = account
        row["updated_at"] = now
        if email is not None:
            row["email"] = email
        if role is not None:
            row["role"] = role
    by_columns: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for row in latest.values():
        carried = tuple(name for name in _OPTIONAL_USER_FIELDS if name in row)
        by_columns.setdefault(carried, []).append(row)
    for carried, rows in by_columns.items():
        params = [{"email": None, "role": None, **row} for row in rows]
        stmt = upsert(conn, users, ["user_id"], ["account_id", "updated_at", *carried])
        conn.execute(stmt, params)
