"""KFP's executor contract (engine/executor_io.py): the ExecutorInput written for a
task and the outputs read back from its executor output or parameter files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeyard.engine.executor_io import (
    OutputError,
    executor_input,
    parse_parameter_text,
    prepare_output_paths,
    read_outputs,
)
from pipeyard.ir.views import ArtifactDef, ComponentView, IODefs, ParameterDef

OUTPUTS = IODefs(parameters={"n": ParameterDef("n", "NUMBER_INTEGER"), "s": ParameterDef("s", "STRING")},
                 artifacts={"model": ArtifactDef("model", "system.Model", "0.0.2")})


def test_executor_input_carries_values_artifacts_and_where_to_write() -> None:
    comp = ComponentView(name="c", inputs=IODefs(), outputs=OUTPUTS)
    doc = executor_input(comp, {"x": 1}, {"data": [{"uri": "/in", "name": "data", "metadata": {"k": 1}}]},
                         {"model": "/out/model"}, {"n": "/w/n", "s": "/w/s"}, "/out/executor_output.json")
    assert doc == {
        "inputs": {
            "parameterValues": {"x": 1},
            "artifacts": {"data": {"artifacts": [{"name": "data", "uri": "/in", "metadata": {"k": 1},
                                                  "type": {"schemaTitle": "system.Artifact"}}]}},
        },
        "outputs": {
            "parameters": {"n": {"outputFile": "/w/n"}, "s": {"outputFile": "/w/s"}},
            "artifacts": {"model": {"artifacts": [{"name": "model", "uri": "/out/model", "metadata": {},
                                                   "type": {"schemaTitle": "system.Model",
                                                            "schemaVersion": "0.0.2"}}]}},
            "outputFile": "/out/executor_output.json",
        },
    }


def _files(tmp_path: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    return (str(tmp_path / "executor_output.json"), {"n": str(tmp_path / "n"), "s": str(tmp_path / "s")},
            {"model": str(tmp_path / "model")})


def test_the_executor_output_wins_and_integers_come_back_as_integers(tmp_path: Path) -> None:
    output_file, params, uris = _files(tmp_path)
    Path(output_file).write_text(json.dumps({
        "parameterValues": {"n": 3.0, "s": "hi"},
        "artifacts": {"model": {"artifacts": [{"uri": str(tmp_path / "elsewhere"), "metadata": {"acc": 0.9}}]}},
    }))
    values, artifacts = read_outputs(OUTPUTS, output_file, params, uris)
    assert values == {"n": 3, "s": "hi"} and type(values["n"]) is int
    assert artifacts == {"model": [{"name": "model", "uri": str(tmp_path / "elsewhere"),
                                    "metadata": {"acc": 0.9}, "type": "system.Model"}]}


def test_container_components_write_each_parameter_to_its_file(tmp_path: Path) -> None:
    output_file, params, uris = _files(tmp_path)
    Path(params["n"]).write_text("42\n")
    Path(params["s"]).write_text(" kept as is \n")
    values, artifacts = read_outputs(OUTPUTS, output_file, params, uris)
    assert values == {"n": 42, "s": " kept as is \n"}
    assert artifacts["model"][0]["uri"] == uris["model"]


def test_missing_or_unreadable_outputs_name_what_is_wrong(tmp_path: Path) -> None:
    output_file, params, uris = _files(tmp_path)
    with pytest.raises(OutputError, match=rf"^output parameter 'n' was not written \(expected {tmp_path}/n\)$"):
        read_outputs(OUTPUTS, output_file, params, uris)
    Path(output_file).write_text("{not json")
    with pytest.raises(OutputError, match="is not JSON"):
        read_outputs(OUTPUTS, output_file, params, uris)


def test_parameter_text_is_parsed_by_its_type() -> None:
    assert parse_parameter_text("True\n", "BOOLEAN", "b") is True
    assert parse_parameter_text("[1, 2]", "LIST", "l") == [1, 2]
    assert parse_parameter_text("3.0", "NUMBER_INTEGER", "i") == 3
    with pytest.raises(OutputError, match="^output parameter 'i' of type NUMBER_INTEGER is not valid: 'three'$"):
        parse_parameter_text("three", "NUMBER_INTEGER", "i")


def test_a_custom_artifact_path_is_copied_to_the_artifact_uri(tmp_path: Path) -> None:
    output_file, params, uris = _files(tmp_path)
    custom = tmp_path / "custom"
    custom.write_text("weights")
    Path(output_file).write_text(json.dumps({
        "parameterValues": {"n": 1, "s": ""},
        "artifacts": {"model": {"artifacts": [{"custom_path": str(custom)}]}},
    }))
    _, artifacts = read_outputs(OUTPUTS, output_file, params, uris)
    assert artifacts["model"][0]["uri"] == uris["model"]
    assert Path(uris["model"]).read_text() == "weights"


def test_output_folders_are_made_before_the_task_runs(tmp_path: Path) -> None:
    prepare_output_paths({"a": str(tmp_path / "x" / "y" / "a")})
    assert (tmp_path / "x" / "y").is_dir() and not (tmp_path / "x" / "y" / "a").exists()
