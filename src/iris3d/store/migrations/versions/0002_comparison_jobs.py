"""Comparison jobs: a job's kind, the later study it compares, and the study jobs it reads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key to an existing table, so it copies the table.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="study")
        )
        batch.add_column(sa.Column("follow_study_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("inputs", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_foreign_key(
            "fk_jobs_follow_study_id", "studies", ["follow_study_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_jobs_follow_study_id", ["follow_study_id"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_follow_study_id")
        batch.drop_constraint("fk_jobs_follow_study_id", type_="foreignkey")
        batch.drop_column("inputs")
        batch.drop_column("follow_study_id")
        batch.drop_column("kind")
