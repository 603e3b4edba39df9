"""Worker claims: several processes share one database and each run has one owner.

A claim is a lease: ``worker_id`` plus ``lease_expires_at``. A worker renews its lease
while it executes a run; if the worker dies the lease lapses and another worker may
take the run over (the engine resumes it from the recorded tasks).

Exclusivity comes from the database, not from this process: on PostgreSQL the
candidate row is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so concurrent
claimers pass over each other's rows; on SQLite the write transaction is
``BEGIN IMMEDIATE``, which admits one writer at a time. Either way the ``UPDATE``
repeats the claimability condition as a guard.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from pipeyard.entities import Run
from pipeyard.store.convert import to_entity
from pipeyard.store.db import StoreBase
from pipeyard.store.schema import UtcDateTime, runs

# Worker ids of `pipeyard run` processes (pipeyard.submission.local_claims).
LOCAL_WORKER_PREFIX = "cli:"
# The lease of a run given up unfinished: long past, so any claimer may take it.
RELEASED = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    """A PENDING run nobody holds, or a started run whose holder's lease lapsed.

    A RUNNING run without any lease is being executed by a process that does not
    take claims, so it is never taken over; nor is one that a `pipeyard run` executed
    (worker ``cli:...``): when that process dies its run is settled as FAILED
    (``submission/local_claims.py``), not resumed behind the user's back.
    """
    lease = runs.c.lease_expires_at
    return sa.or_(
        sa.and_(runs.c.state == "PENDING", sa.or_(lease.is_(None), lease < now)),
        sa.and_(
            runs.c.state.in_(("RUNNING", "CANCELING")),
            lease.is_not(None),
            lease < now,
            sa.or_(runs.c.worker_id.is_(None), sa.not_(runs.c.worker_id.startswith(LOCAL_WORKER_PREFIX))),
        ),
    )


class ClaimStore(StoreBase):
    def claim_run(self, worker_id: str, lease_seconds: float, now: datetime) -> Run | None:
        """Atomically take the oldest claimable run for ``worker_id`` until
        ``now + lease_seconds``; None when there is nothing to do."""
        expires = now + timedelta(seconds=lease_seconds)
        with self._write() as conn:
            pick = (
                sa.select(runs.c.run_id)
                .where(_claimable(now))
                .order_by(runs.c.created_at, runs.c.run_id)
                .limit(1)
            )
            if self._dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            run_id = conn.execute(pick).scalar()
            if run_id is None:
                return None
            result = conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id, _claimable(now))
                .values(worker_id=worker_id, lease_expires_at=expires)
            )
            if result.rowcount != 1:
                return None
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).mappings().one()
        return to_entity(Run, row)

    def renew_lease(self, run_id: str, worker_id: str, lease_seconds: float, now: datetime) -> bool:
        """Extend the lease; False when the run is gone or another worker holds it.

        A worker whose lease lapsed may still renew as long as nobody took the run over.
        """
        expires = now + timedelta(seconds=lease_seconds)
        with self._write() as conn:
            result = conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id, runs.c.worker_id == worker_id)
                .values(lease_expires_at=expires)
            )
            return result.rowcount == 1

    def release_run(self, run_id: str, worker_id: str) -> bool:
        """Give a run up; False if ``worker_id`` does not hold it.

        A run released unfinished (the worker shuts down) gets a lapsed lease so that
        another worker picks it up at once; a finished run simply loses its lease.
        """
        unfinished = runs.c.state.in_(("PENDING", "RUNNING", "CANCELING"))
        with self._write() as conn:
            result = conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id, runs.c.worker_id == worker_id)
                .values(
                    worker_id=None,
                    lease_expires_at=sa.case((unfinished, sa.literal(RELEASED, UtcDateTime)), else_=None),
                )
            )
            return result.rowcount == 1
