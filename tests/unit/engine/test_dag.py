"""engine/dag.py over the fakes: ordering and data between tasks, failure and
NOT_RUN, conditions, loops with their parallelism, sub-DAG outputs, cancellation."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from kfp import dsl
from tests.support.fake_launcher import FakeCall, FakeLauncher, failing, returning
from tests.support.fake_runs import FakeEngine

from pipeyard.engine import dag
from pipeyard.engine.dag import dag_outputs, dag_state
from pipeyard.engine.outcome import Outcome
from pipeyard.errors import SpecError
from pipeyard.ir.views import DagView, OutputSelector


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def echo(x: int) -> int:
    return x


@dsl.pipeline(name="chain")
def chain(x: int = 1) -> int:
    first = add(a=x, b=2)
    return add(a=first.output, b=10).output


def _adds() -> dict[str, Any]:
    plus = returning(lambda a, b: a + b)
    return {"add": plus, "add-2": plus}


def test_outputs_flow_downstream_in_dependency_order(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher(_adds()))
    result = engine.run(chain, {"x": 5})
    assert result.state == "SUCCEEDED", result.run.error
    assert [c.task for c in engine.launcher.calls] == ["add", "add-2"]
    assert engine.launcher.calls[1].parameters == {"a": 7, "b": 10}
    assert result.run.outputs == {"Output": 17}
    assert result.states() == {"add": "SUCCEEDED", "add-2": "SUCCEEDED"}


def test_a_failed_task_leaves_its_downstream_not_run(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"add": failing(3, "boom")}))
    result = engine.run(chain, {"x": 5})
    assert result.state == "FAILED"
    assert result.run.error is not None and result.run.error.startswith("task 'add' failed: exit code 3")
    assert [c.task for c in engine.launcher.calls] == ["add"]
    # A task that never started gets no row: KFP shows it as not run.
    assert result.states() == {"add": "FAILED"}


@dsl.pipeline(name="branches")
def branches(x: int = 1) -> None:
    with dsl.If(x > 2):
        echo(x=x)
    with dsl.Else():
        add(a=x, b=1)


def test_only_the_taken_branch_runs_and_the_other_is_skipped_with_its_reason(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"echo": returning(lambda x: x), "add": returning(lambda a, b: a + b)}))
    result = engine.run(branches, {"x": 5})
    assert result.state == "SUCCEEDED", result.run.error
    assert [c.task for c in engine.launcher.calls] == ["echo"]
    assert result.states() == {
        "condition-branches-1": "SUCCEEDED",
        "condition-branches-1/condition-2": "SUCCEEDED",
        "condition-branches-1/condition-2/echo": "SUCCEEDED",
        "condition-branches-1/condition-3": "SKIPPED",
        "condition-branches-1/condition-3/add": "SKIPPED",
    }
    reason = "condition is false: !(int(inputs.parameter_values['pipelinechannel--x']) > 2)"
    assert result.at("condition-branches-1/condition-3/add").details == {"skip_reason": reason}


@dsl.pipeline(name="fan-out")
def fan_out(items: list = [1, 2, 3]) -> list:  # noqa: B006 - kfp defaults are literals
    with dsl.ParallelFor(items) as item:
        doubled = add(a=item, b=item)
    return dsl.Collected(doubled.output)


def test_a_loop_runs_each_item_and_collects_outputs_in_item_order(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"add": returning(lambda a, b: a + b)}))
    result = engine.run(fan_out, {"items": [4, 5, 6]})
    assert result.state == "SUCCEEDED", result.run.error
    assert result.run.outputs == {"Output": [8, 10, 12]}
    loop = result.at("for-loop-1")
    assert loop.kind == "LOOP" and loop.details["iterations"] == 3
    iterations = sorted((t for t in result.tasks if t.kind == "ITERATION"), key=lambda t: t.iteration_index or 0)
    assert [(t.path, t.iteration_index, t.parent_task_id) for t in iterations] == [
        (f"for-loop-1[{i}]", i, loop.task_id) for i in range(3)
    ]
    assert result.at("for-loop-1[1]/add").parent_task_id == iterations[1].task_id


@dsl.pipeline(name="limited")
def limited(items: list = [1, 2, 3, 4]) -> None:  # noqa: B006
    with dsl.ParallelFor(items, parallelism=1) as item:
        echo(x=item)


@dsl.pipeline(name="unlimited")
def unlimited(items: list = [1, 2, 3]) -> None:  # noqa: B006
    with dsl.ParallelFor(items) as item:
        echo(x=item)


def test_loop_parallelism_bounds_the_iterations_in_flight(tmp_path: Path) -> None:
    async def slow(call: FakeCall) -> Any:
        for _ in range(5):  # give every other iteration the chance to start
            await asyncio.sleep(0)
        return call.succeed({"Output": call.parameters["x"]})

    engine = FakeEngine(tmp_path, FakeLauncher({"echo": slow}))
    assert engine.run(limited).state == "SUCCEEDED"
    assert len(engine.launcher.calls) == 4
    assert engine.launcher.most_running == 1


def test_without_a_limit_all_iterations_run_at_once(tmp_path: Path) -> None:
    # Each iteration waits until all three are in flight: it finishes only if they overlap.
    all_started = asyncio.Event()
    launcher = FakeLauncher()

    async def barrier(call: FakeCall) -> Any:
        if launcher.running == 3:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), timeout=30)
        return call.succeed({"Output": 0})

    launcher.handlers["echo"] = barrier
    engine = FakeEngine(tmp_path, launcher)
    assert engine.run(unlimited).state == "SUCCEEDED"
    assert launcher.most_running == 3


@dsl.pipeline(name="wide")
def wide(items: list = list(range(200))) -> list:  # noqa: B006, B008
    with dsl.ParallelFor(items) as item:
        doubled = echo(x=item)
    return dsl.Collected(doubled.output)


@dataclass
class TwoSlotLauncher(FakeLauncher):
    max_parallel: int = 2


def test_a_large_loop_without_a_limit_keeps_a_bounded_window_of_iterations(tmp_path: Path) -> None:
    # 8 iterations per launcher slot (at least 64) are in flight: enough to keep the slots busy,
    # without opening 200 (or 10,000) iterations' rows and attempts before any task has a slot.
    window = dag.MIN_IN_FLIGHT
    launcher = TwoSlotLauncher()
    full = asyncio.Event()

    async def barrier(call: FakeCall) -> Any:
        if launcher.running == window:
            full.set()
        await asyncio.wait_for(full.wait(), timeout=30)
        return call.succeed({"Output": call.parameters["x"]})

    launcher.handlers["echo"] = barrier
    engine = FakeEngine(tmp_path, launcher)
    result = engine.run(wide)
    assert result.state == "SUCCEEDED", result.run.error
    assert launcher.most_running == window
    assert result.run.outputs == {"Output": list(range(200))}
    assert sorted(t.iteration_index or 0 for t in result.tasks if t.kind == "ITERATION") == list(range(200))


@dsl.pipeline(name="inner")
def inner(x: int) -> int:
    return add(a=x, b=100).output


@dsl.pipeline(name="outer")
def outer(x: int = 1) -> int:
    sub = inner(x=x)
    return echo(x=sub.output).output


def test_a_sub_dag_has_its_own_row_and_passes_its_output_on(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"add": returning(lambda a, b: a + b),
                                                "echo": returning(lambda x: x)}))
    result = engine.run(outer, {"x": 2})
    assert result.state == "SUCCEEDED", result.run.error
    sub = result.at("inner")
    assert sub.kind == "DAG" and sub.state == "SUCCEEDED"
    assert result.at("inner/add").parent_task_id == sub.task_id
    assert (sub.outputs or {})["parameters"] == {"Output": 102}
    assert result.run.outputs == {"Output": 102}


def test_cancelling_the_run_cancels_the_running_task_and_records_it(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def hang(call: FakeCall) -> Any:
        started.set()
        await asyncio.Event().wait()  # until cancelled

    engine = FakeEngine(tmp_path, FakeLauncher({"add": hang}))
    run = engine.new_run(chain, {"x": 1})

    async def scenario() -> None:
        execution = asyncio.create_task(engine.execute(run))
        await started.wait()
        execution.cancel()
        with pytest.raises(asyncio.CancelledError):
            await execution

    asyncio.run(scenario())
    final = engine.recorder.get_run(run.run_id)
    assert (final.state, final.error) == ("CANCELED", "the run was canceled")
    task = engine.recorder.task_at(run.run_id, "add")
    assert task.state == "CANCELED"
    assert [a.state for a in engine.recorder.attempts_of(task.task_id)] == ["CANCELED"]


def test_dag_state_failure_wins_over_cancel_and_reports_the_first_error() -> None:
    outcomes = {"a": Outcome("CANCELED"), "b": Outcome("FAILED", error="b broke"), "c": Outcome("SUCCEEDED")}
    assert dag_state(outcomes) == ("FAILED", "b broke")
    assert dag_state({"a": Outcome("CANCELED"), "c": Outcome("SUCCEEDED")}) == ("CANCELED", "canceled")
    assert dag_state({"c": Outcome("SUCCEEDED"), "d": Outcome("SKIPPED")}) == ("SUCCEEDED", None)


def test_one_of_takes_the_first_producer_that_succeeded() -> None:
    dag = DagView(tasks={}, output_parameters={"v": (OutputSelector("a", "Output"), OutputSelector("b", "Output"))},
                  output_artifacts={})
    outcomes = {"a": Outcome("SKIPPED"), "b": Outcome("SUCCEEDED", {"Output": 2})}
    assert dag_outputs(dag, outcomes) == ({"v": 2}, {})
    outcomes["a"] = Outcome("SUCCEEDED", {"Output": 1})
    assert dag_outputs(dag, outcomes) == ({"v": 1}, {})


def _graph(edges: dict[str, list[str]]) -> DagView:
    tasks = {name: SimpleNamespace(name=name, upstream=set(up)) for name, up in edges.items()}
    return cast(DagView, SimpleNamespace(tasks=tasks))


def test_a_chain_longer_than_pythons_recursion_limit_is_checked() -> None:
    # A chain of 3,000 tasks, listed last task first (the order that walked deepest).
    length = 3000
    edges = {f"t{i}": [f"t{i - 1}"] if i else [] for i in reversed(range(length))}
    dag._check_graph(_graph(edges), "root")  # no RecursionError, no cycle


def test_a_cycle_is_refused_and_named() -> None:
    with pytest.raises(SpecError, match="in a cycle") as e:
        dag._check_graph(_graph({"a": ["c"], "b": ["a"], "c": ["b"], "d": []}), "root")
    assert "root: task" in str(e.value)
