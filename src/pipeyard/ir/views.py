"""Frozen, typed views over KFP's ``PipelineSpec`` proto.

This is the one place that walks the protobuf. The engine, the server and the
CLI read pipelines only through these views, so a change in the IR (or a KFP
quirk) is absorbed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeyard.errors import SpecError
from pipeyard.ir.proto import json_format
from pipeyard.ir.proto import pipeline_spec_pb2 as pb

ParameterType = Literal[
    "STRING",
    "NUMBER_INTEGER",
    "NUMBER_DOUBLE",
    "BOOLEAN",
    "LIST",
    "STRUCT",
    "TASK_FINAL_STATUS",
    "PARAMETER_TYPE_ENUM_UNSPECIFIED",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class ParameterDef:
    name: str
    type: str
    default: Any = MISSING
    optional: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass(frozen=True)
class ArtifactDef:
    name: str
    schema_title: str
    schema_version: str = "0.0.1"
    is_list: bool = False
    optional: bool = False


@dataclass(frozen=True)
class IODefs:
    parameters: Mapping[str, ParameterDef] = field(default_factory=dict)
    artifacts: Mapping[str, ArtifactDef] = field(default_factory=dict)


ParamSourceKind = Literal["constant", "component_input", "task_output", "task_final_status"]


@dataclass(frozen=True)
class ParamSource:
    """Where a task input parameter comes from."""

    kind: ParamSourceKind
    value: Any = None  # for constants
    name: str = ""  # component input name, or the producer's output key
    producer: str = ""  # producer task for task_output / task_final_status
    selector: str = ""  # parameterExpressionSelector (CEL) applied to the value


@dataclass(frozen=True)
class ArtifactSource:
    kind: Literal["component_input", "task_output"]
    name: str
    producer: str = ""


@dataclass(frozen=True)
class LoopIterator:
    """A ParallelFor: iterate a raw JSON list, an input parameter or an input artifact list."""

    kind: Literal["parameter", "artifact"]
    item_input: str
    raw: str | None = None
    input_name: str | None = None
    parallelism: int = 0  # 0: unlimited


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff_seconds: float = 0.0
    backoff_factor: float = 2.0
    # KFP's backoff_max_duration (Argo's backoff.maxDuration): how long after the
    # first attempt started retries may still begin. None: no limit (a spec without
    # it; since KFP 2.15 the SDK no longer caps it at an hour).
    backoff_max_seconds: float | None = 3600.0

    def delay(self, retry_number: int) -> float:
        """Delay before retry ``retry_number`` (1-based)."""
        return float(self.backoff_seconds * (self.backoff_factor ** (retry_number - 1)))


@dataclass(frozen=True)
class TaskView:
    name: str  # key in the DAG's tasks
    display_name: str
    component: str
    parameters: Mapping[str, ParamSource]
    artifacts: Mapping[str, ArtifactSource]
    dependent_tasks: tuple[str, ...] = ()
    caching: bool = True
    cache_key: str = ""
    condition: str = ""
    all_upstream_completed: bool = False
    iterator: LoopIterator | None = None
    retry: RetryPolicy | None = None

    @property
    def upstream(self) -> frozenset[str]:
        """Every task of the same DAG that must finish before this one starts."""
        names = set(self.dependent_tasks)
        names.update(p.producer for p in self.parameters.values() if p.producer)
        names.update(a.producer for a in self.artifacts.values() if a.producer)
        return frozenset(names)


@dataclass(frozen=True)
class OutputSelector:
    producer: str
    key: str


@dataclass(frozen=True)
class DagView:
    tasks: Mapping[str, TaskView]
    # Several selectors mean dsl.OneOf: the first producer that ran supplies the value.
    output_parameters: Mapping[str, tuple[OutputSelector, ...]]
    output_artifacts: Mapping[str, tuple[OutputSelector, ...]]


@dataclass(frozen=True)
class Resources:
    """Requests as written in the spec. Newer SDKs allow placeholders here
    (``{{$.inputs.parameters['cpu']}}``), so values stay text until the engine
    has substituted them; see ``parse_cpu`` / ``parse_memory``."""

    cpu: str = ""
    memory: str = ""
    accelerator_type: str = ""
    accelerator_count: str = ""
    cpu_limit: str = ""
    memory_limit: str = ""


@dataclass(frozen=True)
class ContainerView:
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    resources: Resources = Resources()


@dataclass(frozen=True)
class ImporterView:
    uri: ParamSource  # constant, or component_input naming the task input parameter
    schema_title: str
    schema_version: str = "0.0.1"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reimport: bool = False


@dataclass(frozen=True)
class ComponentView:
    name: str
    inputs: IODefs
    outputs: IODefs
    dag: DagView | None = None
    executor_label: str = ""
    container: ContainerView | None = None
    importer: ImporterView | None = None


@dataclass(frozen=True)
class PipelineView:
    name: str
    description: str
    display_name: str
    root: ComponentView
    components: Mapping[str, ComponentView]
    default_pipeline_root: str = ""
    sdk_version: str = ""
    # kfp-kubernetes executor configs keyed by executor label (plain dicts).
    platform: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    platform_pipeline: Mapping[str, Any] = field(default_factory=dict)

    def component(self, name: str, where: str = "") -> ComponentView:
        try:
            return self.components[name]
        except KeyError:
            raise SpecError(f"unknown component {name!r}", where=where or None) from None


# --------------------------------------------------------------------------- building


def _value(v: Any) -> Any:
    return json_format.MessageToDict(v) if not isinstance(v, (str, int, float, bool)) else v


def _param_type_name(t: int) -> str:
    return str(pb.ParameterType.ParameterTypeEnum.Name(t))


def _io_defs(params: Mapping[str, Any], artifacts: Mapping[str, Any]) -> IODefs:
    pdefs: dict[str, ParameterDef] = {}
    for name, p in params.items():
        # Output specs are a different message without defaults or optionality.
        has_default = "default_value" in p.DESCRIPTOR.fields_by_name and p.HasField("default_value")
        default = _value(p.default_value) if has_default else MISSING
        optional = bool(getattr(p, "is_optional", False))
        pdefs[name] = ParameterDef(name, _param_type_name(p.parameter_type), default, optional)
    adefs = {
        name: ArtifactDef(
            name,
            a.artifact_type.schema_title or "system.Artifact",
            a.artifact_type.schema_version or "0.0.1",
            a.is_artifact_list,
            bool(getattr(a, "is_optional", False)),
        )
        for name, a in artifacts.items()
    }
    return IODefs(pdefs, adefs)


def _inputs_of(c: pb.ComponentSpec) -> IODefs:
    return _io_defs(c.input_definitions.parameters, c.input_definitions.artifacts)


def _outputs_of(c: pb.ComponentSpec) -> IODefs:
    return _io_defs(c.output_definitions.parameters, c.output_definitions.artifacts)


def _param_source(spec: pb.TaskInputsSpec.InputParameterSpec) -> ParamSource:
    selector = spec.parameter_expression_selector
    kind = spec.WhichOneof("kind")
    if kind == "runtime_value":
        return ParamSource("constant", value=_value(spec.runtime_value.constant), selector=selector)
    if kind == "component_input_parameter":
        return ParamSource("component_input", name=spec.component_input_parameter, selector=selector)
    if kind == "task_output_parameter":
        out = spec.task_output_parameter
        return ParamSource(
            "task_output", name=out.output_parameter_key, producer=out.producer_task, selector=selector
        )
    if kind == "task_final_status":
        return ParamSource("task_final_status", producer=spec.task_final_status.producer_task)
    return ParamSource("constant", value=None, selector=selector)


def _artifact_source(spec: pb.TaskInputsSpec.InputArtifactSpec) -> ArtifactSource:
    if spec.WhichOneof("kind") == "task_output_artifact":
        out = spec.task_output_artifact
        return ArtifactSource("task_output", out.output_artifact_key, out.producer_task)
    return ArtifactSource("component_input", spec.component_input_artifact)


def _seconds(duration: Any) -> float:
    return float(duration.seconds) + duration.nanos / 1e9


def _task(name: str, t: pb.PipelineTaskSpec) -> TaskView:
    iterator: LoopIterator | None = None
    limit = t.iterator_policy.parallelism_limit if t.HasField("iterator_policy") else 0
    if t.HasField("parameter_iterator"):
        it = t.parameter_iterator
        which = it.items.WhichOneof("kind")
        iterator = LoopIterator(
            "parameter",
            it.item_input,
            raw=it.items.raw if which == "raw" else None,
            input_name=it.items.input_parameter if which == "input_parameter" else None,
            parallelism=limit,
        )
    elif t.HasField("artifact_iterator"):
        it2 = t.artifact_iterator
        iterator = LoopIterator(
            "artifact", it2.item_input, input_name=it2.items.input_artifact, parallelism=limit
        )
    retry = None
    if t.HasField("retry_policy") and t.retry_policy.max_retry_count > 0:
        rp = t.retry_policy
        retry = RetryPolicy(
            rp.max_retry_count,
            _seconds(rp.backoff_duration),
            rp.backoff_factor or 2.0,
            (_seconds(rp.backoff_max_duration) or None) if rp.HasField("backoff_max_duration") else None,
        )
    strategy = pb.PipelineTaskSpec.TriggerPolicy.TriggerStrategy.Name(t.trigger_policy.strategy)
    return TaskView(
        name=name,
        display_name=t.task_info.name or name,
        component=t.component_ref.name,
        parameters={k: _param_source(v) for k, v in t.inputs.parameters.items()},
        artifacts={k: _artifact_source(v) for k, v in t.inputs.artifacts.items()},
        dependent_tasks=tuple(t.dependent_tasks),
        caching=t.caching_options.enable_cache if t.HasField("caching_options") else True,
        cache_key=t.caching_options.cache_key,
        condition=t.trigger_policy.condition,
        all_upstream_completed=strategy == "ALL_UPSTREAM_TASKS_COMPLETED",
        iterator=iterator,
        retry=retry,
    )


def _dag(d: pb.DagSpec) -> DagView:
    out_params: dict[str, tuple[OutputSelector, ...]] = {}
    for name, p in d.outputs.parameters.items():
        if p.WhichOneof("kind") == "value_from_oneof":
            sels = p.value_from_oneof.parameter_selectors
            out_params[name] = tuple(OutputSelector(s.producer_subtask, s.output_parameter_key) for s in sels)
        else:
            v = p.value_from_parameter
            out_params[name] = (OutputSelector(v.producer_subtask, v.output_parameter_key),)
    out_artifacts = {
        name: tuple(OutputSelector(s.producer_subtask, s.output_artifact_key) for s in a.artifact_selectors)
        for name, a in d.outputs.artifacts.items()
    }
    return DagView(
        tasks={name: _task(name, t) for name, t in d.tasks.items()},
        output_parameters=out_params,
        output_artifacts=out_artifacts,
    )


_MEMORY_UNITS = {
    "": 1,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "KI": 1024,
    "MI": 1024**2,
    "GI": 1024**3,
    "TI": 1024**4,
}


def parse_memory(text: str) -> int:
    """Kubernetes quantities ("512Mi", "1G", "1.5") to bytes."""
    text = text.strip().upper()
    num = text.rstrip("KMGTI")
    unit = text[len(num) :]
    try:
        return int(float(num) * _MEMORY_UNITS[unit])
    except (KeyError, ValueError):
        raise SpecError(f"cannot read memory quantity {text!r}") from None


def parse_cpu(text: str) -> float:
    text = text.strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise SpecError(f"cannot read CPU quantity {text!r}") from None


def _resources(r: Any) -> Resources:
    # Newer SDKs write string quantities (resource_*), older ones numbers (memory in GB).
    cpu = r.resource_cpu_request or (str(r.cpu_request) if r.cpu_request else "")
    memory = r.resource_memory_request or (f"{r.memory_request}G" if r.memory_request else "")
    cpu_limit = r.resource_cpu_limit or (str(r.cpu_limit) if r.cpu_limit else "")
    memory_limit = r.resource_memory_limit or (f"{r.memory_limit}G" if r.memory_limit else "")
    acc = r.accelerator
    count = acc.resource_count or (str(acc.count) if acc.count else "")
    return Resources(cpu, memory, acc.resource_type or acc.type, count, cpu_limit, memory_limit)


def _executor_parts(
    label: str, executors: Mapping[str, Any]
) -> tuple[ContainerView | None, ImporterView | None]:
    if not label:
        return None, None
    if label not in executors:
        raise SpecError(f"executor {label!r} is not in deploymentSpec.executors")
    ex = executors[label]
    which = ex.WhichOneof("spec")
    if which == "container":
        c = ex.container
        return ContainerView(
            image=c.image,
            command=tuple(c.command),
            args=tuple(c.args),
            env={e.name: e.value for e in c.env},
            resources=_resources(c.resources),
        ), None
    if which == "importer":
        imp = ex.importer
        if imp.artifact_uri.WhichOneof("value") == "runtime_parameter":
            uri = ParamSource("component_input", name=imp.artifact_uri.runtime_parameter)
        else:
            uri = ParamSource("constant", value=_value(imp.artifact_uri.constant))
        return None, ImporterView(
            uri=uri,
            schema_title=imp.type_schema.schema_title or "system.Artifact",
            schema_version=imp.type_schema.schema_version or "0.0.1",
            metadata=json_format.MessageToDict(imp.metadata),
            reimport=imp.reimport,
        )
    raise SpecError(f"executor {label!r}: {which} executors are not supported")


def _component(name: str, c: pb.ComponentSpec, executors: Mapping[str, Any]) -> ComponentView:
    where = f"component {name!r}"
    try:
        container, importer = _executor_parts(c.executor_label, executors)
    except SpecError as e:
        raise SpecError(e.reason, where=where) from None
    return ComponentView(
        name=name,
        inputs=_inputs_of(c),
        outputs=_outputs_of(c),
        dag=_dag(c.dag) if c.HasField("dag") else None,
        executor_label=c.executor_label,
        container=container,
        importer=importer,
    )


def build_view(spec: pb.PipelineSpec, platform_spec: Mapping[str, Any] | None = None, *,
               deployment: Mapping[str, Any] | None = None) -> PipelineView:
    """Turn a parsed PipelineSpec (and optional kfp-kubernetes PlatformSpec dict) into views.
    ``deployment``, when given, is the spec's ``deploymentSpec`` in JSON form, read instead
    of ``spec.deployment_spec``."""
    if deployment is None and spec.HasField("deployment_spec"):
        deployment = json_format.MessageToDict(spec.deployment_spec)
    config = pb.PipelineDeploymentConfig()
    if deployment:
        json_format.ParseDict(deployment, config, ignore_unknown_fields=True)
    executors = config.executors
    components = {name: _component(name, c, executors) for name, c in spec.components.items()}
    root = _component("root", spec.root, executors)
    kube = _kubernetes_platform(platform_spec)
    return PipelineView(
        name=spec.pipeline_info.name,
        description=spec.pipeline_info.description,
        display_name=spec.pipeline_info.display_name or spec.pipeline_info.name,
        root=root,
        components=components,
        default_pipeline_root=spec.default_pipeline_root,
        sdk_version=spec.sdk_version,
        platform=kube.get("deploymentSpec", {}).get("executors", {}),
        platform_pipeline=kube.get("pipelineConfig", {}),
    )


def _kubernetes_platform(platform_spec: Mapping[str, Any] | None) -> dict[str, Any]:
    if not platform_spec:
        return {}
    platforms = platform_spec.get("platforms", platform_spec)
    kube = platforms.get("kubernetes", {})
    return dict(kube) if isinstance(kube, Mapping) else {}
