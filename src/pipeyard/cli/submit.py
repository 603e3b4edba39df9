"""Turning a loaded pipeline and user arguments into a stored, PENDING run."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from google.protobuf import json_format

from pipeyard.entities import (
    Experiment,
    ListQuery,
    Pipeline,
    PipelineVersion,
    Predicate,
    Run,
)
from pipeyard.errors import NotFound
from pipeyard.ir.loader import LoadedPipeline, spec_to_dict
from pipeyard.ir.params import coerce_parameters
from pipeyard.store import Store

DEFAULT_EXPERIMENT = "Default"


def root_parameter_definitions(loaded: LoadedPipeline) -> dict[str, Any]:
    inputs = json_format.MessageToDict(loaded.spec.root.input_definitions)
    return dict(inputs.get("parameters") or {})


def check_arguments(loaded: LoadedPipeline, given: dict[str, Any]) -> dict[str, Any]:
    """Every root parameter's value, checked and converted, or InvalidArgument."""
    return coerce_parameters(root_parameter_definitions(loaded), given, where="pipeline")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def ensure_experiment(store: Store, name: str = DEFAULT_EXPERIMENT) -> Experiment:
    try:
        return store.get_experiment_by_name(name)
    except NotFound:
        return store.create_experiment(Experiment(uuid.uuid4().hex, name, "", _now()))


def ensure_pipeline_version(store: Store, loaded: LoadedPipeline, spec: dict[str, Any]
                            ) -> tuple[Pipeline, PipelineVersion]:
    """The pipeline (by name) and a version holding exactly this spec; a new
    version only when the spec changed, so repeated runs do not pile up versions."""
    name = loaded.spec.pipeline_info.name or "pipeline"
    now = _now()
    try:
        pipeline = store.get_pipeline_by_name(name)
    except NotFound:
        pipeline = Pipeline(uuid.uuid4().hex, name, loaded.spec.pipeline_info.display_name or name,
                            loaded.spec.pipeline_info.description, now)
        version = PipelineVersion(uuid.uuid4().hex, pipeline.pipeline_id, f"{name} v1", f"{name} v1", "",
                                  now, spec, loaded.platform_spec)
        store.create_pipeline_with_version(pipeline, version)
        return pipeline, version
    try:
        latest: PipelineVersion | None = store.latest_pipeline_version(pipeline.pipeline_id)
    except NotFound:
        latest = None
    if latest is not None and latest.pipeline_spec == spec and latest.platform_spec == loaded.platform_spec:
        return pipeline, latest
    count = store.list_pipeline_versions(pipeline.pipeline_id, ListQuery(page_size=1)).total_size
    version_name = f"{name} v{count + 1}"
    version = PipelineVersion(uuid.uuid4().hex, pipeline.pipeline_id, version_name, version_name, "", now,
                              spec, loaded.platform_spec)
    return pipeline, store.create_pipeline_version(version)


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


def create_run(store: Store, loaded: LoadedPipeline, parameters: dict[str, Any], *,
               pipeline_root: str, enable_caching: bool | None, display_name: str | None = None,
               experiment_name: str = DEFAULT_EXPERIMENT, local_worker: str | None = None) -> Run:
    spec = spec_to_dict(loaded.spec)
    pipeline, version = ensure_pipeline_version(store, loaded, spec)
    experiment = ensure_experiment(store, experiment_name)
    now = _now()
    name = loaded.spec.pipeline_info.name or "pipeline"
    run = Run(
        run_id=uuid.uuid4().hex,
        display_name=display_name or f"{name} {now.strftime('%Y-%m-%d %H:%M:%S')}",
        pipeline_spec=spec,
        platform_spec=loaded.platform_spec,
        created_at=now,
        experiment_id=experiment.experiment_id,
        pipeline_id=pipeline.pipeline_id,
        pipeline_version_id=version.version_id,
        pipeline_name=name,
        parameters=parameters,
        pipeline_root=pipeline_root,
        enable_caching=enable_caching,
        # Executed by this process, not by a server sharing the database: hold the
        # claim so no worker picks it up.
        state="RUNNING" if local_worker else "PENDING",
        worker_id=local_worker,
        lease_expires_at=now + timedelta(days=3650) if local_worker else None,
    )
    return store.create_run(run)
