"""``csmon demo``: a realistic synthetic portfolio in a fresh SQLite database, in seconds.

The command runs the same code paths as a real deployment: the generator writes the
files a CRM export and a Segment pipeline would produce, and the regular importers
bring them into a store of the demo's own, so what the newcomer sees is what csmon does.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import Engine

from monitor.alerting import evaluate_and_alert
from monitor.cli.console import err, out
from monitor.cli.context import AppContext
from monitor.cli.evaluate import attention_order, print_portfolio
from monitor.cli.imports import progress_bar
from monitor.clock import Clock
from monitor.config import SHIPPED, IngestSettings, load_settings
from monitor.demo import FILE_NAMES, Archetype, DemoFiles, Portfolio, generate
from monitor.errors import CsmonError
from monitor.ingest.progress import Progress
from monitor.ingest.report import ImportReport
from monitor.notify import channels_from_settings
from monitor.outbox import dispatch_due
from monitor.rules.loader import load_rules
from monitor.store import create_store_engine, upgrade

DB_NAME = "csmon.db"
CONFIG_NAME = "config.toml"
NOTIFICATIONS = "notifications.jsonl"
SAMPLE_LINES = 24
DEMO_FILES = (
    *FILE_NAMES,
    DB_NAME,
    CONFIG_NAME,
    NOTIFICATIONS,
    f"{DB_NAME}-wal",
    f"{DB_NAME}-shm",
    f"{DB_NAME}-journal",
)
"""Everything ``--force`` may delete: the demo's own files, never anything else."""

ARCHETYPE_HINTS = {
    Archetype.HEALTHY: "steady use: they should be green",
    Archetype.GROWING: "usage and active users climbing: expansion opportunities",
    Archetype.DECAYING: "usage falling over the last weeks: churn risks before renewal",
    Archetype.HELP_SPIKE: "a burst of /help views and tickets in the last two weeks",
    Archetype.REACTIVATED: "silent for weeks, logging in again in the last days",
    Archetype.ONBOARDING: "created in the last 30 days: still onboarding",
    Archetype.DORMANT: "paying, but nobody used the product in the whole window",
    Archetype.CHURNED: "former customers: churned contracts for KPIs and backtests",
}
ARR_BANDS = ((100_000.0, ">= 100k"), (20_000.0, "20k - 100k"), (0.01, "< 20k"))
FORMER = "former customers"


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Run:
    """The demo's progress: its steps with their timings, for the summary."""

    steps: list[Step] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name)
        started = time.perf_counter()
        try:
            yield step
        finally:
            step.seconds = time.perf_counter() - started
            self.steps.append(step)


