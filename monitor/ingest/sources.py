"""Input files for line-oriented imports: plain or gzip, read in bounded batches of lines.

The file is read in fixed-size chunks and split on newlines, so memory depends on the
batch size and the longest allowed line, never on the size of the file. A line longer
than the caller's limit is cut to ``limit + 1`` bytes while it is read: the parser then
sees that it is too long (and keeps its start for the dead-letter row) without the
whole line ever being held in memory.

:func:`read_ahead` runs such a pipeline one step ahead in a background thread.
"""

from __future__ import annotations

import gzip
import queue
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TypeVar

from monitor.errors import InputFileError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 1 << 20
"""Bytes decoded per read: large enough to amortise the call, small next to a batch."""

T = TypeVar("T")

_READ_ERRORS = (OSError, EOFError, zlib.error)  # BadGzipFile is an OSError


@dataclass(slots=True)
class LineBatch:
    """Consecutive lines of the input, with what is needed to number and report them."""

    first_line: int
    """The 1-based line number of ``lines[0]``."""
    lines: list[bytes]
    """Raw lines without their newline; blank lines are kept so numbering stays exact."""
    consumed: int
    """File bytes (compressed bytes for gzip) read since the previous batch: for progress."""


class LineSource:
    """An open input file. Use :func:`open_source` to get one, and close it (``with``)."""

    def __init__(self, path: Path, raw: BinaryIO, stream: BinaryIO) -> None:
        self.path = path
        self.compressed = stream is not raw
        self._raw = raw
        self._stream = stream

    def __enter__(self) -> LineSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()
        self._raw.close()

    def batches(self, batch_size: int, max_line_bytes: int) -> Iterator[LineBatch]:
        """Yield the file's lines in batches of ``batch_size`` (the last may be shorter).

        Lines longer than ``max_line_bytes`` arrive cut to ``max_line_bytes + 1`` bytes.
        If the file turns out unreadable part-way (a truncated or corrupt gzip stream),
        the complete lines before the damage are yielded first, then
        :class:`InputFileError` is raised naming the line where reading stopped.
        """
        pending: list[bytes] = []
        next_line = 1
        reported = 0
        failure: str | None = None
        chunks = self._lines_by_chunk(max_line_bytes)
        while True:
            try:
                pending.extend(next(chunks))
            except StopIteration:
                break
            except _READ_ERRORS as exc:
                failure = _describe_read_error(exc)
                break
            while len(pending) >= batch_size:
                batch, pending = pending[:batch_size], pending[batch_size:]
                position = self._raw.tell()
                yield LineBatch(next_line, batch, position - reported)
                next_line += len(batch)
                reported = position
        position = self._raw.tell()
        if pending or position > reported:
            yield LineBatch(next_line, pending, position - reported)
        if failure is not None:
            last_read = next_line + len(pending) - 1
            if last_read == 0:
                raise InputFileError(f"{self.path} cannot be read: {failure}.")
            raise InputFileError(
                f"{self.path} could not be read past line {last_read} ({failure}); "
                "the lines up to it were imported."
            )

    def _lines_by_chunk(self, max_line_bytes: int) -> Iterator[list[bytes]]:
        """Split the stream into complete lines, one list per chunk read.

        ``carry`` holds the unfinished last line of the previous chunk; it is kept to
        ``max_line_bytes + 1`` bytes so an endless line cannot exhaust memory.
        """
        keep = max_line_bytes + 1
        carry = b""
        first = True
        while chunk := self._stream.read(CHUNK_BYTES):
            if first:
                chunk = chunk.removeprefix(UTF8_BOM)
                first = False
            lines = chunk.split(b"\n")
            if carry:
                lines[0] = (carry + lines[0])[:keep]
            carry = lines.pop()
            if len(carry) > keep:
                carry = carry[:keep]
            yield lines
        if carry:
            yield [carry]


def _describe_read_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip data ends too early: the file is truncated"
    if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile) and exc.strerror:
        return str(exc.strerror)
    return f"corrupt gzip data: {exc}"


def open_source(path: Path) -> LineSource:
    """Open ``path`` for reading lines, decompressing it if it is gzip.

    Gzip is recognised by its magic bytes, so a compressed file works whatever its
    name; a file named ``.gz`` that is not gzip is an error rather than garbage lines.
    Raises :class:`InputFileError` with one sentence when the file cannot be read.
    """
    if path.is_dir():
        raise InputFileError(f"{path} is a directory, not a file.")
    try:
        raw: BinaryIO = path.open("rb")
    except FileNotFoundError:
        raise InputFileError(f"{path} does not exist.") from None
    except PermissionError:
        raise InputFileError(f"{path} cannot be read: permission denied.") from None
    except OSError as exc:
        raise InputFileError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    try:
        magic = raw.read(len(GZIP_MAGIC))
        raw.seek(0)
    except OSError as exc:
        raw.close()
        raise InputFileError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if magic == GZIP_MAGIC:
        return LineSource(path, raw, gzip.GzipFile(fileobj=raw, mode="rb"))  # type: ignore[arg-type]
    if path.suffix.lower() == ".gz":
        raw.close()
        raise InputFileError(f"{path} is named .gz but is not a gzip file.")
    return LineSource(path, raw, raw)


class _End:
    """The producer's last word: finished, or failed with ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


@contextmanager
def read_ahead(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """Iterate ``items`` while a background thread already computes the next one.

    Used to parse batch N+1 while batch N is being written: the database drivers
    release the GIL while they work, so the two overlap on two cores. The thread
    starts on item N+2 only once the caller has taken item N+1, so at most two items
    exist at a time. An exception raised by ``items`` reaches the caller at its place
    in the sequence; leaving the block early stops the thread before it returns.
    """
    handoff: queue.Queue[T | _End] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: T | _End) -> bool:
        if stop.is_set():
            return False
        handoff.put(item)
        handoff.join()  # until the caller has taken it
        return not stop.is_set()

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as exc:  # handed over to the consumer, re-raised there
            offer(_End(exc))
            return
        offer(_End(None))

    def consume() -> Iterator[T]:
        while True:
            item = handoff.get()
            handoff.task_done()
            if isinstance(item, _End):
                break
            yield item
        if item.error is not None:
            raise item.error

    thread = threading.Thread(target=produce, name="csmon-read-ahead", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        # After ``stop`` the producer hands over at most one more item: take it.
        while thread.is_alive():
            try:
                handoff.get_nowait()
                handoff.task_done()
            except queue.Empty:
                thread.join(timeout=0.05)
