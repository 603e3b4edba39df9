"""Running a container task: attempts until one succeeds or the retry policy
(KFP's ``set_retry``) allows no more, each attempt recorded with its state, exit
code and log. The wait between attempts goes through the run context's sleep."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
from pathlib import Path
from typing import Any

from pipeyard.artifacts.uris import is_local, local_path, output_uri
from pipeyard.engine import kubernetes_config
from pipeyard.engine.attempt import AttemptInput, attempt_dirs, run_attempt
from pipeyard.engine.cancel import abandoned
from pipeyard.engine.context import RunContext
from pipeyard.engine.outcome import ArtifactDict, Outcome
from pipeyard.engine.pipeline_config import stopped_state
from pipeyard.entities import Task, TaskAttempt
from pipeyard.ir.views import ComponentView, RetryPolicy, TaskView

LOG_TAIL_LINES = 20


def retry_delay(policy: RetryPolicy | None, attempt: int, elapsed: float = 0.0) -> float | None:
    """Seconds to wait before the next attempt once attempt number ``attempt`` (1-based,
    counting attempts of earlier executions of the run) has failed, ``elapsed`` seconds
    after the first attempt started; None when the policy allows no further attempt.

    As Argo does with KFP's retry policy: the delay grows by the factor from the
    backoff duration, and no retry starts once ``backoff_max_duration`` after the first
    attempt would have passed by then ("Backoff would exceed max duration limit")."""
    max_attempts = 1 + (policy.max_retries if policy else 0)
    if policy is None or attempt >= max_attempts:
        return None
    delay = policy.delay(attempt)
    if policy.backoff_max_seconds is not None and elapsed + delay > policy.backoff_max_seconds:
        return None
    return delay


def log_tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log, for the failure message."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def discard_partial_outputs(output_uris: dict[str, str]) -> None:
    """Remove what a failed attempt wrote at its local output locations (files or
    directories); remote outputs are only uploaded after success, so there is none."""
    for uri in output_uris.values():
        if not is_local(uri):
            continue
        path = Path(local_path(uri))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                path.unlink()


async def run_container(ctx: RunContext, task: TaskView, component: ComponentView, row: Task,
                        params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
                        refs: kubernetes_config.Refs) -> Outcome:
    output_uris = {
        name: output_uri(ctx.pipeline_root, ctx.pipeline.name, ctx.run_id, row.path, name)
        for name in component.outputs.artifacts
    }
    attempt = row.attempts
    first_started = row.started_at or ctx.now()
    while True:
        attempt += 1
        row = dataclasses.replace(row, attempts=attempt, state="RUNNING", error=None)
        ctx.put_task(row)
        work, log_path = attempt_dirs(ctx, row, attempt)
        started = ctx.now()
        ctx.recorder.put_attempt(TaskAttempt(row.task_id, attempt, "RUNNING", started, log_path))
        inp = AttemptInput(ctx, component, row, params, artifacts, output_uris, work, log_path, attempt, refs,
                           engine_retries=retry_delay(task.retry, attempt) is not None)
        try:
            outcome, exit_code = await run_attempt(inp)
        except asyncio.CancelledError as e:
            discard_partial_outputs(output_uris)
            if not abandoned(e):
                state, reason = stopped_state(e)
                ctx.recorder.put_attempt(TaskAttempt(row.task_id, attempt, state, started, log_path,
                                                     ctx.now(), None, reason))
                ctx.finish_task(row, state, error=reason)
            raise
        if outcome.row_details is not None:
            row = dataclasses.replace(row, details=outcome.row_details)
        if not outcome.ok:
            # First, before anything is recorded: a failure that filled the disk must
            # leave room for its own record, and a retry starts from nothing.
            discard_partial_outputs(output_uris)
            await _remove_tree(work)
        ctx.recorder.put_attempt(TaskAttempt(row.task_id, attempt, "SUCCEEDED" if outcome.ok else "FAILED",
                                             started, log_path, ctx.now(), exit_code, outcome.error))
        if outcome.ok:
            ctx.sweeper.remove(work)
            return outcome
        error = outcome.error or "failed"
        delay = retry_delay(task.retry, attempt, (ctx.now() - first_started).total_seconds())
        if delay is None:
            break
        await ctx.sleep(delay)
    tail = log_tail(log_path)
    ctx.finish_task(row, "FAILED", error=error)
    message = f"task {row.path!r} failed: {error}"
    if tail:
        message += f"\n--- last lines of {log_path} ---\n{tail}"
    return Outcome("FAILED", error=message, task_id=row.task_id, task_name=row.display_name)


async def _remove_tree(path: str | Path) -> None:
    """Remove a finished attempt's work directory off the event loop: on a slow disk the
    removal is milliseconds per task, which held up every other task of a large fan-out."""
    await asyncio.to_thread(shutil.rmtree, path, True)
