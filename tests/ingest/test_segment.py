"""Parsing and validation of single Segment messages (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from monitor.config import IngestSettings
from monitor.ingest.report import Reject
from monitor.ingest.segment import Limits, Message, page_name, parse_line

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LIMITS = Limits.from_settings(IngestSettings(), NOW)


def parse(doc: Any, limits: Limits = LIMITS) -> Message | Reject:
    raw = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    return parse_line(raw, 7, limits)


def ok(doc: dict[str, Any]) -> Message:
    result = parse(doc)
    assert isinstance(result, Message), result
    return result


def track(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "track",
        "messageId": "m-1",
        "timestamp": "2026-11-01T10:00:00.250Z",
        "userId": "u-1",
        "event": "Report Created",
        "context": {"groupId": "acct-1"},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_track_message_becomes_an_event_with_epoch_milliseconds_and_compact_properties() -> None:
    message = ok(track(properties={"report_id": "r 9", "score": 7}))
    assert message.line == 7
    assert (message.message_id, message.type, message.user_id) == ("m-1", "track", "u-1")
    assert message.name == "Report Created"
    assert message.group_id == "acct-1"
    assert message.ts_ms == int(datetime(2026, 11, 1, 10, 0, 0, 250_000, UTC).timestamp() * 1000)
    assert message.properties == '{"report_id":"r 9","score":7}'


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-01T12:00:00+02:00", datetime(2026, 11, 1, 10, 0, tzinfo=UTC)),
        ("2026-11-01T10:00:00", datetime(2026, 11, 1, 10, 0, tzinfo=UTC)),  # no offset: UTC
        ("1969-12-31T23:59:59.999Z", datetime(1969, 12, 31, 23, 59, 59, 999_000, UTC)),
    ],
)
def test_timestamps_with_offsets_or_none_are_read_as_instants(
    stamp: str, expected: datetime
) -> None:
    assert ok(track(timestamp=stamp)).ts_ms == round(expected.timestamp() * 1000)


def test_original_timestamp_is_used_when_timestamp_is_absent() -> None:
    message = ok(track(timestamp=None, originalTimestamp="2026-10-30T00:00:00Z"))
    assert message.ts_ms == int(datetime(2026, 10, 30, tzinfo=UTC).timestamp() * 1000)


def test_anonymous_id_stands_in_for_a_missing_user_id_and_integer_ids_are_text() -> None:
    assert ok(track(userId=None, anonymousId="anon-9")).user_id == "anon-9"
    assert ok(track(userId=42)).user_id == "42"


def test_only_listed_numeric_properties_are_rolled_up_and_bools_are_not_numbers() -> None:
    message = ok(track(properties={"score": 9, "value": 2.5, "revenue": True, "quantity": "3"}))
    assert message.numbers == (("score", 9.0), ("value", 2.5))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/help/billing", "page:/help"),
        ("/help", "page:/help"),
        ("/", "page:/"),
        ("", "page:/"),
        (None, "page:/"),
        ("/reports?tab=2", "page:/reports"),
        ("settings/team", "page:/settings"),
    ],
)
def test_page_name_is_the_first_path_segment(path: str | None, name: str) -> None:
    assert page_name(path) == name


def test_page_call_takes_its_path_from_properties_or_else_from_context() -> None:
    page = {k: v for k, v in track().items() if k != "event"} | {"type": "page"}
    assert ok(page | {"properties": {"path": "/help/sso"}}).name == "page:/help"
    assert (
        ok(page | {"context": {"groupId": "a", "page": {"path": "/docs/x"}}}).name == "page:/docs"
    )
    assert ok(page).name == "page:/"


def test_identify_names_its_account_in_documented_order_and_carries_email_and_role() -> None:
    base = track(type="identify", event=None, context=None)
    traits = {"groupId": "g", "company": {"id": "c"}, "account_id": "a"}
    assert ok(base | {"traits": traits, "context": {"groupId": "ctx"}}).group_id == "ctx"
    assert ok(base | {"traits": traits}).group_id == "a"
    assert ok(base | {"traits": {"groupId": "g", "company": {"id": "c"}}}).group_id == "c"
    assert ok(base | {"traits": {"groupId": "g"}}).group_id == "g"
    assert ok(base).group_id is None
    person = ok(base | {"traits": {"email": "ann@example.com", "role": "champion"}})
    assert (person.name, person.email, person.role) == ("identify", "ann@example.com", "champion")


def test_group_call_names_its_account_and_its_traits_describe_the_company_not_the_user() -> None:
    group = ok(
        track(type="group", event=None, context=None, groupId="acct-7", traits={"email": "x@y"})
    )
    assert (group.name, group.group_id, group.email) == ("group", "acct-7", None)
    assert group.properties == '{"email":"x@y"}'


def reason(doc: Any, limits: Limits = LIMITS) -> str:
    result = parse(doc, limits)
    assert isinstance(result, Reject), result
    assert result.line == 7
    assert result.reason.endswith(".") and result.reason[0].isupper()
    return result.reason_code


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        (b'{"type": "track", ', "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        ([1, 2], "not_an_object"),
        ("just text", "not_an_object"),
        (track(type="screen"), "unknown_type"),
        (track(type=None), "unknown_type"),
        (track(type=["track"]), "unknown_type"),
        (track(messageId=None), "missing_message_id"),
        (track(messageId=""), "missing_message_id"),
        (track(timestamp=None), "missing_timestamp"),
        (track(timestamp="yesterday"), "invalid_timestamp"),
        (track(timestamp=1730000000), "invalid_timestamp"),
        (track(timestamp="2026-11-03T09:00:01Z"), "future_timestamp"),
        (track(userId=None), "missing_user"),
        (track(userId="", anonymousId=""), "missing_user"),
        (track(event=None), "missing_event"),
        (track(event=""), "missing_event"),
        (track(event=12), "invalid_field"),
        (track(event="E" * 201), "invalid_field"),
        (track(messageId="m" * 201), "invalid_field"),
        (track(userId={"id": 1}), "invalid_field"),
        (track(properties=[1]), "invalid_field"),
        (track(context="acct-1"), "invalid_field"),
        (track(context={"groupId": "a" * 201}), "invalid_field"),
        (track(type="group", groupId=None), "invalid_field"),
        (track(type="identify", traits={"role": 3}), "invalid_field"),
        (track(type="page", properties={"path": 5}), "invalid_field"),
    ],
)
def test_each_problem_has_its_stable_reason_code(doc: Any, code: str) -> None:
    assert reason(doc) == code


def test_future_skew_is_measured_from_the_clock() -> None:
    assert isinstance(parse(track(timestamp="2026-11-03T08:59:59Z")), Message)  # 23h59m ahead
    assert reason(track(timestamp="2026-11-03T09:00:01Z")) == "future_timestamp"
    strict = Limits.from_settings(IngestSettings(max_future_skew_hours=0), NOW)
    assert reason(track(timestamp="2026-11-02T09:00:01Z"), strict) == "future_timestamp"


def test_a_line_over_the_payload_limit_is_rejected_before_parsing() -> None:
    limits = Limits.from_settings(IngestSettings(max_payload_bytes=256), NOW)
    line = orjson.dumps(track(properties={"note": "x" * 300}))
    assert reason(line, limits) == "payload_too_large"


def test_a_reject_keeps_the_raw_line_and_a_readable_reason() -> None:
    result = parse(b'{"type": "track", "messageId": 5')
    assert isinstance(result, Reject)
    assert result.raw == '{"type": "track", "messageId": 5'
    assert "not valid JSON" in result.reason
    long_type = parse(track(type="x" * 500))
    assert isinstance(long_type, Reject) and len(long_type.reason) < 200
