"""The narrow reads of the housekeeping every ``pipeyard run`` does before its run.

Settling the runs of killed ``pipeyard run`` processes (``submission/local_claims.py``)
and releasing the work directories whose TTL passed (``engine/ttl.py``) need three or
four columns of a few runs. Through ``list_runs`` they cost a count and a page of whole
runs each: four statements that SQLAlchemy compiled afresh in every process, about a
tenth of a one-task run's time after its imports. Each read here is one small statement.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import FINAL_STATES
from pipeyard.store.db import StoreBase
from pipeyard.store.schema import runs

# Ids per statement: far below any backend's bound-parameter limit.
_IDS_PER_STATEMENT = 500


@dataclass(frozen=True)
class ClaimedRun:
    """An unfinished run and the worker that claimed it."""

    run_id: str
    worker_id: str
    lease_expires_at: datetime | None


@dataclass(frozen=True)
class FinishedRun:
    """A finished run with a platform spec: what its TTL depends on."""

    run_id: str
    state: str
    finished_at: datetime | None
    platform_spec: dict[str, Any] | None


class HousekeepingStore(StoreBase):
    def claimed_runs(self, states: Collection[str], worker_prefix: str) -> list[ClaimedRun]:
        """Runs in ``states`` whose worker id starts with ``worker_prefix``, in every namespace."""
        stmt = sa.select(runs.c.run_id, runs.c.worker_id, runs.c.lease_expires_at).where(
            runs.c.state.in_(sorted(states)), runs.c.worker_id.startswith(worker_prefix, autoescape=True))
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        # SQLite's LIKE ignores case: the prefix is checked exactly here.
        return [ClaimedRun(r.run_id, r.worker_id, r.lease_expires_at) for r in rows
                if r.worker_id.startswith(worker_prefix)]

    def finished_runs_among(self, run_ids: Sequence[str]) -> list[FinishedRun]:
        """Those of ``run_ids`` that are finished and have a platform spec (the only place
        a TTL can be set), in the order given."""
        found: dict[str, FinishedRun] = {}
        stmt = sa.select(runs.c.run_id, runs.c.state, runs.c.finished_at, runs.c.platform_spec).where(
            runs.c.run_id.in_(sa.bindparam("ids", expanding=True)), runs.c.state.in_(sorted(FINAL_STATES)),
            runs.c.platform_spec.is_not(None))
        with self._read() as conn:
            for start in range(0, len(run_ids), _IDS_PER_STATEMENT):
                chunk = list(run_ids[start:start + _IDS_PER_STATEMENT])
                for r in conn.execute(stmt, {"ids": chunk}):
                    found[r.run_id] = FinishedRun(r.run_id, r.state, r.finished_at, r.platform_spec)
        return [found[run_id] for run_id in run_ids if run_id in found]
