"""Deployments: models served by pipeyard.serving.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("model_uri", sa.Text(), nullable=False),
        sa.Column("framework", sa.String(length=32), nullable=False),
        sa.Column("desired", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("task", sa.String(length=255), nullable=True),
        sa.Column("artifact_id", sa.String(length=64), nullable=True),
        sa.Column("runtime", sa.String(length=32), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("observed_generation", sa.Integer(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployments")),
    )
    op.create_index(op.f("ix_deployments_created_at"), "deployments", ["created_at"])
    op.create_index(op.f("ix_deployments_run_id"), "deployments", ["run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deployments_run_id"), table_name="deployments")
    op.drop_index(op.f("ix_deployments_created_at"), table_name="deployments")
    op.drop_table("deployments")
