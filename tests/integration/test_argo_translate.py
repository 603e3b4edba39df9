"""Argo Workflows compiled by kfp 1.8.22 translate into KFP IR the engine runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.kfp1 import V1_DATA, compile_v1

from pipeyard.errors import SpecError
from pipeyard.ir.argo import translate_workflow
from pipeyard.ir.argo.source import uses_kfp1
from pipeyard.ir.loader import load_pipeline_bytes, load_pipeline_file, spec_to_dict
from pipeyard.ir.views import build_view


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = compile_v1("features.py", tmp_path_factory.mktemp("v1"))
    loaded = load_pipeline_file(path)
    return {"ir": spec_to_dict(loaded.spec), "platform": loaded.platform_spec,
            "view": build_view(loaded.spec, loaded.platform_spec)}


def _task(ir: dict[str, Any], dag: str, name: str) -> dict[str, Any]:
    comp = ir["root"] if dag == "root" else ir["components"][dag]
    return dict(comp["dag"]["tasks"][name])


def test_pipeline_parameters_are_string_inputs_with_their_defaults(features: dict[str, Any]) -> None:
    params = features["ir"]["root"]["inputDefinitions"]["parameters"]
    assert params["count"] == {"parameterType": "STRING", "defaultValue": "3", "isOptional": True}
    assert params["threshold"]["defaultValue"] == "25.0"
    assert features["ir"]["pipelineInfo"] == {"name": "v1-features", "description": "v1 feature tour"}
    assert features["ir"]["sdkVersion"] == "kfp-1.8.22"


def test_exit_handler_runs_after_everything(features: dict[str, Any]) -> None:
    bye = _task(features["ir"], "root", "goodbye")
    assert bye["dependentTasks"] == ["exit-handler-1"]
    assert bye["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert features["view"].root.dag.tasks["goodbye"].all_upstream_completed


def test_loops_iterate_items_and_select_fields(features: dict[str, Any]) -> None:
    ir = features["ir"]
    static = _task(ir, "comp-exit-handler-1", "for-loop-3")
    assert json.loads(static["parameterIterator"]["items"]["raw"]) == [1, 2]
    from_output = _task(ir, "comp-exit-handler-1", "for-loop-4")
    assert from_output["parameterIterator"]["items"] == {"inputParameter": "loop-items"}
    assert from_output["inputs"]["parameters"]["loop-items"] == {
        "taskOutputParameter": {"producerTask": "produce", "outputParameterKey": "produce-items"}}
    assert from_output["iteratorPolicy"] == {"parallelismLimit": 1}
    inner = ir["components"][from_output["componentRef"]["name"]]["dag"]["tasks"]["show-2"]
    # "item-{{item.a}}" is text around a reference: inlined in the container's command line.
    assert inner["inputs"]["parameters"]["produce-items-loop-item-subvar-b"] == {
        "componentInputParameter": "loop-item", "parameterExpressionSelector": 'parseJson(string_value)["b"]'}


def test_conditions_compare_numbers_as_numbers_and_quoted_values_as_text(features: dict[str, Any]) -> None:
    from pipeyard.ir.cel import evaluate_condition

    big = _task(features["ir"], "comp-exit-handler-1", "condition-5")
    cel = big["triggerPolicy"]["condition"]
    assert evaluate_condition(cel, {"condition-in-0": "30", "condition-in-1": "25.0"}, "t") is True
    # As text "9" > "25.0"; as numbers it is not.
    assert evaluate_condition(cel, {"condition-in-0": "9", "condition-in-1": "25.0"}, "t") is False
    word = _task(features["ir"], "comp-exit-handler-1", "condition-7")["triggerPolicy"]["condition"]
    assert evaluate_condition(word, {"condition-in-0": "hi"}, "t") is True
    assert evaluate_condition(word, {"condition-in-0": "hi!"}, "t") is False


def test_retry_timeout_caching_and_env(features: dict[str, Any]) -> None:
    ir = features["ir"]
    flaky = _task(ir, "comp-exit-handler-1", "flaky")
    assert flaky["retryPolicy"] == {"maxRetryCount": 3}
    tasks = features["view"].components["comp-exit-handler-1"].dag.tasks
    assert tasks["flaky"].caching is False  # max_cache_staleness P0D
    assert tasks["produce"].caching is True
    executors = features["platform"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-flaky"] == {"activeDeadlineSeconds": 120}
    env = ir["deploymentSpec"]["executors"]["exec-env-echo"]["container"]["env"]
    assert env == [{"name": "GREETING", "value": "hello-env"}]


def test_output_paths_become_the_engines_locations(features: dict[str, Any]) -> None:
    container = features["ir"]["deploymentSpec"]["executors"]["exec-produce"]["container"]
    args = container["args"]
    assert "{{$.outputs.artifacts['produce-out'].path}}" in args
    assert "{{$.outputs.parameters['produce-total'].output_file}}" in args
    assert "{{$.inputs.parameters['count']}}" in args
    assert not any("/tmp/outputs" in a for a in args)
    # The artifact twins of output parameters that nobody reads as files are dropped.
    outputs = features["ir"]["components"]["comp-produce"]["outputDefinitions"]
    assert sorted(outputs["artifacts"]) == ["produce-out"]
    assert sorted(outputs["parameters"]) == ["produce-items", "produce-total"]


def _workflow(**spec: Any) -> bytes:
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
           "metadata": {"generateName": "p-", "annotations": {"pipelines.kubeflow.org/kfp_sdk_version": "1.8.22"}},
           "spec": spec}
    return yaml.safe_dump(doc).encode()


def test_steps_templates_run_group_after_group() -> None:
    echo = {"name": "echo", "inputs": {"parameters": [{"name": "m"}]},
            "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.m}}"]}}
    main = {"name": "main", "steps": [[{"name": "a", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "1"}]}},
                                       {"name": "b", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "2"}]}}],
                                      [{"name": "c", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "{{workflow.uid}}"}]}}]]}
    ir = spec_to_dict(load_pipeline_bytes(_workflow(entrypoint="main", templates=[echo, main]), "s.yaml").spec)
    tasks = ir["root"]["dag"]["tasks"]
    assert "dependentTasks" not in tasks["a"] and tasks["c"]["dependentTasks"] == ["a", "b"]
    assert tasks["c"]["inputs"]["parameters"]["m"] == {"runtimeValue": {"constant": "{{$.pipeline_job_uuid}}"}}


def test_unsupported_constructs_are_named() -> None:
    echo = {"name": "echo", "container": {"image": "alpine", "command": ["true"]}}
    dag = {"name": "main", "dag": {"tasks": [{"name": "a", "template": "echo"},
                                             {"name": "b", "template": "echo", "depends": "a.Failed"}]}}
    with pytest.raises(SpecError, match=r"depends 'a.Failed'"):
        load_pipeline_bytes(_workflow(entrypoint="main", templates=[echo, dag]), "d.yaml")
    res = {"name": "res", "resource": {"action": "create", "manifest": "{}"}}
    dag2 = {"name": "main", "dag": {"tasks": [{"name": "a", "template": "res"}]}}
    with pytest.raises(SpecError, match="resource templates are not supported"):
        load_pipeline_bytes(_workflow(entrypoint="main", templates=[res, dag2]), "r.yaml")


@pytest.mark.parametrize(("doc", "what"), [
    ({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "x"},
      "spec": {"entrypoint": "a"}}, "an Argo Workflow that kfp 1.x did not compile"),
    ({"apiVersion": "apps/v1", "kind": "Deployment"}, "a apps/v1 Deployment document"),
    ({"hello": 1, "world": 2}, "a mapping with keys hello, world"),
])
def test_documents_that_are_not_pipelines_say_what_they_are(doc: dict[str, Any], what: str) -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_bytes(yaml.safe_dump(doc).encode(), "x.yaml")
    assert what in str(info.value)
    assert "Argo Workflow compiled by kfp 1.x" in str(info.value)


def test_kfp1_sources_are_recognised() -> None:
    assert uses_kfp1((V1_DATA / "sequential.py").read_text())
    assert uses_kfp1((V1_DATA / "containerop.py").read_text())
    assert not uses_kfp1("from kfp import dsl, compiler\n@dsl.component\ndef f(): ...\n"
                         "compiler.Compiler().compile(p, 'p.yaml')\n# create_component_from_func\n")


def test_translate_is_a_pure_function_of_the_document(tmp_path: Path) -> None:
    doc = yaml.safe_load(compile_v1("sequential.py", tmp_path).read_text())
    first, _ = translate_workflow(doc, "a")
    second, _ = translate_workflow(doc, "a")
    assert first == second
    tasks = first["root"]["dag"]["tasks"]
    assert tasks["train-op"]["dependentTasks"] == ["process-data-op"]


def test_retry_backoff_and_a_single_container_entrypoint() -> None:
    echo = {"name": "echo", "retryStrategy": {"limit": 2, "backoff": {"duration": "1s", "factor": 3,
                                                                          "maxDuration": "1m"}},
            "container": {"image": "alpine", "command": ["echo", "hi"]}}
    loaded = load_pipeline_bytes(_workflow(entrypoint="echo", templates=[echo]), "e.yaml")
    task = build_view(loaded.spec).root.dag.tasks["echo"]  # type: ignore[union-attr]
    assert task.retry is not None
    assert (task.retry.max_retries, task.retry.backoff_seconds, task.retry.backoff_factor,
            task.retry.backoff_max_seconds) == (2, 1.0, 3.0, 60.0)
