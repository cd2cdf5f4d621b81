"""The ``csmon`` command line: a thin shell over the package's functions.

Errors a user can act on are :class:`~monitor.errors.CsmonError`: printed as one
sentence, exit status non-zero, no traceback unless ``--debug``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from monitor import __version__
from monitor.cli import alerts, db, demo, dispatch, evaluate, imports, rules, run
from monitor.cli.console import fail
from monitor.cli.context import AppContext
from monitor.errors import CsmonError

HELP = """\
csmon watches the health of every customer account and tells the right person in time.

It imports accounts, contracts and product-usage events (Segment spec), evaluates the
health rules in rules/ for every account, tiers accounts S/A/B, scores their health,
and alerts each account's CSM (Slack, email) plus a daily digest for managers.

Quick start: **csmon demo** builds a realistic synthetic portfolio and shows it in a
minute. With your own data: csmon import accounts|users|contracts|events FILE, then
csmon rules check, csmon evaluate, csmon explain ACCOUNT, and csmon run for the daemon.

Configuration comes from config.toml (or --config / CSMON_CONFIG), every key
overridable by environment: CSMON_DATABASE_URL, CSMON_INGEST__BATCH_SIZE, ...
"""

_debug = False


class CsmonGroup(TyperGroup):
    """Turns errors from any command into one sentence and an exit status.

    Done here rather than in :func:`main` so that every way of invoking the app
    (console script, ``python -m monitor``, tests) behaves the same.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CsmonError as exc:
            if _debug:
                raise
            fail(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if _debug:
                raise
            fail(f"Unexpected {type(exc).__name__}: {exc} (run again with --debug for details).")
            raise typer.Exit(70) from None


app = typer.Typer(
    name="csmon",
    cls=CsmonGroup,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
START, DATA, HEALTH, ALERTS, OPERATE = (
    "Getting started",
    "Data in",
    "Rules and health",
    "Alerts",
    "Running csmon",
)
app.command(name="demo", rich_help_panel=START)(demo.demo)
app.add_typer(imports.app, name="import", rich_help_panel=DATA)
app.add_typer(db.app, name="db", rich_help_panel=DATA)
app.add_typer(rules.app, name="rules", rich_help_panel=HEALTH)
app.command(name="evaluate", rich_help_panel=HEALTH)(evaluate.evaluate)
app.command(name="explain", rich_help_panel=HEALTH)(evaluate.explain)
app.add_typer(alerts.app, name="alerts", rich_help_panel=ALERTS)
alerts.app.command(name="outbox")(dispatch.outbox_command)
alerts.app.command(name="requeue")(dispatch.requeue_command)
app.command(name="dispatch", rich_help_panel=ALERTS)(dispatch.dispatch)
app.command(name="run", rich_help_panel=OPERATE)(run.run)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"csmon {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Config file (default: $CSMON_CONFIG, else ./config.toml).",
        show_default=False,
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Database URL; overrides config and CSMON_DATABASE_URL.",
        show_default=False,
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    global _debug
    _debug = debug
    ctx.obj = AppContext(config_path=config, database_url=database_url, debug=debug)


def main() -> None:
    """Console entry point."""
    try:
        app(prog_name="csmon")
    except KeyboardInterrupt:
        fail("Interrupted.")
        sys.exit(130)
