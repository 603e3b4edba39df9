"""Leaf tasks of a DAG, dispatched by what they are: already done (a resumed or
retried run), a kfp-kubernetes PVC task, a cache hit, an importer, or a container
to launch. Each policy lives in its own module; this one only chooses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeyard.engine import caching, kubernetes_config, kubernetes_tasks
from pipeyard.engine.context import RunContext
from pipeyard.engine.importer import run_importer
from pipeyard.engine.outcome import ArtifactDict, Outcome, Scope, io_record, outcome_from_row
from pipeyard.engine.retries import run_container
from pipeyard.entities import TaskKind
from pipeyard.ir.views import ComponentView, TaskView


async def run_leaf(
    ctx: RunContext, task: TaskView, component: ComponentView, scope: Scope,
    params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
    upstream: Mapping[str, Outcome] | None = None,
) -> Outcome:
    path = scope.path(task.name)
    previous = ctx.existing.get(path)
    if previous is not None and previous.state == "SUCCEEDED":
        return outcome_from_row(previous)  # resumed or retried run: done already
    if kubernetes_tasks.is_platform_task(component):
        return kubernetes_tasks.run_platform_task(ctx, task, component, scope, params)
    kind: TaskKind = "IMPORTER" if component.importer is not None else "CONTAINER"
    fp, hit = caching.lookup(ctx, task, component, params, artifacts)
    if fp is not None and hit is not None:
        return caching.reuse(ctx, task, scope, kind, params, artifacts, fp, hit)
    row = ctx.open_task(path=path, name=task.name, display_name=task.display_name, kind=kind,
                        parent_task_id=scope.parent_task_id, iteration_index=scope.iteration_index,
                        inputs=io_record(params, artifacts), fingerprint=fp)
    if component.importer is not None:
        return run_importer(ctx, component, row, params, artifacts)
    refs = kubernetes_config.Refs(scope.parameters, upstream or {})
    return await run_container(ctx, task, component, row, params, artifacts, refs)
