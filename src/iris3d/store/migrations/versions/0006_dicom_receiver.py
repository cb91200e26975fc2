"""PACS routing studies to Iris: each account's rule, and a receipt per study received.

Receive tokens are rows of ``auth_tokens`` of kind ``dicom``: no schema change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dicom_rules",
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("quality", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        # A PACS server's id; no foreign key, so deleting a server leaves the rule to say so.
        sa.Column("destination", sa.String(32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dicom_receipts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "owner_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "study_id", sa.String(32), sa.ForeignKey("studies.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("destination", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dicom_receipts")
    op.drop_table("dicom_rules")
