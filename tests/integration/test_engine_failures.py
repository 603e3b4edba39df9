"""A failing task fails the run (error and log tail), stops its downstream, not its
neighbours; per-attempt logs; independent tasks run concurrently up to the limit."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl
from tests.support.pipeline_runs import (
    EngineHarness,
    compile_pipeline,
    engine_fixture,
    max_overlap,
    read_intervals,
)

# One home, store, event loop and fork server for the module's runs.
engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def boom(message: str) -> str:
    for k in range(30):
        print(f"progress line {k}")
    raise ValueError(message)


@dsl.component
def ok(x: str) -> str:
    print(f"ok got {x}")
    return x + "."


@dsl.pipeline(name="one-fails")
def failing(message: str = "the data is bad") -> None:
    bad = boom(message=message)
    ok(x=bad.output)  # downstream: must not start
    first = ok(x="a")  # independent chain: must finish
    ok(x=first.output)


@pytest.fixture(scope="module")
def failed_run(engine: EngineHarness, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return engine.run(compile_pipeline(failing, tmp_path_factory.mktemp("f") / "failing.yaml"))


def test_failing_task_fails_the_run_with_error_and_log_tail(failed_run: Any) -> None:
    r = failed_run
    assert r.state == "FAILED"
    assert r.run.finished_at is not None
    error = r.run.error or ""
    assert "boom" in error and "exit code 1" in error
    assert "ValueError: the data is bad" in error  # from the log tail
    assert "progress line 29" in error and "progress line 0\n" not in error  # a tail, not the log
    b = r.one("boom")
    assert b.state == "FAILED" and b.attempts == 1


def test_downstream_of_a_failure_is_not_started(failed_run: Any) -> None:
    r = failed_run
    # ok (after boom) never got a row; the independent chain ok-2 -> ok-3 did.
    assert [t.name for t in r.tasks if t.name == "ok"] == []
    assert r.one("ok-2").state == "SUCCEEDED"
    assert r.one("ok-3").state == "SUCCEEDED"
    assert r.one("ok-3").outputs["parameters"]["Output"] == "a.."


def test_logs_are_kept_per_task(failed_run: Any) -> None:
    r = failed_run
    log = r.log(r.one("boom"))
    assert "progress line 0" in log and "ValueError: the data is bad" in log
    assert "ok got a" in r.log(r.one("ok-2"))
    assert "ok got a." in r.log(r.one("ok-3"))
    attempts = r.attempts(r.one("boom"))
    assert [(a.attempt, a.state, a.exit_code) for a in attempts] == [(1, "FAILED", 1)]


# ---------------------------------------------------------------- concurrency


@dsl.component
def probe(directory: str, key: str, peers: int) -> str:
    import json
    import os
    import time

    start = time.time()
    open(os.path.join(directory, key + ".start"), "w").close()
    # Rendezvous: wait (bounded) until `peers` probes have started. If tasks ran one
    # at a time this would never happen and the recorded overlap would stay at 1.
    deadline = start + 60
    while time.time() < deadline:
        if sum(1 for f in os.listdir(directory) if f.endswith(".start")) >= peers:
            break
        time.sleep(0.005)
    time.sleep(0.02)
    with open(os.path.join(directory, key + ".json"), "w") as f:
        json.dump({"start": start, "end": time.time()}, f)
    return key


@dsl.pipeline(name="fan-out")
def fan_out(directory: str, peers: int = 2) -> None:
    for k in range(6):
        probe(directory=directory, key=f"t{k}", peers=peers)


@pytest.fixture(scope="module")
def fan_out_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(fan_out, tmp_path_factory.mktemp("fan") / "fan.yaml")


@pytest.mark.parametrize("limit", [2, 3])
def test_independent_tasks_overlap_up_to_the_parallelism_limit(
    engine: EngineHarness, fan_out_yaml: Path, tmp_path: Path, limit: int
) -> None:
    r = engine.run(fan_out_yaml, {"directory": str(tmp_path), "peers": limit}, parallelism=limit)
    assert r.state == "SUCCEEDED", r.run.error
    intervals = read_intervals(tmp_path)
    assert len(intervals) == 6
    assert max_overlap(intervals) == limit


def test_parallelism_one_runs_tasks_one_at_a_time(engine: EngineHarness, fan_out_yaml: Path,
                                                   tmp_path: Path) -> None:
    r = engine.run(fan_out_yaml, {"directory": str(tmp_path), "peers": 1}, parallelism=1)
    assert r.state == "SUCCEEDED", r.run.error
    assert max_overlap(read_intervals(tmp_path)) == 1
