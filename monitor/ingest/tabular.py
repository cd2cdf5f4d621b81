"""Streaming readers for record files: CSV, a JSON array of objects, JSON Lines (``.gz`` too).

Every record comes with the 1-based line it starts on and its raw text, so a bad
record can be reported where a person will find it in an editor. A record that cannot
be parsed is not an exception: it is yielded with a :class:`Problem`, and reading goes
on with the next record. Only a file that cannot be read *at all* raises
:class:`~monitor.errors.InputFileError`: missing, not UTF-8 from the start, an unknown
extension, a CSV without a header, a ``.json`` that is neither an array nor JSON Lines.

The module knows nothing about accounts or events; values are handed over as the file
holds them (CSV cells as strings, JSON values with their JSON types).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, TypeAlias

from monitor.errors import InputFileError

if TYPE_CHECKING:
    from _csv import Reader

MAX_FIELDS = 200
"""More fields than this in one record is a broken file, not a CRM export."""

_HEAD_BYTES = 65_536  # read before anything else: encoding check, layout and delimiter
_DELIMITERS = (",", ";", "\t", "|")  # spreadsheet exports in some locales use ';' or tabs
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and bytes undecodable as UTF-8
_READ_ERRORS = (OSError, EOFError, zlib.error)  # a truncated or corrupt file mid-way


_Binary: TypeAlias = BinaryIO | gzip.GzipFile


class Layout(StrEnum):
    CSV = "csv"
    JSON_ARRAY = "json"
    JSON_LINES = "jsonl"


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


class RecordFile:
    """An open record file: its layout, its CSV header, and one pass over its records.

    Use :func:`open_records` to make one, as a context manager.
    """

    def __init__(
        self,
        path: Path,
        layout: Layout,
        raw: BinaryIO,
        text: io.TextIOWrapper[_Binary],
        max_fields: int,
    ) -> None:
        self.path = path
        self.layout = layout
        self._raw = raw
        self._text = text
        self._max_fields = max_fields
        self._closed_at = 0
        self._captured: list[str] = []  # physical lines of the CSV record being read
        self.columns: tuple[str, ...] | None = None
        """The CSV header as written (cells stripped); ``None`` for JSON layouts."""
        self._csv: Reader | None = None
        if layout is Layout.CSV:
            self._open_csv()

    def __enter__(self) -> RecordFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if not self._raw.closed:
            self._closed_at = self._raw.tell()
        self._text.close()
        self._raw.close()

    def bytes_read(self) -> int:
        """Bytes of the file (compressed, for ``.gz``) consumed so far, for progress bars."""
        return self._closed_at if self._raw.closed else self._raw.tell()

    def records(self) -> Iterator[Record]:
        if self.layout is Layout.CSV:
            return self._csv_records()
        if self.layout is Layout.JSON_ARRAY:
            return self._json_array_records()
        return self._json_lines_records()

    # -- CSV ---------------------------------------------------------------------------

    def _open_csv(self) -> None:
        """Pick the delimiter from the first line, then read the header row."""
        first_line = self._text.readline()
        delimiter = max(_DELIMITERS, key=lambda d: _cell_count(first_line, d))
        lines = self._captured_lines(first_line)
        self._csv = csv.reader(lines, delimiter=delimiter)
        header: list[str] = []
        try:
            for cells in self._csv:  # leading blank lines are skipped
                if cells:
                    header = cells
                    break
        except (csv.Error, *_READ_ERRORS) as exc:
            raise InputFileError(f"The header row of {self.path} cannot be read: {exc}.") from None
        self._captured.clear()
        if not header:
            raise InputFileError(f"{self.path} has no header row.")
        if len(header) > self._max_fields:
            raise InputFileError(
                f"{self.path} has {len(header)} columns; at most {self._max_fields} are supported."
            )
        columns = tuple(cell.strip() for cell in header)
        repeated = sorted({c for c in columns if c and columns.count(c) > 1})
        if repeated:
            raise InputFileError(
                f"{self.path} names the column(s) {', '.join(repeated)} more than once."
            )
        self.columns = columns

    def _captured_lines(self, first_line: str) -> Iterator[str]:
        """The file's lines, each also kept in ``_captured`` until its record is built."""
        if first_line:
            self._captured.append(first_line)
            yield first_line
        for line in self._text:
            self._captured.append(line)
            yield line

    def _csv_records(self) -> Iterator[Record]:
        """1. Parse one row; 2. check its size and encoding; 3. map cells to columns."""
        assert self._csv is not None and self.columns is not None
        reader, columns = self._csv, self.columns
        line_num = reader.line_num
        while True:
            start = line_num + 1
            error: str | None = None
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                cells, error = [], f"The CSV row cannot be read: {exc}"
            except _READ_ERRORS as exc:
                yield _problem(start, "".join(self._captured), "unreadable_file", _unreadable(exc))
                return
            line_num = reader.line_num
            raw = "".join(self._captured).rstrip("\r\n")
            self._captured.clear()
            if error is not None:
                yield _problem(start, raw, "malformed_row", error)
            elif cells:  # not a blank line
                yield _csv_record(start, cells, columns, raw, self._max_fields)

    # -- JSON --------------------------------------------------------------------------

    def _json_lines_records(self) -> Iterator[Record]:
        line = 0
        try:
            for text in self._text:
                line += 1
                if text.strip():
                    yield _json_record(line, text.strip(), self._max_fields)
        except _READ_ERRORS as exc:
            yield _problem(line + 1, "", "unreadable_file", _unreadable(exc))

    def _json_array_records(self) -> Iterator[Record]:
        """Walk the array element by element, so each record knows its line.

        After a syntax error the rest of the array cannot be told apart reliably, so the
        error becomes the last record: everything before it is still imported.
        """
        try:
            doc = self._text.read()
        except _READ_ERRORS as exc:
            yield _problem(1, "", "unreadable_file", _unreadable(exc))
            return
        pos = _skip_space(doc, _skip_space(doc, 0) + 1)  # just after '['
        line, counted_to = 1, 0
        while pos < len(doc) and doc[pos] != "]":
            line += doc.count("\n", counted_to, pos)
            counted_to = pos
            try:
                value, end = _DECODER.raw_decode(doc, pos)
            except ValueError as exc:
                yield _array_syntax_error(line, doc, pos, exc)
                return
            yield _json_value_record(line, value, doc[pos:end], self._max_fields)
            pos = _skip_space(doc, end)
            if doc[pos : pos + 1] == ",":
                pos = _skip_space(doc, pos + 1)  # a trailing comma before ']' is tolerated
            elif doc[pos : pos + 1] not in ("]", ""):
                line += doc.count("\n", counted_to, pos)
                message = "Expected ',' or ']' after this record; the rest of the file was not read"
                yield _problem(line, doc[pos : pos + 200], "invalid_json", message)
                return
        if pos >= len(doc):
            line += doc.count("\n", counted_to)
            message = "The JSON array is not closed with ']'; the file may be truncated"
            yield _problem(line, "", "invalid_json", message)


