from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import CONFORMANCE_PIPELINES

from pipeyard.errors import SpecError
from pipeyard.ir.loader import load_pipeline_file, spec_to_dict
from pipeyard.ir.placeholders import (
    PlaceholderContext,
    format_parameter,
    substitute_args,
    substitute_string,
)

CONFORMANCE = CONFORMANCE_PIPELINES
needs_conformance = pytest.mark.usefixtures("conformance_pipelines")


def ctx(**overrides: Any) -> PlaceholderContext:
    base: dict[str, Any] = dict(
        input_parameters={
            "text1": "hello",
            "n": 3,
            "x": 2.5,
            "flag": True,
            "items": [1, "a"],
            "cfg": {"k": "v"},
        },
        input_artifacts={
            "data": [
                {
                    "uri": "/root/a/data",
                    "path": "/root/a/data",
                    "metadata": {"rows": 10, "kind": "csv"},
                    "name": "data",
                }
            ],
            "many": [{"uri": "/r/1", "path": "/r/1"}, {"uri": "/r/2", "path": "/r/2"}],
        },
        output_parameter_files={"output_path": "/tmp/out/output_path"},
        output_artifacts={"text2": {"uri": "/root/b/text2", "path": "/root/b/text2"}},
        executor_input_json='{"inputs": {}}',
        output_file="/tmp/out/executor_output.json",
        pipeline_job_name="my-run",
        pipeline_job_resource_name="runs/123",
        pipeline_job_uuid="uuid-run",
        pipeline_job_create_time_utc="2024-01-01T00:00:00Z",
        pipeline_job_schedule_time_utc="2024-01-01T00:00:00Z",
        pipeline_task_name="train",
        pipeline_task_uuid="uuid-task",
        pipeline_root="/root",
        workspace_path="/ws",
    )
    base.update(overrides)
    return PlaceholderContext(**base)


def _container(file: str, label: str) -> dict[str, Any]:
    d = spec_to_dict(load_pipeline_file(CONFORMANCE / file).spec)
    return d["deploymentSpec"]["executors"][label]["container"]


# --------------------------------------------------------------------------- values


def test_parameter_formatting_follows_kfp_local() -> None:
    assert format_parameter("s") == "s"
    assert format_parameter(3) == "3"
    assert format_parameter(2.5) == "2.5"
    assert format_parameter(True) == "true"
    assert format_parameter(False) == "false"
    assert format_parameter([1, "a"]) == '[1, "a"]'
    assert format_parameter({"k": "v"}) == '{"k": "v"}'


def test_every_simple_placeholder() -> None:
    c = ctx()
    cases = {
        "{{$}}": '{"inputs": {}}',
        "{{$.inputs.parameters['text1']}}": "hello",
        "{{$.inputs.parameters['n']}}": "3",
        "{{$.inputs.parameters['flag']}}": "true",
        "{{$.inputs.parameters['items']}}": '[1, "a"]',
        "{{$.inputs.parameters['cfg']}}": '{"k": "v"}',
        "{{$.inputs.artifacts['data'].uri}}": "/root/a/data",
        "{{$.inputs.artifacts['data'].path}}": "/root/a/data",
        "{{$.inputs.artifacts['data'].metadata}}": '{"rows": 10, "kind": "csv"}',
        "{{$.inputs.artifacts['data'].metadata['rows']}}": "10",
        "{{$.inputs.artifacts['data'].metadata['kind']}}": "csv",
        "{{$.outputs.artifacts['text2'].uri}}": "/root/b/text2",
        "{{$.outputs.artifacts['text2'].path}}": "/root/b/text2",
        "{{$.outputs.artifacts['text2'].metadata}}": "{}",
        "{{$.outputs.parameters['output_path'].output_file}}": "/tmp/out/output_path",
        "{{$.outputs.output_file}}": "/tmp/out/executor_output.json",
        "{{$.pipeline_job_name}}": "my-run",
        "{{$.pipeline_job_resource_name}}": "runs/123",
        "{{$.pipeline_job_uuid}}": "uuid-run",
        "{{$.pipeline_job_create_time_utc}}": "2024-01-01T00:00:00Z",
        "{{$.pipeline_job_schedule_time_utc}}": "2024-01-01T00:00:00Z",
        "{{$.pipeline_task_name}}": "train",
        "{{$.pipeline_task_uuid}}": "uuid-task",
        "{{$.pipeline_root}}": "/root",
        "{{$.workspace_path}}": "/ws",
    }
    assert substitute_args(list(cases), c) == list(cases.values())


