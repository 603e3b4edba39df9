"""KFP's ``set_debug_pause(before, after, on_error)``, locally.

The SDK sets ``ARGO_DEBUG_PAUSE_BEFORE`` / ``_AFTER`` / ``_ON_ERROR`` on the task's
container; on a cluster Argo's executor then holds the pod so that one can
``kubectl exec`` into it. Here the attempt holds instead: before its process starts
(its inputs staged, its working directory and command ready) or after it ended
(on error only, with ``on_error``), its working directory and everything it wrote
are kept, and ``pipeyard-debug.json`` in that directory records the command, the
environment the task gets and the working directory.

The task stays RUNNING, as a held Argo node does; ``details["debug_pause"]`` says
where it waits, and the CLI and UI show it as PAUSED (``display_state``). It waits
for its resume file, written by ``pipeyard resume RUN TASK`` or the API's
``POST /apis/v2beta1/runs/{run_id}/tasks/{task_id}:resume``: a file, because the
process that resumes is rarely the one that runs the task.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeyard.engine.context import RunContext
from pipeyard.engine.run_events import LogLine
from pipeyard.entities import Task
from pipeyard.errors import FailedPrecondition
from pipeyard.launchers.base import LaunchRequest

PauseWhen = Literal["before", "after"]
DETAIL = "debug_pause"
DEBUG_FILE = "pipeyard-debug.json"
# How often a paused task looks for its resume file: a person resumes it, so a
# quarter of a second is instant for them and nothing for the machine.
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class PausePoints:
    before: bool = False
    after: bool = False
    on_error: bool = False

    def after_attempt(self, failed: bool) -> bool:
        return self.after or (self.on_error and failed)


def _on(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def pause_points(env: Mapping[str, str]) -> PausePoints:
    return PausePoints(before=_on(env.get("ARGO_DEBUG_PAUSE_BEFORE")),
                       after=_on(env.get("ARGO_DEBUG_PAUSE_AFTER")),
                       on_error=_on(env.get("ARGO_DEBUG_PAUSE_ON_ERROR")))


def resume_file(work: Path) -> Path:
    # Beside the working directory, not in it: the task's files stay its own.
    return work.parent / f"{work.name}.resume"


def is_paused(task: Task) -> bool:
    info = (task.details or {}).get(DETAIL)
    return task.state == "RUNNING" and isinstance(info, dict) and "resumed_at" not in info


def display_state(task: Task) -> str:
    """The state people see: PAUSED for a task held by a debug pause."""
    return "PAUSED" if is_paused(task) else task.state


def _note(ctx: RunContext, row: Task, attempt: int, log_path: str, text: str) -> None:
    try:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError:
        pass
    ctx.on_event(LogLine(ctx.run_id, row.task_id, attempt, text))


async def hold(ctx: RunContext, row: Task, when: PauseWhen, request: LaunchRequest, attempt: int) -> Task:
    """Keep the attempt of ``row`` paused until it is resumed; returns the row as
    recorded after the resume."""
    work = Path(request.cwd or ".")
    flag = resume_file(work)
    flag.unlink(missing_ok=True)
    (work / DEBUG_FILE).write_text(json.dumps(
        {"task": row.path, "paused": when, "argv": list(request.argv), "env": dict(request.env),
         "cwd": str(work), "log": request.log_path}, indent=2))
    info: dict[str, Any] = {"when": when, "since": ctx.now().isoformat(), "work_dir": str(work),
                            "resume_file": str(flag), "attempt": attempt}
    row = dataclasses.replace(row, state="RUNNING", details={**row.details, DETAIL: info})
    ctx.put_task(row)
    _note(ctx, row, attempt, request.log_path,
          f"[pipeyard] debug pause {when} running: the working directory {work} is kept; "
          f"resume with `pipeyard resume {ctx.run_id} {row.path}`")
    while not flag.exists():
        await asyncio.sleep(POLL_SECONDS)
    flag.unlink(missing_ok=True)
    row = dataclasses.replace(row, details={**row.details, DETAIL: {**info, "resumed_at": ctx.now().isoformat()}})
    ctx.put_task(row)
    _note(ctx, row, attempt, request.log_path, f"[pipeyard] resumed after the debug pause {when} running")
    return row


class NotPaused(FailedPrecondition):
    """Resume asked of a task that is not held by a debug pause."""


def request_resume(task: Task) -> None:
    """Resume a paused task (from any process that sees its files)."""
    if not is_paused(task):
        raise NotPaused(f"task {task.path!r} is not paused (state {task.state})")
    flag = Path(str(task.details[DETAIL]["resume_file"]))
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()


def find_paused(tasks: list[Task], which: str) -> Task:
    """The paused task named ``which``: its id, path, name or display name."""
    candidates = [t for t in tasks if which in (t.task_id, t.path, t.name, t.display_name)]
    paused = [t for t in candidates if is_paused(t)]
    if len(paused) == 1:
        return paused[0]
    if len(paused) > 1:
        raise NotPaused(f"{which!r} names several paused tasks; give one path: "
                        + ", ".join(sorted(t.path for t in paused)))
    if candidates:
        raise NotPaused(f"task {candidates[0].path!r} is not paused (state {candidates[0].state})")
    names = sorted(t.path for t in tasks if is_paused(t))
    raise NotPaused(f"no task {which!r} in this run" + (f"; paused: {', '.join(names)}" if names else ""))


def display_state_json(task: Mapping[str, Any]) -> str:
    """``display_state`` of a task as the API returns it (``details`` included)."""
    info = (task.get("details") or {}).get(DETAIL)
    held = task.get("state") == "RUNNING" and isinstance(info, dict) and "resumed_at" not in info
    return "PAUSED" if held else str(task.get("state"))
