"""Reading CSV, JSON arrays and JSON Lines (plain or gzip): records, line numbers, problems."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from monitor.errors import InputFileError
from monitor.ingest.records import Record
from monitor.ingest.tabular import Layout, open_records


def read(path: Path) -> list[Record]:
    with open_records(path) as source:
        return list(source.records())


def write(path: Path, text: str | bytes) -> Path:
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if path.suffix.lower() == ".gz" else data)
    return path


def summary(records: list[Record]) -> list[tuple[int, str]]:
    """(line, first value or problem code) per record: what a reader of a report sees."""
    return [
        (r.line, r.problem.code if r.problem else str(next(iter(r.values.values()))))
        for r in records
    ]


# -- CSV -------------------------------------------------------------------------------


def test_csv_records_know_the_line_they_start_on_and_their_raw_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv",
        'id,note\n\nA1,plain\nA2,"two\nlines"\n\n\nA3,"say ""hi"""\n',
    )
    records = read(path)
    assert [(r.line, r.values) for r in records] == [
        (3, {"id": "A1", "note": "plain"}),
        (4, {"id": "A2", "note": "two\nlines"}),
        (8, {"id": "A3", "note": 'say "hi"'}),
    ]
    assert records[1].raw == 'A2,"two\nlines"'
    assert records[2].raw == 'A3,"say ""hi"""'


def test_csv_header_is_stripped_and_semicolons_and_a_bom_are_understood(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "\ufeff id ; Name \r\nA1;Acme, Inc\r\n")
    with open_records(path) as source:
        assert source.layout is Layout.CSV
        assert source.columns == ("id", "Name")
        assert [r.values for r in source.records()] == [{"id": "A1", "Name": "Acme, Inc"}]


def test_csv_short_rows_are_padded_and_extra_cells_must_be_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id,a,b\nA1\nA2,x,y,,\nA3,x,y,z\nA4,x,y\n")
    records = read(path)
    assert records[0].values == {"id": "A1", "a": "", "b": ""}
    assert records[1].values == {"id": "A2", "a": "x", "b": "y"}
    assert records[2].problem is not None
    assert (records[2].line, records[2].problem.code) == (4, "malformed_row")
    assert "4 cells but the header has 3 columns" in records[2].problem.message
    assert records[2].raw == "A3,x,y,z"
    assert records[3].values == {"id": "A4", "a": "x", "b": "y"}


