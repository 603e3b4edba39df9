"""The metadata store: one class over SQLite or PostgreSQL, and ``open_store``.

``Store`` is assembled from one part per concept (pipelines, experiments, runs,
claims, tasks, recurring runs); each part lives in its own module and shares the
connection plumbing of ``db.StoreBase``. Every method is one transaction and returns
frozen entities from ``pipeyard/entities.py``; missing ids raise ``NotFound``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeyard.store.claims import ClaimStore
from pipeyard.store.db import create_db_engine
from pipeyard.store.deployments import DeploymentStore
from pipeyard.store.experiments import ExperimentStore
from pipeyard.store.housekeeping import HousekeepingStore
from pipeyard.store.migrate import upgrade_to_head
from pipeyard.store.pipelines import PipelineStore
from pipeyard.store.recurring import RecurringRunStore
from pipeyard.store.runs import RunStore
from pipeyard.store.task_windows import TaskWindowStore
from pipeyard.store.tasks import TaskStore


class Store(PipelineStore, ExperimentStore, RunStore, ClaimStore, TaskStore, TaskWindowStore, RecurringRunStore,
            DeploymentStore, HousekeepingStore):
    """Safe to share between threads: each call checks a connection out of the pool."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_store(database_url: str, *, echo: bool = False) -> Store:
    """Open (creating or upgrading as needed) the database at ``database_url``:
    ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host:port/db``."""
    engine = create_db_engine(database_url, echo=echo)
    try:
        upgrade_to_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


if TYPE_CHECKING:
    from pipeyard.store.recorder import RunRecorder

    def _is_a_run_recorder(store: Store) -> RunRecorder:
        # mypy checks here that Store keeps the engine's RunRecorder contract.
        return store
