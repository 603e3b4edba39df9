"""The examples in ``examples/`` run end to end through the real ``pipeyard`` command.

Each test starts ``pipeyard run EXAMPLE.py --json`` as a child process against a private
``PIPEYARD_HOME`` and checks what a user would look at: the run and task states, the pipeline's
outputs, the task logs and the artifacts (files and metadata) the components wrote.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import joblib
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
# Generous: a run of the iris example imports scikit-learn in four child processes.
RUN_TIMEOUT_SECONDS = 300

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
IRIS_ROWS = 150


def _pipeyard_command() -> list[str]:
    beside_interpreter = Path(sys.executable).parent / "pipeyard"
    if beside_interpreter.exists():
        return [str(beside_interpreter)]
    found = shutil.which("pipeyard")
    if found is None:
        pytest.fail("the pipeyard command is not installed; run `pip install -e .` first")
    return [found]


@pytest.fixture(scope="module")
def pipeyard_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the CLI: a private home, and nothing inherited that could point elsewhere."""
    home = tmp_path_factory.mktemp("pipeyard-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(home)
    return env


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    summary: dict[str, Any]
    stderr: str

    @property
    def run_id(self) -> str:
        return str(self.summary["run_id"])

    @property
    def state(self) -> str:
        return str(self.summary["state"])

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.summary["outputs"])

    def tasks_named(self, name: str) -> list[dict[str, Any]]:
        """Task entries for ``name``; loop iterations and repeated names carry a suffix or an index."""
        return [
            t
            for t in self.summary["tasks"]
            if t["name"] == name or re.match(rf"{re.escape(name)}\W", t["name"])
        ]

    def task(self, name: str) -> dict[str, Any]:
        matches = [t for t in self.summary["tasks"] if t["name"] == name]
        names = [t["name"] for t in self.summary["tasks"]]
        assert len(matches) == 1, f"expected one task named {name!r}, tasks are {names}"
        return matches[0]


def run_pipeline(env: dict[str, str], example: str, *args: str) -> RunResult:
    command = [*_pipeyard_command(), "run", str(EXAMPLES / example), "--json", *args]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )
    try:
        summary = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"`{' '.join(command)}` exited {completed.returncode} without one JSON object on stdout\n"
            f"stdout:\n{completed.stdout[-3000:]}\nstderr:\n{completed.stderr[-3000:]}"
        )
    return RunResult(completed.returncode, summary, completed.stderr)


def task_logs(env: dict[str, str], run_id: str, task: str) -> str:
    completed = subprocess.run(
        [*_pipeyard_command(), "logs", run_id, task],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def assert_succeeded(result: RunResult) -> None:
    failed = {t["name"]: t["state"] for t in result.summary["tasks"] if t["state"] != "SUCCEEDED"}
    assert result.state == "SUCCEEDED", (
        f"run {result.state}; unfinished tasks {failed}\n{result.stderr[-3000:]}"
    )
    assert result.exit_code == 0


def artifact(task: dict[str, Any], output: str) -> dict[str, Any]:
    """The single artifact a task wrote to ``output`` (a one-element list is accepted too)."""
    value = task["outputs"][output]
    if isinstance(value, list):
        assert len(value) == 1, value
        value = value[0]
    assert isinstance(value, dict) and "uri" in value, f"{output} is not an artifact: {value!r}"
    return value


def local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    assert parsed.scheme in ("", "file"), f"the default pipeline root is local, got {uri}"
    path = Path(parsed.path if parsed.scheme else uri)
    assert path.exists(), f"artifact {uri} has no file"
    return path


def read_csv_rows(uri: str) -> list[list[float]]:
    lines = local_path(uri).read_text().strip().splitlines()
    assert lines[0].split(",")[-1] == "label", lines[0]
    return [[float(cell) for cell in line.split(",")] for line in lines[1:]]


# --- every example is a valid KFP pipeline ---------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "pipeline_name"),
    [
        ("sequential.py", "sequential-pipeline"),
        ("iris_pipeline.py", "iris-pipeline"),
        ("parallel_loop.py", "parallel-loop-pipeline"),
        ("conditions.py", "conditions-pipeline"),
        ("exit_handler.py", "exit-handler-pipeline"),
        ("iris_deploy_pipeline.py", "iris-deploy-pipeline"),
    ],
)
def test_example_compiles_with_kfp(
    example: str, pipeline_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kfp import compiler
    from kfp.dsl.graph_component import GraphComponent

    # As `pipeyard run` does: an example may import its neighbours (iris_deploy_pipeline does).
    monkeypatch.syspath_prepend(str(EXAMPLES))
    namespace = runpy.run_path(str(EXAMPLES / example), run_name="example")
    pipelines = [value for value in namespace.values() if isinstance(value, GraphComponent)]
    assert len(pipelines) == 1, (
        "each example defines exactly one pipeline, so `pipeyard run` needs no --pipeline"
    )
    package = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipelines[0], str(package))
    spec = yaml.safe_load(package.read_text())
    assert spec["pipelineInfo"]["name"] == pipeline_name
    # On a KFP cluster a component gets only what it declares: whatever imports scikit-learn
    # or numpy lists them in packages_to_install (KFP's pip bootstrap in the command).
    for label, executor in spec["deploymentSpec"]["executors"].items():
        command = executor["container"].get("command", [])
        source = "\n".join(command)
        bootstrap = " ".join(part for part in command if "pip install" in part)
        for module, requirement in (("sklearn", "scikit-learn"), ("numpy", "numpy")):
            if re.search(rf"^\s*(import|from) {module}\b", source, re.MULTILINE):
                assert requirement in bootstrap, f"{label} imports {module} but does not install {requirement}"


