"""rollup day versions and the cache of day-end term values

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No backfill: a store without versions reads as version 0 everywhere, and every
    # cache entry is checked against the versions of the moment it is read.
    op.create_table(
        "rollup_days",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_rollup_days")),
    )
    op.create_table(
        "day_terms",
        sa.Column("terms_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("terms_key", "day", name=op.f("pk_day_terms")),
    )


def downgrade() -> None:
    op.drop_table("day_terms")
    op.drop_table("rollup_days")