def test_whole_artifact_list_is_json() -> None:
    [out] = substitute_args(["{{$.inputs.artifacts['many']}}"], ctx())
    assert [a["uri"] for a in json.loads(out)] == ["/r/1", "/r/2"]


def test_embedded_placeholders_and_values_are_not_rescanned() -> None:
    c = ctx(input_parameters={"a": "{{$.pipeline_root}}", "b": 1})
    out = substitute_string(
        "x={{$.inputs.parameters['a']}};y={{$.inputs.parameters['b']}}/{{$.pipeline_task_name}}", c
    )
    assert out == "x={{$.pipeline_root}};y=1/train"


def test_extra_placeholders() -> None:
    c = ctx(extra={"{{$.pipeline_google_cloud_project_id}}": "proj"})
    assert substitute_args(["--project={{$.pipeline_google_cloud_project_id}}"], c) == ["--project=proj"]


@pytest.mark.parametrize(
    "arg, message",
    [
        ("{{$.inputs.parameters['nope']}}", "input parameter 'nope' has no value"),
        ("{{$.inputs.artifacts['nope'].uri}}", "input artifact 'nope' has no value"),
        ("{{$.outputs.artifacts['nope'].uri}}", "no output artifact 'nope'"),
        ("{{$.outputs.parameters['nope'].output_file}}", "no output parameter 'nope'"),
        ("{{$.inputs.artifacts['data'].metadata['nokey']}}", "no metadata key 'nokey'"),
        (
            "a{{$.pipeline_google_cloud_location}}b",
            "unknown placeholder {{$.pipeline_google_cloud_location}}",
        ),
        ("{{$.inputs.whatever}}", "unknown placeholder"),
    ],
)
def test_errors_name_the_placeholder(arg: str, message: str) -> None:
    with pytest.raises(
        SpecError, match=message.replace("[", r"\[").replace("$", r"\$").replace("{", r"\{")
    ) as e:
        substitute_args(["ok", arg], ctx())
    assert e.value.where == "task 'train', argument 1"


def test_missing_workspace() -> None:
    with pytest.raises(SpecError, match="no workspace"):
        substitute_args(["{{$.workspace_path}}"], ctx(workspace_path=None))


# --------------------------------------------------------------------------- Concat / IfPresent


def test_nested_structures() -> None:
    concat_in_if = json.dumps(
        {
            "IfPresent": {
                "InputName": "text1",
                "Then": ["--t", {"Concat": ["<", "{{$.inputs.parameters['text1']}}", ">"]}],
                "Else": "--none",
            }
        }
    )
    if_in_concat = json.dumps(
        {"Concat": ["a-", {"IfPresent": {"InputName": "missing", "Then": "yes", "Else": "no"}}, "-z"]}
    )
    absent_without_else = json.dumps({"IfPresent": {"InputName": "missing", "Then": ["--m", "x"]}})
    absent_string_else = json.dumps(
        {"IfPresent": {"InputName": "missing", "Then": ["--m"], "Else": "fallback"}}
    )
    args = ["first", concat_in_if, if_in_concat, absent_without_else, absent_string_else, "last"]
    assert substitute_args(args, ctx()) == ["first", "--t", "<hello>", "a-no-z", "fallback", "last"]


def test_if_present_counts_artifacts_and_treats_none_as_absent() -> None:
    arg = json.dumps({"IfPresent": {"InputName": "data", "Then": ["{{$.inputs.artifacts['data'].uri}}"]}})
    assert substitute_args([arg], ctx()) == ["/root/a/data"]
    assert substitute_args([arg], ctx(input_artifacts={"data": []})) == []
    p = json.dumps({"IfPresent": {"InputName": "opt", "Then": ["{{$.inputs.parameters['opt']}}"]}})
    assert substitute_args([p], ctx(input_parameters={"opt": None})) == []
    assert substitute_args([p], ctx(input_parameters={"opt": ""})) == [""]


def test_json_that_is_not_a_placeholder_is_left_alone() -> None:
    text = '{"Concat": 1, "other": 2}'
    assert substitute_args([text, '{"a": "{{$.pipeline_root}}"}'], ctx()) == [text, '{"a": "/root"}']


@needs_conformance
def test_conformance_concat() -> None:
    c = _container("container_with_concat_placeholder.yaml", "exec-container-with-concat-placeholder")
    assert substitute_args(c["command"] + c["args"], ctx()) == [
        "my_program",
        "prefix-hello/root/b/text2",
        "--output_path",
        "/tmp/out/output_path",
    ]


