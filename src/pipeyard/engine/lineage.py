"""Artifact rows and lineage events for a task that has finished: what it read
(INPUT events) and what it produced (OUTPUT events plus one row per artifact)."""

from __future__ import annotations

import uuid
from typing import Any

from pipeyard.artifacts.filesystems import content_digest
from pipeyard.engine.context import RunContext
from pipeyard.engine.outcome import ArtifactDict
from pipeyard.entities import Artifact, ArtifactEvent, Task


def input_events(ctx: RunContext, task: Task, artifacts: dict[str, list[ArtifactDict]]) -> list[ArtifactEvent]:
    now = ctx.now()
    return [
        ArtifactEvent(a["artifact_id"], task.task_id, ctx.run_id, "INPUT", name, now)
        for name, arts in artifacts.items() for a in arts if a.get("artifact_id")
    ]


def artifact_rows(ctx: RunContext, task: Task, produced: dict[str, list[dict[str, Any]]]
                  ) -> tuple[dict[str, list[ArtifactDict]], list[Artifact], list[ArtifactEvent]]:
    """(the task's artifact outputs as passed downstream, their rows, their OUTPUT events)."""
    now = ctx.now()
    outputs: dict[str, list[ArtifactDict]] = {}
    rows: list[Artifact] = []
    events: list[ArtifactEvent] = []
    for name, items in produced.items():
        outputs[name] = []
        for item in items:
            art = Artifact(artifact_id=uuid.uuid4().hex, run_id=ctx.run_id, task_id=task.task_id,
                           name=name, uri=item["uri"], schema_title=item["type"], created_at=now,
                           metadata=item.get("metadata") or {},
                           digest=item.get("digest") or content_digest(item["uri"]),
                           display_name=name)
            rows.append(art)
            events.append(ArtifactEvent(art.artifact_id, task.task_id, ctx.run_id, "OUTPUT", name, now))
            outputs[name].append({"artifact_id": art.artifact_id, "name": name, "uri": art.uri,
                                  "type": art.schema_title, "metadata": art.metadata,
                                  "digest": art.digest})
    return outputs, rows, events
