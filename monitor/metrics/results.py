"""What the family queries found: one number per (instant, account, term).

Terms are numbered once per plan and values kept in plain lists, because the
evaluation reads them for every account at every instant. Values are normalised to
Python ``int``/``float`` on the way in (PostgreSQL returns ``Decimal`` for sums of
big integers). A term an account has no row for reads as the empty aggregate: 0 for
counts, None for last-seen days, (0.0, 0) for property sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from monitor.metrics.plan import Term


class AccountTerms:
    """The term values of one account at one instant, read by term id."""

    __slots__ = ("_values",)

    def __init__(self, values: Sequence[object]) -> None:
        self._values = values

    def count(self, term_id: int) -> int:
        value = self._values[term_id]
        return int(value) if isinstance(value, int | float) else 0

    def last_day(self, term_id: int) -> int | None:
        value = self._values[term_id]
        return int(value) if isinstance(value, int | float) else None

    def property(self, term_id: int) -> tuple[float, int]:
        """(sum, number of values) of the property over the term's window."""
        value = self._values[term_id]
        if isinstance(value, tuple):
            total, count = value
            return float(total or 0.0), int(count or 0)
        return 0.0, 0


class TermValues:
    """Term values for a batch of instants, filled by the family queries."""

    def __init__(self, term_ids: Mapping[Term, int], instant_count: int) -> None:
        self.term_ids = term_ids
        self._width = len(term_ids)
        self._empty = AccountTerms([None] * self._width)
        self._by_instant: list[dict[str, list[object]]] = [{} for _ in range(instant_count)]

    def put(self, instant: int, account_id: str, term_id: int, value: object) -> None:
        if value is None:
            return
        self._row(instant, account_id)[term_id] = _plain(value)

    def fill(self, instant: int, account_id: str, term_id: int, value: object) -> None:
        """Set the value only where the query found none (history before the scan)."""
        row = self._row(instant, account_id)
        if row[term_id] is None and value is not None:
            row[term_id] = _plain(value)

    def rows(self, instant: int) -> dict[str, list[object]]:
        """Every account's values at one instant (accounts without any value left out)."""
        return self._by_instant[instant]

    def set_rows(self, instant: int, rows: dict[str, list[object]]) -> None:
        """Take one instant's values as found earlier (rows as :meth:`rows` gives them)."""
        self._by_instant[instant] = rows

    def account(self, instant: int, account_id: str) -> AccountTerms:
        row = self._by_instant[instant].get(account_id)
        return self._empty if row is None else AccountTerms(row)

    def _row(self, instant: int, account_id: str) -> list[object]:
        rows = self._by_instant[instant]
        row = rows.get(account_id)
        if row is None:
            row = rows[account_id] = [None] * self._width
        return row


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value
