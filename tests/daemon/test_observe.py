"""Structured logs: JSON lines with context, and no raw control characters from data."""

from __future__ import annotations

import io
import json
import logging

from monitor.daemon.observe import configure_logging, escape_control

EVIL = "Acme\x1b[2J\nINFO forged line\u202e"


def emit(log_format: str) -> str:
    stream = io.StringIO()
    configure_logging(log_format, stream=stream)
    logging.getLogger("monitor.daemon.test").warning(
        "Account %s changed", EVIL, extra={"job": "evaluate", "account": EVIL, "accounts": 3}
    )
    return stream.getvalue()


def test_json_lines_carry_timestamp_level_logger_message_and_context() -> None:
    output = emit("json")
    assert output.count("\n") == 1  # one record, one line
    doc = json.loads(output)
    assert doc["level"] == "WARNING"
    assert doc["logger"] == "monitor.daemon.test"
    assert doc["ts"].endswith("Z")
    assert doc["message"] == f"Account {EVIL} changed"  # the data survives, escaped
    assert doc["job"] == "evaluate" and doc["accounts"] == 3 and doc["account"] == EVIL
    assert "\x1b" not in output and "\u202e" not in output


def test_text_lines_escape_control_characters_from_data() -> None:
    output = emit("text")
    assert output.count("\n") == 1  # the newline in the name cannot forge a second line
    line = output.rstrip("\n")
    assert (
        "WARNING monitor.daemon.test: Account Acme\\x1b[2J\\nINFO forged line\\u202e changed"
        in line
    )
    assert line.endswith('job=evaluate account="Acme\\x1b[2J\\nINFO forged line\\u202e" accounts=3')


def test_escape_control_keeps_ordinary_text() -> None:
    assert escape_control("Zürich GmbH, 50% — ok") == "Zürich GmbH, 50% — ok"
    assert escape_control("a\tb\rc\x00") == "a\\tb\\rc\\x00"
