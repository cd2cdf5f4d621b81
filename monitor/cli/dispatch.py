"""``csmon dispatch`` (send what is due now), and for the alerts CLI: ``outbox`` (what is
queued, sent, failed) and ``requeue`` (send failed notifications again)."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from enum import StrEnum

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from monitor.cli.console import err, note, out
from monitor.cli.context import AppContext
from monitor.errors import CsmonError
from monitor.notify import channels_from_settings
from monitor.outbox import DispatchReport, OutboxEntry, dispatch_due, list_outbox, requeue_failed

ERROR_WIDTH = 60


class StateChoice(StrEnum):
    pending = "pending"
    failed = "failed"
    sent = "sent"
    all = "all"


def dispatch(ctx: typer.Context) -> None:
    """Send every notification that is due in the outbox now (retries included), once.

    Exits 1 when a notification failed for good (e.g. a revoked Slack token or an
    unknown channel); `csmon alerts outbox --state failed` shows them with the reason.
    """
    app_ctx: AppContext = ctx.obj
    settings = app_ctx.settings
    channels = channels_from_settings(
        settings.slack, settings.email, settings.notify_file_path, clock=app_ctx.clock
    )
    report = dispatch_due(
        app_ctx.engine,
        channels,
        settings.alerts_dir,
        clock=app_ctx.clock,
        worker=f"{socket.gethostname()}:{os.getpid()}:dispatch",
    )
    print_dispatch(report)
    if report.failed_permanently:
        err.print(
            f"{report.failed_permanently} notification(s) failed and will not be retried; "
            "`csmon alerts outbox --state failed` shows them with the reason.",
            soft_wrap=True,  # one sentence: let the terminal wrap it, so it can be grepped
        )
        raise typer.Exit(1)


def print_dispatch(report: DispatchReport) -> None:
    if report.idle:
        note("Nothing was due in the outbox.")
        return
    table = Table(title="dispatch", title_justify="left")
    for column in ("channel", "sent", "retry later", "failed"):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for name, stats in sorted(report.by_channel.items()):
        table.add_row(escape(name), str(stats.sent), str(stats.retry_later), str(stats.failed))
    out.print(table)
    note(f"Dispatch: {report.summary()}.")


def outbox_command(
    ctx: typer.Context,
    state: StateChoice = typer.Option(
        StateChoice.all, "--state", help="Show only notifications in this state."
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many, newest first."),
) -> None:
    """List outbox notifications, newest first: where each goes, its state, attempts,
    next attempt and last error."""
    app_ctx: AppContext = ctx.obj
    entries, total = list_outbox(app_ctx.engine, state.value, limit)
    now = app_ctx.clock.now()
    which = "" if state is StateChoice.all else f"{state.value} "
    if not entries:
        note(f"The outbox holds no {which}notifications.")
        return
    # No vertical rules: eight columns must fit an 80-column terminal.
    table = Table(
        title=f"outbox: {which}notifications (times in UTC)",
        title_justify="left",
        box=box.SIMPLE,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("created", min_width=10)
    table.add_column("channel", no_wrap=True)
    table.add_column("target", min_width=8, overflow="fold")
    table.add_column("state", min_width=7, overflow="fold")
    table.add_column("attempts", justify="right", min_width=5)
    table.add_column("next attempt", min_width=10)
    table.add_column("last error", min_width=8, max_width=ERROR_WIDTH, overflow="fold")
    for entry in entries:
        table.add_row(*outbox_cells(entry, now))
    out.print(table)
    if total > len(entries):
        note(f"Showing {len(entries)} of {total} {which}notifications (use --limit for more).")


def requeue_command(
    ctx: typer.Context,
    ids: list[int] | None = typer.Argument(
        None, help="Ids of failed notifications (see the outbox listing).", show_default=False
    ),
    all_failed: bool = typer.Option(False, "--all-failed", help="Requeue every failed one."),
) -> None:
    """Make failed notifications pending again, due now, with their attempts reset: for
    after the cause (a revoked token, a wrong address) is fixed."""
    if not ids and not all_failed:
        raise CsmonError("Name the notifications to requeue by id, or use --all-failed.")
    app_ctx: AppContext = ctx.obj
    count = requeue_failed(app_ctx.engine, now=app_ctx.clock.now(), ids=None if all_failed else ids)
    out.print(
        f"Requeued {count} failed notification(s); `csmon dispatch` sends them now, "
        "the daemon at its next dispatch.",
        soft_wrap=True,
    )
    if ids and not all_failed and count < len(set(ids)):
        note(f"{len(set(ids)) - count} of the given ids are not failed notifications.")


def outbox_cells(entry: OutboxEntry, now: datetime) -> tuple[str, ...]:
    """One table row; every value is escaped (targets and errors may hold brackets)."""
    state = entry.state
    if entry.state == "pending" and entry.claimed_until is not None and entry.claimed_until > now:
        state = f"pending (claimed by {entry.claimed_by})"
    if entry.state == "pending":
        when = _time(entry.next_attempt_at)
    else:
        when = f"sent {_time(entry.sent_at)}" if entry.sent_at is not None else "-"
    return tuple(
        escape(cell)
        for cell in (
            str(entry.notification_id),
            _time(entry.created_at),
            entry.channel,
            entry.target,
            state,
            str(entry.attempts),
            when,
            entry.last_error or "",
        )
    )


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
