"""``PipelineConfig`` TTLs: when a finished run's execution resources go.

On KFP the TTLs become the Argo Workflow's ``ttlStrategy``: once it expires Argo
deletes the Workflow object and its pods (their file systems, and a pod kept by a
debug pause), while the run's record stays in KFP's database, its artifacts in the
object store and its logs in the log archive. Locally the equivalent of the pods
is the run's work directory, ``PIPEYARD_HOME/work/RUN_ID`` (the tasks' working
directories, also those a debug pause kept) and the run's staged copies of remote
artifacts: those are removed. The run, its tasks, logs and artifacts are kept,
as on KFP. ``sweep`` runs in the server's housekeeping loop and when
``pipeyard run`` starts.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pipeyard.config import Settings
from pipeyard.engine import staging
from pipeyard.engine.pipeline_config import run_limits
from pipeyard.entities import FINAL_STATES
from pipeyard.errors import NotFound
from pipeyard.store.recorder import RunRecorder


class FinishedRun(Protocol):
    """What a TTL depends on: a ``Run``, or the store's narrow ``FinishedRun``."""

    @property
    def run_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def platform_spec(self) -> dict[str, Any] | None: ...


def work_root(settings: Settings, run_id: str) -> Path:
    return settings.home / "work" / run_id


def expires_at(run: FinishedRun) -> datetime | None:
    """When the run's resources are released; None while it runs or without a TTL."""
    if run.state not in FINAL_STATES or run.finished_at is None:
        return None
    platforms = (run.platform_spec or {}).get("platforms", run.platform_spec or {})
    kube = platforms.get("kubernetes") or {}
    seconds = run_limits(kube.get("pipelineConfig") or {}).ttl_for(run.state)
    return None if seconds is None else run.finished_at + timedelta(seconds=seconds)


def release(settings: Settings, run_id: str) -> None:
    shutil.rmtree(work_root(settings, run_id), ignore_errors=True)
    staging.discard(settings.home, run_id)


def sweep(recorder: RunRecorder, settings: Settings, now: datetime) -> list[str]:
    """Release the resources of every run whose TTL has passed; returns their ids.
    Only runs that still have a work directory are looked at, so this is cheap."""
    base = settings.home / "work"
    if not base.is_dir():
        return []
    released = []
    for run in _runs_with_work(recorder, sorted(entry.name for entry in base.iterdir())):
        when = expires_at(run)
        if when is not None and when <= now:
            release(settings, run.run_id)
            released.append(run.run_id)
    return released


def _runs_with_work(recorder: RunRecorder, run_ids: list[str]) -> Iterator[FinishedRun]:
    """The runs of these work directories that may have a TTL. Every run keeps its
    directory unless a TTL removes it: one ``get_run`` (spec included) per directory made
    each ``pipeyard run`` start slower with every run kept, so the store answers in one
    small statement (``store/housekeeping.py``)."""
    narrow = getattr(recorder, "finished_runs_among", None)
    if narrow is not None:
        yield from narrow(run_ids)
        return
    for run_id in run_ids:  # a recorder that cannot list
        with contextlib.suppress(NotFound):
            yield recorder.get_run(run_id)