# --- sequential -------------------------------------------------------------------------------


def test_sequential_runs_both_steps_and_keeps_their_logs(pipeyard_env: dict[str, str]) -> None:
    result = run_pipeline(pipeyard_env, "sequential.py")

    assert_succeeded(result)
    assert result.outputs == {}
    for name in ("process-data", "train-model"):
        task = result.task(name)
        assert task["state"] == "SUCCEEDED"
        assert task["attempts"] == 1
        assert task["cached"] is False
    assert "Processing Data" in task_logs(pipeyard_env, result.run_id, "process-data")
    train_log = task_logs(pipeyard_env, result.run_id, "train-model")
    assert "Training ML Model" in train_log
    assert "Processing Data" not in train_log, "each task's log holds only its own output"


# --- iris -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_run(pipeyard_env: dict[str, str]) -> RunResult:
    # Offline: any attempt to install its packages_to_install would fail the run.
    offline = {**pipeyard_env, "UV_OFFLINE": "1", "PIP_NO_INDEX": "1"}
    result = run_pipeline(offline, "iris_pipeline.py")
    assert_succeeded(result)
    return result


def test_iris_packages_already_on_the_host_cost_no_environment(pipeyard_env: dict[str, str],
                                                               iris_run: RunResult) -> None:
    envs = Path(pipeyard_env["PIPEYARD_HOME"]) / "envs"
    assert sorted(p.name for p in envs.glob("venv-*")) == []
    assert "pip install" not in task_logs(pipeyard_env, iris_run.run_id, "train")


def test_iris_returns_the_evaluated_accuracy(iris_run: RunResult) -> None:
    accuracy = iris_run.outputs["Output"]
    assert isinstance(accuracy, float)
    assert 0.5 < accuracy <= 1.0
    evaluate = iris_run.task("evaluate")
    assert evaluate["outputs"]["Output"] == pytest.approx(accuracy)
    for name in ("load-data", "preprocess", "train", "evaluate"):
        assert iris_run.task(name)["state"] == "SUCCEEDED"


def test_iris_datasets_are_split_csv_files(iris_run: RunResult) -> None:
    load = iris_run.task("load-data")
    assert load["outputs"]["Output"] == IRIS_ROWS
    raw = artifact(load, "raw_data")
    assert raw["metadata"]["class_names"] == IRIS_CLASSES
    assert len(read_csv_rows(raw["uri"])) == IRIS_ROWS

    preprocess = iris_run.task("preprocess")
    train_rows = read_csv_rows(artifact(preprocess, "train_data")["uri"])
    test_rows = read_csv_rows(artifact(preprocess, "test_data")["uri"])
    # Default test_size is 0.3 of 150 rows.
    assert (len(train_rows), len(test_rows)) == (105, 45)
    assert artifact(preprocess, "test_data")["metadata"]["rows"] == 45
    # The rows stay raw measurements (scaling is inside the model): every iris feature is
    # between 0.1 and 7.9 cm and the labels are the three classes.
    for row in train_rows + test_rows:
        assert all(0.1 <= value <= 7.9 for value in row[:4])
        assert row[4] in (0, 1, 2)


