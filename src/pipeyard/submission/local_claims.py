"""Runs executed by `pipeyard run` itself: the lease it holds while executing one, and
settling the runs of such processes that were killed.

A `pipeyard run` claims its run the way a server's worker does: a lease of
:data:`LOCAL_LEASE_SECONDS`, renewed every :data:`LOCAL_RENEW_SECONDS` while it runs.
Servers never take such a run over (the user started it in a terminal and saw it end);
instead, once its lease lapsed, or at once when its process is gone from this machine,
whoever looks first — the next `pipeyard run`, `pipeyard runs list`, a starting server
or worker — ends it FAILED with the reason, and closes the tasks and attempts that were
running. Creating the run is ``pipeyard.submission.runs.create_run``.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from datetime import datetime, timedelta, timezone

from pipeyard.launchers.process import pid_alive
from pipeyard.store import Store

LOCAL_WORKER_PREFIX = "cli:"
# The server's lease rules (server/workers.py WorkerConfig).
LOCAL_LEASE_SECONDS = 10.0
LOCAL_RENEW_SECONDS = 3.0
_OPEN_STATES = ("RUNNING", "PENDING", "CANCELING")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def local_worker_id() -> str:
    return f"{LOCAL_WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}"


def local_lease_expiry(now: datetime | None = None) -> datetime:
    return (now or _now()) + timedelta(seconds=LOCAL_LEASE_SECONDS)


def _gone(worker_id: str, lease_expires_at: datetime | None, now: datetime) -> int | None:
    """The pid of a `pipeyard run` that is no longer executing its run, else None."""
    host_and_pid = worker_id[len(LOCAL_WORKER_PREFIX) :]
    host, _, pid_text = host_and_pid.rpartition(":")
    pid = int(pid_text) if pid_text.isdigit() else 0
    if host == socket.gethostname() and pid > 0 and not pid_alive(pid):
        return pid
    if lease_expires_at is not None and lease_expires_at < now:
        return pid
    return None


def settle_abandoned_local_runs(store: Store, now: datetime | None = None) -> list[str]:
    """End as FAILED the runs whose `pipeyard run` process was killed (SIGKILL, a closed
    terminal, a lost machine); their running tasks and attempts are closed with the reason."""
    now = now or _now()
    settled = []
    for run in store.claimed_runs(_OPEN_STATES, LOCAL_WORKER_PREFIX):
        pid = _gone(run.worker_id, run.lease_expires_at, now)
        if pid is None:
            continue
        reason = f"the `pipeyard run` process (pid {pid}) ended before the run finished"
        _close_interrupted_tasks(store, run.run_id, reason, now)
        store.update_run(run.run_id, state="FAILED", finished_at=now, worker_id=None,
                         lease_expires_at=None, error=reason)
        settled.append(run.run_id)
    return settled


def _close_interrupted_tasks(store: Store, run_id: str, reason: str, now: datetime) -> None:
    attempts = store.list_attempts_for_run(run_id)
    for task in store.list_tasks(run_id):
        if task.state not in ("RUNNING", "CANCELING"):
            continue
        for attempt in attempts.get(task.task_id, ()):
            if attempt.finished_at is None:
                store.put_attempt(dataclasses.replace(
                    attempt, state="FAILED", finished_at=now, error=f"interrupted: {reason}"))
        store.put_task(dataclasses.replace(task, state="FAILED", finished_at=now, error=f"interrupted: {reason}"))


