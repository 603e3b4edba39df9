"""kfp 1.8.22-compiled pipelines run on the engine with KFP v1's meaning (issue 9)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.kfp1 import V1_DATA, compile_v1, kfp1_env_vars
from tests.support.pipeline_runs import EngineHarness

from pipeyard.artifacts.uris import local_path

CLI_DEADLINE_SECONDS = 600


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineHarness]:
    harness = EngineHarness(tmp_path_factory.mktemp("v1-home"))
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("v1-compiled")
    return {name: compile_v1(f"{name}.py", out) for name in ("sequential", "features", "containerop")}



def test_sequential_pipeline_logs_in_order(engine: EngineHarness, compiled: dict[str, Path]) -> None:
    result = engine.run(compiled["sequential"])
    assert result.state == "SUCCEEDED"
    first, second = result.one("process-data-op"), result.one("train-op")
    assert "Processing Data" in result.log(first)
    assert "Training ML Model" in result.log(second)
    assert first.finished_at is not None and second.started_at is not None
    assert first.finished_at <= second.started_at


def test_features_pipeline(engine: EngineHarness, compiled: dict[str, Path], tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    result = engine.run(compiled["features"], {"count": "3", "word": "hi", "marker_dir": str(marks)})
    assert result.state == "SUCCEEDED", result.run.error
    produce = result.at("exit-handler-1/produce")
    assert produce.outputs is not None
    assert produce.outputs["parameters"]["produce-total"] == "30"
    (text_artifact,) = produce.outputs["artifacts"]["produce-out"]
    assert Path(local_path(text_artifact["uri"])).read_text() == "hi hi hi"
    consume = result.at("exit-handler-1/consume")
    assert (consume.outputs or {})["parameters"]["consume-Output"] == "HI HI HI"
    # The artifact went through the artifact store, with lineage.
    assert (consume.inputs or {})["artifacts"]["produce-out"][0]["artifact_id"] == text_artifact["artifact_id"]
    # 30 > 25.0 as numbers: the "big" branch ran, the "small" one was skipped.
    assert result.at("exit-handler-1/condition-5/show-3").state == "SUCCEEDED"
    assert "big HI HI HI" in result.log(result.at("exit-handler-1/condition-5/show-3"))
    assert result.at("exit-handler-1/condition-6/show-4").state == "SKIPPED"
    # withItems [1, 2] and withParam over three dict items.
    assert [result.log(t).split()[-1] for t in result.named("show")] == ["1", "2"]
    shown = [result.log(t).strip().splitlines()[-1] for t in result.named("show-2")]
    assert shown == ["item-0 hi0", "item-1 hi1", "item-2 hi2"]
    assert result.at("exit-handler-1/for-loop-4").details["iterations"] == 3
    assert "GREETING hello-env" in result.log(result.at("exit-handler-1/condition-7/env-echo"))
    flaky = result.at("exit-handler-1/flaky")
    assert flaky.state == "SUCCEEDED" and flaky.attempts == 3
    assert sorted(p.name for p in marks.iterdir()) == ["0", "1", "2"]
    bye = result.one("goodbye")
    assert bye.state == "SUCCEEDED" and "exit handler ran" in result.log(bye)


def test_small_threshold_takes_the_other_branch_and_exit_handler_runs_after_failure(
    engine: EngineHarness, compiled: dict[str, Path], tmp_path: Path
) -> None:
    result = engine.run(compiled["features"], {"count": "1", "word": "ho", "threshold": "9",
                                               "marker_dir": str(tmp_path / "m")})
    assert result.state == "SUCCEEDED", result.run.error
    # total 10 > 9 as numbers (as text "10" < "9").
    assert result.at("exit-handler-1/condition-5/show-3").state == "SUCCEEDED"
    assert result.at("exit-handler-1/condition-6/show-4").state == "SKIPPED"
    assert result.at("exit-handler-1/condition-7/env-echo").state == "SKIPPED"
    assert len(result.named("show-2")) == 1
    failing = engine.run(compiled["features"], {"count": "0", "marker_dir": "/dev/null/not-a-dir"})
    assert failing.state == "FAILED"
    assert failing.at("exit-handler-1/flaky").attempts == 4  # one run and three retries
    assert failing.one("goodbye").state == "SUCCEEDED"


def test_caching_reuses_v1_results(engine: EngineHarness, compiled: dict[str, Path]) -> None:
    first = engine.run(compiled["sequential"], caching=True)
    second = engine.run(compiled["sequential"], caching=True)
    assert first.state == second.state == "SUCCEEDED"
    assert all(t.cached for t in second.named("process-data-op") + second.named("train-op"))


def test_container_ops_files_directories_metrics_and_packages(
    engine: EngineHarness, compiled: dict[str, Path]
) -> None:
    result = engine.run(compiled["containerop"], {"msg": "yo"})
    assert result.state == "SUCCEEDED", result.run.error
    write = result.one("write")
    assert (write.outputs or {})["parameters"]["write-out"] == f"yo-{result.run.run_id}\n"
    assert f"got: yo-{result.run.run_id}" in result.log(result.one("read"))
    made = (result.one("make-dir").outputs or {})["artifacts"]
    directory = Path(local_path(made["make-dir-out_dir"][0]["uri"]))
    assert sorted(p.name for p in directory.iterdir()) == ["a.txt", "b.txt", "cm.csv"]
    (count,) = (result.one("count-files").outputs or {})["artifacts"]["count-files-Output"]
    assert Path(local_path(count["uri"])).read_text() == "3"
    (metrics,) = made["mlpipeline-metrics"]
    assert metrics["type"] == "system.Metrics" and metrics["metadata"] == {"accuracy-score": 0.875}
    (ui,) = made["mlpipeline-ui-metadata"]
    outputs = ui["metadata"]["v1_ui_metadata"]
    assert [o["type"] for o in outputs] == ["markdown", "confusion_matrix", "tensorboard"]
    assert outputs[1]["content"] == "cat,cat,3\ncat,dog,1\ndog,dog,4\n"
    assert outputs[2]["note"] == "TensorBoard is not available locally"
    (size,) = (result.one("yaml-size").outputs or {})["artifacts"]["yaml-size-Output"]
    assert Path(local_path(size["uri"])).read_text() == "3"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env.update(PIPEYARD_HOME=str(home), PYTHONUNBUFFERED="1", **kfp1_env_vars())
    return subprocess.run([sys.executable, "-m", "pipeyard.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=CLI_DEADLINE_SECONDS, check=False)


def test_cli_runs_the_yaml_and_the_kfp1_python_file(compiled: dict[str, Path], tmp_path: Path) -> None:
    done = _cli(tmp_path / "home", "run", str(compiled["sequential"]), "-v")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("Processing Data") < out.index("Training ML Model")
    source = tmp_path / "sequential.py"
    source.write_text((V1_DATA / "sequential.py").read_text())
    done = _cli(tmp_path / "home", "run", str(source), "-v", "--no-cache")
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("Processing Data") < done.stdout.index("Training ML Model")
    assert not (tmp_path / "sequential.py.yaml").exists()  # its __main__ block did not run


def test_cli_says_what_to_do_when_the_kfp1_env_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    source = tmp_path / "sequential.py"
    source.write_text((V1_DATA / "sequential.py").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env.update(PIPEYARD_HOME=str(tmp_path / "home"), PIPEYARD_KFP1_ENV=str(blocker / "env"))
    done = subprocess.run([sys.executable, "-m", "pipeyard.cli.main", "run", str(source)], env=env,
                          capture_output=True, text=True, timeout=CLI_DEADLINE_SECONDS, check=False)
    assert done.returncode != 0
    message = " ".join(done.stderr.split())
    assert "cannot create the kfp 1.8.22 environment" in message
    assert "pip install kfp==1.8.22" in message and "pipeyard run pipeline.yaml" in message


def test_exit_handler_gets_pipeline_parameters(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_v1("exit_params.py", tmp_path), {"word": "ciao"})
    assert result.state == "SUCCEEDED", result.run.error
    exit_task = result.at("say")
    assert "said ciao" in result.log(exit_task)
    assert "said inside" in result.log(result.at("exit-handler-1/say-2"))