@needs_conformance
def test_conformance_if_present_both_ways() -> None:
    c = _container("container_with_if_placeholder.yaml", "exec-container-with-if-placeholder")
    argv = c["command"] + c["args"]
    outs = {"dataset": {"uri": "/r/dataset", "path": "/r/dataset"}}
    given = ctx(input_parameters={"optional_input": "hi"}, output_artifacts=outs)
    absent = ctx(input_parameters={}, output_artifacts=outs)
    assert substitute_args(argv, given) == [
        "my_program",
        "hi",
        "--dataset",
        "/r/dataset",
        "--output_path",
        "/tmp/out/output_path",
    ]
    assert substitute_args(argv, absent) == [
        "my_program",
        "bye",
        "--dataset",
        "bye",
        "--output_path",
        "/tmp/out/output_path",
    ]


@needs_conformance
def test_conformance_optional_inputs_with_none() -> None:
    c = _container(
        "essential_placeholder_with_if_placeholder_none_input_value.yaml",
        "exec-component-with-optional-inputs",
    )
    argv = c["command"] + c["args"]
    out = substitute_args(argv, ctx(input_parameters={"required_input": "r", "optional_input_1": None}))
    assert out == ["echo", "--arg0", "r", "--arg2", "default value"]
    out = substitute_args(
        argv,
        ctx(input_parameters={"required_input": "r", "optional_input_1": "o1", "optional_input_2": "o2"}),
    )
    assert out == ["echo", "--arg0", "r", "--arg1", "o1", "--arg2", "o2"]


@needs_conformance
def test_conformance_if_present_as_the_command() -> None:
    c = _container("components_with_optional_artifacts.yaml", "exec-custom-artifact-printer")
    assert substitute_args(c["command"], ctx()) == ["echo", "No artifact provided!"]
    with_art = ctx(input_artifacts={"artifact": [{"uri": "/r/x", "path": "/r/x"}]})
    assert substitute_args(c["command"], with_art) == ["echo", "/r/x"]


@needs_conformance
def test_conformance_fstring_placeholder() -> None:
    c = _container("container_with_placeholder_in_fstring.yaml", "exec-container-with-placeholder-in-fstring")
    outs = {"output_artifact": {"uri": "/r/oa", "path": "/r/oa"}}
    assert substitute_args(c["command"], ctx(output_artifacts=outs)) == [
        "my_program",
        "prefix-hello",
        "/r/oa/0",
    ]


@needs_conformance
def test_every_lightweight_executor_resolves() -> None:
    resolved = 0
    for f in sorted(CONFORMANCE.glob("*.yaml")):
        d = spec_to_dict(load_pipeline_file(f).spec)
        for ex in d.get("deploymentSpec", {}).get("executors", {}).values():
            c = ex.get("container", {})
            if c.get("args", [None])[:2] == ["--executor_input", "{{$}}"]:
                out = substitute_args(c.get("command", []) + c["args"], ctx(executor_input_json='{"x": 1}'))
                assert '{"x": 1}' in out and not any("{{$" in a for a in out)
                resolved += 1
    assert resolved > 300


# Defined from text: this module's postponed annotations would hide the types from kfp.
SDK_COMPONENT = """
from kfp import dsl

@dsl.container_component
def tool(name: str, out: dsl.OutputPath(str), opt: str = None):
    return dsl.ContainerSpec(
        image="alpine",
        command=["tool"],
        args=[
            dsl.ConcatPlaceholder(["--name=", name]),
            dsl.IfPresentPlaceholder(
                input_name="opt", then=["--opt", dsl.ConcatPlaceholder([opt, "!"])], else_=["--no-opt"]
            ),
            out,
        ],
    )
"""


def test_sdk_compiled_container_component() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(SDK_COMPONENT, "sdk_component", "exec", dont_inherit=True), namespace)
    tool = namespace["tool"]
    container = spec_to_dict(tool.pipeline_spec)["deploymentSpec"]["executors"]["exec-tool"]["container"]
    argv = container["command"] + container["args"]
    c = ctx(input_parameters={"name": "n"}, output_parameter_files={"out": "/o"})
    assert substitute_args(argv, c) == ["tool", "--name=n", "--no-opt", "/o"]
    c = ctx(input_parameters={"name": "n", "opt": "z"}, output_parameter_files={"out": "/o"})
    assert substitute_args(argv, c) == ["tool", "--name=n", "--opt", "z!", "/o"]
