"""Creating runs: ``new_run`` is the one place a run row is made, for the CLI
(``create_run`` from a loaded pipeline file), the runs API and the recurring-run
scheduler (a spec resolved from a request).

Everything is checked before the run is written: the spec, the pipeline version it
comes from, the experiment and the parameters. A bad request leaves the store as it
was (apart from the Default experiment, created on first use).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pipeyard.entities import Run
from pipeyard.errors import InvalidArgument, SpecError
from pipeyard.ir import k8s_manifest
from pipeyard.ir.bindings import check_bindings
from pipeyard.ir.loader import LoadedPipeline, load_pipeline_bytes
from pipeyard.ir.params import coerce_parameters
from pipeyard.submission.local_claims import local_lease_expiry
from pipeyard.submission.naming import default_run_name, new_run_id
from pipeyard.submission.registry import DEFAULT_EXPERIMENT, ensure_experiment, ensure_pipeline_version
from pipeyard.submission.root_artifacts import check_input_artifacts

if TYPE_CHECKING:
    from pipeyard.store import Store



def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    if k8s_manifest.is_manifest(raw):
        spec = raw["spec"]["pipelineSpec"]  # the loader checked it is there
    elif "root" not in raw:
        inner = raw.get("pipeline_spec", raw.get("pipelineSpec"))
        spec = inner if isinstance(inner, dict) else raw
    return spec, loaded.platform_spec


def resolve_spec(store: Store, *, pipeline_spec: Any, reference: dict[str, Any] | None) -> ResolvedSpec:
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
    check_bindings(spec.pipeline_spec)  # a run (or a schedule) that could only fail
    # Stored as given (KFP keeps runtime_config.parameters as submitted); the
    # defaults apply when the run starts.
    return coerce_parameters(root_parameters(spec.pipeline_spec), given, where, with_defaults=False)


def resolve_experiment(store: Store, experiment_id: str | None, namespace: str = "") -> str:
    """The run's experiment: the given one (which must exist and not be archived) or
    KFP's "Default", created on first use."""
    if experiment_id:
        exp = store.get_experiment(experiment_id)
        if exp.storage_state == "ARCHIVED":
            raise InvalidArgument(f"experiment {experiment_id!r} is archived", field="experiment_id")
        return exp.experiment_id
    return ensure_experiment(store, DEFAULT_EXPERIMENT, utcnow(), namespace).experiment_id


def new_run(
    store: Store,
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
    enable_caching: bool | None = None,
    local_worker: str | None = None,
    input_artifacts: Any = None,
) -> Run:
    """Validate, then insert the run: PENDING for the workers to claim (the caller
    wakes them), or RUNNING and claimed by ``local_worker`` that executes it itself."""
    values = check_parameters(spec, parameters)
    artifacts = check_input_artifacts(spec.pipeline_spec, input_artifacts)
    if pipeline_root and not isinstance(pipeline_root, str):
        raise InvalidArgument("must be a string", field="runtime_config.pipeline_root")
    exp_id = resolve_experiment(store, experiment_id, namespace)
    now = utcnow()
    run = Run(
        run_id=new_run_id(),
        display_name=display_name or default_run_name(spec.pipeline_name, now),
        pipeline_spec=spec.pipeline_spec,
        platform_spec=spec.platform_spec,
        state="RUNNING" if local_worker else "PENDING",
        worker_id=local_worker,
        lease_expires_at=local_lease_expiry(now) if local_worker else None,
        enable_caching=enable_caching,
        created_at=now,
        description=description or "",
        experiment_id=exp_id,
        pipeline_id=spec.pipeline_id,
        pipeline_version_id=spec.pipeline_version_id,
        pipeline_name=spec.pipeline_name,
        parameters=values,
        input_artifacts=artifacts,
        pipeline_root=pipeline_root or "",
        recurring_run_id=recurring_run_id,
        scheduled_at=scheduled_at or now,
        service_account=service_account or "",
        namespace=namespace or "",
    )
    return store.create_run(run)


def check_arguments(loaded: LoadedPipeline, given: dict[str, Any]) -> dict[str, Any]:
    """The given root parameters of a loaded pipeline, checked and converted, or
    InvalidArgument; the defaults of the others apply when the run starts."""
    spec = loaded.spec_dict
    check_bindings(spec)
    return coerce_parameters(root_parameters(spec), given, where="pipeline", with_defaults=False)


def create_run(store: Store, loaded: LoadedPipeline, parameters: dict[str, Any], *,
               pipeline_root: str, enable_caching: bool | None, display_name: str | None = None,
               experiment_name: str = DEFAULT_EXPERIMENT, local_worker: str | None = None,
               input_artifacts: dict[str, str] | None = None) -> Run:
    """A run of a pipeline file (``pipeyard run``): filed under the pipeline of the same
    name (a new version when the spec changed) and the experiment ``experiment_name``."""
    spec = loaded.spec_dict
    now = utcnow()
    pipeline, version = ensure_pipeline_version(store, loaded, spec, now)
    experiment = ensure_experiment(store, experiment_name, now)
    resolved = ResolvedSpec(spec, loaded.platform_spec, pipeline.pipeline_id, version.version_id)
    return new_run(store, display_name=display_name or "", spec=resolved, parameters=parameters,
                   pipeline_root=pipeline_root, experiment_id=experiment.experiment_id,
                   enable_caching=enable_caching, local_worker=local_worker,
                   input_artifacts=input_artifacts)
