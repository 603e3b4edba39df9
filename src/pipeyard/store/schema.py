"""The store's tables, as SQLAlchemy Core metadata.

Column names equal the field names of the entities in ``pipeyard/entities.py`` so rows and
entities convert generically (see ``convert.py``). This metadata is what the code
queries; the Alembic revisions under ``migrations/versions`` create it, and a unit
test checks that both agree.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are stored as naive UTC and returned timezone-aware (UTC).

    SQLite has no time zone type and PostgreSQL's ``timestamptz`` would answer in the
    session's zone; storing naive UTC keeps both backends identical. A naive value
    given by a caller is taken to be UTC already.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=timezone.utc)


class JsonType(TypeDecorator[Any]):
    """JSONB on PostgreSQL (compact, indexable); JSON text elsewhere. ``none_as_null`` makes
    a Python None an SQL NULL rather than the JSON literal ``null``.

    Chosen per dialect when a statement is compiled, not with ``with_variant``: naming
    ``JSONB`` here imported all of SQLAlchemy's PostgreSQL dialects (a tenth of its import
    time) into every ``pipeyard`` command, SQLite or not."""

    impl = sa.JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.JSON(none_as_null=True))


Json = JsonType()

ID = sa.String(64)
NAME = sa.String(255)
STATE = sa.String(32)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("pipeline_id", ID, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("display_name", NAME, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("namespace", NAME, nullable=False),
    sa.UniqueConstraint("namespace", "name"),
    sa.Index(None, "created_at"),
)

pipeline_versions = sa.Table(
    "pipeline_versions",
    metadata,
    sa.Column("version_id", ID, primary_key=True),
    sa.Column("pipeline_id", ID, sa.ForeignKey("pipelines.pipeline_id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("display_name", NAME, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("pipeline_spec", Json, nullable=False),
    sa.Column("platform_spec", Json, nullable=True),
    sa.Column("code_source_url", sa.Text, nullable=False),
    sa.UniqueConstraint("pipeline_id", "name"),
    sa.Index(None, "pipeline_id", "created_at"),
)

# KFP 2.15+ tags (``map<string, string>``), one row per key; a table rather than a JSON
# column so ``tags.<key>`` filters are plain comparisons on both backends.
pipeline_tags = sa.Table(
    "pipeline_tags",
    metadata,
    sa.Column("pipeline_id", ID, sa.ForeignKey("pipelines.pipeline_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(63), primary_key=True),
    sa.Column("value", sa.String(63), nullable=False),
    sa.Index(None, "key", "value"),
)

pipeline_version_tags = sa.Table(
    "pipeline_version_tags",
    metadata,
    sa.Column(
        "version_id", ID, sa.ForeignKey("pipeline_versions.version_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", sa.String(63), primary_key=True),
    sa.Column("value", sa.String(63), nullable=False),
    sa.Index(None, "key", "value"),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", ID, primary_key=True),
    sa.Column("display_name", NAME, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("storage_state", STATE, nullable=False),
    sa.Column("namespace", NAME, nullable=False),
    sa.Column("last_run_created_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("namespace", "display_name"),
    sa.Index(None, "created_at"),
)

# experiment_id, pipeline_* and recurring_run_id are loose references on purpose: KFP
# lets an experiment, pipeline version or schedule be deleted while its runs remain.
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("display_name", NAME, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("namespace", NAME, nullable=False),
    sa.Column("pipeline_spec", Json, nullable=False),
    sa.Column("platform_spec", Json, nullable=True),
    sa.Column("state", STATE, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("experiment_id", ID, nullable=True),
    sa.Column("pipeline_id", ID, nullable=True),
    sa.Column("pipeline_version_id", ID, nullable=True),
    sa.Column("pipeline_name", NAME, nullable=False),
    sa.Column("parameters", Json, nullable=False),
    # Root input artifacts given at creation ({name: uri}), kept for retries and resumes.
    sa.Column("input_artifacts", Json, nullable=False, server_default=sa.text("'{}'")),
    sa.Column("pipeline_root", sa.Text, nullable=False),
    sa.Column("enable_caching", sa.Boolean, nullable=True),
    sa.Column("storage_state", STATE, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("outputs", Json, nullable=False),
    sa.Column("scheduled_at", UtcDateTime, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("recurring_run_id", ID, nullable=True),
    sa.Column("service_account", NAME, nullable=False),
    sa.Column("worker_id", NAME, nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Index(None, "created_at"),
    sa.Index(None, "experiment_id"),
    sa.Index(None, "state"),
    sa.Index(None, "storage_state"),
    sa.Index(None, "recurring_run_id"),
)

# parent_task_id has no foreign key: the engine may store a child before its parent
# when it resumes, and retry deletes explicit task sets.
tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("task_id", ID, primary_key=True),
    sa.Column("run_id", ID, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("display_name", NAME, nullable=False),
    sa.Column("kind", STATE, nullable=False),
    sa.Column("state", STATE, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("parent_task_id", ID, nullable=True),
    sa.Column("iteration_index", sa.Integer, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("cached", sa.Boolean, nullable=False),
    sa.Column("fingerprint", sa.String(128), nullable=True),
    sa.Column("cached_from_task_id", ID, nullable=True),
    sa.Column("inputs", Json, nullable=False),
    sa.Column("outputs", Json, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("command", Json, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("details", Json, nullable=False),
    sa.Index(None, "run_id", "created_at"),
    sa.Index(None, "fingerprint", "state"),
)

task_attempts = sa.Table(
    "task_attempts",
    metadata,
    sa.Column("task_id", ID, sa.ForeignKey("tasks.task_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state", STATE, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("log_path", sa.Text, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("artifact_id", ID, primary_key=True),
    sa.Column("run_id", ID, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", ID, sa.ForeignKey("tasks.task_id", ondelete="CASCADE"), nullable=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("schema_title", NAME, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("schema_version", sa.String(32), nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("digest", sa.String(255), nullable=True),
    sa.Column("display_name", NAME, nullable=False),
    sa.Index(None, "run_id"),
    sa.Index(None, "task_id"),
    sa.Index(None, "created_at"),
)

artifact_events = sa.Table(
    "artifact_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("artifact_id", ID, sa.ForeignKey("artifacts.artifact_id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", ID, sa.ForeignKey("tasks.task_id", ondelete="CASCADE"), nullable=False),
    sa.Column("run_id", ID, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Recording the same result twice (a resumed run) must not duplicate lineage.
    sa.UniqueConstraint("artifact_id", "task_id", "kind", "name"),
    sa.Index(None, "task_id"),
    sa.Index(None, "run_id"),
)

recurring_runs = sa.Table(
    "recurring_runs",
    metadata,
    sa.Column("recurring_run_id", ID, primary_key=True),
    sa.Column("display_name", NAME, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("trigger", Json, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("experiment_id", ID, nullable=True),
    sa.Column("pipeline_id", ID, nullable=True),
    sa.Column("pipeline_version_id", ID, nullable=True),
    sa.Column("pipeline_spec", Json, nullable=True),
    sa.Column("platform_spec", Json, nullable=True),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("pipeline_root", sa.Text, nullable=False),
    sa.Column("max_concurrency", sa.Integer, nullable=False),
    sa.Column("no_catchup", sa.Boolean, nullable=False),
    sa.Column("last_fired_at", UtcDateTime, nullable=True),
    sa.Column("namespace", NAME, nullable=False),
    sa.Column("service_account", NAME, nullable=False),
    sa.Index(None, "created_at"),
    sa.Index(None, "experiment_id"),
    sa.Index(None, "mode"),
)

# Model deployments (pipeyard.serving): the desired state a server's deployment manager
# keeps running, and what it last observed. No foreign keys to runs: a deployment
# outlives the run whose model it serves.
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("model_uri", sa.Text, nullable=False),
    sa.Column("framework", sa.String(32), nullable=False),
    sa.Column("desired", sa.String(16), nullable=False),
    sa.Column("state", STATE, nullable=False),
    sa.Column("host", NAME, nullable=False),
    sa.Column("port", sa.Integer, nullable=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("task", NAME, nullable=True),
    sa.Column("artifact_id", ID, nullable=True),
    sa.Column("runtime", sa.String(32), nullable=False),
    sa.Column("replicas", sa.Integer, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("observed_generation", sa.Integer, nullable=False),
    sa.Column("restarts", sa.Integer, nullable=False),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(None, "created_at"),
    sa.Index(None, "run_id"),
)