def test_iris_model_artifact_is_a_fitted_classifier(iris_run: RunResult) -> None:
    model = artifact(iris_run.task("train"), "model")
    assert model["metadata"]["framework"] == "sklearn"
    assert model["metadata"]["hyperparameters"] == {"C": 1.0, "max_iter": 200, "random_state": 42}
    classifier = joblib.load(local_path(model["uri"]))
    assert list(classifier.classes_) == [0, 1, 2]
    assert classifier.named_steps["classify"].C == 1.0
    # The scaler is part of the model, so raw measurements classify directly.
    assert classifier.predict([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]).tolist() == [0, 2]
    assert 0.5 < iris_run.task("train")["outputs"]["Output"] <= 1.0


def test_iris_metrics_artifacts_carry_accuracy_confusion_matrix_and_roc(iris_run: RunResult) -> None:
    evaluate = iris_run.task("evaluate")
    accuracy = iris_run.outputs["Output"]

    metrics = artifact(evaluate, "metrics")["metadata"]
    assert metrics["accuracy"] == pytest.approx(accuracy)
    assert metrics["test_rows"] == 45
    assert 0.5 < metrics["roc_auc_virginica_vs_rest"] <= 1.0

    classification = artifact(evaluate, "classification_metrics")["metadata"]
    matrix = classification["confusionMatrix"]
    assert [spec["displayName"] for spec in matrix["annotationSpecs"]] == IRIS_CLASSES
    rows = [row["row"] for row in matrix["rows"]]
    assert len(rows) == 3 and all(len(row) == 3 for row in rows)
    # Stratified split: 15 test rows of each class, and the diagonal is the accuracy.
    assert [sum(row) for row in rows] == [15, 15, 15]
    assert sum(rows[i][i] for i in range(3)) / 45 == pytest.approx(accuracy)

    roc = classification["confidenceMetrics"]
    assert len(roc) >= 3
    for point in roc:
        assert 0.0 <= point["falsePositiveRate"] <= 1.0
        assert 0.0 <= point["recall"] <= 1.0
        assert isinstance(point["confidenceThreshold"], (int, float))
    assert (roc[0]["falsePositiveRate"], roc[0]["recall"]) == (0.0, 0.0)
    assert (roc[-1]["falsePositiveRate"], roc[-1]["recall"]) == (1.0, 1.0)
    thresholds = [point["confidenceThreshold"] for point in roc]
    assert thresholds == sorted(thresholds, reverse=True)

    summary = local_path(artifact(evaluate, "summary")["uri"]).read_text()
    assert "# Iris evaluation" in summary
    assert f"{accuracy:.4f}" in summary


def test_iris_logs_show_progress(pipeyard_env: dict[str, str], iris_run: RunResult) -> None:
    assert "Loaded iris: 150 rows" in task_logs(pipeyard_env, iris_run.run_id, "load-data")
    assert "105 train, 45 test" in task_logs(pipeyard_env, iris_run.run_id, "preprocess")
    assert "Training LogisticRegression(C=1.0, max_iter=200)" in task_logs(
        pipeyard_env, iris_run.run_id, "train"
    )
    assert "Test accuracy on 45 rows" in task_logs(pipeyard_env, iris_run.run_id, "evaluate")


