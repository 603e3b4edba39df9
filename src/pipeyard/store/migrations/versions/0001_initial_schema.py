"""Initial schema: pipelines, experiments, runs, tasks, attempts, artifacts, lineage, schedules.

A revision is a frozen snapshot: it spells its column types out instead of importing
``pipeyard.store.schema``, so later edits to the metadata cannot change what it creates.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere; Python None is SQL NULL.
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("storage_state", sa.String(length=32), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("last_run_created_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("experiment_id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("namespace", "display_name", name=op.f("uq_experiments_namespace_display_name")),
    )
    op.create_index(op.f("ix_experiments_created_at"), "experiments", ["created_at"])

    op.create_table(
        "pipelines",
        sa.Column("pipeline_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("pipeline_id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("namespace", "name", name=op.f("uq_pipelines_namespace_name")),
    )
    op.create_index(op.f("ix_pipelines_created_at"), "pipelines", ["created_at"])

    op.create_table(
        "recurring_runs",
        sa.Column("recurring_run_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("trigger", JSON, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("experiment_id", sa.String(length=64), nullable=True),
        sa.Column("pipeline_id", sa.String(length=64), nullable=True),
        sa.Column("pipeline_version_id", sa.String(length=64), nullable=True),
        sa.Column("pipeline_spec", JSON, nullable=True),
        sa.Column("platform_spec", JSON, nullable=True),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("pipeline_root", sa.Text(), nullable=False),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("no_catchup", sa.Boolean(), nullable=False),
        sa.Column("last_fired_at", sa.DateTime(), nullable=True),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("service_account", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("recurring_run_id", name=op.f("pk_recurring_runs")),
    )
    op.create_index(op.f("ix_recurring_runs_created_at"), "recurring_runs", ["created_at"])
    op.create_index(op.f("ix_recurring_runs_experiment_id"), "recurring_runs", ["experiment_id"])
    op.create_index(op.f("ix_recurring_runs_mode"), "recurring_runs", ["mode"])

    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("pipeline_spec", JSON, nullable=False),
        sa.Column("platform_spec", JSON, nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("experiment_id", sa.String(length=64), nullable=True),
        sa.Column("pipeline_id", sa.String(length=64), nullable=True),
        sa.Column("pipeline_version_id", sa.String(length=64), nullable=True),
        sa.Column("pipeline_name", sa.String(length=255), nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("pipeline_root", sa.Text(), nullable=False),
        sa.Column("enable_caching", sa.Boolean(), nullable=True),
        sa.Column("storage_state", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("outputs", JSON, nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("recurring_run_id", sa.String(length=64), nullable=True),
        sa.Column("service_account", sa.String(length=255), nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_created_at"), "runs", ["created_at"])
    op.create_index(op.f("ix_runs_experiment_id"), "runs", ["experiment_id"])
    op.create_index(op.f("ix_runs_recurring_run_id"), "runs", ["recurring_run_id"])
    op.create_index(op.f("ix_runs_state"), "runs", ["state"])
    op.create_index(op.f("ix_runs_storage_state"), "runs", ["storage_state"])

    op.create_table(
        "pipeline_versions",
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("pipeline_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("pipeline_spec", JSON, nullable=False),
        sa.Column("platform_spec", JSON, nullable=True),
        sa.Column("code_source_url", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.pipeline_id"],
            name=op.f("fk_pipeline_versions_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_pipeline_versions")),
        sa.UniqueConstraint("pipeline_id", "name", name=op.f("uq_pipeline_versions_pipeline_id_name")),
    )
    op.create_index(
        op.f("ix_pipeline_versions_pipeline_id_created_at"),
        "pipeline_versions",
        ["pipeline_id", "created_at"],
    )

    op.create_table(
        "tasks",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("parent_task_id", sa.String(length=64), nullable=True),
        sa.Column("iteration_index", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=True),
        sa.Column("cached_from_task_id", sa.String(length=64), nullable=True),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("outputs", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("command", JSON, nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_tasks_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_fingerprint_state"), "tasks", ["fingerprint", "state"])
    op.create_index(op.f("ix_tasks_run_id_created_at"), "tasks", ["run_id", "created_at"])

    op.create_table(
        "artifacts",
        sa.Column("artifact_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("schema_title", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("schema_version", sa.String(length=32), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("digest", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_artifacts_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.task_id"], name=op.f("fk_artifacts_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("artifact_id", name=op.f("pk_artifacts")),
    )
    op.create_index(op.f("ix_artifacts_created_at"), "artifacts", ["created_at"])
    op.create_index(op.f("ix_artifacts_run_id"), "artifacts", ["run_id"])
    op.create_index(op.f("ix_artifacts_task_id"), "artifacts", ["task_id"])

    op.create_table(
        "task_attempts",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("log_path", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.task_id"], name=op.f("fk_task_attempts_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "attempt", name=op.f("pk_task_attempts")),
    )
    op.create_table(
        "artifact_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("artifact_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.artifact_id"],
            name=op.f("fk_artifact_events_artifact_id_artifacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_artifact_events_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.task_id"], name=op.f("fk_artifact_events_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_artifact_events")),
        sa.UniqueConstraint(
            "artifact_id",
            "task_id",
            "kind",
            "name",
            name=op.f("uq_artifact_events_artifact_id_task_id_kind_name"),
        ),
    )
    op.create_index(op.f("ix_artifact_events_run_id"), "artifact_events", ["run_id"])
    op.create_index(op.f("ix_artifact_events_task_id"), "artifact_events", ["task_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_artifact_events_task_id"), table_name="artifact_events")
    op.drop_index(op.f("ix_artifact_events_run_id"), table_name="artifact_events")

    op.drop_table("artifact_events")
    op.drop_table("task_attempts")
    op.drop_index(op.f("ix_artifacts_task_id"), table_name="artifacts")
    op.drop_index(op.f("ix_artifacts_run_id"), table_name="artifacts")
    op.drop_index(op.f("ix_artifacts_created_at"), table_name="artifacts")

    op.drop_table("artifacts")
    op.drop_index(op.f("ix_tasks_run_id_created_at"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_fingerprint_state"), table_name="tasks")

    op.drop_table("tasks")
    op.drop_index(op.f("ix_pipeline_versions_pipeline_id_created_at"), table_name="pipeline_versions")

    op.drop_table("pipeline_versions")
    op.drop_index(op.f("ix_runs_storage_state"), table_name="runs")
    op.drop_index(op.f("ix_runs_state"), table_name="runs")
    op.drop_index(op.f("ix_runs_recurring_run_id"), table_name="runs")
    op.drop_index(op.f("ix_runs_experiment_id"), table_name="runs")
    op.drop_index(op.f("ix_runs_created_at"), table_name="runs")

    op.drop_table("runs")
    op.drop_index(op.f("ix_recurring_runs_mode"), table_name="recurring_runs")
    op.drop_index(op.f("ix_recurring_runs_experiment_id"), table_name="recurring_runs")
    op.drop_index(op.f("ix_recurring_runs_created_at"), table_name="recurring_runs")

    op.drop_table("recurring_runs")
    op.drop_index(op.f("ix_pipelines_created_at"), table_name="pipelines")

    op.drop_table("pipelines")
    op.drop_index(op.f("ix_experiments_created_at"), table_name="experiments")

    op.drop_table("experiments")
