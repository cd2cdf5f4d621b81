"""One Segment-spec message (a JSONL line) → a :class:`Message`, or a :class:`Reject` saying why.

Pure functions, no I/O: which account a message belongs to when it does not name one
is decided later, in file order, by :mod:`monitor.ingest.events`.

The hot path runs once per input line, so it avoids needless objects: timestamps go
straight from ISO text to epoch milliseconds, and validation problems are raised as
one private exception that only costs anything when a line is actually bad.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from monitor.config import IngestSettings
from monitor.ingest.report import RAW_KEEP_CHARS, Reject
from monitor.timeutil import to_ms

TYPES = ("track", "page", "identify", "group")
ROLLED_UP_TYPES = ("track", "page")
"""Usage events; identify and group calls are stored but not counted in rollups."""
MAX_ID_CHARS = 200  # the width of the id and name columns
MAX_EMAIL_CHARS = 320
MAX_ROLE_CHARS = 50

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_NO_NUMBERS: tuple[tuple[str, float], ...] = ()
_EMPTY: dict[str, Any] = {}
# One JSON implementation for the whole import, so the fast lane
# (monitor.ingest.segment_fast) and this full path never disagree on what a line says.
_decode = msgspec.json.decode
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class Limits:
    """What a line is checked against, fixed for one import."""

    latest_ms: int
    """Timestamps after this instant (now + the allowed clock skew) are rejected."""
    max_payload_bytes: int
    rollup_properties: tuple[str, ...]
    skew_hours: float = 0.0

    @classmethod
    def from_settings(cls, settings: IngestSettings, now: datetime) -> Limits:
        skew = timedelta(hours=settings.max_future_skew_hours)
        return cls(
            latest_ms=to_ms(now + skew),
            max_payload_bytes=settings.max_payload_bytes,
            rollup_properties=settings.rollup_properties,
            skew_hours=settings.max_future_skew_hours,
        )


@dataclass(slots=True)
class Message:
    """A valid message, ready to be stored once its account is known."""

    line: int
    message_id: str
    type: str
    user_id: str
    """``userId``, else ``anonymousId``."""
    ts_ms: int
    name: str
    """track: the event name; page: ``page:/`` + the first path segment; else the type."""
    group_id: str | None
    """The account the message names itself (``context.groupId``; for group calls
    ``groupId``; for identify calls also the account traits), or None."""
    properties: str | None
    """Compact JSON: a track/page call's properties, an identify/group call's traits."""
    numbers: tuple[tuple[str, float], ...] = _NO_NUMBERS
    """(property, value) for each numeric property listed in ``rollup_properties``."""
    email: str | None = None
    role: str | None = None


class InvalidMessage(ValueError):
    """A decoded message breaks the Segment spec; ``code`` is the reject reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_line(raw: bytes, line: int, limits: Limits) -> Message | Reject:
    """Validate one JSONL line; every problem becomes a Reject with a stable reason code."""
    if len(raw) > limits.max_payload_bytes:
        return reject_line(
            raw,
            line,
            "payload_too_large",
            f"The line is longer than {limits.max_payload_bytes:,} bytes (max_payload_bytes).",
        )
    try:
        doc = _decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        return reject_line(
            raw, line, "invalid_json", f"The line is not valid JSON ({_json_problem(exc)})."
        )
    if type(doc) is not dict:
        return reject_line(
            raw, line, "not_an_object", f"The line is a JSON {_json_kind(doc)}, not an object."
        )
    try:
        return parse_message(doc, line, limits)
    except InvalidMessage as exc:
        return reject_line(raw, line, exc.code, exc.reason)


def parse_message(doc: dict[str, Any], line: int, limits: Limits) -> Message:
    """A decoded message as a :class:`Message`; raises :class:`InvalidMessage` if it is bad.

    Checks run in the order of the reason codes' documentation: type, messageId,
    timestamp, user, then the type-specific fields.
    """
    kind = doc.get("type")
    if type(kind) is not str or kind not in TYPES:
        got = "no type" if kind is None else f"type {_brief(kind)}"
        raise InvalidMessage(
            "unknown_type", f"The message has {got}; expected track, page, identify or group."
        )
    message_id = _id(doc.get("messageId"), "messageId")
    if message_id is None:
        raise InvalidMessage("missing_message_id", "The message has no messageId.")
    ts_ms = _timestamp_ms(doc, limits)
    user_id = _id(doc.get("userId"), "userId") or _id(doc.get("anonymousId"), "anonymousId")
    if user_id is None:
        raise InvalidMessage("missing_user", "The message has neither a userId nor an anonymousId.")
    context = _object(doc.get("context"), "context")
    group_id = _id(context.get("groupId"), "context.groupId")

    if kind == "track":
        name = doc.get("event")
        if name is None or name == "":
            raise InvalidMessage("missing_event", "The track call has no event name.")
        if type(name) is not str or len(name) > MAX_ID_CHARS:
            raise InvalidMessage(
                "invalid_field",
                f"The event name must be a text of at most {MAX_ID_CHARS} characters.",
            )
        props = _object(doc.get("properties"), "properties")
        return Message(
            line, message_id, kind, user_id, ts_ms, name, group_id,
            _json(props), _numbers(props, limits.rollup_properties),
        )  # fmt: skip
    if kind == "page":
        props = _object(doc.get("properties"), "properties")
        path = props.get("path")
        if path is None:
            path = _object(context.get("page"), "context.page").get("path")
        return Message(
            line, message_id, kind, user_id, ts_ms, page_name(path), group_id,
            _json(props), _numbers(props, limits.rollup_properties),
        )  # fmt: skip
    traits = _object(doc.get("traits"), "traits")
    if kind == "group":
        group_id = _id(doc.get("groupId"), "groupId")
        if group_id is None:
            raise InvalidMessage("invalid_field", "The group call has no groupId.")
        # A group call's traits describe the company, not the user: no email or role.
        return Message(line, message_id, kind, user_id, ts_ms, kind, group_id, _json(traits))
    return Message(
        line, message_id, kind, user_id, ts_ms, kind,
        group_id or identify_account(traits), _json(traits),
        email=_text(traits.get("email"), "traits.email", MAX_EMAIL_CHARS),
        role=_text(traits.get("role"), "traits.role", MAX_ROLE_CHARS),
    )  # fmt: skip


