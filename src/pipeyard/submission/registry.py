"""The experiment and pipeline version a run is filed under, created on first use.

Creation is race-safe: several ``pipeyard run`` processes (or API requests) may
meet a fresh database at once. Each inserts, and when a concurrent writer won
(the store's ``AlreadyExists`` on the unique name) reads what the winner wrote
instead of checking first and failing on the insert.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeyard.entities import Experiment, ListQuery, Pipeline, PipelineVersion
from pipeyard.errors import AlreadyExists, NotFound
from pipeyard.ir.loader import LoadedPipeline

if TYPE_CHECKING:
    from pipeyard.store import Store

DEFAULT_EXPERIMENT = "Default"
# KFP's own words for the experiment its API server creates when it starts.
DEFAULT_EXPERIMENT_DESCRIPTION = "All runs created without specifying an experiment will be grouped here."
# Concurrent writers each taking the next version number: one wins per round.
_VERSION_ATTEMPTS = 20


def ensure_experiment(store: Store, name: str, now: datetime, namespace: str = "") -> Experiment:
    """The experiment called ``name`` in ``namespace``, created when missing."""
    try:
        return store.get_experiment_by_name(name, namespace)
    except NotFound:
        pass
    description = DEFAULT_EXPERIMENT_DESCRIPTION if name == DEFAULT_EXPERIMENT else ""
    try:
        return store.create_experiment(Experiment(str(uuid.uuid4()), name, description, now,
                                                  namespace=namespace))
    except AlreadyExists:  # created concurrently
        return store.get_experiment_by_name(name, namespace)


def is_default_experiment(experiment: Experiment) -> bool:
    """The single-user "Default" experiment, which KFP refuses to delete."""
    return experiment.display_name == DEFAULT_EXPERIMENT and not experiment.namespace


def ensure_pipeline_version(store: Store, loaded: LoadedPipeline, spec: dict[str, Any], now: datetime
                            ) -> tuple[Pipeline, PipelineVersion]:
    """The pipeline (by name) and a version holding exactly this spec; a new
    version only when the spec changed, so repeated runs do not pile up versions."""
    name = loaded.spec.pipeline_info.name or "pipeline"
    try:
        pipeline = store.get_pipeline_by_name(name)
    except NotFound:
        pipeline = Pipeline(str(uuid.uuid4()), name, loaded.spec.pipeline_info.display_name or name,
                            loaded.spec.pipeline_info.description, now)
        version = PipelineVersion(str(uuid.uuid4()), pipeline.pipeline_id, f"{name} v1", f"{name} v1", "",
                                  now, spec, loaded.platform_spec)
        try:
            store.create_pipeline_with_version(pipeline, version)
            return pipeline, version
        except AlreadyExists:  # created concurrently: add to it below
            pipeline = store.get_pipeline_by_name(name)
    return pipeline, _matching_version(store, pipeline, loaded, spec, now)


def _matching_version(store: Store, pipeline: Pipeline, loaded: LoadedPipeline, spec: dict[str, Any],
                      now: datetime) -> PipelineVersion:
    conflict: AlreadyExists | None = None
    for _ in range(_VERSION_ATTEMPTS):
        latest = _latest(store, pipeline.pipeline_id)
        if latest is not None and latest.pipeline_spec == spec and latest.platform_spec == loaded.platform_spec:
            return latest
        count = store.list_pipeline_versions(pipeline.pipeline_id, ListQuery(page_size=1)).total_size
        version_name = f"{pipeline.name} v{count + 1}"
        version = PipelineVersion(str(uuid.uuid4()), pipeline.pipeline_id, version_name, version_name, "",
                                  now, spec, loaded.platform_spec)
        try:
            return store.create_pipeline_version(version)
        except AlreadyExists as e:  # another writer took this number: look again
            conflict = e
    assert conflict is not None
    raise conflict


def _latest(store: Store, pipeline_id: str) -> PipelineVersion | None:
    try:
        return store.latest_pipeline_version(pipeline_id)
    except NotFound:
        return None

