"""Values at task boundaries: KFP's text form, the driver's type rule, and the static check."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import CONFORMANCE_PIPELINES

from pipeyard.errors import InvalidArgument
from pipeyard.ir.bindings import TypeMismatch, check_bindings, convert_input
from pipeyard.ir.loader import load_pipeline_file, spec_to_dict
from pipeyard.ir.params import coerce_parameters, value_text
from pipeyard.ir.placeholders import input_references, substitute_input_references


@pytest.mark.parametrize(
    "value, text",
    [
        ("raw 'text'", "raw 'text'"),
        (3, "3"),
        (3.0, "3"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (1.5e-10, "0.00000000015"),
        (1e22, "10000000000000000000000"),
        (True, "true"),
        (False, "false"),
        ([1, "a", None], '[1,"a",null]'),
        ({"k": [1, 2], "b": True}, '{"k":[1,2],"b":true}'),
        ([1.0, {"x": 2.0}, 0.5], "[1,{\"x\":2},0.5]"),
    ],
)
def test_value_text_is_kfps_pbvaluetotext(value: Any, text: str) -> None:
    assert value_text(value) == text


@pytest.mark.parametrize(
    "value, type_name, expected",
    [
        (3, "STRING", "3"),
        (2.5, "STRING", "2.5"),
        (True, "STRING", "true"),
        ([1, 2], "STRING", "[1,2]"),
        ({"a": 1}, "STRING", '{"a":1}'),
        ("x", "STRING", "x"),
        (3.0, "NUMBER_INTEGER", 3),
        (3, "NUMBER_DOUBLE", 3.0),
        (False, "BOOLEAN", False),
        ([1], "LIST", [1]),
        ({"a": 1}, "STRUCT", {"a": 1}),
        ({"state": "COMPLETE"}, "TASK_FINAL_STATUS", {"state": "COMPLETE"}),
        (None, "NUMBER_INTEGER", None),
    ],
)
def test_convert_input_follows_the_driver(value: Any, type_name: str, expected: Any) -> None:
    out = convert_input(value, type_name, "x", "task 't'")
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(
    "value, type_name, actual",
    [
        ("3", "NUMBER_INTEGER", "string"),
        (True, "NUMBER_DOUBLE", "bool"),
        (1, "BOOLEAN", "number"),
        ("[1]", "LIST", "string"),
        ([1], "STRUCT", "list"),
        ({"a": 1}, "LIST", "struct"),
    ],
)
def test_other_mismatches_name_task_input_and_both_types(value: Any, type_name: str, actual: str) -> None:
    with pytest.raises(TypeMismatch) as e:
        convert_input(value, type_name, "count", "task 'train'")
    assert str(e.value).startswith(f"task 'train': input parameter 'count' expects {type_name}, got a {actual}")


def test_references_resolve_inside_strings_lists_and_dicts() -> None:
    ref = "{{$.inputs.parameters['pipelinechannel--%s']}}"
    values = {"pipelinechannel--n": 3, "pipelinechannel--s": "{{$.inputs.parameters['x']}}",
              "pipelinechannel--l": [1, 2]}
    template = {"k": f"n={ref % 'n'} s={ref % 's'}", "list": ["-", ref % "l"], ref % "n": "v"}
    assert input_references(template) == {"pipelinechannel--n", "pipelinechannel--s", "pipelinechannel--l"}
    # The value that looks like a placeholder stays data; the job's placeholders stay.
    assert substitute_input_references(template, values) == {
        "k": "n=3 s={{$.inputs.parameters['x']}}", "list": ["-", "[1,2]"], "3": "v"}
    assert substitute_input_references("t={{$.pipeline_job_name}}", values) == "t={{$.pipeline_job_name}}"


def test_stored_parameters_are_the_given_ones() -> None:
    defs: dict[str, dict[str, Any]] = {
        "s": {"parameterType": "STRING"},
        "i": {"parameterType": "NUMBER_INTEGER", "defaultValue": 2.0, "isOptional": True},
    }
    assert coerce_parameters(defs, {"s": "x"}, with_defaults=False) == {"s": "x"}
    assert coerce_parameters(defs, {"s": "x", "i": "5"}, with_defaults=False) == {"s": "x", "i": 5}
    with pytest.raises(InvalidArgument, match="missing required parameter 's'"):
        coerce_parameters(defs, {}, with_defaults=False)


def _spec(source: dict[str, Any], produced: str = "NUMBER_INTEGER") -> dict[str, Any]:
    return {
        "components": {
            "comp-up": {"executorLabel": "e1", "outputDefinitions": {"parameters": {"Output": {"parameterType": produced}}}},
            "comp-use": {"executorLabel": "e2", "inputDefinitions": {"parameters": {"n": {"parameterType": "NUMBER_INTEGER"}}}},
        },
        "root": {
            "inputDefinitions": {"parameters": {"text": {"parameterType": "STRING"}}},
            "dag": {"tasks": {
                "up": {"componentRef": {"name": "comp-up"}, "taskInfo": {"name": "up"}},
                "use": {"componentRef": {"name": "comp-use"}, "taskInfo": {"name": "use"},
                        "inputs": {"parameters": {"n": source}}},
            }},
        },
    }


@pytest.mark.parametrize(
    "source, produced, supplier",
    [
        ({"runtimeValue": {"constant": "abc"}}, "NUMBER_INTEGER", "the constant 'abc'"),
        ({"componentInputParameter": "text"}, "NUMBER_INTEGER", "pipeline parameter 'text'"),
        ({"taskOutputParameter": {"producerTask": "up", "outputParameterKey": "Output"}}, "LIST",
         "output 'Output' of task 'up'"),
    ],
)
def test_check_bindings_refuses_what_the_spec_shows(source: dict[str, Any], produced: str, supplier: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        check_bindings(_spec(source, produced))
    assert e.value.field == "pipeline_spec"
    assert f"task 'use': input parameter 'n' expects NUMBER_INTEGER, but {supplier} gives a" in str(e.value)


@pytest.mark.parametrize(
    "source",
    [
        {"runtimeValue": {"constant": 4}},
        {"taskOutputParameter": {"producerTask": "up", "outputParameterKey": "Output"}},
        # Known only at run time: a selector's result.
        {"componentInputParameter": "text", "parameterExpressionSelector": "parseJson(string_value)['n']"},
    ],
)
def test_check_bindings_accepts_matching_and_unknowable(source: dict[str, Any]) -> None:
    check_bindings(_spec(source))


@pytest.mark.usefixtures("conformance_pipelines")
def test_every_conformance_pipeline_passes_the_static_check() -> None:
    files = sorted(CONFORMANCE_PIPELINES.iterdir())
    assert files
    for f in files:
        check_bindings(spec_to_dict(load_pipeline_file(f).spec))
