"""Expanding and driving DAGs: task ordering, sub-DAGs, loops, conditions, DAG outputs.

Each task of a DAG is an asyncio task that awaits the outcomes of the tasks it
depends on; nothing polls. Leaf tasks (containers, importers) are handed to
``engine/leaf.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pipeyard.engine.cancel import abandoned
from pipeyard.engine.context import RunContext
from pipeyard.engine.inputs import (
    InputUnavailable,
    check_required,
    resolve_artifacts,
    resolve_parameters,
)
from pipeyard.engine.leaf import run_leaf
from pipeyard.engine.outcome import ArtifactDict, Outcome, Scope, io_record
from pipeyard.engine.pipeline_config import stopped_state
from pipeyard.entities import Task, TaskKind
from pipeyard.errors import PipeyardError, SpecError
from pipeyard.ir.cel import evaluate_condition
from pipeyard.ir.structure import find_cycle
from pipeyard.ir.views import ComponentView, DagView, OutputSelector, TaskView

_BLOCKING = ("FAILED", "CANCELED", "NOT_RUN")


async def run_dag(ctx: RunContext, component: ComponentView, scope: Scope) -> dict[str, Outcome]:
    """Run every task of ``component``'s DAG; returns each task's outcome by name."""
    dag = component.dag
    assert dag is not None
    _check_graph(dag, scope.prefix or component.name)
    loop = asyncio.get_running_loop()
    futures: dict[str, asyncio.Future[Outcome]] = {name: loop.create_future() for name in dag.tasks}

    async def drive(task: TaskView) -> None:
        mine = futures[task.name]
        try:
            # shield: cancelling this waiter must not cancel the upstream's future.
            upstream = {name: await asyncio.shield(futures[name]) for name in sorted(task.upstream)}
            outcome = await run_task(ctx, task, scope, upstream)
        except asyncio.CancelledError:
            if not mine.done():
                mine.set_result(Outcome("CANCELED", task_name=task.display_name))
            raise
        if not mine.done():
            mine.set_result(outcome)

    runners = [asyncio.ensure_future(drive(t)) for t in dag.tasks.values()]
    try:
        await asyncio.gather(*runners)
    except BaseException:
        for r in runners:
            r.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        raise
    return {name: f.result() for name, f in futures.items()}


def _check_graph(dag: DagView, where: str) -> None:
    """Unknown dependencies and cycles would otherwise hang the run."""
    for t in dag.tasks.values():
        for u in t.upstream:
            if u not in dag.tasks:
                raise SpecError(f"depends on unknown task {u!r}", where=f"task {t.name!r}")
    # Iterative (ir/structure.py): a walk by recursion went one frame per task of a chain,
    # and a chain of about a thousand tasks reached Python's recursion limit.
    cycle = find_cycle({name: t.upstream for name, t in dag.tasks.items()})
    if cycle:
        raise SpecError("tasks depend on each other in a cycle", where=f"{where}: task {cycle[0]!r}")


async def run_task(
    ctx: RunContext, task: TaskView, scope: Scope, upstream: Mapping[str, Outcome]
) -> Outcome:
    path = scope.path(task.name)
    where = f"task {path!r}"
    component = ctx.pipeline.component(task.component, where)
    if not task.all_upstream_completed and any(u.state in _BLOCKING for u in upstream.values()):
        return Outcome("NOT_RUN", task_name=task.display_name)
    try:
        params = resolve_parameters(task, component, scope, upstream, ctx.job_resource_name, where)
        artifacts = resolve_artifacts(task, scope, upstream)
        item = task.iterator.item_input if task.iterator is not None else None
        check_required(component, params, artifacts, exclude=item)
    except InputUnavailable as e:
        if any(u.state == "SKIPPED" for u in upstream.values()):
            # Its data comes from a branch that did not run: it cannot run either.
            return skip(ctx, task, scope, f"not run: {e}")
        return fail_unstarted(ctx, task, scope, component, str(e))
    except PipeyardError as e:
        return fail_unstarted(ctx, task, scope, component, str(e))
    if task.condition:
        try:
            taken = evaluate_condition(task.condition, params, where=where)
        except PipeyardError as e:
            return fail_unstarted(ctx, task, scope, component, str(e))
        if not taken:
            return skip(ctx, task, scope, f"condition is false: {task.condition}")
    if task.iterator is not None:
        return await run_loop(ctx, task, component, scope, params, artifacts)
    if component.dag is not None:
        return await run_sub_dag(ctx, task, component, scope, params, artifacts)
    return await run_leaf(ctx, task, component, scope, params, artifacts, upstream)


def _kind(component: ComponentView, task: TaskView) -> TaskKind:
    if task.iterator is not None:
        return "LOOP"
    if component.dag is not None:
        return "DAG"
    return "IMPORTER" if component.importer is not None else "CONTAINER"


def fail_unstarted(
    ctx: RunContext, task: TaskView, scope: Scope, component: ComponentView, error: str
) -> Outcome:
    prefix = f"task {scope.path(task.name)!r}: "
    # Errors raised with ``where=`` already name the task; say it once.
    error = error.removeprefix(prefix)
    row = ctx.open_task(
        path=scope.path(task.name), name=task.name, display_name=task.display_name,
        kind=_kind(component, task), parent_task_id=scope.parent_task_id,
        iteration_index=scope.iteration_index, state="FAILED", error=error,
    )
    ctx.finish_task(row, "FAILED", error=error)
    return Outcome("FAILED", error=prefix + error, task_id=row.task_id, task_name=task.display_name)


def skip(ctx: RunContext, task: TaskView, scope: Scope, reason: str) -> Outcome:
    """Record ``task`` and everything inside it as SKIPPED."""
    row = _record_skipped(ctx, task, scope.path(task.name), scope.parent_task_id,
                          scope.iteration_index, reason)
    return Outcome("SKIPPED", task_id=row, task_name=task.display_name)


def _record_skipped(
    ctx: RunContext, task: TaskView, path: str, parent: str | None, index: int | None, reason: str
) -> str:
    component = ctx.pipeline.component(task.component)
    row = ctx.open_task(path=path, name=task.name, display_name=task.display_name,
                        kind=_kind(component, task), parent_task_id=parent, iteration_index=index,
                        state="SKIPPED")
    ctx.finish_task(row, "SKIPPED", details={"skip_reason": reason})
    if component.dag is not None and task.iterator is None:
        for child in component.dag.tasks.values():
            _record_skipped(ctx, child, f"{path}/{child.name}", row.task_id, index, reason)
    return row.task_id


DagState = Literal["SUCCEEDED", "FAILED", "CANCELED"]


def dag_state(outcomes: Mapping[str, Outcome]) -> tuple[DagState, str | None]:
    states = [o.state for o in outcomes.values()]
    errors = [o.error for o in outcomes.values() if o.state == "FAILED" and o.error]
    if "FAILED" in states:
        return "FAILED", errors[0] if errors else "a task failed"
    if "CANCELED" in states:
        return "CANCELED", "canceled"
    return "SUCCEEDED", None


def dag_outputs(
    dag: DagView, outcomes: Mapping[str, Outcome]
) -> tuple[dict[str, Any], dict[str, list[ArtifactDict]]]:
    """A DAG's outputs from its tasks. Several selectors are a dsl.OneOf: the first
    producer that ran provides the value."""
    params = {name: o.parameters[key] for name, (o, key) in
              _selected(dag.output_parameters, outcomes, lambda o: o.parameters).items()}
    artifacts = {name: o.artifacts[key] for name, (o, key) in
                 _selected(dag.output_artifacts, outcomes, lambda o: o.artifacts).items()}
    return params, artifacts


def _selected(
    outputs: Mapping[str, tuple[OutputSelector, ...]], outcomes: Mapping[str, Outcome],
    values: Callable[[Outcome], Mapping[str, Any]],
) -> dict[str, tuple[Outcome, str]]:
    """For each output, the first selector whose producer succeeded and has the value."""
    chosen: dict[str, tuple[Outcome, str]] = {}
    for name, selectors in outputs.items():
        for sel in selectors:
            o = outcomes.get(sel.producer)
            if o is not None and o.ok and sel.key in values(o):
                chosen[name] = (o, sel.key)
                break
    return chosen


def _finish_stopped(ctx: RunContext, row: Task, e: asyncio.CancelledError) -> None:
    state, error = stopped_state(e)
    ctx.finish_task(row, state, error=None if state == "CANCELED" else error)


async def _run_inner_dag(ctx: RunContext, component: ComponentView, row: Task, inner: Scope,
                         display_name: str) -> Outcome:
    """Run a sub-DAG or loop iteration whose row is open; close the row with its outcome."""
    assert component.dag is not None
    try:
        outcomes = await run_dag(ctx, component, inner)
    except asyncio.CancelledError as e:
        if not abandoned(e):
            _finish_stopped(ctx, row, e)
        raise
    state, error = dag_state(outcomes)
    out_params, out_artifacts = dag_outputs(component.dag, outcomes)
    ctx.finish_task(row, state, error=error, outputs=io_record(out_params, out_artifacts))
    return Outcome(state, out_params, out_artifacts, error, row.task_id, display_name)


async def run_sub_dag(
    ctx: RunContext, task: TaskView, component: ComponentView, scope: Scope,
    params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
) -> Outcome:
    path = scope.path(task.name)
    row = ctx.open_task(path=path, name=task.name, display_name=task.display_name, kind="DAG",
                        parent_task_id=scope.parent_task_id, iteration_index=scope.iteration_index,
                        inputs=io_record(params, artifacts))
    inner = Scope(f"{path}/", row.task_id, params, artifacts, scope.iteration_index)
    return await _run_inner_dag(ctx, component, row, inner, task.display_name)


def loop_items(task: TaskView, params: Mapping[str, Any],
               artifacts: Mapping[str, list[ArtifactDict]], where: str) -> list[Any]:
    it = task.iterator
    assert it is not None
    if it.kind == "artifact":
        return list(artifacts.get(it.input_name or "", []))
    value: Any = json.loads(it.raw) if it.raw is not None else params.get(it.input_name or "")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SpecError(f"loop items are not a JSON list: {value!r}", where=where) from None
    if isinstance(value, dict):
        value = list(value.items())
    if not isinstance(value, list):
        raise SpecError(f"loop items must be a list, got {type(value).__name__}", where=where)
    return value


async def run_loop(
    ctx: RunContext, task: TaskView, component: ComponentView, scope: Scope,
    params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
) -> Outcome:
    path = scope.path(task.name)
    it = task.iterator
    assert it is not None and component.dag is not None
    try:
        items = loop_items(task, params, artifacts, f"task {path!r}")
    except SpecError as e:
        return fail_unstarted(ctx, task, scope, component, e.reason)
    row = ctx.open_task(path=path, name=task.name, display_name=task.display_name, kind="LOOP",
                        parent_task_id=scope.parent_task_id, iteration_index=scope.iteration_index,
                        inputs=io_record(params, artifacts), details={"iterations": len(items)})
    results: list[Outcome | None] = [None] * len(items)
    pending = iter(enumerate(items))

    async def worker() -> None:
        # Workers pull the next item: a 10,000-item loop holds a window of iterations
        # (their coroutines, rows and prepared attempts), not all 10,000 at once.
        for index, item in pending:
            results[index] = await _run_iteration(ctx, task, component, path, row.task_id, index,
                                                  item, params, artifacts)

    try:
        await asyncio.gather(*(worker() for _ in range(min(len(items), _in_flight(ctx, it.parallelism)))))
    except asyncio.CancelledError as e:
        if not abandoned(e):
            _finish_stopped(ctx, row, e)
        raise
    done = [r for r in results if r is not None]
    assert len(done) == len(items)
    state, error = dag_state({str(i): r for i, r in enumerate(done)})
    # dsl.Collected: parameters collect into a list per loop level (nested loops
    # nest lists); artifacts always flatten. Iterations that did not produce a
    # value (a skipped branch) contribute nothing.
    out_params: dict[str, Any] = {}
    out_artifacts: dict[str, list[ArtifactDict]] = {}
    for name in component.dag.output_parameters:
        out_params[name] = [r.parameters[name] for r in done if name in r.parameters]
    for name in component.dag.output_artifacts:
        out_artifacts[name] = [a for r in done for a in r.artifacts.get(name, [])]
    ctx.finish_task(row, state, error=error, outputs=io_record(out_params, out_artifacts))
    return Outcome(state, out_params, out_artifacts, error, row.task_id, task.display_name)


# Iterations in flight for a loop without a parallelism limit: enough to keep every
# launcher slot busy (an iteration may hold several tasks), bounded so that memory and
# the work done before a task gets a slot do not grow with the number of items.
MIN_IN_FLIGHT = 64
IN_FLIGHT_PER_SLOT = 8
IN_FLIGHT_UNKNOWN = 256


def _in_flight(ctx: RunContext, parallelism: int) -> int:
    if parallelism > 0:
        return parallelism
    slots = getattr(ctx.launcher, "max_parallel", None)
    if not isinstance(slots, int) or slots <= 0:
        return IN_FLIGHT_UNKNOWN
    return max(MIN_IN_FLIGHT, IN_FLIGHT_PER_SLOT * slots)


async def _run_iteration(
    ctx: RunContext, task: TaskView, component: ComponentView, loop_path: str, loop_task_id: str,
    index: int, item: Any, params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
) -> Outcome:
    it = task.iterator
    assert it is not None and component.dag is not None
    path = f"{loop_path}[{index}]"
    inner_params = dict(params)
    inner_artifacts = dict(artifacts)
    if it.kind == "artifact":
        inner_artifacts[it.item_input] = [item]
    else:
        inner_params[it.item_input] = item
    row = ctx.open_task(path=path, name=task.name, display_name=f"{task.display_name}[{index}]",
                        kind="ITERATION", parent_task_id=loop_task_id, iteration_index=index,
                        inputs=io_record({it.item_input: item} if it.kind != "artifact" else {},
                                   {it.item_input: [item]} if it.kind == "artifact" else {}))
    inner = Scope(f"{path}/", row.task_id, inner_params, inner_artifacts, index)
    return await _run_inner_dag(ctx, component, row, inner, task.display_name)