def test_csv_row_with_more_than_200_fields_is_too_long(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id,a\nA1," + ",".join("x" * 201) + "\nA2,b\n")
    assert summary(read(path)) == [(2, "row_too_long"), (3, "A2")]


def test_csv_row_the_parser_refuses_is_malformed_and_reading_goes_on(tmp_path: Path) -> None:
    huge = "x" * 200_000  # above the csv module's field size limit
    path = write(tmp_path / "a.csv", f"id,a\nA1,{huge}\nA2,b\n")
    records = read(path)
    assert summary(records) == [(2, "malformed_row"), (3, "A2")]
    assert records[0].problem is not None and "field larger than" in records[0].problem.message


def test_csv_ignores_columns_without_a_name(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id,,a,\nA1,junk,x,\n")
    assert read(path)[0].values == {"id": "A1", "a": "x"}


def test_csv_header_problems_refuse_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="has no header row"):
        open_records(write(tmp_path / "empty.csv", "\n\n"))
    with pytest.raises(InputFileError, match="names the column"):
        open_records(write(tmp_path / "twice.csv", "id,a,a\n1,2,3\n"))
    with pytest.raises(InputFileError, match="201 columns"):
        open_records(write(tmp_path / "wide.csv", ",".join(f"c{i}" for i in range(201))))


def test_undecodable_bytes_after_the_start_reject_only_their_row(tmp_path: Path) -> None:
    filler = "".join(f"F{i},{'x' * 60}\n" for i in range(1200))  # > 64 KiB of good rows
    path = write(tmp_path / "a.csv", ("id,v\n" + filler).encode() + b"BAD,caf\xe9\nOK,1\n")
    records = read(path)
    bad = records[-2]
    assert bad.problem is not None and bad.problem.code == "invalid_encoding"
    assert bad.line == 1202 and bad.raw == "BAD,caf\ufffd"
    assert records[-1].values == {"id": "OK", "v": "1"}
    assert sum(r.problem is None for r in records) == 1201


def test_nul_characters_reject_the_row_and_never_reach_the_raw_text(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", "id,v\nA1,a\x00b\nA2,ok\n"))
    assert summary(records) == [(2, "invalid_encoding"), (3, "A2")]
    assert records[0].raw == "A1,a\ufffdb"


def test_a_file_not_in_utf8_is_refused_with_the_offending_byte(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.csv", "id,name\nA1,Café\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"not UTF-8 text \(byte 0xe9 at offset 14"):
        open_records(path)


# -- JSON ------------------------------------------------------------------------------


def test_json_array_records_know_their_line(tmp_path: Path) -> None:
    doc = [{"id": "A1"}, {"id": "A2", "tags": ["x", "y"]}, {"id": "A3"}]
    path = write(tmp_path / "a.json", json.dumps(doc, indent=2))
    records = read(path)
    assert [(r.line, r.values) for r in records] == [(2, doc[0]), (5, doc[1]), (12, doc[2])]
    assert json.loads(records[1].raw) == doc[1]


def test_json_array_elements_that_are_not_objects_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", '[\n{"id": "A1"},\n"oops",\nnull,\n{"id": "A2"},\n]')
    records = read(path)
    assert summary(records) == [(2, "A1"), (3, "invalid_json"), (4, "invalid_json"), (5, "A2")]
    assert (
        records[1].problem is not None
        and "is a JSON string, not an object" in records[1].problem.message
    )


def test_json_array_syntax_error_keeps_the_records_before_it(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", '[\n{"id": "A1"},\n{"id": "A2" "x": 1},\n{"id": "A3"}\n]')
    records = read(path)
    assert summary(records) == [(2, "A1"), (3, "invalid_json")]
    assert records[1].problem is not None
    assert "the rest of the file was not read" in records[1].problem.message


def test_json_array_that_breaks_off_reports_where(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.json", '[{"id": "A1"},\n {"id": "A2"}\n'))
    assert summary(records) == [(1, "A1"), (2, "A2"), (3, "invalid_json")]
    assert records[2].problem is not None and "not closed" in records[2].problem.message


def test_json_lines_skip_blank_lines_and_reject_bad_ones(tmp_path: Path) -> None:
    text = '{"id": "A1"}\n\n{"id": \n[1, 2]\n{"id": "A2"}\r\n'
    for name in ("a.jsonl", "a.ndjson", "lines.json"):  # a .json file starting with '{'
        records = read(write(tmp_path / name, text))
        assert summary(records) == [(1, "A1"), (3, "invalid_json"), (4, "invalid_json"), (5, "A2")]
        assert records[1].raw == '{"id":'


def test_json_that_is_neither_an_array_nor_lines_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="neither a JSON array of objects nor JSON Lines"):
        open_records(write(tmp_path / "a.json", '"just a string"'))
    with pytest.raises(InputFileError, match="is empty"):
        open_records(write(tmp_path / "b.json", "  \n"))
    assert read(write(tmp_path / "c.jsonl", "")) == []


# -- files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.csv.gz", "a.json.gz", "a.jsonl.gz", "A.CSV.GZ"])
def test_gzip_files_read_like_plain_ones(tmp_path: Path, name: str) -> None:
    text = {
        "csv": "id,n\nA1,1\nA2,2\n",
        "json": '[{"id": "A1", "n": "1"},\n {"id": "A2", "n": "2"}]',
        "jsonl": '{"id": "A1", "n": "1"}\n{"id": "A2", "n": "2"}\n',
    }[name.lower().split(".")[1]]
    path = write(tmp_path / name, text)
    with open_records(path) as source:
        assert [r.values for r in source.records()] == [
            {"id": "A1", "n": "1"},
            {"id": "A2", "n": "2"},
        ]
        assert source.bytes_read() == path.stat().st_size


def test_truncated_gzip_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    rows = "".join(f'{{"id": "A{i}"}}\n' for i in range(20_000))
    data = gzip.compress(rows.encode())
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    records = read(path)
    assert records[-1].problem is not None and records[-1].problem.code == "unreadable_file"
    good = records[:-1]
    assert len(good) > 1000 and all(r.problem is None for r in good[:-1])
    assert [r.line for r in good[:3]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", "x", "Cannot tell the format of .* use .csv, .json"),
        ("missing.csv", None, "does not exist"),
        ("a.csv.gz", "not gzip", "is not a valid gzip file"),
    ],
)
def test_unreadable_files_raise_one_sentence(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=message):
        open_records(path)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputFileError, match="is not a file"):
        open_records(tmp_path / "dir.csv")
