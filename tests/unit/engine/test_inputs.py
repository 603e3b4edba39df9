"""Resolving a task's inputs (engine/inputs.py): constants, DAG inputs, upstream
outputs, CEL selectors, final status, defaults, and what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from pipeyard.engine.inputs import (
    InputUnavailable,
    check_required,
    conform,
    final_status,
    resolve_artifacts,
    resolve_parameters,
)
from pipeyard.engine.outcome import Outcome, Scope
from pipeyard.ir.views import (
    ArtifactDef,
    ArtifactSource,
    ComponentView,
    IODefs,
    ParameterDef,
    ParamSource,
    TaskView,
)

COMPONENT = ComponentView(
    name="comp-c",
    inputs=IODefs(parameters={
        "n": ParameterDef("n", "NUMBER_INTEGER"),
        "ratio": ParameterDef("ratio", "NUMBER_DOUBLE", default=0.5),
        "label": ParameterDef("label", "STRING", optional=True),
    }, artifacts={"data": ArtifactDef("data", "system.Dataset")}),
    outputs=IODefs(),
)


def _task(parameters: dict[str, ParamSource], artifacts: dict[str, ArtifactSource] | None = None) -> TaskView:
    return TaskView(name="t", display_name="t", component="comp-c", parameters=parameters,
                    artifacts=artifacts or {})


def _resolve(task: TaskView, scope_params: dict[str, Any] | None = None,
             upstream: dict[str, Outcome] | None = None) -> dict[str, Any]:
    scope = Scope("", None, dict(scope_params or {}), {})
    return resolve_parameters(task, COMPONENT, scope, upstream or {}, "p-run", "task 't'")


def test_constants_dag_inputs_and_upstream_outputs_with_defaults_and_types() -> None:
    task = _task({"n": ParamSource("task_output", name="Output", producer="up"),
                  "label": ParamSource("component_input", name="pipeline_label")})
    upstream = {"up": Outcome("SUCCEEDED", {"Output": 3.0})}
    # protobuf numbers are doubles: the integer input gets its int back; the default fills ratio.
    assert _resolve(task, {"pipeline_label": "x"}, upstream) == {"n": 3, "label": "x", "ratio": 0.5}
    assert _resolve(_task({"n": ParamSource("constant", value=7)})) == {"n": 7, "ratio": 0.5}


def test_an_unset_optional_dag_input_is_left_to_the_component_default() -> None:
    task = _task({"n": ParamSource("constant", value=1), "label": ParamSource("component_input", name="missing")})
    assert _resolve(task) == {"n": 1, "ratio": 0.5}


def test_a_selector_picks_from_the_upstream_value() -> None:
    task = _task({"n": ParamSource("task_output", name="Output", producer="up", selector="parseJson(string_value)['k']")})
    upstream = {"up": Outcome("SUCCEEDED", {"Output": '{"k": 4}'})}
    assert _resolve(task, upstream=upstream)["n"] == 4


def test_an_output_the_producer_did_not_produce_is_unavailable_naming_both() -> None:
    task = _task({"n": ParamSource("task_output", name="Output", producer="up")})
    with pytest.raises(InputUnavailable) as caught:
        _resolve(task, upstream={"up": Outcome("SKIPPED")})
    assert str(caught.value) == ("input parameter 'n': task 'up' did not produce output 'Output' "
                                 "(its state is SKIPPED)")


def test_final_status_uses_kfp_backend_state_names() -> None:
    assert final_status(Outcome("SUCCEEDED", task_name="up"), "p-run") == {
        "state": "COMPLETE", "error": {"code": 0, "message": ""},
        "pipelineJobResourceName": "p-run", "pipelineTaskName": "up",
    }
    failed = final_status(Outcome("FAILED", error="boom", task_name="up"), "p-run")
    assert (failed["state"], failed["error"]) == ("FAILED", {"code": 1, "message": "boom"})
    assert final_status(Outcome("NOT_RUN"), "p-run")["state"] == "FAILED"


def test_artifacts_come_from_dag_inputs_or_upstream() -> None:
    art = {"uri": "/a", "name": "x", "type": "system.Dataset"}
    task = _task({}, {"data": ArtifactSource("task_output", name="out", producer="up")})
    upstream = {"up": Outcome("SUCCEEDED", artifacts={"out": [art]})}
    assert resolve_artifacts(task, Scope("", None, {}, {}), upstream) == {"data": [art]}
    from_dag = _task({}, {"data": ArtifactSource("component_input", name="d")})
    assert resolve_artifacts(from_dag, Scope("", None, {}, {"d": [art]}), {}) == {"data": [art]}
    assert resolve_artifacts(from_dag, Scope("", None, {}, {}), {}) == {}


def test_required_inputs_without_a_value_are_named() -> None:
    with pytest.raises(InputUnavailable, match="^required input parameter 'n' has no value$"):
        check_required(COMPONENT, {"ratio": 0.5}, {"data": []})
    with pytest.raises(InputUnavailable, match="^required input artifact 'data' has no value$"):
        check_required(COMPONENT, {"n": 1, "ratio": 0.5}, {})
    check_required(COMPONENT, {"ratio": 0.5}, {"data": []}, exclude="n")  # a loop item is set per iteration


@pytest.mark.parametrize(("value", "type_name", "expected"), [
    (2.0, "NUMBER_INTEGER", 2), (2.5, "NUMBER_INTEGER", 2.5), (2, "NUMBER_DOUBLE", 2.0),
    (True, "NUMBER_DOUBLE", True), ("2", "STRING", "2"),
])
def test_conform_gives_numbers_their_declared_type(value: Any, type_name: str, expected: Any) -> None:
    assert conform(value, type_name) == expected
    assert type(conform(value, type_name)) is type(expected)
