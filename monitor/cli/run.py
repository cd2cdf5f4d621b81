"""``csmon run``: the daemon, or (``--once``) every due job one time for cron-style use."""

from __future__ import annotations

import typer

from monitor.cli.context import AppContext
from monitor.cli.timeopt import parse_instant
from monitor.config import resolve_config_path
from monitor.errors import CsmonError


def run(
    ctx: typer.Context,
    once: bool = typer.Option(
        False,
        "--once",
        help="Run every due job one time (sync, evaluate + dispatch, retention, and the "
        "digest if its time passed today and it has not run), then exit.",
    ),
    at: str | None = typer.Option(
        None,
        "--at",
        help="With --once: evaluate at this instant (ISO date or time, UTC).",
        show_default=False,
    ),
) -> None:
    """Run the daemon: scheduled source sync, evaluation and alert dispatch, the daily
    digest, retention, rule hot reload, and /healthz + /metrics when [http] port is set.

    SIGTERM/SIGINT stop it cleanly (a running job may finish); SIGHUP reloads the rules.
    With PostgreSQL, several replicas may run: one leads, the others take over when it
    dies. With SQLite, one daemon per database.
    """
    from monitor.daemon.run import run_daemon, run_once

    app_ctx: AppContext = ctx.obj
    if at is not None and not once:
        raise CsmonError("--at only works with --once: the daemon always runs at the current time.")
    settings = app_ctx.settings
    path, _ = resolve_config_path(app_ctx.config_path)
    config_path = path if path.is_file() else None
    if once:
        instant = parse_instant(at, app_ctx.clock) if at is not None else None
        run_once(settings, app_ctx.engine, config_path=config_path, at=instant)
        return
    status = run_daemon(settings, app_ctx.engine, config_path=config_path, clock=app_ctx.clock)
    raise typer.Exit(status)