def demo(
    ctx: typer.Context,
    folder: Path = typer.Option(
        Path("csmon-demo"), "--dir", help="Folder for the generated files and the database."
    ),
    accounts: int = typer.Option(
        500, "--accounts", min=1, max=100_000, help="Accounts (~1,000 events each over 90 days)."
    ),
    days: int = typer.Option(90, "--days", min=7, max=730, help="Days of usage, ending now."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same portfolio."),
    force: bool = typer.Option(
        False, "--force", help="Replace an earlier demo's files in --dir (other files stay)."
    ),
) -> None:
    """Build a realistic synthetic portfolio in a fresh SQLite database and show it.

    1. Generates accounts with power-law ARR, their users, two years of contracts and
       Segment-spec usage events into --dir: accounts.csv, users.csv, contracts.csv,
       events.jsonl. The same --seed always gives the same files.
    2. Imports them with the regular importers into a new database, **--dir/csmon.db**.
       The demo never touches your configured database: database_url and
       CSMON_DATABASE_URL are ignored.
    3. Evaluates every account with the shipped rules (tiers, health, alerts), stores
       the results and sends the alert messages (to a file: no Slack or SMTP needed),
       as the daemon would.
    4. Prints the portfolio, what the generator planted in it, the accounts needing
       attention, and the next steps (with a config file for the demo's database).
    """
    app_ctx: AppContext = ctx.obj
    _prepare(folder, force)
    run = Run()
    with run.step("generate") as step, _status(f"generating {accounts:,} accounts"):
        portfolio, files = generate(
            folder, clock=app_ctx.clock, seed=seed, accounts=accounts, days=days
        )
        step.detail = f"{files.event_lines:,} event lines, {files.size_bytes / 1e6:,.1f} MB"
    database = folder / DB_NAME
    engine = create_store_engine(f"sqlite:///{database.resolve()}")
    try:
        with run.step("create database") as step:
            upgrade(engine)
            step.detail = str(database)
        reports = _import(engine, files, app_ctx.clock, run)
        config = _write_config(folder, database)
        settings = load_settings(config)
        with run.step("evaluate and alert") as step:
            outcome = evaluate_and_alert(
                engine, load_rules(settings.rules_dir), settings, app_ctx.clock.now()
            )
            evaluation = outcome.evaluation
            step.detail = (
                f"{len(evaluation.accounts):,} customers, {outcome.alerts_changed:,} alerts, "
                f"{outcome.notifications_queued:,} messages queued"
            )
        with run.step("send alerts") as step:
            # Each CSM's message goes to the console and the file channels (no Slack or
            # SMTP in the demo); the console copies are not shown, the summary shows one.
            channels = channels_from_settings(
                settings.slack,
                settings.email,
                settings.notify_file_path,
                clock=app_ctx.clock,
                stream=io.StringIO(),
            )
            sent = dispatch_due(
                engine, channels, settings.alerts_dir, clock=app_ctx.clock, worker="demo"
            )
            step.detail = f"{sent.sent:,} messages to {settings.notify_file_path.name}"
    finally:
        engine.dispose()
    _print_summary(portfolio, reports, run)
    print_portfolio(evaluation, show_all=False, limit=15)
    _print_sample_message(settings.notify_file_path)
    worst = min(evaluation.accounts, key=lambda r: attention_order(r, evaluation))
    out.print("\nNext steps (the demo wrote its own config file):")
    for command in (
        "evaluate --all",
        f"explain {worst.account_id}",
        "rules test",
    ):
        out.print(f"  csmon --config {escape(str(config))} {command}", soft_wrap=True)


def _write_config(folder: Path, database: Path) -> Path:
    """The demo's config: its database, the shipped rules and templates, and the file
    the alert messages go to (no Slack or SMTP needed), for the demo and the next steps."""
    path = folder / CONFIG_NAME
    path.write_text(
        "# Written by `csmon demo`: the demo's own database and the shipped rules.\n"
        f'database_url = "sqlite:///{database.resolve().as_posix()}"\n'
        f'rules_dir = "{(SHIPPED / "rules").as_posix()}"\n'
        f'alerts_dir = "{(SHIPPED / "alerts").as_posix()}"\n\n'
        "# Without Slack or SMTP configured, each CSM's alerts go to the console and to\n"
        "# this file; see docs/alerts.md for routes to Slack and email.\n"
        "[notify]\n"
        f'file_path = "{NOTIFICATIONS}"\n',
        encoding="utf-8",
    )
    return path


def _print_sample_message(path: Path) -> None:
    """Show the first alert message the demo sent: what a CSM would receive."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as messages:
        first = next(messages, None)
    if first is None:
        return
    message = json.loads(first)
    lines = str(message["text"]).splitlines()
    shown = "\n".join(lines[:SAMPLE_LINES])
    if len(lines) > SAMPLE_LINES:
        shown += f"\n... ({len(lines) - SAMPLE_LINES:,} more lines)"
    out.print(
        Panel(
            escape(shown),
            title=f"The start of one CSM's alert message (all in {escape(str(path))})",
            subtitle=escape(message["subject"][:90]),
            expand=False,
        )
    )


@contextmanager
def _status(message: str) -> Iterator[None]:
    """A spinner on a terminal (big portfolios take a while); nothing otherwise."""
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield


def _prepare(folder: Path, force: bool) -> None:
    """Refuse a folder holding anything unless ``--force``; with it, remove the files an
    earlier demo wrote there (and only those)."""
    if folder.exists() and not folder.is_dir():
        raise CsmonError(f"{folder} is a file; choose a folder with --dir.")
    if not folder.exists() or not any(folder.iterdir()):
        return
    if not force:
        raise CsmonError(
            f"The folder {folder} is not empty; pass --force to replace the demo in it, "
            "or choose another folder with --dir."
        )
    for name in DEMO_FILES:
        (folder / name).unlink(missing_ok=True)


class Importer(Protocol):
    def __call__(
        self, engine: Engine, path: Path, /, *, clock: Clock, progress: Progress
    ) -> ImportReport: ...


def _import(engine: Engine, files: DemoFiles, clock: Clock, run: Run) -> list[ImportReport]:
    """Import the four files with the regular importers, events with a progress bar."""
    from monitor.ingest.crm import import_accounts, import_contracts, import_users
    from monitor.ingest.events import import_events

    # The demo's own ingest defaults, not the config file's: a broken config.toml must
    # not break the demo, and the demo behaves the same for everyone.
    importers: list[tuple[str, Path, Importer]] = [
        ("accounts", files.accounts, import_accounts),
        ("users", files.users, import_users),
        ("contracts", files.contracts, import_contracts),
        ("events", files.events, partial(import_events, settings=IngestSettings())),
    ]
    reports = []
    for kind, path, importer in importers:
        with run.step(f"import {kind}") as step, progress_bar(path) as progress:
            report = importer(engine, path, clock=clock, progress=progress)
        step.detail = f"{report.accepted:,} rows"
        if kind == "events":
            rate = report.accepted / step.seconds if step.seconds else 0.0
            step.detail = f"{report.accepted:,} events, {rate:,.0f} events/s"
        if report.rejected:
            step.detail += f", {report.rejected:,} rejected (import #{report.import_id})"
        reports.append(report)
    return reports


def _print_summary(portfolio: Portfolio, reports: list[ImportReport], run: Run) -> None:
    out.print(_portfolio_table(portfolio))
    out.print(_archetype_table(portfolio))
    out.print(_steps_table(run))
    rejected = sum(r.rejected for r in reports)
    if rejected:
        out.print(
            f"[yellow]{rejected:,} generated rows were rejected: see the import_rejects "
            "table; the demo data should import cleanly.[/]"
        )


@dataclass
class _Band:
    accounts: int = 0
    arr: float = 0.0
    users: int = 0
    plans: Counter[str] = field(default_factory=Counter)


def _portfolio_table(portfolio: Portfolio) -> Table:
    """Accounts by ARR band (the default tiers' thresholds) with their ARR, users, plans."""
    bands: dict[str, _Band] = {label: _Band() for _, label in ARR_BANDS}
    bands[FORMER] = _Band()
    for account in portfolio.accounts:
        label = next((label for low, label in ARR_BANDS if account.arr >= low), FORMER)
        band = bands[label]
        band.accounts += 1
        band.arr += account.arr
        band.users += len(account.users)
        band.plans[account.plan] += 1
    table = Table(title="The demo portfolio", title_justify="left")
    table.add_column("accounts by ARR")
    for column in ("accounts", "ARR", "users"):
        table.add_column(column, justify="right")
    table.add_column("plans")
    for label, band in bands.items():
        plans = ", ".join(f"{plan} {n}" for plan, n in sorted(band.plans.items()))
        table.add_row(label, f"{band.accounts:,}", f"{band.arr:,.0f}", f"{band.users:,}", plans)
    statuses = Counter(c.status for c in portfolio.contracts)
    table.add_section()
    table.add_row(
        "contracts",
        f"{sum(statuses.values()):,}",
        "",
        "",
        ", ".join(f"{status} {statuses[status]:,}" for status in ("active", "renewed", "churned")),
    )
    return table


def _archetype_table(portfolio: Portfolio) -> Table:
    """What the generator planted, so the newcomer knows what csmon should find."""
    table = Table(title="What the generator planted", title_justify="left")
    table.add_column("accounts", justify="right")
    table.add_column("kind")
    table.add_column("what to look for")
    for archetype, hint in ARCHETYPE_HINTS.items():
        count = portfolio.archetype_counts.get(archetype, 0)
        if count:
            table.add_row(f"{count:,}", archetype.value.replace("_", " "), hint)
    return table


def _steps_table(run: Run) -> Table:
    table = Table(title="Steps", title_justify="left")
    table.add_column("step")
    table.add_column("time", justify="right")
    table.add_column("result")
    for step in run.steps:
        table.add_row(step.name, f"{step.seconds:.1f} s", escape(step.detail))
    table.add_section()
    table.add_row("total", f"{sum(s.seconds for s in run.steps):.1f} s", "", style="bold")
    return table
