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

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from pipeyard.config import Settings
from pipeyard.engine import staging
from pipeyard.engine.pipeline_config import run_limits
from pipeyard.entities import FINAL_STATES, Run
from pipeyard.errors import NotFound
from pipeyard.store.recorder import RunRecorder


def work_root(settings: Settings, run_id: str) -> Path:
    return settings.home / "work" / run_id


def expires_at(run: Run) -> datetime | None:
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
    for entry in base.iterdir():
        try:
            run = recorder.get_run(entry.name)
        except NotFound:
            continue
        when = expires_at(run)
        if when is not None and when <= now:
            release(settings, run.run_id)
            released.append(run.run_id)
    return released
