"""The building blocks of positioned errors: the TOML position finder and durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.rules.durations import DurationError, format_duration, parse_duration
from monitor.rules.toml_positions import Pos, find_positions

TEXT = '''\
title = "x" # comment
[metrics."odd name".inner]
when = 'arr > 1'
[[alert]]
name = "a"
escalate = { critical = "score < 40", warning = 'band == "red"' }
[[alert]]
tiers = ["S",
    "A"]
summary = """
line one
{{ x }}"""
[alert.extra]
key = 1
'''


def test_headers_keys_and_string_text_positions() -> None:
    positions = find_positions(TEXT)
    assert positions.value(("title",)) == Pos(1, 10)
    assert positions.key(("metrics", "odd name", "inner")) == Pos(2, 1)
    assert positions.value(("metrics", "odd name", "inner", "when")) == Pos(3, 9)
    assert positions.key(("alert", 0)) == Pos(4, 1)
    assert positions.key(("alert", 1)) == Pos(7, 1)


def test_inline_tables_and_array_elements() -> None:
    positions = find_positions(TEXT)
    assert positions.key(("alert", 0, "escalate", "warning")) == Pos(6, 39)
    assert positions.value(("alert", 0, "escalate", "critical")) == Pos(6, 26)
    assert positions.value(("alert", 0, "escalate", "warning")) == Pos(6, 50)
    assert positions.value(("alert", 1, "tiers", 1)) == Pos(9, 6)


def test_multiline_strings_start_after_the_trimmed_newline() -> None:
    positions = find_positions(TEXT)
    assert positions.value(("alert", 1, "summary")) == Pos(11, 1)


def test_sub_tables_of_an_array_of_tables_belong_to_its_last_element() -> None:
    positions = find_positions(TEXT)
    assert positions.key(("alert", 1, "extra", "key")) == Pos(14, 1)


def test_unknown_paths_fall_back_to_the_enclosing_table() -> None:
    positions = find_positions(TEXT)
    assert positions.key(("alert", 1, "missing")) == Pos(7, 1)
    assert positions.value(("alert", 1, "missing")) == Pos(7, 1)


@pytest.mark.parametrize(
    ("text", "hours", "expected"),
    [
        ("14d", False, timedelta(days=14)),
        ("2w", False, timedelta(weeks=2)),
        ("0d", False, timedelta(0)),
        ("36h", True, timedelta(hours=36)),
    ],
)
def test_durations(text: str, hours: bool, expected: timedelta) -> None:
    assert parse_duration(text, allow_hours=hours) == expected


@pytest.mark.parametrize(
    ("text", "hours", "message"),
    [
        ("14", False, 'expected a duration like "14d" or "2w", got "14"'),
        ("1m", True, 'expected a duration like "12h", "14d" or "2w", got "1m"'),
        ("12h", False, 'expected whole days like "14d" or "2w", got "12h"'),
        ("2w3d", False, 'expected a duration like "14d" or "2w", got "2w3d"'),
    ],
)
def test_bad_durations(text: str, hours: bool, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_duration(text, allow_hours=hours)


def test_format_duration_round_trips() -> None:
    for text in ("2w", "3d", "36h", "0d"):
        assert format_duration(parse_duration(text, allow_hours=True)) == text
