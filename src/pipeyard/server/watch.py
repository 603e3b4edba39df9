"""Events for runs that another process executes.

The engine's events reach the hub only in the process that runs the engine. With
several servers or `pipeyard worker`s on one PostgreSQL database, a UI connected
to this server would see nothing of a run claimed elsewhere. For such a run the
event stream watches the store instead: every ``interval`` seconds it reads the
run and its tasks and sends what changed, until the run is finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pipeyard.entities import FINAL_STATES, Run, Task
from pipeyard.server.converters import run_json, task_json

WATCH_SECONDS = 2.0


def executed_here(run: Run, workers: Any) -> bool:
    return workers is not None and run.worker_id == getattr(workers, "worker_id", None)


def _task_key(t: Task) -> tuple[Any, ...]:
    return (t.state, t.attempts, t.cached, t.started_at, t.finished_at, t.error)


def _run_key(r: Run) -> tuple[Any, ...]:
    return (r.state, r.started_at, r.finished_at, r.error, r.worker_id)


async def store_changes(store: Any, run_id: str, interval: float = WATCH_SECONDS
                        ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """("run" | "task", JSON) for every change seen in the store, until the run ends."""
    seen_run: tuple[Any, ...] | None = None
    seen_tasks: dict[str, tuple[Any, ...]] = {}
    while True:
        run, tasks = await asyncio.to_thread(lambda: (store.get_run(run_id), store.list_tasks(run_id)))
        for t in tasks:
            key = _task_key(t)
            if seen_tasks.get(t.task_id) != key:
                seen_tasks[t.task_id] = key
                data = task_json(t)
                data.pop("attempt_list", None)  # as in engine events: refetch for attempts
                yield "task", data
        if _run_key(run) != seen_run:
            seen_run = _run_key(run)
            yield "run", run_json(run)
        if run.state in FINAL_STATES:
            return
        await asyncio.sleep(interval)
