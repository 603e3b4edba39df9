"""Runs: create, read, list, update, delete."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import ListQuery, Page, Predicate, Run
from pipeyard.errors import AlreadyExists, NotFound
from pipeyard.store.convert import check_update_fields, to_entity, to_row, with_id
from pipeyard.store.db import StoreBase
from pipeyard.store.listing import Listing, count, fetch_page
from pipeyard.store.schema import artifact_events, artifacts, experiments, runs, task_attempts, tasks

RUNS = Listing.of(runs, "run_id", {"name": "display_name"})
# What a page of runs as KFP's API shows it does not read: the specs, the run's outputs and
# the worker's claim (each JSON column or timestamp read costs a parse per row).
PAGE_OMITS = frozenset(
    {"pipeline_spec", "platform_spec", "outputs", "enable_caching", "worker_id", "lease_expires_at", "generation"}
)


def _run_scope(experiment_id: str | None, namespace: str | None) -> list[sa.ColumnElement[bool]]:
    scope: list[sa.ColumnElement[bool]] = []
    if experiment_id is not None:
        scope.append(runs.c.experiment_id == experiment_id)
    if namespace is not None:
        scope.append(runs.c.namespace == namespace)
    return scope


class RunStore(StoreBase):
    def create_run(self, run: Run) -> Run:
        """Store a new run. Its experiment, when set, records it as its latest run."""
        run = with_id(run, "run_id")
        with self._write(conflict=AlreadyExists("run", run.run_id)) as conn:
            conn.execute(sa.insert(runs).values(to_row(run)))
            if run.experiment_id is not None:
                last = experiments.c.last_run_created_at
                conn.execute(
                    sa.update(experiments)
                    .where(
                        experiments.c.experiment_id == run.experiment_id,
                        sa.or_(last.is_(None), last < run.created_at),
                    )
                    .values(last_run_created_at=run.created_at)
                )
        return run

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            return self._get_run(conn, run_id)

    def _get_run(self, conn: sa.Connection, run_id: str) -> Run:
        stmt = sa.select(runs).where(runs.c.run_id == run_id)
        return to_entity(Run, self._one(conn, stmt, "run", run_id))

    def list_runs(
        self,
        query: ListQuery = ListQuery(),
        experiment_id: str | None = None,
        namespace: str | None = "",
        *,
        include_pipeline_spec: bool = True,
        omit: Collection[str] = (),
    ) -> Page:
        """One page of runs in two SQL statements whatever the page size.
        ``namespace=None`` lists every namespace. Without ``include_pipeline_spec`` the
        (large) specs are not read and come back as empty dicts; ``get_run`` has them.
        Fields named in ``omit`` (e.g. ``PAGE_OMITS``) are not read and keep their defaults."""
        skipped = set(omit) | ({"pipeline_spec"} if not include_pipeline_spec else set())
        columns = None
        if skipped:
            columns = [c for c in runs.columns if c.name not in skipped]
        with self._read() as conn:
            page = fetch_page(
                conn,
                RUNS,
                query,
                scope=_run_scope(experiment_id, namespace),
                scope_key=f"exp={experiment_id};ns={namespace}",
                columns=columns,
            )
        extra: dict[str, Any] = {"pipeline_spec": {}} if "pipeline_spec" in skipped else {}
        return Page([to_entity(Run, r, **extra) for r in page.rows], page.total_size, page.next_page_token)

    def count_runs(
        self,
        predicates: Sequence[Predicate] = (),
        experiment_id: str | None = None,
        namespace: str | None = "",
    ) -> int:
        with self._read() as conn:
            return count(conn, RUNS, predicates, _run_scope(experiment_id, namespace))

    def update_run(self, run_id: str, **fields: Any) -> Run:
        """Set any of Run's fields except ``run_id``; returns the updated run."""
        check_update_fields(Run, "run_id", fields)
        with self._write() as conn:
            if fields:
                result = conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(**fields))
                if result.rowcount == 0:
                    raise NotFound("run", run_id)
            return self._get_run(conn, run_id)

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its tasks, attempts, artifacts and lineage events."""
        with self._write() as conn:
            if not self._exists(conn, runs, "run_id", run_id):
                raise NotFound("run", run_id)
            # Explicit, child-first deletes: correct even where ON DELETE CASCADE is off.
            task_ids = sa.select(tasks.c.task_id).where(tasks.c.run_id == run_id).scalar_subquery()
            artifact_ids = sa.select(artifacts.c.artifact_id).where(artifacts.c.run_id == run_id)
            conn.execute(
                sa.delete(artifact_events).where(
                    sa.or_(
                        artifact_events.c.run_id == run_id,
                        artifact_events.c.artifact_id.in_(artifact_ids.scalar_subquery()),
                        artifact_events.c.task_id.in_(task_ids),
                    )
                )
            )
            conn.execute(sa.delete(artifacts).where(artifacts.c.run_id == run_id))
            conn.execute(
                sa.delete(artifacts).where(
                    artifacts.c.task_id.in_(sa.select(tasks.c.task_id).where(tasks.c.run_id == run_id))
                )
            )
            conn.execute(
                sa.delete(task_attempts).where(
                    task_attempts.c.task_id.in_(sa.select(tasks.c.task_id).where(tasks.c.run_id == run_id))
                )
            )
            conn.execute(sa.delete(tasks).where(tasks.c.run_id == run_id))
            conn.execute(sa.delete(runs).where(runs.c.run_id == run_id))