def identify_account(traits: dict[str, Any]) -> str | None:
    """The account an identify call's traits name: account_id, company.id, then groupId."""
    company = _object(traits.get("company"), "traits.company")
    return (
        _id(traits.get("account_id"), "traits.account_id")
        or _id(company.get("id"), "traits.company.id")
        or _id(traits.get("groupId"), "traits.groupId")
    )


def page_name(path: object) -> str:
    """``page:`` + the first segment of the path: ``/help/billing`` → ``page:/help``."""
    if path is None:
        return "page:/"
    if type(path) is not str:
        raise InvalidMessage("invalid_field", "The field properties.path must be a text.")
    segment = path.partition("?")[0].partition("#")[0].lstrip("/").partition("/")[0]
    name = "page:/" + segment
    if len(name) > MAX_ID_CHARS:
        raise InvalidMessage(
            "invalid_field", f"The first segment of properties.path exceeds {MAX_ID_CHARS} chars."
        )
    return name


def _timestamp_ms(doc: dict[str, Any], limits: Limits) -> int:
    field = "timestamp"
    value = doc.get(field)
    if value is None:
        field = "originalTimestamp"
        value = doc.get(field)
        if value is None:
            raise InvalidMessage(
                "missing_timestamp", "The message has neither a timestamp nor an originalTimestamp."
            )
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidMessage(
            "invalid_timestamp", f"The {field} {_brief(value)} is not an ISO-8601 date and time."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Segment stamps are UTC when no offset is given
    ts_ms: int = (moment - _EPOCH) // _MILLISECOND
    if ts_ms > limits.latest_ms:
        raise InvalidMessage(
            "future_timestamp",
            f"The {field} {_brief(value)} is more than {limits.skew_hours:g} hours in the future "
            "(max_future_skew_hours).",
        )
    return ts_ms


def _id(value: object, field: str) -> str | None:
    """An identifier: a non-empty text (or an integer, which some SDKs send) of ≤ 200 chars."""
    if type(value) is str:
        if len(value) > MAX_ID_CHARS:
            raise InvalidMessage(
                "invalid_field", f"The field {field} is longer than {MAX_ID_CHARS} characters."
            )
        return value or None
    if value is None:
        return None
    if type(value) is int:
        return str(value)
    raise InvalidMessage(
        "invalid_field", f"The field {field} must be a text, not a JSON {_json_kind(value)}."
    )


def _text(value: object, field: str, max_chars: int) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is not str or len(value) > max_chars:
        raise InvalidMessage(
            "invalid_field", f"The field {field} must be a text of at most {max_chars} chars."
        )
    return value


def _object(value: object, field: str) -> dict[str, Any]:
    if type(value) is dict:
        return value
    if value is None:
        return _EMPTY
    raise InvalidMessage(
        "invalid_field", f"The field {field} must be an object, not a JSON {_json_kind(value)}."
    )


def _json(value: dict[str, Any]) -> str | None:
    return _encode(value).decode() if value else None


def _json_problem(exc: Exception) -> str:
    """What is wrong with a line msgspec cannot decode, in words."""
    if isinstance(exc, UnicodeDecodeError):
        return "it is not valid UTF-8"
    if isinstance(exc, msgspec.ValidationError):  # the only one untyped decoding raises
        return "a number is out of range"
    return str(exc).removeprefix("JSON is malformed: ")


def _numbers(props: dict[str, Any], names: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """The rollup properties that hold numbers (bools are not numbers, though JSON-ish)."""
    if not props:
        return _NO_NUMBERS
    found = [(n, float(v)) for n in names if type(v := props.get(n)) is int or type(v) is float]
    return tuple(found) if found else _NO_NUMBERS


def _brief(value: object) -> str:
    """A value for an error sentence, cut short: bad input may be arbitrarily long."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def reject_line(raw: bytes, line: int, code: str, reason: str) -> Reject:
    # 4 bytes per character at most: decode no more than the dead-letter row keeps.
    text = raw[: RAW_KEEP_CHARS * 4].decode("utf-8", "replace")
    return Reject(line=line, reason_code=code, reason=reason, raw=text)
