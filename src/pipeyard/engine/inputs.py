"""Resolving a task's inputs from its DAG's inputs, constants and upstream outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeyard.engine.outcome import ArtifactDict, Outcome, Scope
from pipeyard.errors import PipeyardError
from pipeyard.ir.cel import evaluate_selector
from pipeyard.ir.views import ComponentView, IODefs, TaskView


class InputUnavailable(PipeyardError):
    """An input's producer did not provide it (e.g. it sits in a branch that was skipped)."""


def final_status(producer: Outcome, job_resource_name: str) -> dict[str, Any]:
    """The PipelineTaskFinalStatus struct, with KFP backend state names (COMPLETE for a
    successful task: MLMD's execution state, which is what the backend reports)."""
    state = {"SUCCEEDED": "COMPLETE", "SKIPPED": "COMPLETE"}.get(producer.state, producer.state)
    if state == "NOT_RUN":
        state = "FAILED"
    return {
        "state": state,
        "error": {"code": 0 if producer.ok else 1, "message": producer.error or ""},
        "pipelineJobResourceName": job_resource_name,
        "pipelineTaskName": producer.task_name,
    }


def conform(value: Any, type_name: str) -> Any:
    """protobuf Value numbers are doubles; give integers back their type."""
    if type_name == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    if type_name == "NUMBER_DOUBLE" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def conform_all(values: Mapping[str, Any], defs: IODefs) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        d = defs.parameters.get(name)
        out[name] = conform(value, d.type) if d else value
    return out


def resolve_parameters(
    task: TaskView,
    component: ComponentView,
    scope: Scope,
    upstream: Mapping[str, Outcome],
    job_resource_name: str,
    where: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, src in task.parameters.items():
        if src.kind == "constant":
            value = src.value
        elif src.kind == "component_input":
            if src.name not in scope.parameters:
                continue  # an optional input nobody set: the component default applies
            value = scope.parameters[src.name]
        elif src.kind == "task_output":
            producer = upstream[src.producer]
            if src.name not in producer.parameters:
                raise InputUnavailable(
                    f"input parameter {name!r}: task {src.producer!r} did not produce output "
                    f"{src.name!r} (its state is {producer.state})"
                )
            value = producer.parameters[src.name]
        else:  # task_final_status
            value = final_status(upstream[src.producer], job_resource_name)
        if src.selector:
            value = evaluate_selector(src.selector, value, where=f"{where}: input {name!r}")
        values[name] = value
    for name, pdef in component.inputs.parameters.items():
        if name not in values and pdef.has_default:
            values[name] = pdef.default
    return conform_all(values, component.inputs)


def resolve_artifacts(
    task: TaskView, scope: Scope, upstream: Mapping[str, Outcome]
) -> dict[str, list[ArtifactDict]]:
    values: dict[str, list[ArtifactDict]] = {}
    for name, src in task.artifacts.items():
        if src.kind == "component_input":
            if src.name in scope.artifacts:
                values[name] = scope.artifacts[src.name]
            continue
        producer = upstream[src.producer]
        if src.name not in producer.artifacts:
            raise InputUnavailable(
                f"input artifact {name!r}: task {src.producer!r} did not produce output "
                f"{src.name!r} (its state is {producer.state})"
            )
        values[name] = producer.artifacts[src.name]
    return values


def check_required(component: ComponentView, params: Mapping[str, Any],
                   artifacts: Mapping[str, Any], exclude: str | None = None) -> None:
    """``exclude``: a loop's item input, which each iteration sets."""
    for name, pdef in component.inputs.parameters.items():
        if name == exclude:
            continue
        if name not in params and not pdef.optional and pdef.type != "TASK_FINAL_STATUS":
            raise InputUnavailable(f"required input parameter {name!r} has no value")
    for name, adef in component.inputs.artifacts.items():
        if name not in artifacts and not adef.optional and name != exclude:
            raise InputUnavailable(f"required input artifact {name!r} has no value")
