"""The fast lane for track/page lines must give exactly the full path's answer, or none."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.ingest.segment import Limits, Message, parse_line
from monitor.ingest.segment_fast import parse_usage_line

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LIMITS = Limits(
    latest_ms=int(NOW.timestamp() * 1000),
    max_payload_bytes=600,
    rollup_properties=("score", "value"),
    skew_hours=0,
)
ABSENT = object()

ids = st.one_of(
    st.sampled_from(["m-1", "u-1", "acct-1", "", "x" * 200, "x" * 201, "é✓", "\x00"]),
    st.text(max_size=8),
    st.integers(-5, 5),
    st.none(),
)
stamps = st.sampled_from(
    [
        "2026-11-01T10:00:00.250Z",
        "2026-11-01T12:00:00+02:00",
        "2026-11-01T10:00:00",
        "2026-11-01 10:00:00",
        "2026-11-01",
        "1969-12-31T23:59:59.999Z",
        "2026-11-02T09:00:00.001Z",  # 1 ms after LIMITS.latest_ms: future
        "2026-11-02T09:00:00.000Z",
        "2026-13-01T10:00:00Z",
        "yesterday",
        "",
    ]
) | st.sampled_from([None, 1762000000])
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["/help/billing", "/", "?q=1", "/" + "p" * 210, "/reports/x#y"]),
    st.lists(st.integers(0, 3), max_size=2),
)
objects = st.one_of(
    st.dictionaries(st.sampled_from(["path", "score", "value", "title", "groupId"]), values),
    values,
)
contexts = st.one_of(
    st.fixed_dictionaries(
        {}, optional={"groupId": ids, "page": objects, "library": st.just({"name": "js"})}
    ),
    values,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or the field left out."""
    return strategy | st.just(ABSENT)


FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["track", "page", "identify", "group", "x"]) | ids,
    "messageId": ids,
    "timestamp": stamps,
    "originalTimestamp": stamps,
    "userId": ids,
    "anonymousId": ids,
    "context": contexts,
    "event": ids,
    "properties": objects,
    "traits": objects,
    "extra": values,
}


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """A valid track or page call with up to three fields changed or left out, so
    both lanes see many good lines and every way of being slightly wrong."""
    doc: dict[str, Any] = {
        "type": draw(st.sampled_from(["track", "page"])),
        "messageId": "m-1",
        "timestamp": "2026-11-01T10:00:00.250Z",
        "userId": "u-1",
        "event": "Report Created",
        "context": {"groupId": "acct-1"},
        "properties": {"score": 7, "path": "/help/billing"},
    }
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=3, unique=True)):
        doc[name] = draw(maybe(FIELDS[name]))
    raw = msgspec.json.encode({k: v for k, v in doc.items() if v is not ABSENT})
    cut = draw(st.sampled_from([None, None, None, None, -1, 10]))
    return raw if cut is None else raw[:cut]


@settings(max_examples=3000, deadline=None)
@given(lines())
def test_fast_lane_agrees_with_the_full_path_or_steps_aside(raw: bytes) -> None:
    fast = parse_usage_line(raw, 7, LIMITS)
    if fast is not None:
        assert fast == parse_line(raw, 7, LIMITS)


def test_fast_lane_takes_the_common_track_and_page_calls() -> None:
    track = (
        b'{"type":"track","messageId":"m-9","timestamp":"2026-11-01T10:00:00.250Z",'
        b'"userId":"u-1","event":"Report Created","properties":{"score":7,"report":"r 9"},'
        b'"context":{"groupId":"acct-1","library":{"name":"analytics.js"}}}'
    )
    page = (
        b'{"type":"page","messageId":"m-10","timestamp":"2026-11-01T10:00:00Z",'
        b'"anonymousId":"a-1","name":"Billing","properties":{"path":"/help/billing"}}'
    )
    got = parse_usage_line(track, 3, LIMITS)
    assert isinstance(got, Message)
    assert (got.name, got.group_id, got.numbers) == ("Report Created", "acct-1", (("score", 7.0),))
    assert got.properties == '{"score":7,"report":"r 9"}'
    assert got == parse_line(track, 3, LIMITS)
    page_message = parse_usage_line(page, 4, LIMITS)
    assert isinstance(page_message, Message)
    assert (page_message.name, page_message.user_id, page_message.group_id) == (
        "page:/help",
        "a-1",
        None,
    )
