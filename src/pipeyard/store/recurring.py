"""Recurring runs (KFP's schedules) and the queries the scheduler makes of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import FINAL_STATES, ListQuery, Page, RecurringRun
from pipeyard.errors import AlreadyExists, NotFound
from pipeyard.store.convert import check_update_fields, to_entity, to_row, with_id
from pipeyard.store.db import StoreBase
from pipeyard.store.listing import Listing, fetch_page
from pipeyard.store.schema import recurring_runs, runs

RECURRING_RUNS = Listing.of(recurring_runs, "recurring_run_id", {"name": "display_name", "status": "mode"})


class RecurringRunStore(StoreBase):
    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        recurring_run = with_id(recurring_run, "recurring_run_id")
        with self._write(conflict=AlreadyExists("recurring run", recurring_run.recurring_run_id)) as conn:
            conn.execute(sa.insert(recurring_runs).values(to_row(recurring_run)))
        return recurring_run

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        with self._read() as conn:
            return self._get_recurring_run(conn, recurring_run_id)

    def _get_recurring_run(self, conn: sa.Connection, recurring_run_id: str) -> RecurringRun:
        stmt = sa.select(recurring_runs).where(recurring_runs.c.recurring_run_id == recurring_run_id)
        return to_entity(RecurringRun, self._one(conn, stmt, "recurring run", recurring_run_id))

    def list_recurring_runs(
        self,
        query: ListQuery = ListQuery(),
        experiment_id: str | None = None,
        namespace: str | None = "",
    ) -> Page:
        """``namespace=None`` lists every namespace."""
        scope: list[sa.ColumnElement[bool]] = []
        if experiment_id is not None:
            scope.append(recurring_runs.c.experiment_id == experiment_id)
        if namespace is not None:
            scope.append(recurring_runs.c.namespace == namespace)
        with self._read() as conn:
            page = fetch_page(
                conn, RECURRING_RUNS, query, scope=scope, scope_key=f"exp={experiment_id};ns={namespace}"
            )
        return Page([to_entity(RecurringRun, r) for r in page.rows], page.total_size, page.next_page_token)

    def update_recurring_run(self, recurring_run_id: str, **fields: Any) -> RecurringRun:
        """Set any of RecurringRun's fields except its id (mode, last_fired_at...)."""
        check_update_fields(RecurringRun, "recurring_run_id", fields)
        with self._write() as conn:
            if fields:
                result = conn.execute(
                    sa.update(recurring_runs)
                    .where(recurring_runs.c.recurring_run_id == recurring_run_id)
                    .values(**fields)
                )
                if result.rowcount == 0:
                    raise NotFound("recurring run", recurring_run_id)
            return self._get_recurring_run(conn, recurring_run_id)

    def advance_recurring_run(
        self, recurring_run_id: str, expected_last: datetime | None, fired_at: datetime
    ) -> bool:
        """Move ``last_fired_at`` from ``expected_last`` to ``fired_at`` if nobody else
        did first: the compare-and-set that lets several schedulers share one database
        without firing the same time twice."""
        column = recurring_runs.c.last_fired_at
        guard = column.is_(None) if expected_last is None else column == expected_last
        with self._write() as conn:
            result = conn.execute(
                sa.update(recurring_runs)
                .where(recurring_runs.c.recurring_run_id == recurring_run_id, guard)
                .values(last_fired_at=fired_at)
            )
            return bool(result.rowcount)

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        """Delete the schedule; the runs it started remain, as in KFP."""
        with self._write() as conn:
            result = conn.execute(
                sa.delete(recurring_runs).where(recurring_runs.c.recurring_run_id == recurring_run_id)
            )
            if result.rowcount == 0:
                raise NotFound("recurring run", recurring_run_id)

    def list_enabled_recurring_runs(self) -> list[RecurringRun]:
        """Every enabled schedule, oldest first: what the scheduler loop walks."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(recurring_runs)
                .where(recurring_runs.c.mode == "ENABLE")
                .order_by(recurring_runs.c.created_at, recurring_runs.c.recurring_run_id)
            ).mappings()
            return [to_entity(RecurringRun, r) for r in rows]

    def count_active_runs_of_recurring(self, recurring_run_id: str) -> int:
        """Runs started by the schedule that have not finished (for max_concurrency)."""
        with self._read() as conn:
            stmt = (
                sa.select(sa.func.count())
                .select_from(runs)
                .where(runs.c.recurring_run_id == recurring_run_id, runs.c.state.not_in(sorted(FINAL_STATES)))
            )
            return int(conn.execute(stmt).scalar_one())
