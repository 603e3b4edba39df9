"""Deployments: a served model's desired state and what its manager last observed.

A deployment is keyed by its name (the model name clients use in ``/v2/models/{name}``).
``generation`` grows with every change a client asks for (apply, delete); the
deployment manager copies it into ``observed_generation`` once it has acted on it,
which is how a waiting caller (the ``deploy_model`` task) knows its change landed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

import sqlalchemy as sa

from pipeyard.errors import NotFound
from pipeyard.store.convert import check_update_fields, to_entity, to_row
from pipeyard.store.db import StoreBase
from pipeyard.store.schema import artifacts as artifacts_table
from pipeyard.store.schema import deployments as deployments_table
from pipeyard.store.schema import tasks as tasks_table

Desired = Literal["apply", "delete"]
# PENDING: asked for, not acted on yet; STARTING: process up, not ready; READY: answering;
# RESTARTING: its process died and is being started again; FAILED: gave up (see error);
# STOPPED: its server is not running.
DeploymentState = Literal["PENDING", "STARTING", "READY", "RESTARTING", "FAILED", "STOPPED"]


@dataclass(frozen=True)
class Deployment:
    name: str
    model_uri: str
    framework: str
    created_at: datetime
    updated_at: datetime
    desired: str = "apply"
    state: str = "PENDING"
    host: str = "127.0.0.1"
    port: int | None = None
    url: str = ""
    run_id: str | None = None
    task: str | None = None
    artifact_id: str | None = None
    runtime: str = "kserve"
    replicas: int = 1
    generation: int = 1
    observed_generation: int = 0
    restarts: int = 0
    pid: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class ArtifactOrigin:
    """Which run and task produced an artifact URI, when the store knows it."""

    artifact_id: str
    run_id: str
    task: str | None
    metadata: dict[str, Any]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class DeploymentStore(StoreBase):
    def put_deployment(self, deployment: Deployment) -> Deployment:
        """Create the deployment, or replace the spec of an existing one of that name
        (keeping its creation time and port, and bumping its generation)."""
        with self._write() as conn:
            row = (
                conn.execute(sa.select(deployments_table).where(deployments_table.c.name == deployment.name))
                .mappings()
                .first()
            )
            now = _now()
            if row is None:
                stored = dataclasses.replace(deployment, created_at=now, updated_at=now, generation=1)
                conn.execute(sa.insert(deployments_table).values(to_row(stored)))
                return stored
            old = to_entity(Deployment, row)
            stored = dataclasses.replace(
                deployment,
                created_at=old.created_at,
                updated_at=now,
                generation=old.generation + 1,
                observed_generation=old.observed_generation,
                restarts=old.restarts,
                pid=old.pid,
                port=deployment.port if deployment.port is not None else old.port,
                url=old.url if deployment.port is None else deployment.url,
            )
            conn.execute(
                sa.update(deployments_table)
                .where(deployments_table.c.name == deployment.name)
                .values(to_row(stored))
            )
            return stored

    def get_deployment(self, name: str) -> Deployment:
        with self._read() as conn:
            stmt = sa.select(deployments_table).where(deployments_table.c.name == name)
            return to_entity(Deployment, self._one(conn, stmt, "deployment", name))

    def list_deployments(self) -> list[Deployment]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(deployments_table).order_by(deployments_table.c.created_at, deployments_table.c.name)
            ).mappings()
            return [to_entity(Deployment, r) for r in rows]

    def update_deployment(self, name: str, **fields: Any) -> Deployment:
        check_update_fields(Deployment, "name", fields)
        with self._write() as conn:
            result = conn.execute(
                sa.update(deployments_table)
                .where(deployments_table.c.name == name)
                .values(**fields, updated_at=_now())
            )
            if result.rowcount == 0:
                raise NotFound("deployment", name)
            row = conn.execute(sa.select(deployments_table).where(deployments_table.c.name == name)).mappings().one()
        return to_entity(Deployment, row)

    def request_deployment_delete(self, name: str) -> Deployment:
        """Mark for deletion; the manager stops the process and then removes the row."""
        with self._write() as conn:
            row = conn.execute(
                sa.select(deployments_table).where(deployments_table.c.name == name)
            ).mappings().first()
            if row is None:
                raise NotFound("deployment", name)
            conn.execute(
                sa.update(deployments_table)
                .where(deployments_table.c.name == name)
                .values(desired="delete", generation=row["generation"] + 1, updated_at=_now())
            )
            row = conn.execute(sa.select(deployments_table).where(deployments_table.c.name == name)).mappings().one()
        return to_entity(Deployment, row)

    def delete_deployment(self, name: str) -> None:
        with self._write() as conn:
            result = conn.execute(sa.delete(deployments_table).where(deployments_table.c.name == name))
            if result.rowcount == 0:
                raise NotFound("deployment", name)

    def artifact_origin(self, uri: str) -> ArtifactOrigin | None:
        """The newest artifact recorded at ``uri`` with its producing task's path."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(
                    artifacts_table.c.artifact_id,
                    artifacts_table.c.run_id,
                    artifacts_table.c.metadata,
                    tasks_table.c.path,
                )
                .select_from(artifacts_table.outerjoin(tasks_table, tasks_table.c.task_id == artifacts_table.c.task_id))
                .where(artifacts_table.c.uri == uri)
                .order_by(artifacts_table.c.created_at.desc())
                .limit(1)
            ).mappings().first()
        if row is None:
            return None
        return ArtifactOrigin(row["artifact_id"], row["run_id"], row["path"], dict(row["metadata"] or {}))
