"""Experiments, and archiving them the way KFP does."""

from __future__ import annotations

from typing import get_args

import sqlalchemy as sa

from pipeyard.entities import Experiment, ListQuery, Page, StorageState
from pipeyard.errors import AlreadyExists, InvalidArgument, NotFound
from pipeyard.store.convert import to_entity, to_row, with_id
from pipeyard.store.db import StoreBase
from pipeyard.store.listing import Listing, fetch_page
from pipeyard.store.schema import experiments, recurring_runs, runs

EXPERIMENTS = Listing.of(experiments, "experiment_id", {"name": "display_name"})


class ExperimentStore(StoreBase):
    def create_experiment(self, experiment: Experiment) -> Experiment:
        experiment = with_id(experiment, "experiment_id")
        with self._write(conflict=AlreadyExists("experiment", experiment.display_name)) as conn:
            taken = conn.execute(
                sa.select(experiments.c.experiment_id).where(
                    experiments.c.namespace == experiment.namespace,
                    experiments.c.display_name == experiment.display_name,
                )
            ).first()
            if taken is not None:
                raise AlreadyExists("experiment", experiment.display_name)
            conn.execute(sa.insert(experiments).values(to_row(experiment)))
        return experiment

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._read() as conn:
            stmt = sa.select(experiments).where(experiments.c.experiment_id == experiment_id)
            return to_entity(Experiment, self._one(conn, stmt, "experiment", experiment_id))

    def get_experiment_by_name(self, display_name: str, namespace: str = "") -> Experiment:
        with self._read() as conn:
            stmt = sa.select(experiments).where(
                experiments.c.display_name == display_name, experiments.c.namespace == namespace
            )
            return to_entity(Experiment, self._one(conn, stmt, "experiment", display_name))

    def list_experiments(self, query: ListQuery = ListQuery(), namespace: str | None = "") -> Page:
        """``namespace=None`` lists every namespace."""
        scope = [] if namespace is None else [experiments.c.namespace == namespace]
        with self._read() as conn:
            page = fetch_page(conn, EXPERIMENTS, query, scope=scope, scope_key=f"ns={namespace}")
        return Page([to_entity(Experiment, r) for r in page.rows], page.total_size, page.next_page_token)

    def delete_experiment(self, experiment_id: str) -> None:
        """Deletes the experiment only: as in KFP, its runs and recurring runs remain."""
        with self._write() as conn:
            result = conn.execute(sa.delete(experiments).where(experiments.c.experiment_id == experiment_id))
            if result.rowcount == 0:
                raise NotFound("experiment", experiment_id)

    def set_experiment_storage_state(self, experiment_id: str, state: StorageState) -> Experiment:
        """Archiving also archives the experiment's runs and disables its recurring runs,
        as KFP does; unarchiving restores only the experiment (KFP leaves runs archived)."""
        if state not in get_args(StorageState):
            raise InvalidArgument(f"unknown storage state {state!r}", field="storage_state")
        with self._write() as conn:
            result = conn.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == experiment_id)
                .values(storage_state=state)
            )
            if result.rowcount == 0:
                raise NotFound("experiment", experiment_id)
            if state == "ARCHIVED":
                conn.execute(
                    sa.update(runs)
                    .where(runs.c.experiment_id == experiment_id)
                    .values(storage_state="ARCHIVED")
                )
                conn.execute(
                    sa.update(recurring_runs)
                    .where(recurring_runs.c.experiment_id == experiment_id)
                    .values(mode="DISABLE")
                )
            row = (
                conn.execute(sa.select(experiments).where(experiments.c.experiment_id == experiment_id))
                .mappings()
                .one()
            )
        return to_entity(Experiment, row)
