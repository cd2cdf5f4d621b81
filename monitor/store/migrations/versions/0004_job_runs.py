"""job runs: once-per-slot claims of daemon jobs (the digest's local date)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=50), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
