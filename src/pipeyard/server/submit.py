"""Creating runs, shared by the runs API and the recurring-run scheduler.

Everything is checked before anything is written: the spec, the pipeline version it
comes from, the experiment and the parameters. A bad request leaves the store as it
was.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeyard.entities import Experiment, Run
from pipeyard.errors import AlreadyExists, InvalidArgument, NotFound, SpecError
from pipeyard.ir.loader import load_pipeline_bytes
from pipeyard.ir.params import coerce_parameters
from pipeyard.server.timefmt import utcnow

DEFAULT_EXPERIMENT = "Default"


@dataclass(frozen=True)
class ResolvedSpec:
    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None

    @property
    def pipeline_name(self) -> str:
        info = self.pipeline_spec.get("pipelineInfo") or {}
        return str(info.get("name") or "")


def check_inline_spec(raw: Any, where: str = "pipeline_spec") -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate an inline spec (plain, or ``{"pipeline_spec", "platform_spec"}`` as kfp's
    client wraps it) with the same loader as uploads; returns (spec, platform spec)."""
    if not isinstance(raw, dict) or not raw:
        raise InvalidArgument("must be a KFP pipeline spec (a JSON object)", field=where)
    loaded = load_pipeline_bytes(json.dumps(raw).encode(), f"{where}.json")
    spec = raw
    if "root" not in raw:
        inner = raw.get("pipeline_spec", raw.get("pipelineSpec"))
        spec = inner if isinstance(inner, dict) else raw
    return spec, loaded.platform_spec


def resolve_spec(store: Any, *, pipeline_spec: Any, reference: dict[str, Any] | None) -> ResolvedSpec:
    pipeline_id = (reference or {}).get("pipeline_id") or None
    version_id = (reference or {}).get("pipeline_version_id") or None
    if pipeline_spec and (pipeline_id or version_id):
        raise InvalidArgument(
            "give either pipeline_spec or pipeline_version_reference, not both", field="pipeline_spec"
        )
    if pipeline_spec:
        spec, platform = check_inline_spec(pipeline_spec)
        return ResolvedSpec(spec, platform)
    if version_id:
        version = store.get_pipeline_version(version_id)
        if pipeline_id and version.pipeline_id != pipeline_id:
            raise InvalidArgument(
                f"pipeline version {version_id!r} belongs to pipeline {version.pipeline_id!r}, not {pipeline_id!r}",
                field="pipeline_version_reference",
            )
        return ResolvedSpec(
            version.pipeline_spec, version.platform_spec, version.pipeline_id, version.version_id
        )
    if pipeline_id:
        latest = store.latest_pipeline_version(pipeline_id)
        if latest is None:
            raise InvalidArgument(
                f"pipeline {pipeline_id!r} has no versions", field="pipeline_version_reference"
            )
        return ResolvedSpec(latest.pipeline_spec, latest.platform_spec, latest.pipeline_id, latest.version_id)
    raise InvalidArgument(
        "a pipeline_spec or a pipeline_version_reference is required", field="pipeline_spec"
    )


def root_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    root = spec.get("root") or {}
    params = (root.get("inputDefinitions") or {}).get("parameters") or {}
    if not isinstance(params, dict):
        raise SpecError("root.inputDefinitions.parameters is not a mapping", where="pipeline_spec")
    return params


def check_parameters(spec: ResolvedSpec, given: Any) -> dict[str, Any]:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InvalidArgument("must be an object {name: value}", field="runtime_config.parameters")
    where = f"pipeline {spec.pipeline_name!r}" if spec.pipeline_name else "the pipeline"
    return coerce_parameters(root_parameters(spec.pipeline_spec), given, where)


def resolve_experiment(store: Any, experiment_id: str | None, namespace: str = "") -> str:
    """The run's experiment: the given one (which must exist and not be archived) or
    KFP's "Default", created on first use."""
    if experiment_id:
        exp = store.get_experiment(experiment_id)
        if exp.storage_state == "ARCHIVED":
            raise InvalidArgument(f"experiment {experiment_id!r} is archived", field="experiment_id")
        return str(exp.experiment_id)
    try:
        return str(store.get_experiment_by_name(DEFAULT_EXPERIMENT, namespace).experiment_id)
    except NotFound:
        pass
    try:
        exp = store.create_experiment(
            Experiment(
                experiment_id=str(uuid.uuid4()),
                display_name=DEFAULT_EXPERIMENT,
                description="Runs created without an experiment",
                created_at=utcnow(),
                namespace=namespace,
            )
        )
        return str(exp.experiment_id)
    except AlreadyExists:  # created concurrently by another request
        return str(store.get_experiment_by_name(DEFAULT_EXPERIMENT, namespace).experiment_id)


def new_run(
    store: Any,
    *,
    display_name: str,
    spec: ResolvedSpec,
    parameters: Any,
    pipeline_root: str = "",
    experiment_id: str | None = None,
    description: str = "",
    service_account: str = "",
    namespace: str = "",
    recurring_run_id: str | None = None,
    scheduled_at: datetime | None = None,
) -> Run:
    """Validate, then insert a PENDING run; the caller wakes the workers."""
    values = check_parameters(spec, parameters)
    if pipeline_root and not isinstance(pipeline_root, str):
        raise InvalidArgument("must be a string", field="runtime_config.pipeline_root")
    exp_id = resolve_experiment(store, experiment_id, namespace)
    now = utcnow()
    run = Run(
        run_id=str(uuid.uuid4()),
        display_name=display_name or spec.pipeline_name or "run",
        pipeline_spec=spec.pipeline_spec,
        platform_spec=spec.platform_spec,
        state="PENDING",
        created_at=now,
        description=description or "",
        experiment_id=exp_id,
        pipeline_id=spec.pipeline_id,
        pipeline_version_id=spec.pipeline_version_id,
        pipeline_name=spec.pipeline_name,
        parameters=values,
        pipeline_root=pipeline_root or "",
        recurring_run_id=recurring_run_id,
        scheduled_at=scheduled_at or now,
        service_account=service_account or "",
        namespace=namespace or "",
    )
    created: Run = store.create_run(run)
    return created
