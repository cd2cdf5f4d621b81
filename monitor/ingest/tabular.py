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
import zlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, TypeAlias

from monitor.errors import InputFileError
from monitor.ingest.records import (
    JSON_DECODER,
    Record,
    array_syntax_error,
    csv_record,
    json_record,
    json_value_record,
    problem_record,
    unreadable,
)

if TYPE_CHECKING:
    from _csv import Reader

MAX_FIELDS = 200
"""More fields than this in one record is a broken file, not a CRM export."""

_HEAD_BYTES = 65_536  # read before anything else: encoding check, layout and delimiter
_DELIMITERS = (",", ";", "\t", "|")  # spreadsheet exports in some locales use ';' or tabs
_READ_ERRORS = (OSError, EOFError, zlib.error)  # a truncated or corrupt file mid-way


_Binary: TypeAlias = BinaryIO | gzip.GzipFile


class Layout(StrEnum):
    CSV = "csv"
    JSON_ARRAY = "json"
    JSON_LINES = "jsonl"


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
            return self.csv_records()
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

    def csv_records(self) -> Iterator[Record]:
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
                yield problem_record(
                    start, "".join(self._captured), "unreadable_file", unreadable(exc)
                )
                return
            line_num = reader.line_num
            raw = "".join(self._captured).rstrip("\r\n")
            self._captured.clear()
            if error is not None:
                yield problem_record(start, raw, "malformed_row", error)
            elif cells:  # not a blank line
                yield csv_record(start, cells, columns, raw, self._max_fields)

    # -- JSON --------------------------------------------------------------------------

    def _json_lines_records(self) -> Iterator[Record]:
        line = 0
        try:
            for text in self._text:
                line += 1
                if text.strip():
                    yield json_record(line, text.strip(), self._max_fields)
        except _READ_ERRORS as exc:
            yield problem_record(line + 1, "", "unreadable_file", unreadable(exc))

    def _json_array_records(self) -> Iterator[Record]:
        """Walk the array element by element, so each record knows its line.

        After a syntax error the rest of the array cannot be told apart reliably, so the
        error becomes the last record: everything before it is still imported.
        """
        try:
            doc = self._text.read()
        except _READ_ERRORS as exc:
            yield problem_record(1, "", "unreadable_file", unreadable(exc))
            return
        pos = _skip_space(doc, _skip_space(doc, 0) + 1)  # just after '['
        line, counted_to = 1, 0
        while pos < len(doc) and doc[pos] != "]":
            line += doc.count("\n", counted_to, pos)
            counted_to = pos
            try:
                value, end = JSON_DECODER.raw_decode(doc, pos)
            except ValueError as exc:
                yield array_syntax_error(line, doc, pos, exc)
                return
            yield json_value_record(line, value, doc[pos:end], self._max_fields)
            pos = _skip_space(doc, end)
            if doc[pos : pos + 1] == ",":
                pos = _skip_space(doc, pos + 1)  # a trailing comma before ']' is tolerated
            elif doc[pos : pos + 1] not in ("]", ""):
                line += doc.count("\n", counted_to, pos)
                message = "Expected ',' or ']' after this record; the rest of the file was not read"
                yield problem_record(line, doc[pos : pos + 200], "invalid_json", message)
                return
        if pos >= len(doc):
            line += doc.count("\n", counted_to)
            message = "The JSON array is not closed with ']'; the file may be truncated"
            yield problem_record(line, "", "invalid_json", message)


def _cell_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def _skip_space(doc: str, pos: int) -> int:
    while pos < len(doc) and doc[pos] in " \t\r\n":
        pos += 1
    return pos


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
