"""The fast lane for the common Segment line: a clean ``track`` or ``page`` call.

Decoding into typed :mod:`msgspec` structs checks the shape of a line in C; what is
left here is a few length checks. This lane never rejects anything: it either
returns the very :class:`~monitor.ingest.segment.Message` that
:func:`~monitor.ingest.segment.parse_line` would return, or None, and then the line
takes the full path there, which finds the exact reason for a reject. So every
condition below is at least as strict as the full path's, and a property-based test
holds the two lanes to the same answers (``tests/ingest/test_segment_fast.py``).

Identify and group calls always take the full path: they are few, and their traits
need more care.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from monitor.ingest.segment import MAX_ID_CHARS, Limits, Message, page_name

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_USAGE = frozenset(("track", "page"))


class _Page(msgspec.Struct):
    path: str | None = None


class _Context(msgspec.Struct):
    groupId: str | None = None
    page: _Page | None = None


class _Call(msgspec.Struct):
    """The fields of a usage call; others are ignored, as by the full path."""

    type: str
    messageId: str
    timestamp: str
    userId: str | None = None
    anonymousId: str | None = None
    context: _Context | None = None
    event: str | None = None
    properties: dict[str, Any] | None = None


_decode = msgspec.json.Decoder(_Call).decode
_encode = msgspec.json.encode
# ValueError covers invalid UTF-8 and the full path's InvalidMessage (from page_name).
_FAILED = (msgspec.DecodeError, msgspec.ValidationError, ValueError)


def parse_usage_line(raw: bytes, line: int, limits: Limits) -> Message | None:
    """``raw`` as a Message if it is a clean track/page call, else None (take the full path)."""
    if len(raw) > limits.max_payload_bytes:
        return None
    try:
        call = _decode(raw)
        return _usage(call, line, limits)
    except _FAILED:
        # A shape the typed structs do not take (an integer id, a bad date, a number
        # JSON cannot round-trip...): the full path decides, and names the reason.
        return None


def _usage(call: _Call, line: int, limits: Limits) -> Message | None:
    kind = call.type
    message_id = call.messageId
    if kind not in _USAGE or not message_id or len(message_id) > MAX_ID_CHARS:
        return None
    user_id = call.userId or call.anonymousId
    if not user_id or len(user_id) > MAX_ID_CHARS or _too_long(call.anonymousId):
        return None
    moment = datetime.fromisoformat(call.timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ts_ms: int = (moment - _EPOCH) // _MILLISECOND
    if ts_ms > limits.latest_ms:
        return None
    context = call.context
    group_id = None
    page_path = None
    if context is not None:
        group_id = context.groupId or None
        if _too_long(group_id):
            return None
        if context.page is not None:
            page_path = context.page.path
    props = call.properties or None
    if kind == "track":
        name = call.event
        if not name or len(name) > MAX_ID_CHARS:
            return None
    else:
        path = props.get("path") if props else None
        if path is None:
            path = page_path
        if path is not None and type(path) is not str:
            return None
        name = page_name(path)
    if props is None:
        return Message(line, message_id, kind, user_id, ts_ms, name, group_id, None)
    numbers = tuple(
        (n, float(v))
        for n in limits.rollup_properties
        if type(v := props.get(n)) is int or type(v) is float
    )
    return Message(
        line, message_id, kind, user_id, ts_ms, name, group_id, _encode(props).decode(),
        numbers or (),
    )  # fmt: skip


def _too_long(value: str | None) -> bool:
    return value is not None and len(value) > MAX_ID_CHARS
