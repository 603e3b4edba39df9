"""Tags on pipelines and pipeline versions (KFP 2.15+); root input artifacts of runs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pipeline_tags",
        sa.Column("pipeline_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("value", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"], ["pipelines.pipeline_id"],
            name=op.f("fk_pipeline_tags_pipeline_id_pipelines"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pipeline_id", "key", name=op.f("pk_pipeline_tags")),
    )
    op.create_index(op.f("ix_pipeline_tags_key_value"), "pipeline_tags", ["key", "value"])
    op.create_table(
        "pipeline_version_tags",
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("value", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["pipeline_versions.version_id"],
            name=op.f("fk_pipeline_version_tags_version_id_pipeline_versions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "key", name=op.f("pk_pipeline_version_tags")),
    )
    op.create_index(op.f("ix_pipeline_version_tags_key_value"), "pipeline_version_tags", ["key", "value"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("input_artifacts", _JSON, nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("input_artifacts")
    op.drop_index(op.f("ix_pipeline_version_tags_key_value"), table_name="pipeline_version_tags")
    op.drop_table("pipeline_version_tags")
    op.drop_index(op.f("ix_pipeline_tags_key_value"), table_name="pipeline_tags")
    op.drop_table("pipeline_tags")
