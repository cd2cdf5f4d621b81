"""One record of a CRM file: its values, or what is wrong with it and where.

The readers in :mod:`monitor.ingest.tabular` cut a file into records; the functions
here turn one record's text (a JSON object, CSV cells) into a :class:`Record`, or
into a :class:`Record` with a :class:`Problem` when it cannot be used. Raw text is
always made storable (no NUL, undecodable bytes shown as U+FFFD) so a reject can be
kept and shown as the file had it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and bytes undecodable as UTF-8


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    """Stable: ``invalid_json``, ``invalid_encoding``, ``malformed_row``, ``row_too_long``
    or ``unreadable_file``."""
    message: str
    """What is wrong, for a person: a sentence without its final period."""


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    """1-based line of the file on which the record starts."""
    values: dict[str, object]
    """Field name → value as in the file; empty when ``problem`` is set."""
    raw: str
    """The record's text, always storable (no NUL, undecodable bytes shown as U+FFFD)."""
    problem: Problem | None = None


JSON_DECODER = json.JSONDecoder()  # NaN and Infinity parse as floats: callers check values


def array_syntax_error(line: int, doc: str, pos: int, exc: ValueError) -> Record:
    if isinstance(exc, json.JSONDecodeError):
        line, detail = exc.lineno, f"{exc.msg} (line {exc.lineno} column {exc.colno})"
    else:
        detail = str(exc)
    message = f"Invalid JSON: {detail}; the rest of the file was not read"
    return problem_record(line, doc[pos : pos + 200], "invalid_json", message)


def json_record(line: int, text: str, max_fields: int) -> Record:
    if _UNSTORABLE.search(text):
        return problem_record(line, text, "invalid_encoding", _BAD_TEXT)
    try:
        value = JSON_DECODER.decode(text)
    except ValueError as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return problem_record(line, text, "invalid_json", f"Invalid JSON: {detail}")
    return json_value_record(line, value, text, max_fields)


def json_value_record(line: int, value: object, raw: str, max_fields: int) -> Record:
    if _UNSTORABLE.search(raw):
        return problem_record(line, raw, "invalid_encoding", _BAD_TEXT)
    if not isinstance(value, dict):
        kind = _JSON_TYPES.get(type(value), "value")
        return problem_record(
            line, raw, "invalid_json", f"The record is a JSON {kind}, not an object"
        )
    if len(value) > max_fields:
        return problem_record(line, raw, "row_too_long", _too_many(len(value), max_fields))
    return Record(line, value, raw)


def csv_record(
    line: int, cells: list[str], columns: tuple[str, ...], raw: str, max_fields: int
) -> Record:
    if _UNSTORABLE.search(raw):
        return problem_record(line, raw, "invalid_encoding", _BAD_TEXT)
    if len(cells) > max_fields:
        return problem_record(line, raw, "row_too_long", _too_many(len(cells), max_fields))
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        message = (
            f"The row has {len(cells)} cells but the header has {len(columns)} columns "
            "(an unquoted delimiter in a value?)"
        )
        return problem_record(line, raw, "malformed_row", message)
    # Missing trailing cells are empty, as spreadsheets and pandas read them.
    cells = cells + [""] * (len(columns) - len(cells))
    values: dict[str, object] = {c: v for c, v in zip(columns, cells, strict=False) if c}
    return Record(line, values, raw)


_BAD_TEXT = "The record holds bytes that are not UTF-8 text, or a NUL character"
_JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean",
               list: "array", type(None): "null"}  # fmt: skip


def problem_record(line: int, raw: str, code: str, message: str) -> Record:
    return Record(line, {}, storable(raw.rstrip("\r\n")), Problem(code, message))


def _too_many(count: int, max_fields: int) -> str:
    return f"The record has {count} fields; at most {max_fields} are accepted"


def unreadable(exc: BaseException) -> str:
    return f"The file cannot be read beyond this point ({exc or type(exc).__name__})"


def storable(text: str) -> str:
    """``text`` made safe to store: undecodable bytes and NUL become U+FFFD."""
    if not _UNSTORABLE.search(text):
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _UNSTORABLE.sub("\ufffd", text)
