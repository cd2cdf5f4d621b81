from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from monitor.store import create_store_engine, upgrade
from monitor.store.migrate import current_revision, head_revision
from monitor.store.schema import metadata


def test_migrations_from_empty_create_exactly_the_schema_the_code_uses(db_url: str) -> None:
    engine = create_store_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrade_is_idempotent(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables
    assert {"accounts", "events", "event_daily", "user_daily", "import_rejects"} <= tables
