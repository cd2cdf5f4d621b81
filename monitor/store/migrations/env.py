"""Alembic environment: the engine is handed in by ``monitor.store.migrate``."""

from alembic import context
from sqlalchemy import Engine

from monitor.store.schema import metadata

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
