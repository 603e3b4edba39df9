"""What a task or DAG produced, as the scheduler passes it along the graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeyard.entities import Task

# NOT_RUN is internal: a task that could no longer run because something it
# depends on failed. It is not recorded; KFP does not create such tasks either.
OutcomeState = Literal["SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "NOT_RUN"]

ArtifactDict = dict[str, Any]  # {"artifact_id", "name", "uri", "type", "metadata"}


@dataclass
class Outcome:
    state: OutcomeState
    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[ArtifactDict]] = field(default_factory=dict)
    error: str | None = None
    task_id: str | None = None
    task_name: str = ""
    # The task row's details as an attempt left them (placement, staging notes), so
    # the retry loop's later writes of the row keep them.
    row_details: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.state == "SUCCEEDED"


def io_record(params: Mapping[str, Any], artifacts: Mapping[str, list[ArtifactDict]]) -> dict[str, Any]:
    """A task row's ``inputs`` / ``outputs`` field."""
    return {"parameters": dict(params), "artifacts": {k: list(v) for k, v in artifacts.items()}}


@dataclass(frozen=True)
class Scope:
    """The inside of one DAG execution: its inputs and where its tasks live."""

    prefix: str  # path prefix of tasks in this DAG, "" for the root, "for-loop-2[0]/" etc.
    parent_task_id: str | None
    parameters: dict[str, Any]
    artifacts: dict[str, list[ArtifactDict]]
    iteration_index: int | None = None

    def path(self, task_name: str) -> str:
        return f"{self.prefix}{task_name}"


def outcome_from_row(task: Task) -> Outcome:
    """The outcome of a task already recorded as SUCCEEDED (resumed, cached, imported)."""
    outputs = task.outputs or {}
    return Outcome("SUCCEEDED", dict(outputs.get("parameters") or {}),
                   {k: list(v) for k, v in (outputs.get("artifacts") or {}).items()},
                   task_id=task.task_id, task_name=task.display_name)
