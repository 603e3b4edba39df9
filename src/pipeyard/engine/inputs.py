"""Resolving a task's inputs from its DAG's inputs, constants and upstream outcomes."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any

from pipeyard.engine.outcome import ArtifactDict, Outcome, Scope
from pipeyard.errors import PipeyardError
from pipeyard.ir.bindings import convert_input
from pipeyard.ir.cel import evaluate_selector
from pipeyard.ir.placeholders import input_references, substitute_input_references
from pipeyard.ir.views import MISSING, ComponentView, IODefs, TaskView

# How the kfp compiler names what it passes between DAGs (``kfp/dsl/for_loop.py``).
CHANNEL_PREFIX = "pipelinechannel--"
LOOP_ITEM = "loop-item"
SUBVAR = "-subvar-"
_FIELD = re.compile(r"[A-Za-z_][0-9A-Za-z_]*")
# The DAGs the compiler makes for control-flow groups (not a user's own sub-pipelines).
_GROUP = re.compile(r"comp-(?:for-loop|condition|condition-branches|exit-handler)-\d+")


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
    """The parameters a DAG starts with: the given values in their declared types, and
    the declared defaults of the others (a run stores only what its caller gave; KFP's
    root driver applies the defaults when the run starts)."""
    out = {}
    for name, value in values.items():
        d = defs.parameters.get(name)
        out[name] = conform(value, d.type) if d else value
    for name, d in defs.parameters.items():
        if name not in out and d.has_default and d.default is not None:
            out[name] = conform(d.default, d.type)
    return out


def resolve_parameters(
    task: TaskView,
    component: ComponentView,
    scope: Scope,
    upstream: Mapping[str, Outcome],
    job_resource_name: str,
    where: str,
) -> dict[str, Any]:
    """The task's input parameters: bound values, then the f-string templates among its
    constants resolved against them, then the component's defaults, each converted to
    its declared type (``convert_input``)."""
    item_input = task.iterator.item_input if task.iterator is not None else None
    values: dict[str, Any] = {}
    templates: dict[str, Any] = {}
    for name, src in task.parameters.items():
        if item_input and name.startswith(item_input + SUBVAR):
            # A field of this loop's own item, which each iteration derives; the
            # compiler binds it to a source that does not exist.
            continue
        if src.kind == "constant":
            value = src.value
            if input_references(value):
                templates[name] = value
                continue
        elif src.kind == "component_input":
            value = scope_value(scope.parameters, src.name)
            if value is MISSING:
                continue  # an optional input nobody set: the component default applies
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
    if component.dag is not None and _GROUP.fullmatch(component.name):
        values.update(_enclosing_loop_items(scope.parameters, values, item_input))
    for name, template in templates.items():
        missing = sorted(n for n in input_references(template) if values.get(n) is None)
        if missing:
            raise InputUnavailable(
                f"input parameter {name!r} is built from {', '.join(map(repr, missing))}, which has no value"
            )
        values[name] = substitute_input_references(template, values)
    for name, pdef in component.inputs.parameters.items():
        if name not in values and pdef.has_default:
            values[name] = pdef.default
    return _converted(values, component, where)


def _converted(values: Mapping[str, Any], component: ComponentView, where: str) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        d = component.inputs.parameters.get(name)
        if d is None:
            out[name] = value
        elif component.dag is not None and name.startswith(CHANNEL_PREFIX):
            # A DAG's compiler-made channels carry types the compiler guessed (a loop
            # item field is typed from the first item, or not at all); the task that
            # consumes the value checks it against the type it declares.
            out[name] = conform(value, d.type)
        else:
            out[name] = convert_input(value, d.type, name, where)
    return out


def _enclosing_loop_items(parameters: Mapping[str, Any], bound: Mapping[str, Any],
                          item_input: str | None) -> dict[str, Any]:
    """The items of enclosing loops, carried into a nested control-flow group: an
    f-string of an outer loop's item inside an inner loop refers to it, but the compiler
    passes it only to the task, not through the inner loop's DAG."""
    return {n: v for n, v in parameters.items()
            if n.startswith(CHANNEL_PREFIX) and LOOP_ITEM in n and n not in bound and n != item_input}


def scope_value(parameters: Mapping[str, Any], name: str) -> Any:
    """A DAG input by name, or MISSING. A field of a ParallelFor item
    (``<item>-subvar-<field>``, nested loops repeat the pattern) that f-strings refer to
    is derived from the item: the compiler names it but binds nothing to it."""
    if name in parameters:
        return parameters[name]
    base, sep, field = name.rpartition(SUBVAR)
    if not sep or LOOP_ITEM not in base or not _FIELD.fullmatch(field):
        return MISSING
    item = scope_value(parameters, base)
    if item is MISSING:
        return MISSING
    if isinstance(item, str):
        with contextlib.suppress(ValueError):
            item = json.loads(item)
    if not isinstance(item, dict) or field not in item:
        raise InputUnavailable(f"loop item {_short(item)} has no field {field!r} (for {name!r})")
    return item[field]


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


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
    """``exclude``: a loop's item input, which each iteration sets (with the fields
    of the item that f-strings refer to)."""
    for name, pdef in component.inputs.parameters.items():
        if exclude and (name == exclude or name.startswith(exclude + SUBVAR)):
            continue
        if name not in params and not pdef.optional and pdef.type != "TASK_FINAL_STATUS":
            raise InputUnavailable(f"required input parameter {name!r} has no value")
    for name, adef in component.inputs.artifacts.items():
        if name not in artifacts and not adef.optional and name != exclude:
            raise InputUnavailable(f"required input artifact {name!r} has no value")
