"""KFP's ``dsl.PipelineConfig`` limits on a run: the active deadline and the TTLs.

The SDK writes them into the kfp-kubernetes platform spec
(``platforms.kubernetes.pipelineConfig``); KFP's backend turns them into the Argo
Workflow's ``activeDeadlineSeconds`` and ``ttlStrategy``. A value of 0 or less
means "not set", as in KFP's compiler.

Locally the deadline is measured from the run's start (a run resumed after its
worker died keeps its deadline, as a Workflow keeps its ``startedAt``; a retried run
gets a new one, or it could never run again): when it passes, every task
still running is killed and recorded FAILED, and the run ends FAILED naming the
deadline. The TTLs are handled by ``engine/ttl.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pipeyard.errors import PipeyardError

# The CancelledError's message when the run's deadline stops its tasks (see cancel.py).
DEADLINE = "run-deadline"

T = TypeVar("T")


def _seconds(config: Mapping[str, Any], key: str) -> int | None:
    raw = config.get(key)
    try:
        value = int(raw) if raw is not None else 0
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


@dataclass(frozen=True)
class RunLimits:
    active_deadline_seconds: int | None = None
    ttl_after_completion: int | None = None
    ttl_after_success: int | None = None
    ttl_after_failure: int | None = None

    def ttl_for(self, state: str) -> int | None:
        """Seconds after the end of a run in ``state`` before its resources go; the
        success/failure TTL wins over the completion one, as in Argo."""
        if state == "SUCCEEDED" and self.ttl_after_success is not None:
            return self.ttl_after_success
        if state in ("FAILED", "CANCELED") and self.ttl_after_failure is not None:
            return self.ttl_after_failure
        return self.ttl_after_completion


def run_limits(platform_pipeline: Mapping[str, Any]) -> RunLimits:
    return RunLimits(
        active_deadline_seconds=_seconds(platform_pipeline, "activeDeadlineSeconds"),
        ttl_after_completion=_seconds(platform_pipeline, "resourceTtlOnCompletion"),
        ttl_after_success=_seconds(platform_pipeline, "resourceTtlOnSuccess"),
        ttl_after_failure=_seconds(platform_pipeline, "resourceTtlOnFailure"),
    )


class DeadlineExceeded(PipeyardError):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"the run exceeded its deadline of {seconds} s "
                         "(PipelineConfig active_deadline_seconds); its running tasks were stopped")
        self.seconds = seconds


def deadline_error(seconds: int) -> str:
    return str(DeadlineExceeded(seconds))


def stopped_by_deadline(error: asyncio.CancelledError) -> bool:
    return bool(error.args) and isinstance(error.args[0], str) and error.args[0].startswith(DEADLINE)


def deadline_message(error: asyncio.CancelledError) -> str:
    """The error recorded on a task the deadline stopped."""
    text = str(error.args[0])
    return text[len(DEADLINE) + 1:] if len(text) > len(DEADLINE) else "the run exceeded its deadline"


async def within_deadline(work: Awaitable[T], remaining: float | None, seconds: int) -> T:
    """Await ``work``; when ``remaining`` seconds pass first, cancel it with the
    deadline message (tasks record FAILED) and raise ``DeadlineExceeded``."""
    task = asyncio.ensure_future(work)
    if remaining is None:
        return await task
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, remaining))
    except asyncio.CancelledError as e:
        # Cancelled from outside (terminate, lease lost): the same reason reaches the tasks.
        task.cancel(*e.args)
        await asyncio.gather(task, return_exceptions=True)
        raise
    if done:
        return task.result()
    task.cancel(f"{DEADLINE}:{deadline_error(seconds)}")
    results = await asyncio.gather(task, return_exceptions=True)
    if not isinstance(results[0], BaseException):
        return results[0]  # it finished while being stopped
    raise DeadlineExceeded(seconds)


def stopped_state(error: asyncio.CancelledError) -> tuple[Literal["FAILED", "CANCELED"], str]:
    """(state, error) recorded on a task whose execution ``error`` cancelled: FAILED
    naming the deadline when the deadline stopped it, else CANCELED."""
    if stopped_by_deadline(error):
        return "FAILED", deadline_message(error)
    return "CANCELED", "canceled"
