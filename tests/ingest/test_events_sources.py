"""Reading event files: batching, line numbers, gzip, over-long lines, read-ahead (no database)."""

from __future__ import annotations

import gzip
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.errors import InputFileError
from monitor.ingest.sources import CHUNK_BYTES, LineBatch, open_source, read_ahead


def batches(path: Path, size: int = 2, limit: int = 1_000) -> list[LineBatch]:
    with open_source(path) as source:
        return list(source.batches(size, limit))


def test_lines_come_in_batches_numbered_from_one_with_blank_lines_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\xef\xbb\xbfa\r\n\nb\nc\nd")  # BOM, CRLF, blank line, no final newline

    got = batches(path, size=2)

    assert [(b.first_line, b.lines) for b in got] == [
        (1, [b"a\r", b""]),
        (3, [b"b", b"c"]),
        (5, [b"d"]),
    ]
    assert sum(b.consumed for b in got) == path.stat().st_size


def test_gzip_is_recognised_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(gzip.compress(b"x\ny\n"))
    got = batches(path)
    assert [b.lines for b in got] == [[b"x", b"y"]]
    assert sum(b.consumed for b in got) == path.stat().st_size


def test_a_line_longer_than_the_limit_arrives_cut_and_the_next_line_is_intact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"ok\n" + b"x" * (3 * CHUNK_BYTES + 5) + b"\nnext\n")

    (batch,) = batches(path, size=10, limit=100)

    assert [len(line) for line in batch.lines] == [2, 101, 4]
    assert batch.lines[2] == b"next"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.jsonl", None, r"does not exist\.$"),
        ("fake.jsonl.gz", b"{}\n", r"is named \.gz but is not a gzip file\.$"),
        ("folder", "dir", r"is a directory, not a file\.$"),
    ],
)
def test_unreadable_files_are_one_sentence_errors(
    tmp_path: Path, name: str, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        open_source(path)


def test_corrupt_gzip_header_is_reported_without_any_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    with pytest.raises(InputFileError, match=r"cannot be read: corrupt gzip data"):
        batches(path)


def test_read_ahead_yields_everything_in_order() -> None:
    with read_ahead(iter(range(50))) as items:
        assert list(items) == list(range(50))


def test_read_ahead_raises_a_producer_error_at_its_place_in_the_sequence() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise InputFileError("broken after 2.")

    seen: list[int] = []
    with pytest.raises(InputFileError, match="broken after 2"), read_ahead(failing()) as items:
        seen.extend(items)
    assert seen == [1, 2]


def test_leaving_read_ahead_early_stops_its_thread() -> None:
    produced = itertools.count()
    before = threading.active_count()
    with read_ahead(produced) as items:
        assert next(items) == 0
    assert threading.active_count() == before
    # The producer stopped: it ran at most a couple of items ahead, not forever.
    assert next(produced) <= 4
