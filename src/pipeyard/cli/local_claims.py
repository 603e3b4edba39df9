"""Runs executed by `pipeyard run` itself: the claim it holds while executing one,
and settling the runs of such processes that were killed. Creating the run is
``pipeyard.submission.runs.create_run``."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone

from pipeyard.entities import ListQuery, Predicate
from pipeyard.store import Store


def _now() -> datetime:
    return datetime.now(timezone.utc)


def local_worker_id() -> str:
    return f"cli:{socket.gethostname()}:{os.getpid()}"


def settle_abandoned_local_runs(store: Store) -> list[str]:
    """Runs that a `pipeyard run` on this machine was executing when it was killed
    (SIGKILL, a closed terminal) would stay RUNNING forever: their process is
    gone, and their claim keeps servers away. End them as FAILED, saying why."""
    prefix = f"cli:{socket.gethostname()}:"
    query = ListQuery(predicates=(Predicate("state", "IN", ["RUNNING", "PENDING", "CANCELING"]),
                                  Predicate("worker_id", "IS_SUBSTRING", prefix)), page_size=200)
    settled = []
    for run in store.list_runs(query, namespace=None, include_pipeline_spec=False).items:
        pid = int((run.worker_id or "").rsplit(":", 1)[-1] or 0)
        if not (run.worker_id or "").startswith(prefix) or pid <= 0 or _alive(pid):
            continue
        store.update_run(run.run_id, state="FAILED", finished_at=_now(), worker_id=None,
                         lease_expires_at=None,
                         error=f"the `pipeyard run` process (pid {pid}) ended before the run finished")
        settled.append(run.run_id)
    return settled


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