def _cell_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


_DECODER = json.JSONDecoder()  # NaN and Infinity parse as floats: callers check values


def _skip_space(doc: str, pos: int) -> int:
    while pos < len(doc) and doc[pos] in " \t\r\n":
        pos += 1
    return pos


def _array_syntax_error(line: int, doc: str, pos: int, exc: ValueError) -> Record:
    if isinstance(exc, json.JSONDecodeError):
        line, detail = exc.lineno, f"{exc.msg} (line {exc.lineno} column {exc.colno})"
    else:
        detail = str(exc)
    message = f"Invalid JSON: {detail}; the rest of the file was not read"
    return _problem(line, doc[pos : pos + 200], "invalid_json", message)


def _json_record(line: int, text: str, max_fields: int) -> Record:
    if _UNSTORABLE.search(text):
        return _problem(line, text, "invalid_encoding", _BAD_TEXT)
    try:
        value = _DECODER.decode(text)
    except ValueError as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return _problem(line, text, "invalid_json", f"Invalid JSON: {detail}")
    return _json_value_record(line, value, text, max_fields)


def _json_value_record(line: int, value: object, raw: str, max_fields: int) -> Record:
    if _UNSTORABLE.search(raw):
        return _problem(line, raw, "invalid_encoding", _BAD_TEXT)
    if not isinstance(value, dict):
        kind = _JSON_TYPES.get(type(value), "value")
        return _problem(line, raw, "invalid_json", f"The record is a JSON {kind}, not an object")
    if len(value) > max_fields:
        return _problem(line, raw, "row_too_long", _too_many(len(value), max_fields))
    return Record(line, value, raw)


def _csv_record(
    line: int, cells: list[str], columns: tuple[str, ...], raw: str, max_fields: int
) -> Record:
    if _UNSTORABLE.search(raw):
        return _problem(line, raw, "invalid_encoding", _BAD_TEXT)
    if len(cells) > max_fields:
        return _problem(line, raw, "row_too_long", _too_many(len(cells), max_fields))
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        message = (
            f"The row has {len(cells)} cells but the header has {len(columns)} columns "
            "(an unquoted delimiter in a value?)"
        )
        return _problem(line, raw, "malformed_row", message)
    # Missing trailing cells are empty, as spreadsheets and pandas read them.
    cells = cells + [""] * (len(columns) - len(cells))
    values: dict[str, object] = {c: v for c, v in zip(columns, cells, strict=False) if c}
    return Record(line, values, raw)


