"""The configuration sections other than routing: one pydantic model each."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from monitor.config.base import Section
from monitor.config.routing import parse_receiver


class IngestSettings(Section):
    batch_size: int = Field(50_000, ge=100, le=1_000_000)
    """Rows parsed and written per transaction; memory use grows with it, not with file size."""
    max_future_skew_hours: float = Field(24.0, ge=0)
    """Events stamped further than this in the future are rejected (clock bugs, ms/s mix-ups)."""
    max_payload_bytes: int = Field(32_768, ge=256)
    """A longer JSON line is rejected instead of bloating the events table."""
    raw_retention_days: int = Field(180, ge=1)
    """Raw events older than this are deleted by the retention job; rollups are kept."""
    rollup_properties: tuple[str, ...] = ("score", "value", "revenue", "quantity")
    """Numeric event properties whose daily sums are kept per account, day and event."""


class NotifySettings(Section):
    file_path: Path = Path("csmon-notifications.jsonl")
    """The file channel's JSON-lines file, relative to the config file's folder."""


class EvaluationSettings(Section):
    interval_minutes: float = Field(60.0, gt=0, le=24 * 60)
    """How often the daemon evaluates every account (and queues the alerts that are due)."""


class DispatchSettings(Section):
    interval_seconds: float = Field(60.0, ge=1, le=3600)
    """How often the daemon sends what is due in the outbox (retries included); new
    alerts go out right after each evaluation as well."""


class SyncSettings(Section):
    drop_dir: Path | None = None
    """A folder the CRM export drops files into: ``accounts*``, ``users*``, ``contracts*``
    (CSV/JSON) and ``events*.jsonl[.gz]`` are imported, then moved to ``done/`` (or
    ``failed/``). Relative to the config file's folder. Unset: no sync job."""
    interval_minutes: float = Field(5.0, gt=0, le=24 * 60)


class DigestSettings(Section):
    time: str = "08:00"
    """The local wall time (HH:MM, no UTC offset) of the daily digest: once per local
    day, DST-safe."""
    timezone: str | None = None
    """The IANA zone of ``time``; default: the top-level ``timezone``."""

    @field_validator("time")
    @classmethod
    def _wall_time(cls, value: str) -> str:
        from datetime import time

        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            raise ValueError("use a 24-hour local time such as 08:00") from None
        if parsed.tzinfo is not None:  # "08:00+02:00", "08:00Z": the zone is digest.timezone
            raise ValueError(
                "digest.time is a local wall-clock time in digest.timezone; remove the offset"
            )
        return f"{parsed.hour:02d}:{parsed.minute:02d}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return None if name is None else check_timezone(name)


OPS_RECEIVER_FORMS = "slack:#channel, slack:C0123ABCD, email:team@example.com, console or file"


class DaemonSettings(Section):
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object per line (ts, level, logger, message, context fields)."""
    stop_timeout_seconds: float = Field(30.0, ge=0, le=3600)
    """On SIGTERM/SIGINT, how long a running job may take to finish before exiting."""
    ops_receivers: tuple[str, ...] = ()
    """Who hears about invalid rule or template edits, e.g. ``"slack:#cs-ops"`` or
    ``"email:ops@example.com"``. The log always has them. Their channels must be on
    (checked by :class:`monitor.config.Settings`, which knows slack and email)."""
    reload_interval_seconds: float = Field(5.0, ge=0.1, le=3600)
    """How often rules_dir and alerts_dir are checked for edits (SIGHUP: at once)."""
    leader_retry_seconds: float = Field(5.0, ge=0.1, le=300)
    """How often a standby replica tries to become the leader, and the leader re-checks
    its lock: the bound on failover time after a leader dies."""

    @field_validator("ops_receivers")
    @classmethod
    def _fixed_receivers(cls, receivers: tuple[str, ...]) -> tuple[str, ...]:
        for text in receivers:
            try:
                fixed = not parse_receiver(text).is_owner
            except ValueError:
                fixed = False
            if not fixed:
                raise ValueError(
                    f"ops receivers are fixed addresses, not {text!r}; use {OPS_RECEIVER_FORMS}"
                )
        return receivers


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=0, le=65535)
    """The daemon's HTTP port (/healthz, /metrics, ingest). Unset: no HTTP listener."""
    write_keys: tuple[SecretStr, ...] = ()
    """Segment write keys accepted by the ingest API (Basic auth user name)."""


def check_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("use an IANA time zone name such as Europe/Berlin") from None
    return name
