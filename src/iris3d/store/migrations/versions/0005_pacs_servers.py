"""PACS servers each user adds (DICOMweb address and credentials).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacs_servers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "owner_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("username", sa.String(200), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pacs_servers_owner_id", "pacs_servers", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_pacs_servers_owner_id", table_name="pacs_servers")
    op.drop_table("pacs_servers")
