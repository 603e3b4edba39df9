"""One attempt (engine/attempt.py) over the fake launcher: the launch request it
prepares, and how it judges what the launcher reports."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path

from kfp import dsl
from kfp.dsl import Dataset, Input, Output
from tests.support.fake_launcher import FakeCall, FakeLauncher
from tests.support.fake_runs import FakeEngine

from pipeyard.launchers.base import LaunchResult


@dsl.component
def produce(word: str, out: Output[Dataset]) -> str:
    return word


@dsl.component
def consume(data: Input[Dataset]) -> str:
    return ""


@dsl.pipeline(name="attempts")
def two_steps(word: str = "hi") -> str:
    first = produce(word=word)
    return consume(data=first.outputs["out"]).output


@dsl.pipeline(name="single")
def single(word: str = "hi") -> str:
    return produce(word=word).outputs["Output"]


def test_the_request_names_the_attempt_and_holds_the_resolved_executor_input(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({
        "produce": lambda c: c.succeed({"Output": c.parameters["word"]}, {"out": c.parameters["word"] * 2}),
        "consume": lambda c: c.succeed({"Output": c.read_input("data")}),
    }))
    result = engine.run(two_steps, {"word": "ab"})
    assert result.state == "SUCCEEDED", result.run.error
    assert result.run.outputs == {"Output": "abab"}
    produce_call, consume_call = engine.launcher.calls
    run_id = result.run.run_id
    request = produce_call.request
    assert request.key == f"{run_id}/produce/1"
    assert request.cwd == str(tmp_path / "work" / run_id / "produce.attempt-1")
    assert request.log_path == str(tmp_path / "logs" / run_id / "produce.attempt-1.log")
    assert request.python is not None  # a KFP Python component: launchers may run it in process
    assert produce_call.parameters == {"word": "ab"}
    (out_uri,) = [a["uri"] for a in produce_call.executor_input["outputs"]["artifacts"]["out"]["artifacts"]]
    assert out_uri == f"{tmp_path}/artifacts/attempts/{run_id}/produce/out"
    # The consumer reads the producer's artifact; both see the folders they touch.
    assert consume_call.input_uris("data") == [out_uri]
    assert out_uri in consume_call.request.host_paths
    # The command that ran is recorded on the task row.
    assert result.at("produce").command == list(request.argv)


def test_pipeline_placeholders_in_input_values_are_resolved_before_launch(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"produce": lambda c: c.succeed({"Output": c.parameters["word"]})}))
    result = engine.run(single, {"word": dsl.PIPELINE_JOB_ID_PLACEHOLDER})
    assert result.state == "SUCCEEDED", result.run.error
    assert engine.launcher.calls[0].parameters == {"word": result.run.run_id}


def _judged(tmp_path: Path, result: LaunchResult, log: str = "") -> tuple[str, str | None]:
    def handler(call: FakeCall) -> LaunchResult:
        if log:
            call.log(log)
        return result

    engine = FakeEngine(tmp_path, FakeLauncher({"produce": handler}))
    task = engine.run(single).at("produce")
    return task.state, task.error


def test_a_launch_error_is_the_task_error(tmp_path: Path) -> None:
    assert _judged(tmp_path, LaunchResult(exit_code=None, error="venv failed")) == ("FAILED", "venv failed")


def test_a_timeout_names_the_limit(tmp_path: Path) -> None:
    # No kfp-kubernetes timeout is set here, so the limit is None.
    assert _judged(tmp_path, LaunchResult(exit_code=None, timed_out=True)) == ("FAILED", "timed out after None s")


def test_an_exit_code_is_reported_with_the_hint_from_the_log(tmp_path: Path) -> None:
    state, error = _judged(tmp_path, LaunchResult(exit_code=1), "ModuleNotFoundError: No module named 'nope'")
    assert state == "FAILED"
    assert error is not None and error.startswith("exit code 1")
    assert "nope" in error.removeprefix("exit code 1")


def test_exit_zero_without_the_declared_outputs_fails_naming_the_output(tmp_path: Path) -> None:
    state, error = _judged(tmp_path, LaunchResult(exit_code=0))
    assert state == "FAILED"
    assert error is not None and error.startswith("output parameter 'Output' was not written (expected ")
