"""``csmon import``: bring CRM records and usage events into the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from monitor.cli.console import err, out
from monitor.cli.context import AppContext
from monitor.ingest.progress import Progress as ProgressCallback
from monitor.ingest.progress import no_progress
from monitor.ingest.report import ImportReport

app = typer.Typer(
    help="Import accounts, users, contracts (CSV or JSON) and events (Segment JSONL).",
    no_args_is_help=True,
)

FILE = typer.Argument(..., help="The file to import.", show_default=False)


@app.command()
def accounts(ctx: typer.Context, file: Path = FILE) -> None:
    """Upsert accounts: account_id, name, arr, seats, plan, csm_email, renewal_date,
    created_at, and any further columns as free attributes (industry, strategic, ...)."""
    from monitor.ingest.crm import import_accounts

    _run(ctx, file, lambda c, p: import_accounts(c.engine, file, clock=c.clock, progress=p))


@app.command()
def users(ctx: typer.Context, file: Path = FILE) -> None:
    """Upsert users/contacts: user_id, account_id, email, role."""
    from monitor.ingest.crm import import_users

    _run(ctx, file, lambda c, p: import_users(c.engine, file, clock=c.clock, progress=p))


@app.command()
def contracts(ctx: typer.Context, file: Path = FILE) -> None:
    """Upsert contracts: contract_id, account_id, start, end, arr, status
    (active|renewed|churned). An account's renewal date is the end of its active contract."""
    from monitor.ingest.crm import import_contracts

    _run(ctx, file, lambda c, p: import_contracts(c.engine, file, clock=c.clock, progress=p))


@app.command()
def events(ctx: typer.Context, file: Path = FILE) -> None:
    """Import Segment-spec events (track, page, identify, group) from JSONL, optionally .gz.

    Duplicates (same messageId) are skipped; daily rollups are updated in the same
    transaction; bad lines are kept in the rejects table with their line number and reason.
    """
    from monitor.ingest.events import import_events

    _run(
        ctx,
        file,
        lambda c, p: import_events(c.engine, file, c.settings.ingest, clock=c.clock, progress=p),
    )


Importer = Callable[[AppContext, ProgressCallback], ImportReport]


def _run(ctx: typer.Context, file: Path, importer: Importer) -> None:
    app_ctx: AppContext = ctx.obj
    app_ctx.engine  # noqa: B018 - open and migrate the store before the progress bar starts
    with progress_bar(file) as progress:
        report = importer(app_ctx, progress)
    print_report(report)


@contextmanager
def progress_bar(file: Path) -> Iterator[ProgressCallback]:
    if not err.is_terminal or not file.is_file():
        yield no_progress
        return
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(f"importing {escape(file.name)}", total=file.stat().st_size)
        yield lambda advance: bar.advance(task, advance)


def print_report(report: ImportReport) -> None:
    table = Table(title=f"import {report.kind}: {escape(report.source)}", title_justify="left")
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    table.add_row("accepted", f"{report.accepted:,}")
    table.add_row("duplicate", f"{report.duplicate:,}")
    for reason, count in sorted(report.rejected_by_reason.items()):
        table.add_row(f"rejected: {reason}", f"{count:,}", style="yellow")
    table.add_row("total", f"{report.rows:,}", style="bold")
    out.print(table)
    if report.rejected:
        out.print(
            f"{report.rejected:,} rejected rows are kept with their line numbers and reasons "
            f"(import #{report.import_id}, table import_rejects)."
        )
    if report.stub_accounts:
        shown = ", ".join(escape(a) for a in report.stub_accounts[:10])
        more = len(report.stub_accounts) - 10
        out.print(
            f"{len(report.stub_accounts):,} accounts named in this file but not yet imported "
            f"from the CRM were created as stubs: {shown}"
            + (f" and {more:,} more." if more > 0 else ".")
        )
