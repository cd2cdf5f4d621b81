"""What every command needs: settings, the database engine and a clock, made lazily.

Commands get an :class:`AppContext` from the global options; nothing is read or
connected until a command asks for it, so ``csmon --help`` works anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from monitor.clock import Clock, SystemClock
from monitor.config import Settings, load_settings
from monitor.errors import CsmonError
from monitor.store import create_store_engine, upgrade


@dataclass
class AppContext:
    config_path: Path | None = None
    database_url: str | None = None
    debug: bool = False
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path, database_url=self.database_url)

    @cached_property
    def engine(self) -> Engine:
        """The store's engine, its schema brought up to date (migrations run on start)."""
        engine = create_store_engine(self.settings.database_url)
        try:
            upgrade(engine)
        except OperationalError as exc:
            raise CsmonError(
                f"Cannot open the database {engine.url.render_as_string(hide_password=True)}: "
                f"{exc.orig}."
            ) from None
        return engine
