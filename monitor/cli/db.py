"""``csmon db``: database maintenance."""

from __future__ import annotations

import typer

from monitor.cli.console import out
from monitor.cli.context import AppContext
from monitor.store.migrate import current_revision

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (also done automatically on start)."""
    app_ctx: AppContext = ctx.obj
    engine = app_ctx.engine  # opening the store runs the migrations
    url = engine.url.render_as_string(hide_password=True)
    out.print(f"Database {url} is at schema revision {current_revision(engine)}.")