_BAD_TEXT = "The record holds bytes that are not UTF-8 text, or a NUL character"
_JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean",
               list: "array", type(None): "null"}  # fmt: skip


def _problem(line: int, raw: str, code: str, message: str) -> Record:
    return Record(line, {}, storable(raw.rstrip("\r\n")), Problem(code, message))


def _too_many(count: int, max_fields: int) -> str:
    return f"The record has {count} fields; at most {max_fields} are accepted"


def _unreadable(exc: BaseException) -> str:
    return f"The file cannot be read beyond this point ({exc or type(exc).__name__})"


def storable(text: str) -> str:
    """``text`` made safe to store: undecodable bytes and NUL become U+FFFD."""
    if not _UNSTORABLE.search(text):
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _UNSTORABLE.sub("\ufffd", text)


# -- opening ---------------------------------------------------------------------------

_LAYOUT_BY_SUFFIX = {
    ".csv": Layout.CSV,
    ".json": Layout.JSON_ARRAY,  # or JSON Lines: decided by the first character
    ".jsonl": Layout.JSON_LINES,
    ".ndjson": Layout.JSON_LINES,
}


def open_records(path: Path, *, max_fields: int = MAX_FIELDS) -> RecordFile:
    """Open ``path`` for reading its records, or raise :class:`InputFileError`.

    1. The format comes from the extension: ``.csv``, ``.json``, ``.jsonl``/``.ndjson``,
       each optionally followed by ``.gz``.
    2. The first 64 KiB must decode as UTF-8 (a UTF-8 BOM is dropped): a file in
       another encoding is refused rather than imported as mojibake. Later undecodable
       bytes only reject the record that holds them.
    3. A ``.json`` file starting with ``[`` is an array of objects, with ``{`` JSON Lines.
    4. For CSV, the delimiter (``,`` ``;`` tab ``|``) is the one that splits the first
       line into the most cells, and the header row is read.
    """
    compressed = path.suffix.lower() == ".gz"
    suffix = (path.with_suffix("") if compressed else path).suffix.lower()
    layout = _LAYOUT_BY_SUFFIX.get(suffix)
    if layout is None:
        raise InputFileError(
            f"Cannot tell the format of {path} from its name: use .csv, .json, .jsonl or "
            ".ndjson, optionally followed by .gz."
        )
    if not path.exists():
        raise InputFileError(f"File {path} does not exist.")
    if not path.is_file():
        raise InputFileError(f"{path} is not a file.")
    try:
        raw: BinaryIO = path.open("rb")
    except OSError as exc:
        raise InputFileError(f"File {path} cannot be read: {exc.strerror}.") from None
    try:
        return _open_stream(path, raw, compressed, layout, max_fields)
    except BaseException:
        raw.close()
        raise


def _open_stream(
    path: Path, raw: BinaryIO, compressed: bool, layout: Layout, max_fields: int
) -> RecordFile:
    binary: _Binary = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
    try:
        head = binary.read(_HEAD_BYTES)
        binary.seek(0)  # cheap for gzip too: only the head is decompressed again
    except _READ_ERRORS as exc:
        what = "a valid gzip file" if compressed else "readable"
        raise InputFileError(f"File {path} is not {what}: {exc}.") from None
    head_text = _check_utf8(path, head, final=len(head) < _HEAD_BYTES)
    if layout is not Layout.CSV:
        layout = _json_layout(path, head_text, layout)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return RecordFile(path, layout, raw, text, max_fields)


def _check_utf8(path: Path, head: bytes, *, final: bool) -> str:
    try:
        return codecs.getincrementaldecoder("utf-8-sig")("strict").decode(head, final=final)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"File {path} is not UTF-8 text (byte 0x{head[exc.start]:02x} at offset "
            f"{exc.start} cannot be decoded): export it again as UTF-8."
        ) from None


def _json_layout(path: Path, head_text: str, suffix_layout: Layout) -> Layout:
    stripped = head_text.lstrip()
    if stripped.startswith("["):
        return Layout.JSON_ARRAY
    if suffix_layout is Layout.JSON_LINES or stripped.startswith("{"):
        return Layout.JSON_LINES
    if not stripped:
        raise InputFileError(f"File {path} is empty.")
    raise InputFileError(
        f"File {path} is neither a JSON array of objects nor JSON Lines "
        f"(it starts with {stripped[:20]!r})."
    )
