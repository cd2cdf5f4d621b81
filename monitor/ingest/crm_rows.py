"""One CRM record in, one validated and normalised row (or a :class:`Reject`) out.

Pure functions, no database: :func:`header_problem` checks a CSV header and
:func:`validate` a record of accounts, users or contracts against its
:class:`RecordKind`. Column names are matched after normalising them
(``Account ID`` → ``account_id``).

A row only carries the columns the file gives, so a re-import never blanks out a
column the file does not have; an *empty* value in a column the file has clears it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import Table

from monitor.ingest.crm_values import (
    FieldError,
    ValueParser,
    check_storable,
    parse_attribute,
    parse_choice,
    parse_date,
    parse_email,
    parse_id,
    parse_int,
    parse_money,
    parse_text,
)
from monitor.ingest.records import Record
from monitor.ingest.report import Reject
from monitor.store.schema import accounts, contracts, users


@dataclass(frozen=True)
class Column:
    names: tuple[str, ...]
    """The names the column may have in a file; the first is the documented one."""
    field: str
    """The table column it fills."""
    parse: ValueParser
    required: bool = False
    empty: object = None
    """Stored when the file's value is empty (non-null columns store 0)."""

    @property
    def label(self) -> str:
        return " (or ".join(self.names) + ")" * (len(self.names) - 1)


@dataclass(frozen=True)
class RecordKind:
    kind: str
    table: Table
    key: str
    columns: tuple[Column, ...]
    account_column: str | None = None
    """The column naming the account a row belongs to (stub accounts are made for it)."""
    free_attributes: bool = False
    """Other columns become ``attributes``; without it they are ignored."""
    fixed: Mapping[str, object] = field(default_factory=dict)
    """Values every imported row gets (an imported account is no longer a stub)."""
    check: Callable[[Mapping[str, object]], FieldError | None] | None = None
    by_name: Mapping[str, Column] = field(init=False)

    def __post_init__(self) -> None:
        names = {normalise_name(n): c for c in self.columns for n in c.names}
        object.__setattr__(self, "by_name", names)

    def target(self, name: str) -> tuple[str, Column | None]:
        """What a field named ``name`` fills: (table column or attribute name, column)."""
        normalised = normalise_name(name)
        column = self.by_name.get(normalised)
        return (column.field if column else normalised), column

    def defaults(self) -> dict[str, object]:
        """A new row's values before the file's are laid over it."""
        base: dict[str, object] = {c.field: c.empty for c in self.columns}
        if self.free_attributes:
            base["attributes"] = {}
        base.update(self.fixed)
        return base


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    line: int
    values: dict[str, object]
    """Table column → value, only for the columns the record gives."""
    attributes: dict[str, object]
    """Free attribute → value; ``None`` removes the attribute."""


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """``" Account ID "`` → ``"account_id"``: case, spaces and dashes do not matter."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


# -- the three kinds ------------------------------------------------------------------


def _end_not_before_start(values: Mapping[str, object]) -> FieldError | None:
    start, end = values.get("start_date"), values.get("end_date")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        return FieldError("end_before_start", f"end {end} is before start {start}")
    return None


ACCOUNTS = RecordKind(
    kind="accounts",
    table=accounts,
    key="account_id",
    columns=(
        Column(("account_id",), "account_id", parse_id, required=True),
        Column(("name",), "name", parse_text(), required=True),
        Column(("arr",), "arr", parse_money, empty=0.0),
        Column(("seats",), "seats", parse_int, empty=0),
        Column(("plan",), "plan", parse_text(100)),
        Column(("csm_email",), "csm_email", parse_email),
        Column(("renewal_date",), "renewal_date", parse_date),
        Column(("created_at",), "created_at", parse_date),
    ),
    free_attributes=True,
    fixed={"is_stub": False},
)

USERS = RecordKind(
    kind="users",
    table=users,
    key="user_id",
    columns=(
        Column(("user_id",), "user_id", parse_id, required=True),
        Column(("account_id",), "account_id", parse_id, required=True),
        Column(("email",), "email", parse_email),
        Column(("role",), "role", parse_choice("decision_maker", "champion", "user")),
    ),
    account_column="account_id",
)

CONTRACTS = RecordKind(
    kind="contracts",
    table=contracts,
    key="contract_id",
    columns=(
        Column(("contract_id",), "contract_id", parse_id, required=True),
        Column(("account_id",), "account_id", parse_id, required=True),
        Column(("start", "start_date"), "start_date", parse_date, required=True),
        Column(("end", "end_date"), "end_date", parse_date, required=True),
        Column(("arr",), "arr", parse_money, required=True),
        Column(("status",), "status", parse_choice("active", "renewed", "churned"), required=True),
    ),
    account_column="account_id",
    check=_end_not_before_start,
)


# -- validation -----------------------------------------------------------------------


def header_problem(kind: RecordKind, columns: Sequence[str]) -> str | None:
    """Why a CSV header cannot be imported (a sentence without subject), or ``None``."""
    owners: dict[str, str] = {}
    for name in columns:
        if not name:
            continue
        target, _ = kind.target(name)
        if target in owners:
            return f"has two columns for {target}: {owners[target]!r} and {name!r}"
        owners[target] = name
    missing = [c.label for c in kind.columns if c.required and c.field not in owners]
    if missing:
        shown = ", ".join(name for name in columns if name) or "nothing"
        return (
            f"lacks the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(its header has: {shown})"
        )
    return None


def validate(kind: RecordKind, record: Record, *, typed: bool) -> Row | Reject:
    """Check one record; return its row, or a reject listing every problem found.

    ``typed`` records (JSON) keep their value types; CSV cells are text, and free
    attributes get light typing (``true``/``no`` → booleans, ``42`` → numbers).
    The reject's code is the first problem's; its reason names them all, so a person
    fixes the row in one go.
    """
    if record.problem is not None:
        return Reject(record.line, record.problem.code, record.problem.message + ".", record.raw)
    values: dict[str, object] = {}
    attributes: dict[str, object] = {}
    errors: list[FieldError] = []
    given: dict[str, str] = {}  # target (table column or attribute) → name as written
    failed: set[str] = set()
    for name, value in record.values.items():
        target, column = kind.target(name)
        if target in given:
            errors.append(
                FieldError("invalid_value", f"{given[target]!r} and {name!r} both give {target}")
            )
            continue
        given[target] = name
        try:
            if typed:
                check_storable(name, value)
            if column is not None:
                parsed = column.parse(name, value)
                values[column.field] = column.empty if parsed is None else parsed
            elif kind.free_attributes:
                attributes[target] = parse_attribute(target, value, typed=typed)
        except FieldError as problem:
            errors.append(problem)
            failed.add(target)
    missing = [
        FieldError("missing_field", f"{c.label} is missing")
        for c in kind.columns
        if c.required and c.field not in failed and values.get(c.field) is None
    ]
    errors = missing + errors
    if not errors and kind.check is not None and (conflict := kind.check(values)) is not None:
        errors.append(conflict)
    if errors:
        return Reject(
            record.line, errors[0].code, _sentence([e.message for e in errors]), record.raw
        )
    return Row(str(values[kind.key]), record.line, values, attributes)


def _sentence(parts: list[str]) -> str:
    return "; ".join(parts) + "."
