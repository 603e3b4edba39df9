"""The cache decision: a task's fingerprint, the lookup, and reusing a hit.

KFP's backend hashes input artifact *names*, input parameter values, output
specs and the container spec. That gives stale hits when the data behind an
artifact changes under the same name; we also fold in each input artifact's URI
and content digest. A custom ``cache_key`` replaces the computed key, as in KFP.

Importers fold in the current content of the URI they import: an importer served
from the cache would hand downstream tasks the digest of the data as it was then,
and they would hit the cache on changed data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pipeyard.artifacts.filesystems import content_digest
from pipeyard.engine.context import RunContext
from pipeyard.engine.lineage import input_events
from pipeyard.engine.outcome import ArtifactDict, Outcome, Scope, io_record, outcome_from_row
from pipeyard.entities import Task, TaskKind
from pipeyard.ir.views import ComponentView, TaskView


def cacheable(component: ComponentView) -> bool:
    """``dsl.importer(reimport=True)`` asks for a new import every time."""
    return component.importer is None or not component.importer.reimport


def _importer_material(component: ComponentView, parameters: Mapping[str, Any]) -> Any:
    imp = component.importer
    if imp is None:
        return None
    uri = imp.uri.value if imp.uri.kind == "constant" else parameters.get(imp.uri.name)
    digest = content_digest(uri) if isinstance(uri, str) and uri else None
    return {"spec": repr(imp), "uri": uri, "digest": digest}


def _artifact_identity(a: Mapping[str, Any]) -> dict[str, Any]:
    # Artifacts handed in from outside (run inputs) carry no digest yet.
    digest = a.get("digest")
    if digest is None and isinstance(a.get("uri"), str):
        digest = content_digest(a["uri"])
    return {"uri": a.get("uri"), "digest": digest, "type": a.get("type")}


def fingerprint(
    *,
    pipeline_name: str,
    component: ComponentView,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[dict[str, Any]]],
    cache_key: str = "",
    platform: Mapping[str, Any] | None = None,
) -> str:
    """``platform``: the task's kfp-kubernetes config (names of secrets, volumes and
    mount paths, never secret values). KFP's key covers PVC names; a task that reads
    another volume or secret is another execution."""
    if cache_key:
        material: dict[str, Any] = {"component": component.name, "cache_key": cache_key}
    else:
        container = component.container
        material = {
            "parameters": dict(parameters),
            "artifacts": {
                name: [_artifact_identity(a) for a in arts]
                for name, arts in sorted(artifacts.items())
            },
            "outputs": {
                "parameters": {n: p.type for n, p in component.outputs.parameters.items()},
                "artifacts": {n: a.schema_title for n, a in component.outputs.artifacts.items()},
            },
            "container": None
            if container is None
            else {
                "image": container.image,
                "command": list(container.command),
                "args": list(container.args),
                "env": dict(container.env),
            },
            "importer": _importer_material(component, parameters),
            "platform": dict(platform or {}),
        }
    blob = json.dumps({"pipeline": pipeline_name, **material}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def lookup(ctx: RunContext, task: TaskView, component: ComponentView, params: dict[str, Any],
           artifacts: dict[str, list[ArtifactDict]]) -> tuple[str | None, Task | None]:
    """(the fingerprint to record, None when caching does not apply; the cached task it hits)."""
    if not (ctx.caching_allowed and task.caching and cacheable(component)):
        return None, None
    fp = fingerprint(pipeline_name=ctx.pipeline.name, component=component, parameters=params,
                     artifacts=artifacts, cache_key=task.cache_key,
                     platform=ctx.pipeline.platform.get(component.executor_label))
    return fp, ctx.recorder.find_cached_task(fp)


def reuse(
    ctx: RunContext, task: TaskView, scope: Scope, kind: TaskKind, params: dict[str, Any],
    artifacts: dict[str, list[ArtifactDict]], fp: str, hit: Task,
) -> Outcome:
    """Record a cache hit as a finished task of this run that points at ``hit``."""
    now = ctx.now()
    row = ctx.open_task(path=scope.path(task.name), name=task.name, display_name=task.display_name,
                        kind=kind, parent_task_id=scope.parent_task_id,
                        iteration_index=scope.iteration_index, inputs=io_record(params, artifacts),
                        fingerprint=fp, state="SUCCEEDED", cached=True, cached_from_task_id=hit.task_id,
                        outputs=hit.outputs, command=hit.command)
    done = dataclasses.replace(row, started_at=now, finished_at=now)
    ctx.record_result(done, [], input_events(ctx, done, artifacts))
    return outcome_from_row(done)
