"""Tasks, their attempts, the artifacts they produce and the lineage between them.

This is most of what the engine writes while a run executes (``RunRecorder`` in
``store/recorder.py``), plus the reads the API and UI need to draw a run.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from pipeyard.entities import Artifact, ArtifactEvent, ListQuery, Page, Task, TaskAttempt
from pipeyard.errors import FailedPrecondition, InvalidArgument, NotFound
from pipeyard.store.convert import to_entity, to_row
from pipeyard.store.db import StoreBase
from pipeyard.store.driver_rows import DriverUpsert
from pipeyard.store.listing import Listing, fetch_page
from pipeyard.store.schema import artifact_events, task_attempts, tasks
from pipeyard.store.schema import artifacts as artifacts_table

ARTIFACTS = Listing.of(artifacts_table, "artifact_id", {"type": "schema_title"})
_EVENT_COLUMNS = [c for c in artifact_events.columns if c.name != "event_id"]


class TaskStore(StoreBase):
    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)
        self._driver_upserts: dict[str, DriverUpsert] = {}

    # ------------------------------------------------------------------ hot rows

    def _upsert_tasks(self, conn: sa.Connection, batch: Sequence[Task]) -> None:
        self._upsert_entities(conn, tasks, ("task_id",), batch)

    def _upsert_entities(self, conn: sa.Connection, table: sa.Table, key: tuple[str, ...],
                         entities: Sequence[Task] | Sequence[TaskAttempt]) -> None:
        """Upsert entities whose fields are the table's columns: on SQLite as driver SQL
        (``driver_rows.py``: what a task's result costs), elsewhere through ``_upsert``."""
        if self._dialect != "sqlite":
            self._upsert(conn, table, [to_row(e) for e in entities], key)
            return
        upsert = self._driver_upserts.get(table.name)
        if upsert is None:
            upsert = self._driver_upserts[table.name] = DriverUpsert(table, key, self._engine.dialect)
        upsert.execute(conn, entities)

    # ------------------------------------------------------------------ tasks

    def put_task(self, task: Task) -> None:
        """Insert or replace the task with this ``task_id``."""
        if not task.task_id:
            raise InvalidArgument("a task needs a task_id", field="task_id")
        with self._write() as conn:
            self._upsert_tasks(conn, [task])

    def put_tasks(self, batch: Sequence[Task]) -> None:
        """Insert or replace many tasks in one transaction."""
        if any(not t.task_id for t in batch):
            raise InvalidArgument("a task needs a task_id", field="task_id")
        with self._write() as conn:
            self._upsert_tasks(conn, batch)

    def get_task(self, task_id: str) -> Task:
        with self._read() as conn:
            stmt = sa.select(tasks).where(tasks.c.task_id == task_id)
            return to_entity(Task, self._one(conn, stmt, "task", task_id))

    def list_tasks(self, run_id: str) -> list[Task]:
        """The run's tasks in creation order (an empty list for an unknown run)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(tasks).where(tasks.c.run_id == run_id).order_by(tasks.c.created_at, tasks.c.task_id)
            ).mappings()
            return [to_entity(Task, r) for r in rows]

    def count_tasks(self, run_id: str) -> int:
        with self._read() as conn:
            stmt = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.run_id == run_id)
            return int(conn.execute(stmt).scalar_one())

    def list_tasks_slice(self, run_id: str, offset: int, limit: int) -> list[Task]:
        """``limit`` of the run's tasks from ``offset`` on, in ``list_tasks``'s order: one page of
        a run too large to send whole (a 10,000-item loop has 20,000 tasks)."""
        if offset < 0 or limit < 1:
            raise InvalidArgument("a task page needs offset >= 0 and a size >= 1", field="task_page_size")
        with self._read() as conn:
            rows = conn.execute(
                sa.select(tasks)
                .where(tasks.c.run_id == run_id)
                .order_by(tasks.c.created_at, tasks.c.task_id)
                .offset(offset)
                .limit(limit)
            ).mappings()
            return [to_entity(Task, r) for r in rows]

    def child_task_ids(self, run_id: str, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the children of each of ``parent_ids``, in creation order, without
        loading the children (a page's parents may have children on other pages)."""
        out: dict[str, list[str]] = {}
        ids = list(parent_ids)
        with self._read() as conn:
            # Chunked: SQLite caps the parameters of one statement.
            for start in range(0, len(ids), 500):
                stmt = (
                    sa.select(tasks.c.parent_task_id, tasks.c.task_id)
                    .where(tasks.c.run_id == run_id, tasks.c.parent_task_id.in_(ids[start : start + 500]))
                    .order_by(tasks.c.created_at, tasks.c.task_id)
                )
                for parent, child in conn.execute(stmt):
                    out.setdefault(parent, []).append(child)
        return out

    def record_task_result(
        self, task: Task, artifacts: Sequence[Artifact], events: Sequence[ArtifactEvent]
    ) -> None:
        """Store a finished task, the artifacts it produced and its lineage events in one
        transaction. Artifacts are upserted by id and repeated events ignored, so
        recording the same result twice (a resumed run) changes nothing."""
        if not task.task_id:
            raise InvalidArgument("a task needs a task_id", field="task_id")
        with self._write() as conn:
            self._upsert_tasks(conn, [task])
            self._upsert(conn, artifacts_table, [to_row(a) for a in artifacts], ["artifact_id"])
            self._insert_ignore(conn, artifact_events, [to_row(e) for e in events])

    def write_rows(
        self,
        batch: Sequence[Task],
        attempts: Sequence[TaskAttempt] = (),
        artifacts: Sequence[Artifact] = (),
        events: Sequence[ArtifactEvent] = (),
    ) -> None:
        """Insert or replace tasks (in order: a parent before its children), then attempts,
        then artifacts and their lineage events, in one transaction: what ``WriteBehind``
        gathered, and a task's result with it. One commit instead of one per row.

        An attempt of a task that does not exist is refused by the attempts' foreign key;
        only then is it looked for, so a batch costs no query of its own for the check."""
        if any(not t.task_id for t in batch):
            raise InvalidArgument("a task needs a task_id", field="task_id")
        try:
            with self._write() as conn:
                self._upsert_tasks(conn, batch)
                self._upsert_entities(conn, task_attempts, ("task_id", "attempt"), attempts)
                self._upsert(conn, artifacts_table, [to_row(a) for a in artifacts], ["artifact_id"])
                self._insert_ignore(conn, artifact_events, [to_row(e) for e in events])
        except FailedPrecondition:
            if attempts:
                self._check_attempt_tasks(attempts, {t.task_id for t in batch})
            raise

    def _check_attempt_tasks(self, attempts: Sequence[TaskAttempt], written: set[str]) -> None:
        """NotFound for the first attempt whose task is neither in the store nor ``written``."""
        wanted = sorted({a.task_id for a in attempts} - written)
        found: set[str] = set()
        with self._read() as conn:
            for start in range(0, len(wanted), 500):  # chunked: SQLite caps a statement's parameters
                stmt = sa.select(tasks.c.task_id).where(tasks.c.task_id.in_(wanted[start : start + 500]))
                found.update(r[0] for r in conn.execute(stmt))
        missing = set(wanted) - found
        if missing:
            raise NotFound("task", min(missing))

    def find_cached_task(self, fingerprint: str) -> Task | None:
        """The newest SUCCEEDED task, in any run, whose fingerprint matches."""
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(tasks)
                    .where(tasks.c.fingerprint == fingerprint, tasks.c.state == "SUCCEEDED")
                    .order_by(tasks.c.created_at.desc(), tasks.c.task_id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return None if row is None else to_entity(Task, row)

    def delete_tasks(self, run_id: str, task_ids: Sequence[str]) -> int:
        """Forget some tasks of a run (to retry them), with their attempts, the
        artifacts they produced and lineage touching those; returns how many went."""
        ids = list(task_ids)
        if not ids:
            return 0
        with self._write() as conn:
            doomed = sa.select(tasks.c.task_id).where(tasks.c.run_id == run_id, tasks.c.task_id.in_(ids))
            doomed_ids = [r[0] for r in conn.execute(doomed)]
            if not doomed_ids:
                return 0
            produced = sa.select(artifacts_table.c.artifact_id).where(
                artifacts_table.c.task_id.in_(doomed_ids)
            )
            conn.execute(
                sa.delete(artifact_events).where(
                    sa.or_(
                        artifact_events.c.task_id.in_(doomed_ids),
                        artifact_events.c.artifact_id.in_(produced.scalar_subquery()),
                    )
                )
            )
            conn.execute(sa.delete(artifacts_table).where(artifacts_table.c.task_id.in_(doomed_ids)))
            conn.execute(sa.delete(task_attempts).where(task_attempts.c.task_id.in_(doomed_ids)))
            conn.execute(sa.delete(tasks).where(tasks.c.task_id.in_(doomed_ids)))
            return len(doomed_ids)

    # ------------------------------------------------------------------ attempts

    def put_attempt(self, attempt: TaskAttempt) -> None:
        """Insert or replace the attempt (task_id, attempt)."""
        with self._write() as conn:
            if not self._exists(conn, tasks, "task_id", attempt.task_id):
                raise NotFound("task", attempt.task_id)
            self._upsert(conn, task_attempts, [to_row(attempt)], ["task_id", "attempt"])

    def list_attempts(self, task_id: str) -> list[TaskAttempt]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(task_attempts)
                .where(task_attempts.c.task_id == task_id)
                .order_by(task_attempts.c.attempt)
            ).mappings()
            return [to_entity(TaskAttempt, r) for r in rows]

    def list_attempts_for_run(self, run_id: str) -> dict[str, list[TaskAttempt]]:
        """Every attempt of every task of the run, by task id, in one query."""
        stmt = (
            sa.select(task_attempts)
            .join(tasks, tasks.c.task_id == task_attempts.c.task_id)
            .where(tasks.c.run_id == run_id)
            .order_by(task_attempts.c.task_id, task_attempts.c.attempt)
        )
        result: dict[str, list[TaskAttempt]] = {}
        with self._read() as conn:
            for row in conn.execute(stmt).mappings():
                attempt = to_entity(TaskAttempt, row)
                result.setdefault(attempt.task_id, []).append(attempt)
        return result

    # ------------------------------------------------------------------ artifacts

    def get_artifact(self, artifact_id: str) -> Artifact:
        with self._read() as conn:
            stmt = sa.select(artifacts_table).where(artifacts_table.c.artifact_id == artifact_id)
            return to_entity(Artifact, self._one(conn, stmt, "artifact", artifact_id))

    def list_artifacts(
        self,
        query: ListQuery = ListQuery(),
        run_id: str | None = None,
        schema_title: str | None = None,
    ) -> Page:
        scope: list[sa.ColumnElement[bool]] = []
        if run_id is not None:
            scope.append(artifacts_table.c.run_id == run_id)
        if schema_title is not None:
            scope.append(artifacts_table.c.schema_title == schema_title)
        with self._read() as conn:
            page = fetch_page(
                conn, ARTIFACTS, query, scope=scope, scope_key=f"run={run_id};schema={schema_title}"
            )
        return Page([to_entity(Artifact, r) for r in page.rows], page.total_size, page.next_page_token)

    def list_artifacts_for_task(self, task_id: str) -> list[Artifact]:
        """Artifacts the task produced, in creation order."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(artifacts_table)
                .where(artifacts_table.c.task_id == task_id)
                .order_by(artifacts_table.c.created_at, artifacts_table.c.artifact_id)
            ).mappings()
            return [to_entity(Artifact, r) for r in rows]

    def artifact_events(self, artifact_id: str) -> list[ArtifactEvent]:
        """Lineage of one artifact: who produced it and who consumed it, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*_EVENT_COLUMNS)
                .where(artifact_events.c.artifact_id == artifact_id)
                .order_by(artifact_events.c.created_at, artifact_events.c.event_id)
            ).mappings()
            return [to_entity(ArtifactEvent, r) for r in rows]

    def task_events(self, task_id: str) -> list[ArtifactEvent]:
        """Artifacts a task consumed and produced, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*_EVENT_COLUMNS)
                .where(artifact_events.c.task_id == task_id)
                .order_by(artifact_events.c.created_at, artifact_events.c.event_id)
            ).mappings()
            return [to_entity(ArtifactEvent, r) for r in rows]
