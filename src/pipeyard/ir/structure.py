"""The shape of a pipeline's graph: no cycles, no recursion, a bounded size.

The engine expands every DAG task into its component's DAG. A component whose DAG uses
itself, directly or through others, would expand without end (and again on every resume),
and a cycle of dependencies inside one DAG would never start. Both are refused when the
spec is loaded, as are specs whose static expansion (before loops multiply it) is larger
than any real pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeyard.errors import SpecError
from pipeyard.ir.proto import pipeline_spec_pb2 as pb

# Sub-DAGs inside sub-DAGs; KFP pipelines rarely go past a handful.
MAX_NESTING_DEPTH = 32
# Tasks of the whole pipeline once every sub-DAG is expanded, loops counted once.
MAX_STATIC_TASKS = 20_000

ROOT = "root"


def _upstream(task: pb.PipelineTaskSpec) -> set[str]:
    names = set(task.dependent_tasks)
    for p in task.inputs.parameters.values():
        kind = p.WhichOneof("kind")
        if kind == "task_output_parameter":
            names.add(p.task_output_parameter.producer_task)
        elif kind == "task_final_status":
            names.add(p.task_final_status.producer_task)
    for a in task.inputs.artifacts.values():
        if a.WhichOneof("kind") == "task_output_artifact":
            names.add(a.task_output_artifact.producer_task)
    names.discard("")
    return names


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of the directed graph (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(edges.get(start, ())))]
        state[start] = 1
        path.append(start)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop()
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(edges.get(nxt, ()))))
    return None


def check_structure(spec: pb.PipelineSpec, source: str) -> None:
    dags: dict[str, pb.DagSpec] = {ROOT: spec.root.dag}
    for name, comp in spec.components.items():
        if comp.HasField("dag"):
            dags[name] = comp.dag
    for dag_name, dag in dags.items():
        cycle = find_cycle({t: _upstream(task) for t, task in dag.tasks.items()})
        if cycle:
            in_dag = "" if dag_name == ROOT else f" (in {dag_name!r})"
            raise SpecError(
                f"the tasks depend on each other in a cycle: {' -> '.join(reversed(cycle))}",
                where=f"{source}: DAG{in_dag}",
            )
    uses = {
        name: {t.component_ref.name for t in dag.tasks.values() if t.component_ref.name in dags}
        for name, dag in dags.items()
    }
    cycle = find_cycle(uses)
    if cycle:
        raise SpecError(
            f"a component's DAG contains itself: {' -> '.join(cycle)}; recursive pipelines are not supported",
            where=f"{source}: component {cycle[0]!r}",
        )
    _check_size(dags, source)


def _check_size(dags: Mapping[str, pb.DagSpec], source: str) -> None:
    # Post-order over the (acyclic by now) component graph with an explicit stack: a spec
    # may chain thousands of components, deeper than Python's recursion limit.
    tasks: dict[str, int] = {}
    depth: dict[str, int] = {}
    stack = [ROOT]
    while stack:
        name = stack[-1]
        children = [t.component_ref.name for t in dags[name].tasks.values()]
        pending = [c for c in children if c in dags and c not in tasks]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if name in tasks:
            continue
        tasks[name] = sum(1 + tasks.get(c, 0) for c in children)
        depth[name] = max((depth[c] + 1 for c in children if c in dags), default=0)
    if depth[ROOT] > MAX_NESTING_DEPTH:
        raise SpecError(
            f"sub-DAGs are nested {depth[ROOT]} deep; at most {MAX_NESTING_DEPTH} are supported", where=source
        )
    if tasks[ROOT] > MAX_STATIC_TASKS:
        raise SpecError(
            f"the pipeline expands to {tasks[ROOT]} tasks before any loop; "
            f"at most {MAX_STATIC_TASKS} are supported",
            where=source,
        )
