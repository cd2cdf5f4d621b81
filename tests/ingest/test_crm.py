"""``csmon import accounts|users|contracts``: formats, typing, rejects, re-imports, stubs, CLI."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.clock import FixedClock
from monitor.errors import InputFileError
from monitor.ingest.crm import import_accounts, import_contracts, import_users
from monitor.store.schema import accounts, contracts, import_rejects, imports, users

FORMATS = ["csv", "json", "jsonl", "ndjson", "csv.gz", "json.gz", "jsonl.gz"]

ACCOUNTS: list[dict[str, Any]] = [
    {
        "account_id": "A1",
        "name": "Acme",
        "arr": 120000.5,
        "seats": 40,
        "plan": "enterprise",
        "csm_email": "Jane@Example.com",
        "renewal_date": "2026-12-31",
        "created_at": "2024-03-01T23:30:00-05:00",
        "industry": "saas",
        "strategic": True,
        "employees": 250,
    },
    {
        "account_id": "A2",
        "name": "Beta GmbH",
        "arr": 0,
        "seats": 3,
        "plan": None,
        "csm_email": None,
        "renewal_date": None,
        "created_at": "2025-07-15",
        "industry": "retail",
        "strategic": False,
        "employees": None,
    },
]
USERS: list[dict[str, Any]] = [
    {"user_id": "U1", "account_id": "A1", "email": "Pat@Example.com", "role": "Decision Maker"},
    {"user_id": "U2", "account_id": "A1", "email": None, "role": "champion"},
    {"user_id": "U3", "account_id": "A3", "email": "sam@example.org", "role": None},
]
CONTRACTS: list[dict[str, Any]] = [
    {
        "contract_id": "C1",
        "account_id": "A1",
        "start": "2026-01-01",
        "end": "2027-03-31",
        "arr": 120000.5,
        "status": "Active",
    },
    {
        "contract_id": "C2",
        "account_id": "A4",
        "start": "2024-01-01",
        "end": "2024-12-31",
        "arr": 5000,
        "status": "churned",
    },
]


def write_records(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write ``records`` in the format ``path``'s extension names (values typed for JSON)."""
    base = path.name.removesuffix(".gz").rsplit(".", 1)[1]
    if base == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, list(dict.fromkeys(k for r in records for k in r)), lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in records)
        text = buffer.getvalue()
    elif base == "json":
        text = json.dumps(records, indent=2)
    else:
        text = "".join(json.dumps(r) + "\n" for r in records)
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def table(engine: Engine, tbl: Table, *, with_updated_at: bool = False) -> list[dict[str, Any]]:
    key = next(iter(tbl.primary_key.columns))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(tbl).order_by(key)).mappings()]
    if not with_updated_at:
        for row in rows:
            row.pop("updated_at", None)
    return rows


