"""``csmon alerts list|snooze|unsnooze|ack``: see and silence alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from monitor.alerting import ack, alert_history, snooze, unsnooze
from monitor.alerting.lifecycle import AlertRow
from monitor.alerting.state import AlertListing, list_alerts
from monitor.cli.console import out
from monitor.cli.context import AppContext
from monitor.cli.timeopt import parse_instant
from monitor.clock import ensure_utc
from monitor.rules.durations import DurationError, parse_duration

app = typer.Typer(
    help="List alerts, snooze them, acknowledge them.",
    no_args_is_help=True,
)

STATES = {
    "open": ("pending", "firing"),
    "firing": ("firing",),
    "pending": ("pending",),
    "resolved": ("resolved",),
    "all": ("pending", "firing", "resolved"),
}
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
ALERT_ID = typer.Argument(
    ..., help="The alert's id (see csmon alerts list).", show_default=False, metavar="ID"
)
BY = typer.Option(None, "--by", help="Who does it (an email), for the audit trail.")


@app.command("list")
def list_command(
    ctx: typer.Context,
    state: str = typer.Option(
        "open", "--state", help="open (pending and firing), firing, pending, resolved or all."
    ),
    account: str | None = typer.Option(None, "--account", help="Only this account's alerts."),
    owner: str | None = typer.Option(None, "--owner", help="Only alerts of this CSM (email)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    limit: int = typer.Option(500, "--limit", min=1, help="Show at most this many."),
) -> None:
    """List alerts, most recently evaluated first: state, since when, when last
    notified, and whether snoozed or acknowledged."""
    if state not in STATES:
        raise typer.BadParameter(f"use one of {', '.join(STATES)}", param_hint="--state")
    app_ctx: AppContext = ctx.obj
    with app_ctx.engine.connect() as conn:
        listings = list_alerts(
            conn, states=STATES[state], account_id=account, owner=owner, limit=limit
        )
    if as_json:
        out.file.write(orjson.dumps([as_record(item) for item in listings]).decode() + "\n")
        return
    out.print(_table(listings, state))


@app.command("show")
def show_command(ctx: typer.Context, alert_id: int = ALERT_ID) -> None:
    """Show one alert and its history: every change, notification, snooze and ack."""
    app_ctx: AppContext = ctx.obj
    row, events = alert_history(app_ctx.engine, alert_id)
    out.print(f"Alert {row.alert_id} ({_name(row)}): {row.state}, {row.severity}")
    if row.summary:
        out.print(escape(row.summary))
    for event in events:
        who = f" by {event.actor}" if event.actor else ""
        note = f": {event.note}" if event.note else ""
        line = f"{_time(ensure_utc(event.at))}  {event.change} ({event.severity}){who}{note}"
        out.print(escape(line), soft_wrap=True)


@app.command("snooze")
def snooze_command(
    ctx: typer.Context,
    alert_id: int = ALERT_ID,
    until: str | None = typer.Option(
        None, "--until", help="Until this date or time (ISO, UTC), e.g. 2026-12-01."
    ),
    for_: str | None = typer.Option(None, "--for", help="For this long: 12h, 7d or 2w."),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail."),
    by: str | None = BY,
) -> None:
    """Silence an alert until a time, or until its account gets worse (lower band or
    higher severity), whichever comes first."""
    if (until is None) == (for_ is None):
        raise typer.BadParameter("give either --until DATE or --for DURATION")
    app_ctx: AppContext = ctx.obj
    now = app_ctx.clock.now()
    if for_ is not None:
        try:
            end = now + parse_duration(for_, allow_hours=True)
        except DurationError as exc:
            raise typer.BadParameter(str(exc), param_hint="--for") from None
    else:
        end = parse_instant(until, app_ctx.clock)
    row = snooze(app_ctx.engine, alert_id, end, reason, by or "cli", app_ctx.clock)
    out.print(f"Alert {row.alert_id} ({_name(row)}) snoozed until {_time(end)} UTC.")


@app.command("unsnooze")
def unsnooze_command(ctx: typer.Context, alert_id: int = ALERT_ID, by: str | None = BY) -> None:
    """End an alert's snooze now."""
    app_ctx: AppContext = ctx.obj
    row = unsnooze(app_ctx.engine, alert_id, by or "cli", app_ctx.clock)
    out.print(f"Alert {row.alert_id} ({_name(row)}) is no longer snoozed.")


@app.command("ack")
def ack_command(ctx: typer.Context, alert_id: int = ALERT_ID, by: str | None = BY) -> None:
    """Acknowledge an alert: no more reminders until it resolves, unless its severity
    rises."""
    app_ctx: AppContext = ctx.obj
    row = ack(app_ctx.engine, alert_id, by or "cli", app_ctx.clock)
    who = escape(f" by {row.acked_by}") if row.acked_by else ""
    out.print(f"Alert {row.alert_id} ({_name(row)}) acknowledged{who} at {_time(row.acked_at)}.")


def as_record(listing: AlertListing) -> dict[str, Any]:
    alert = listing.alert
    return {
        "alert_id": alert.alert_id,
        "account_id": alert.account_id,
        "account_name": listing.account_name,
        "owner": listing.owner,
        "rule": alert.rule,
        "kind": alert.kind,
        "key": alert.key,
        "severity": alert.severity,
        "state": alert.state,
        "since": _iso(alert.since),
        "summary": alert.summary,
        "last_notified_at": _iso(alert.last_notified_at),
        "notify_count": alert.notify_count,
        "snoozed_until": _iso(alert.snoozed_until),
        "snooze_reason": alert.snooze_reason,
        "acked_at": _iso(alert.acked_at),
        "acked_by": alert.acked_by,
    }


def _table(listings: list[AlertListing], state: str) -> Table:
    table = Table(
        title=f"Alerts ({state}): {len(listings):,}",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    # On a narrow terminal the names keep some room and the dates stay whole.
    for column, min_width in (
        ("id", None),
        ("account", 10),
        ("rule", 10),
        ("severity", None),
        ("state", None),
        ("since", None),
        ("notified", None),
        ("silenced", 8),
    ):
        table.add_column(
            column,
            min_width=min_width,
            no_wrap=min_width is None,
            justify="right" if column == "id" else "left",
        )
    for item in listings:
        alert = item.alert
        style = SEVERITY_STYLE.get(alert.severity, "")
        table.add_row(
            str(alert.alert_id),
            escape(f"{item.account_name or alert.account_id} ({alert.account_id})"),
            escape(alert.key),
            f"[{style}]{alert.severity}[/]" if style else alert.severity,
            alert.state,
            _day(alert.since),
            _day(alert.last_notified_at),
            escape(_silence(alert)),
        )
    return table


def _silence(alert: AlertRow) -> str:
    parts = []
    if alert.snoozed_until is not None:
        parts.append(f"snoozed until {_day(alert.snoozed_until)}")
    if alert.acked_at is not None:
        parts.append(f"acked by {alert.acked_by or '?'}")
    return "; ".join(parts)


def _name(row: AlertRow) -> str:
    return escape(f"{row.account_id}: {row.key}")


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _day(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
