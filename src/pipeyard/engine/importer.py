"""Importer tasks (``dsl.importer``): record an existing URI as an artifact, with
its metadata's placeholders resolved. Nothing is launched."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipeyard.engine.context import RunContext
from pipeyard.engine.lineage import artifact_rows, input_events
from pipeyard.engine.outcome import ArtifactDict, Outcome, io_record, outcome_from_row
from pipeyard.entities import Task
from pipeyard.ir.placeholders import PlaceholderContext, substitute_string
from pipeyard.ir.views import ComponentView


def run_importer(ctx: RunContext, component: ComponentView, row: Task,
                 params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]]) -> Outcome:
    imp = component.importer
    assert imp is not None
    uri = imp.uri.value if imp.uri.kind == "constant" else params.get(imp.uri.name)
    if not isinstance(uri, str) or not uri:
        error = f"importer has no artifact URI (got {uri!r})"
        ctx.finish_task(row, "FAILED", error=error)
        return Outcome("FAILED", error=f"task {row.path!r}: {error}", task_id=row.task_id,
                       task_name=row.display_name)
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    pctx = PlaceholderContext(input_parameters=params)
    metadata = _substitute_metadata(imp.metadata, pctx, f"task {row.path!r}: importer metadata")
    name = next(iter(component.outputs.artifacts), "artifact")
    produced = {name: [{"uri": uri, "metadata": metadata, "type": imp.schema_title}]}
    outputs, rows, events = artifact_rows(ctx, row, produced)
    done = dataclasses.replace(row, state="SUCCEEDED", finished_at=ctx.now(),
                               outputs=io_record({}, outputs))
    ctx.record_result(done, rows, events + input_events(ctx, done, artifacts))
    return outcome_from_row(done)


def _substitute_metadata(value: Any, pctx: PlaceholderContext, where: str) -> Any:
    if isinstance(value, str):
        return substitute_string(value, pctx, where=where)
    if isinstance(value, dict):
        return {substitute_string(k, pctx, where=where): _substitute_metadata(v, pctx, where)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_metadata(v, pctx, where) for v in value]
    return value
