"""The retry loop (engine/retries.py): KFP's set_retry as delays between attempts,
each attempt recorded; time comes from the run context (a fake clock), never
from patching the process's asyncio."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from datetime import timedelta
from pathlib import Path

from kfp import dsl
from kfp.dsl import Dataset, Output
from tests.support.fake_launcher import FakeCall, FakeLauncher, failing
from tests.support.fake_runs import START, FakeEngine

from pipeyard.artifacts.uris import local_path
from pipeyard.engine.retries import log_tail, retry_delay
from pipeyard.ir.views import RetryPolicy
from pipeyard.launchers.base import LaunchResult


def test_no_policy_means_one_attempt() -> None:
    assert retry_delay(None, 1) is None


def test_backoff_grows_by_the_factor_until_the_retries_run_out() -> None:
    policy = RetryPolicy(max_retries=3, backoff_seconds=1.0, backoff_factor=3.0, backoff_max_seconds=None)
    assert [retry_delay(policy, n) for n in (1, 2, 3, 4)] == [1.0, 3.0, 9.0, None]


def test_max_duration_is_a_budget_from_the_first_attempt_as_in_argo() -> None:
    policy = RetryPolicy(max_retries=5, backoff_seconds=1.0, backoff_factor=3.0, backoff_max_seconds=10.0)
    # 2 s in, a 3 s wait still starts the retry before 10 s: allowed.
    assert retry_delay(policy, 2, elapsed=2.0) == 3.0
    # 2 s in, a 9 s wait would start it after 10 s: no further attempt.
    assert retry_delay(policy, 3, elapsed=2.0) is None
    assert retry_delay(policy, 1, elapsed=9.5) is None


def test_without_a_max_duration_retries_are_not_limited_in_time() -> None:
    policy = RetryPolicy(max_retries=2, backoff_seconds=60.0, backoff_max_seconds=None)
    assert retry_delay(policy, 1, elapsed=10 * 86400.0) == 60.0


def test_attempts_of_an_earlier_execution_count() -> None:
    # A resumed run whose task already used two of its three attempts has one left.
    policy = RetryPolicy(max_retries=2)
    assert retry_delay(policy, 2) == 0.0
    assert retry_delay(policy, 3) is None


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(str(log), lines=3) == "line 97\nline 98\nline 99"
    assert log_tail(str(tmp_path / "missing.log")) == ""


@dsl.component
def flaky(out: Output[Dataset]) -> str:
    return "ok"


@dsl.pipeline(name="retried")
def retried() -> str:
    task = flaky()
    # A budget (Argo's maxDuration, from the first attempt) that all four attempts fit in.
    task.set_retry(num_retries=3, backoff_duration="2s", backoff_factor=2.0, backoff_max_duration="60s")
    return task.outputs["Output"]


def _fail_until(attempt: int) -> "FakeLauncher":
    def handler(call: FakeCall) -> LaunchResult:
        if call.attempt < attempt:
            call.log(f"attempt {call.attempt} breaks")
            # A failed attempt's partial output must not survive into the next one.
            out = Path(local_path(call.executor_input["outputs"]["artifacts"]["out"]["artifacts"][0]["uri"]))
            assert not out.exists(), f"attempt {call.attempt} found the previous attempt's output"
            out.write_text("partial")
            return LaunchResult(exit_code=1)
        return call.succeed({"Output": f"ok on {call.attempt}"}, {"out": "whole"})

    return FakeLauncher({"flaky": handler})


def test_failed_attempts_are_retried_after_the_backoff_through_the_run_clock(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, _fail_until(3))
    result = engine.run(retried)
    assert result.state == "SUCCEEDED", result.run.error
    assert result.run.outputs["Output"] == "ok on 3"
    assert engine.time.sleeps == [2.0, 4.0]
    attempts = result.attempts("flaky")
    assert [(a.attempt, a.state, a.exit_code) for a in attempts] == [(1, "FAILED", 1), (2, "FAILED", 1),
                                                                     (3, "SUCCEEDED", 0)]
    # Each attempt starts when the fake clock says: after the previous back-off.
    assert [a.started_at for a in attempts] == [START, START + timedelta(seconds=2), START + timedelta(seconds=6)]
    assert len({a.log_path for a in attempts}) == 3
    assert Path(attempts[0].log_path).read_text() == "attempt 1 breaks\n"
    assert result.at("flaky").attempts == 3


def test_when_retries_run_out_the_task_fails_with_the_log_tail(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, _fail_until(99))
    result = engine.run(retried)
    assert result.state == "FAILED"
    assert engine.time.sleeps == [2.0, 4.0, 8.0]  # the back-off doubles; 14 s is within the budget
    task = result.at("flaky")
    assert (task.state, task.error, task.attempts) == ("FAILED", "exit code 1", 4)
    last_log = result.attempts("flaky")[-1].log_path
    assert result.run.error == (f"task 'flaky' failed: exit code 1\n--- last lines of {last_log} ---\n"
                                "attempt 4 breaks")
    out = tmp_path / "artifacts"
    assert [p.name for p in out.rglob("*") if p.is_file()] == []  # the partial output was removed


@dsl.pipeline(name="not-retried")
def not_retried() -> str:
    return flaky().outputs["Output"]


def test_without_set_retry_one_failure_is_final_and_nothing_sleeps(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"flaky": failing(2)}))
    result = engine.run(not_retried)
    assert result.state == "FAILED"
    assert engine.time.sleeps == []
    assert [a.state for a in result.attempts("flaky")] == ["FAILED"]
