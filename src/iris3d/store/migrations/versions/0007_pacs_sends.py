"""Results to send to a PACS when their job finishes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacs_sends",
        sa.Column(
            "job_id",
            sa.String(32),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "owner_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("server_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pacs_sends_owner_id", "pacs_sends", ["owner_id"])
    op.create_index("ix_pacs_sends_state", "pacs_sends", ["state"])


def downgrade() -> None:
    op.drop_index("ix_pacs_sends_state", table_name="pacs_sends")
    op.drop_index("ix_pacs_sends_owner_id", table_name="pacs_sends")
    op.drop_table("pacs_sends")
