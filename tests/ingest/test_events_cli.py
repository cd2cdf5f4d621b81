"""``csmon import events FILE`` as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from typer.testing import CliRunner

from monitor.cli import app


def track(message_id: str, account: str = "acct-1") -> bytes:
    return orjson.dumps(
        {
            "type": "track",
            "messageId": message_id,
            "timestamp": "2025-06-01T12:00:00Z",
            "userId": "u-1",
            "event": "Signed In",
            "context": {"groupId": account},
        }
    )


def row(output: str, label: str) -> str:
    """The count printed on the summary table row that starts with ``label``."""
    match = re.search(rf"{re.escape(label)}\s*│\s*([\d,]+)", output)
    assert match, output
    return match.group(1)


def test_import_prints_counts_and_succeeds_despite_bad_rows(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b"\n".join([track("a"), b"{oops", track("b", "acct-new"), track("a"), b"[]"]) + b"\n"
    )

    result = runner.invoke(app, ["import", "events", str(path)], env=cli_env)

    assert result.exit_code == 0, result.output
    assert row(result.output, "accepted") == "2"
    assert row(result.output, "duplicate") == "1"
    assert row(result.output, "rejected: invalid_json") == "1"
    assert row(result.output, "rejected: not_an_object") == "1"
    assert row(result.output, "total") == "5"
    assert "2 rejected rows are kept with their line numbers" in result.output
    assert "acct-1" in result.output and "acct-new" in result.output  # stubs are listed


def test_a_missing_file_fails_with_one_sentence(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.jsonl"
    result = runner.invoke(app, ["import", "events", str(missing)], env=cli_env)

    assert result.exit_code != 0
    # One sentence (the console may wrap it at the terminal width), no traceback.
    assert " ".join(result.output.split()) == f"error: {missing} does not exist."