def test_iris_arguments_reach_the_train_task(pipeyard_env: dict[str, str]) -> None:
    result = run_pipeline(
        pipeyard_env, "iris_pipeline.py", "--arg", "C=0.25", "--arg", "max_iter=50", "--arg", "test_size=0.2"
    )
    assert_succeeded(result)

    model = artifact(result.task("train"), "model")
    assert model["metadata"]["hyperparameters"] == {"C": 0.25, "max_iter": 50, "random_state": 42}
    logistic = joblib.load(local_path(model["uri"])).named_steps["classify"]
    assert (logistic.C, logistic.max_iter) == (0.25, 50)
    # max_iter printed without a decimal point: the int parameter arrived as an int, not 50.0.
    assert "Training LogisticRegression(C=0.25, max_iter=50) on 120 rows" in task_logs(
        pipeyard_env, result.run_id, "train"
    )
    assert artifact(result.task("evaluate"), "metrics")["metadata"]["test_rows"] == 30
    assert 0.5 < result.outputs["Output"] <= 1.0


# --- control flow -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "expected_total"),
    [(None, 55), ("[1,2,3,4,5,6]", 91)],
    ids=["default-list", "list-argument"],
)
def test_parallel_loop_squares_each_item_and_sums(
    pipeyard_env: dict[str, str], numbers: str | None, expected_total: int
) -> None:
    args = [] if numbers is None else ["--arg", f"numbers={numbers}"]
    result = run_pipeline(pipeyard_env, "parallel_loop.py", *args)

    assert_succeeded(result)
    assert result.outputs == {"Output": expected_total}
    items = json.loads(numbers) if numbers else [1, 2, 3, 4, 5]
    squares = result.tasks_named("square")
    assert len(squares) == len(items), [t["name"] for t in squares]
    assert sorted(t["index"] for t in squares) == list(range(len(items)))
    by_index = {t["index"]: t["outputs"]["Output"] for t in squares}
    assert [by_index[i] for i in range(len(items))] == [n * n for n in items]
    assert result.task("add-up")["outputs"]["Output"] == expected_total


def _branch_for(number: int) -> str:
    return "high" if number > 66 else "medium" if number > 33 else "low"


@pytest.mark.parametrize("number", [80, 50, 10])
def test_conditions_take_exactly_one_branch(pipeyard_env: dict[str, str], number: int) -> None:
    result = run_pipeline(pipeyard_env, "conditions.py", "--arg", f"number={number}")

    assert_succeeded(result)
    assert result.outputs == {"Output": f"{number} is {_branch_for(number)}"}
    ran = [t for t in result.tasks_named("describe") if t["state"] == "SUCCEEDED"]
    assert len(ran) == 1, [(t["name"], t["state"]) for t in result.tasks_named("describe")]
    assert ran[0]["outputs"]["Output"] == f"{number} is {_branch_for(number)}"


def test_conditions_random_number_picks_the_matching_branch(pipeyard_env: dict[str, str]) -> None:
    result = run_pipeline(pipeyard_env, "conditions.py")

    assert_succeeded(result)
    picked = result.task("pick-number")["outputs"]["Output"]
    assert 0 <= picked <= 100
    assert result.outputs == {"Output": f"{picked} is {_branch_for(picked)}"}


def test_exit_handler_reports_success(pipeyard_env: dict[str, str]) -> None:
    result = run_pipeline(pipeyard_env, "exit_handler.py")

    assert_succeeded(result)
    assert result.task("do-work")["outputs"]["Output"] == "work done"
    # KFP's backend reports a successful group with MLMD's name for it, COMPLETE, and pipeyard
    # follows the backend (see ../shared/conformance/manifest.yaml); kfp.local says SUCCEEDED.
    assert result.task("clean-up")["outputs"]["Output"] == "COMPLETE"


def test_exit_handler_runs_after_a_failure_and_sees_it(pipeyard_env: dict[str, str]) -> None:
    result = run_pipeline(pipeyard_env, "exit_handler.py", "--arg", "should_fail=true")

    assert result.state == "FAILED"
    assert result.exit_code == 1
    assert result.task("do-work")["state"] == "FAILED"
    assert "the work failed, as requested by should_fail" in task_logs(pipeyard_env, result.run_id, "do-work")
    cleanup = result.task("clean-up")
    assert cleanup["state"] == "SUCCEEDED"
    assert cleanup["outputs"]["Output"] == "FAILED"
    assert "state=FAILED" in task_logs(pipeyard_env, result.run_id, "clean-up")
