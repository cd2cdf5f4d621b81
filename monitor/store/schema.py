"""The database schema, as SQLAlchemy Core tables.

Alembic migrations in ``migrations/versions`` create exactly this schema; a test
compares the two so they cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(200)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("arr", Float, nullable=False, default=0.0),
    Column("seats", Integer, nullable=False, default=0),
    Column("plan", String(100)),
    Column("csm_email", String(320)),
    Column("renewal_date", Date),
    Column("created_at", Date),
    # Free CRM attributes (industry, region, strategic, tier_override, ...).
    Column("attributes", JSON, nullable=False, default=dict),
    # A stub is an account seen in events before the CRM import brought it.
    Column("is_stub", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False, index=True),
    Column("email", String(320)),
    Column("role", String(50)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

contracts = Table(
    "contracts",
    metadata,
    Column("contract_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("arr", Float, nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("message_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("user_id", ID),
    Column("type", String(10), nullable=False),
    # track: the event name; page: "page:" + the path's first segment, e.g. "page:/help".
    Column("name", String(200), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),
    Column("properties", Text),
    # Day first: a time-ordered import appends, and metrics read day ranges.
    Index(None, "day", "account_id"),
)

# Rollup keys start with the day, like the events index: imports append to the end of
# the B-trees instead of rewriting pages all over them, and metrics read day ranges.
# On SQLite they are WITHOUT ROWID tables: the rows live in the key's B-tree, so an
# upsert writes one B-tree instead of two and a day range is read from adjacent pages.
event_daily = Table(
    "event_daily",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("day", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("day", "account_id", "name"),
    sqlite_with_rowid=False,
)

user_daily = Table(
    "user_daily",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("day", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("day", "account_id", "user_id"),
    sqlite_with_rowid=False,
)

property_daily = Table(
    "property_daily",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("day", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("property", String(100), nullable=False),
    Column("total", Float, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("day", "account_id", "name", "property"),
    sqlite_with_rowid=False,
)

# The version of a day's rollups rises with every import transaction that adds to
# them: what the cache of day-end values below checks its entries against.
rollup_days = Table(
    "rollup_days",
    metadata,
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# Metric term values of all accounts at one day end (a cache, see
# monitor/metrics/day_cache.py): valid while ``stamp`` equals the sum of the
# rollup_days versions up to ``day``. Deleting the rows is always safe.
day_terms = Table(
    "day_terms",
    metadata,
    Column("terms_key", String(64), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("stamp", BigInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

health_snapshots = Table(
    "health_snapshots",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("evaluated_at_ms", BigInteger, primary_key=True),
    Column("tier", String(10), nullable=False),
    Column("score", Float),
    Column("band", String(20), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("rule_results", JSON, nullable=False),
    Column("ruleset_hash", String(64), nullable=False),
    Index(None, "evaluated_at_ms"),
)

imports = Table(
    "imports",
    metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("accepted", Integer, nullable=False, default=0),
    Column("duplicate", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("stub_accounts", Integer, nullable=False, default=0),
)

import_rejects = Table(
    "import_rejects",
    metadata,
    Column("reject_id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("reason_code", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    # The offending input, cut to a bounded length so a bad file cannot bloat the db.
    Column("raw", Text, nullable=False),
)

# --- alerting ------------------------------------------------------------------------

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ID, nullable=False),
    # The verdict key: the rule name, or rule:contract:threshold for renewals.
    Column("key", String(300), nullable=False),
    Column("rule", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("state", String(10), nullable=False),  # pending | firing | resolved
    Column("severity", String(10), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("values", JSON, nullable=False, default=dict),
    Column("band", String(20)),
    Column("pending_since", DateTime(timezone=True)),
    Column("firing_since", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("last_evaluated_at", DateTime(timezone=True), nullable=False),
    Column("last_notified_at", DateTime(timezone=True)),
    Column("last_notified_severity", String(10)),
    Column("notify_count", Integer, nullable=False, default=0),
    Column("snoozed_until", DateTime(timezone=True)),
    Column("snooze_reason", Text),
    # The band and severity when snoozed: a worse one ends the snooze early.
    Column("snoozed_band", String(20)),
    Column("snoozed_severity", String(10)),
    Column("acked_at", DateTime(timezone=True)),
    Column("acked_by", String(320)),
    Column("escalated_at", DateTime(timezone=True)),
    Index(None, "account_id", "key", unique=True),
    Index(None, "state"),
)

alert_events = Table(
    "alert_events",
    metadata,
    # A durable row for every change of an alert: the audit trail and the history.
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("change", String(40), nullable=False),  # pending, firing, resolved, snoozed, ...
    Column("severity", String(10)),
    Column("actor", String(320)),
    Column("note", Text),
)

outbox = Table(
    "outbox",
    metadata,
    # One row per (recipient channel, target) and evaluation: committed before sending,
    # marked sent only after the server accepted it.
    Column("notification_id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("target", String(400), nullable=False),
    Column("recipient", String(400), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("alert_ids", JSON, nullable=False, default=list),
    Column("state", String(10), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    Column("claimed_by", String(100)),
    Column("claimed_until", DateTime(timezone=True)),
    Index(None, "state", "next_attempt_at"),
)

# --- daemon --------------------------------------------------------------------------

job_runs = Table(
    "job_runs",
    metadata,
    # One row per run of a once-per-slot job (the digest: slot = its local date). The
    # primary key makes the claim atomic, so a restart, a `run --once` next to the
    # daemon, or a replica taking over never runs a slot twice.
    Column("job", String(50), primary_key=True),
    Column("slot", String(40), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("worker", String(200), nullable=False),
)