def rejects(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        query = select(import_rejects.c.line, import_rejects.c.reason_code)
        return [tuple(r) for r in conn.execute(query.order_by(import_rejects.c.reject_id))]


def reasons(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        query = select(import_rejects.c.reason).order_by(import_rejects.c.reject_id)
        return list(conn.scalars(query))


# -- formats and typing ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_imports_every_kind(
    engine: Engine, clock: FixedClock, tmp_path: Path, fmt: str
) -> None:
    report = import_accounts(engine, write_records(tmp_path / f"a.{fmt}", ACCOUNTS), clock=clock)
    assert (report.kind, report.accepted, report.duplicate, report.rejected) == (
        "accounts",
        2,
        0,
        0,
    )
    report = import_users(engine, write_records(tmp_path / f"u.{fmt}", USERS), clock=clock)
    assert (report.accepted, report.stub_accounts) == (3, ["A3"])
    report = import_contracts(engine, write_records(tmp_path / f"c.{fmt}", CONTRACTS), clock=clock)
    assert (report.accepted, report.stub_accounts) == (2, ["A4"])

    a1, a2, a3, a4 = table(engine, accounts)
    assert a1 == {
        "account_id": "A1",
        "name": "Acme",
        "arr": 120000.5,
        "seats": 40,
        "plan": "enterprise",
        "csm_email": "jane@example.com",
        "renewal_date": date(2026, 12, 31),
        "created_at": date(2024, 3, 1),  # the date as written, not shifted to UTC
        "attributes": {"industry": "saas", "strategic": True, "employees": 250},
        "is_stub": False,
    }
    assert (a2["arr"], a2["plan"], a2["renewal_date"]) == (0.0, None, None)
    assert a2["attributes"] == {"industry": "retail", "strategic": False}
    assert (a3["is_stub"], a4["is_stub"]) == (True, True)
    assert table(engine, users) == [
        {"user_id": "U1", "account_id": "A1", "email": "pat@example.com", "role": "decision_maker"},
        {"user_id": "U2", "account_id": "A1", "email": None, "role": "champion"},
        {"user_id": "U3", "account_id": "A3", "email": "sam@example.org", "role": None},
    ]
    assert table(engine, contracts)[0] == {
        "contract_id": "C1",
        "account_id": "A1",
        "start_date": date(2026, 1, 1),
        "end_date": date(2027, 3, 31),
        "arr": 120000.5,
        "status": "active",
    }


def test_csv_free_attributes_get_light_typing(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "a.csv",
        "account_id,name,Industry,Strategic,employees,nps,zip,churn risk,note,Tier Override\n"
        "A1,Acme,SaaS,Yes,250,8.5,01234,NO,,b\n",
    )
    import_accounts(engine, path, clock=clock)
    assert table(engine, accounts)[0]["attributes"] == {
        "industry": "SaaS",
        "strategic": True,
        "employees": 250,
        "nps": 8.5,
        "zip": "01234",  # a leading zero makes it a code, not a number
        "churn_risk": False,
        "tier_override": "B",
    }


def test_json_attributes_keep_their_types(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    record = {
        "account_id": 1001,  # numeric ids are taken as their digits
        "name": "Acme",
        "employees": "250",
        "ratio": 1.0,
        "flags": {"beta": True, "regions": ["eu", "us"]},
        "strategic": "yes",
        "gone": None,
        "blank": " ",
    }
    import_accounts(engine, write_records(tmp_path / "a.json", [record]), clock=clock)
    row = table(engine, accounts)[0]
    assert row["account_id"] == "1001"
    assert row["attributes"] == {
        "employees": "250",
        "ratio": 1.0,
        "flags": {"beta": True, "regions": ["eu", "us"]},
        "strategic": True,
    }


@pytest.mark.parametrize(
    ("arr", "expected"),
    [
        ("12000.50", 12000.5),
        ("12,000.50", 12000.5),
        ("12_000", 12000.0),
        ("$12,000", 12000.0),
        ("€ 1,234,567.5", 1234567.5),
        ("900 £", 900.0),
        ("1.5e3", 1500.0),
        ("", 0.0),
    ],
)
def test_accepted_number_formats(
    engine: Engine, clock: FixedClock, tmp_path: Path, arr: str, expected: float
) -> None:
    path = write(tmp_path / "a.csv", f'account_id,name,arr,seats\nA1,Acme,"{arr}","1,200"\n')
    assert import_accounts(engine, path, clock=clock).accepted == 1
    assert (table(engine, accounts)[0]["arr"], table(engine, accounts)[0]["seats"]) == (
        expected,
        1200,
    )


# -- rejects -----------------------------------------------------------------------------


def test_every_account_reject_reason_is_kept_with_its_line_and_the_good_rows_stay(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    long_id = "X" * 201
    path = write(
        tmp_path / "a.csv",
        "account_id,name,arr,seats,csm_email,renewal_date,tier_override\n"  # line 1
        "A1,Good One,100,1,,,\n"
        "A2,,100,1,,,\n"
        'A3,Bad Arr,"12,5",1,,,\n'
        'A4,Good Two,"$1,000",2,,,\n'
        "A5,Bad Date,1,1,,31/12/2026,\n"
        "A6,Bad Email,1,1,jane(at)example.com,,\n"
        "A7,Bad Tier,1,1,,,Q\n"
        "A8,Negative,-5,1,,,\n"
        f"{long_id},Long Id,1,1,,,\n"
        "A1,Again,1,1,,,\n"
        "A9,Shifted,1,1,,,,x\n"
        "A10,Nul\x00,1,1,,,\n"
        "A11,Seats,1,2.5,,,\n"
        "A12,Good Three,1,1,,,\n",
    )
    report = import_accounts(engine, path, clock=clock)

    assert [a["account_id"] for a in table(engine, accounts)] == ["A1", "A12", "A4"]
    assert table(engine, accounts)[0]["name"] == "Good One"  # the first occurrence wins
    assert rejects(engine) == [
        (3, "missing_field"),
        (4, "invalid_number"),
        (6, "invalid_date"),
        (7, "invalid_email"),
        (8, "invalid_value"),
        (9, "invalid_value"),
        (10, "row_too_long"),
        (11, "duplicate_in_file"),
        (12, "malformed_row"),
        (13, "invalid_encoding"),
        (14, "invalid_number"),
    ]
    texts = reasons(engine)
    assert texts[0] == "name is missing."
    assert "'12,5' is not a number" in texts[1]
    assert "already appeared on line 2" in texts[7]
    assert (report.accepted, report.rejected, report.rows) == (3, 11, 14)
    assert report.rejected_by_reason["invalid_value"] == 2


def test_a_row_with_several_problems_names_them_all(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.csv", "account_id,name,arr,renewal_date\nA1,Acme,lots,soon\n")
    import_accounts(engine, path, clock=clock)
    assert rejects(engine) == [(2, "invalid_number")]
    assert reasons(engine) == [
        "arr 'lots' is not a number such as 12000.50 or $12,000.50; "
        "renewal_date 'soon' is not an ISO date (YYYY-MM-DD)."
    ]


def test_json_values_no_column_can_store_are_rejected(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    lines = [
        '{"account_id": "A1", "name": "Acme", "arr": NaN}',
        '{"account_id": "A2", "name": "Beta", "score": [1, Infinity]}',
        '{"account_id": "A3", "name": "Nul\\u0000name"}',
        '{"account_id": "A4", "name": "Good", "arr": 1e3}',
    ]
    import_accounts(engine, write(tmp_path / "a.jsonl", "\n".join(lines)), clock=clock)
    assert rejects(engine) == [
        (1, "invalid_number"),
        (2, "invalid_number"),
        (3, "invalid_encoding"),
    ]
    assert [(a["account_id"], a["arr"]) for a in table(engine, accounts)] == [("A4", 1000.0)]


def test_contract_and_user_rejects(engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    good = {"contract_id": "C1", "account_id": "A1", "start_date": "2026-01-01",
            "end_date": "2026-12-31", "arr": 10, "status": "RENEWED"}  # fmt: skip
    lines = [
        json.dumps(good),
        json.dumps(good | {"contract_id": "C2", "end_date": "2025-12-31"}),
        json.dumps(good | {"contract_id": "C3", "status": "pending"}),
        "not json",
        '["C4"]',
        json.dumps(good | {"contract_id": "C5", "arr": None}),
        json.dumps(good | {"contract_id": "C6", "end_date": "2026-01-01"}),  # one-day contract
    ]
    path = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    report = import_contracts(engine, path, clock=clock)
    assert [c["contract_id"] for c in table(engine, contracts)] == ["C1", "C6"]
    assert table(engine, contracts)[0]["status"] == "renewed"
    assert rejects(engine) == [
        (2, "end_before_start"),
        (3, "invalid_value"),
        (4, "invalid_json"),
        (5, "invalid_json"),
        (6, "missing_field"),
    ]
    assert report.stub_accounts == ["A1"]

    path = write(
        tmp_path / "u.csv",
        "user_id,account_id,email,role\nU1,A1,x@y.io,boss\nU2,A1,nope,user\nU3,A1,,Decision-Maker\n",
    )
    import_users(engine, path, clock=clock)
    assert rejects(engine)[-2:] == [(2, "invalid_value"), (3, "invalid_email")]
    assert table(engine, users)[0]["role"] == "decision_maker"


# -- re-imports --------------------------------------------------------------------------


def import_all(engine: Engine, clock: FixedClock, tmp_path: Path, fmt: str) -> list[Any]:
    return [
        import_accounts(engine, write_records(tmp_path / f"a.{fmt}", ACCOUNTS), clock=clock),
        import_users(engine, write_records(tmp_path / f"u.{fmt}", USERS), clock=clock),
        import_contracts(engine, write_records(tmp_path / f"c.{fmt}", CONTRACTS), clock=clock),
    ]


def snapshot(engine: Engine) -> list[list[dict[str, Any]]]:
    return [table(engine, t, with_updated_at=True) for t in (accounts, users, contracts)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_reimporting_the_same_files_changes_nothing(
    engine: Engine, clock: FixedClock, tmp_path: Path, fmt: str
) -> None:
    import_all(engine, clock, tmp_path, fmt)
    before = snapshot(engine)
    clock.advance(timedelta(days=1))

    reports = import_all(engine, clock, tmp_path, fmt)

    assert [(r.accepted, r.duplicate, r.stub_accounts) for r in reports] == [
        (0, 2, []),
        (0, 3, []),
        (0, 2, []),
    ]
    assert snapshot(engine) == before  # updated_at included


def test_an_edited_reimport_updates_only_the_changed_row(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    first = clock.now()
    import_accounts(engine, write_records(tmp_path / "a.csv", ACCOUNTS), clock=clock)
    clock.advance(timedelta(hours=3))
    edited = [ACCOUNTS[0], ACCOUNTS[1] | {"arr": 4200, "industry": "fintech"}]

    report = import_accounts(engine, write_records(tmp_path / "a.csv", edited), clock=clock)

    assert (report.accepted, report.duplicate) == (1, 1)
    a1, a2 = table(engine, accounts, with_updated_at=True)
    assert (a2["arr"], a2["attributes"]["industry"]) == (4200.0, "fintech")
    assert a2["updated_at"].replace(tzinfo=None) == clock.now().replace(tzinfo=None)
    assert a1["updated_at"].replace(tzinfo=None) == first.replace(tzinfo=None)


def test_a_json_attribute_changing_type_is_a_change(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "a.jsonl"
    write(path, '{"account_id": "A1", "name": "Acme", "beta": 1}\n')
    import_accounts(engine, path, clock=clock)
    write(path, '{"account_id": "A1", "name": "Acme", "beta": true}\n')

    assert import_accounts(engine, path, clock=clock).accepted == 1  # 1 == True in Python
    assert table(engine, accounts)[0]["attributes"] == {"beta": True}


def test_columns_a_file_lacks_are_kept_and_empty_cells_clear(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    import_accounts(engine, write_records(tmp_path / "a.csv", ACCOUNTS), clock=clock)
    path = write(tmp_path / "b.csv", "account_id,name,plan,industry,region\nA1,Acme,,,emea\n")

    assert import_accounts(engine, path, clock=clock).accepted == 1

    a1 = table(engine, accounts)[0]
    assert (a1["plan"], a1["arr"], a1["seats"]) == (None, 120000.5, 40)
    assert a1["attributes"] == {"strategic": True, "employees": 250, "region": "emea"}


# -- stubs -------------------------------------------------------------------------------


def test_users_and_contracts_create_stubs_that_an_accounts_import_fills_in(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    report = import_users(engine, write_records(tmp_path / "u.csv", USERS), clock=clock)
    assert report.stub_accounts == ["A1", "A3"]
    report = import_contracts(engine, write_records(tmp_path / "c.csv", CONTRACTS), clock=clock)
    assert report.stub_accounts == ["A4"]  # A1 exists now, as a stub
    stub = table(engine, accounts)[0]
    assert (stub["is_stub"], stub["renewal_date"]) == (True, None)  # contracts leave it alone

    report = import_accounts(engine, write_records(tmp_path / "a.csv", ACCOUNTS), clock=clock)

    assert (report.accepted, report.duplicate) == (2, 0)
    by_id = {a["account_id"]: a for a in table(engine, accounts)}
    assert (by_id["A1"]["is_stub"], by_id["A1"]["name"]) == (False, "Acme")
    assert by_id["A1"]["renewal_date"] == date(2026, 12, 31)  # the CRM's, not C1's end
    assert (by_id["A3"]["is_stub"], by_id["A4"]["is_stub"]) == (True, True)
    with engine.connect() as conn:
        stubs = conn.execute(select(imports.c.kind, imports.c.stub_accounts).order_by("import_id"))
        assert list(stubs) == [("users", 2), ("contracts", 1), ("accounts", 0)]


# -- files and batches -------------------------------------------------------------------


def test_a_header_without_required_columns_is_refused_before_anything_is_recorded(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.csv", "Account ID,title\nA1,Acme\n")
    with pytest.raises(InputFileError, match=r"lacks the required column name \(its header"):
        import_accounts(engine, path, clock=clock)
    path = write(tmp_path / "c.csv", "contract_id,account_id,start,start_date,arr\n")
    with pytest.raises(InputFileError, match="two columns for start_date: 'start' and"):
        import_contracts(engine, path, clock=clock)
    path = write(tmp_path / "c2.csv", "contract_id,account_id,start_date,arr\n")
    with pytest.raises(InputFileError, match=r"columns end \(or end_date\), status"):
        import_contracts(engine, path, clock=clock)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(imports)) == 0


def test_batches_share_duplicate_detection_and_report_progress_to_the_last_byte(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    rows = ["account_id,name", "A1,One", "A2,Two", "A3,Three", "A4,Four", "A1,Again", "A5,"]
    path = write(tmp_path / "a.csv", "\n".join(rows) + "\n")
    advances: list[int] = []

    report = import_accounts(engine, path, clock=clock, progress=advances.append, batch_size=2)

    assert (report.accepted, report.rejected) == (4, 2)
    assert rejects(engine) == [(6, "duplicate_in_file"), (7, "missing_field")]
    assert sum(advances) == path.stat().st_size
    with engine.connect() as conn:
        stored = conn.execute(select(imports.c.accepted, imports.c.rejected, imports.c.finished_at))
        accepted, rejected, finished_at = stored.one()
    assert (accepted, rejected) == (4, 2) and finished_at is not None


# -- the command line --------------------------------------------------------------------


def test_cli_prints_the_counts_and_exits_0_with_bad_rows(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "a.csv", "account_id,name,arr\nA1,Acme,1\nA2,Beta,x\nA3,,1\n")
    result = runner.invoke(app, ["import", "accounts", str(path)], env=cli_env)
    assert result.exit_code == 0, result.output
    lines = table_lines(result.output)
    assert "accepted 1" in lines
    assert "rejected: invalid_number 1" in lines
    assert "rejected: missing_field 1" in lines
    assert "total 3" in lines

    result = runner.invoke(app, ["import", "accounts", str(path)], env=cli_env)
    assert result.exit_code == 0 and "duplicate 1" in table_lines(result.output)


def table_lines(output: str) -> list[str]:
    """The printed table's rows as plain text: ``"accepted 1"``."""
    return [" ".join(re.sub("[│┃]", " ", line).split()) for line in output.splitlines()]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "does not exist."),
        ("a.csv", "id,name\n1,x\n", "lacks the required column account_id"),
    ],
)
def test_cli_refuses_an_unreadable_file_in_one_sentence(
    runner: CliRunner,
    cli_env: dict[str, str],
    tmp_path: Path,
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        write(path, content)
    result = runner.invoke(app, ["import", "accounts", str(path)], env=cli_env)
    assert result.exit_code != 0
    output = " ".join(result.output.split())
    assert output.startswith("error:") and message in output
    assert "Traceback" not in result.output
