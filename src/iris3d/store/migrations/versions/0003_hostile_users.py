"""Hostile users: disabled accounts and per-user limits, named/idle-timed tokens, invites.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never batch mode here: SQLite's batch copy drops and recreates a table,
    # and dropping ``users`` with foreign keys on would cascade to every study and job.
    op.add_column(
        "users", sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("limits", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column(
        "auth_tokens", sa.Column("kind", sa.String(16), nullable=False, server_default="session")
    )
    op.add_column(
        "auth_tokens", sa.Column("name", sa.String(100), nullable=False, server_default="")
    )
    # NULL: not used since the upgrade; the idle timeout then runs from the token's creation.
    op.add_column(
        "auth_tokens", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "created_by",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "used_by", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
    )
    # Fair claiming counts each owner's queued and running jobs.
    op.create_index("ix_jobs_state_owner", "jobs", ["state", "owner_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_state_owner", table_name="jobs")
    op.drop_table("invites")
    for table, column in (
        ("auth_tokens", "last_used_at"),
        ("auth_tokens", "name"),
        ("auth_tokens", "kind"),
        ("users", "limits"),
        ("users", "disabled"),
    ):
        op.drop_column(table, column)
