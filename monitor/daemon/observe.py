"""What the daemon tells its operators: structured logs and Prometheus metrics.

Logs are one line per record, as text (``ts LEVEL logger: message key=value``) or as
JSON (``{"ts", "level", "logger", "message", ...context}``), chosen by
``[daemon] log_format``. Context fields are passed as ``extra={...}``. Control
characters from data (an account named ``"\\x1b[2J"``, a file name with a newline)
are escaped, so a log line cannot forge another line or drive a terminal.

The metrics live in one :class:`DaemonMetrics` registry per daemon (not prometheus
client's global one), so tests can run several daemons in one process.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from monitor.store.schema import alerts, outbox

LogFormat = str  # "text" | "json", validated by DaemonSettings
log = logging.getLogger(__name__)

# C0 and C1 controls, DEL, line/paragraph separators and bidi overrides: none of them
# may reach a log line raw.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What every LogRecord has; anything else came in through ``extra=`` (uvicorn adds a
# terminal-coloured copy of its message, which a log file does not want).
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}
_HANDLER_NAME = "csmon-daemon"


def escape_control(text: str) -> str:
    """Make control characters visible: ``\\n``, ``\\x1b``, ``\\u202e``."""
    return _CONTROL.sub(lambda m: _escape_char(m.group()), text)


def _escape_char(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra={...}`` fields of a record, in the order given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _exception_text(record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[1] is not None:
        return "".join(traceback.format_exception(*record.exc_info)).rstrip()
    return record.exc_text or None


class TextFormatter(logging.Formatter):
    """``2026-11-23T09:00:00.000Z INFO monitor.daemon: message key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), record.levelname, f"{record.name}:"]
        parts.append(escape_control(record.getMessage()))
        for key, value in context_fields(record).items():
            parts.append(f"{key}={_plain(value)}")
        line = " ".join(parts)
        trace = _exception_text(record)
        if trace:
            # A traceback keeps its lines (indented, so it reads as part of this record),
            # but a control character inside an exception message is still escaped.
            lines = (escape_control(t) for t in trace.splitlines())
            line += "\n" + "\n".join(f"    {t}" for t in lines)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the context fields, and
    ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in context_fields(record).items():
            doc.setdefault(key, value)
        trace = _exception_text(record)
        if trace:
            doc["exception"] = trace
        text = json.dumps(doc, ensure_ascii=False, default=str)
        # json escapes C0 controls itself; the rest become \uXXXX, still valid JSON.
        return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _plain(value: object) -> str:
    """A context value for a text line: escaped, and quoted when it holds a space."""
    text = escape_control(str(value))
    if " " in text or '"' in text or not text:
        return '"' + text.replace('"', '\\"') + '"'
    return text


def configure_logging(
    log_format: LogFormat, *, stream: TextIO | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in ``log_format``; replaces the
    handler a previous call installed, so it is safe to call again."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every run at INFO ("Running job ..."): our jobs log what they did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Our job-error listener logs failures with the job's name; APScheduler's own
    # "Job raised an exception" would say it twice.
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    return handler


# --- metrics ---------------------------------------------------------------------------


class DaemonMetrics:
    """The daemon's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.evaluation_seconds = Histogram(
            "csmon_evaluation_duration_seconds",
            "Wall time of one evaluation of every account.",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=r,
        )
        self.accounts_evaluated = Gauge(
            "csmon_evaluation_accounts", "Accounts the last evaluation evaluated.", registry=r
        )
        self.last_evaluation = Gauge(
            "csmon_last_evaluation_timestamp_seconds",
            "When the last evaluation finished (Unix time).",
            registry=r,
        )
        self.notifications_sent = Counter(
            "csmon_notifications_sent", "Notifications a server accepted.", ["channel"], registry=r
        )
        self.send_failures = Counter(
            "csmon_send_failures", "Failed delivery attempts.", ["channel"], registry=r
        )
        self.imported_rows = Counter(
            "csmon_imported_rows",
            "Rows imported by the drop-folder sync, by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.import_files = Counter(
            "csmon_import_files",
            "Files taken from the drop folder.",
            ["kind", "result"],
            registry=r,
        )
        self.job_errors = Counter(
            "csmon_job_errors", "Scheduled job runs that raised an error.", ["job"], registry=r
        )
        self.is_leader = Gauge(
            "csmon_is_leader", "1 on the replica that evaluates and dispatches.", registry=r
        )
        self.reloads = Counter(
            "csmon_rules_reloads", "Rule/template reloads by result.", ["result"], registry=r
        )
        self.retention_deleted = Counter(
            "csmon_retention_deleted_events", "Raw events deleted by retention.", registry=r
        )

    def watch_store(self, engine: Engine) -> None:
        """Report alerts and outbox rows by state, read from the database at scrape time
        (so every replica, leader or not, reports the same truth)."""
        self.registry.register(StoreCollector(engine))


class StoreCollector(Collector):
    """``csmon_alerts{state}`` and ``csmon_outbox_notifications{state}`` at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        try:
            with self._engine.connect() as conn:
                by_alert = conn.execute(
                    select(alerts.c.state, func.count()).group_by(alerts.c.state)
                ).all()
                by_outbox = conn.execute(
                    select(outbox.c.state, func.count()).group_by(outbox.c.state)
                ).all()
        except Exception as exc:  # a scrape must still answer when the database is down
            log.warning("Cannot read alert and outbox counts: %s", exc)
            return
        alert_family, outbox_family = self._families()
        for state, count in by_alert:
            alert_family.add_metric([str(state)], float(count))
        for state, count in by_outbox:
            outbox_family.add_metric([str(state)], float(count))
        yield alert_family
        yield outbox_family

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("csmon_alerts", "Alerts by state.", labels=["state"]),
            GaugeMetricFamily(
                "csmon_outbox_notifications", "Outbox notifications by state.", labels=["state"]
            ),
        )
