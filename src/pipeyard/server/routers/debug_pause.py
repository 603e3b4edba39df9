"""Resuming a task held by ``set_debug_pause`` (a pipeyard extension of the runs API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from pipeyard.engine.debug_pause import find_paused, request_resume
from pipeyard.server import schemas
from pipeyard.server.context import ServerContext, get_ctx

router = APIRouter(prefix="/apis/v2beta1", tags=["runs"])


@router.post("/runs/{run_id}/tasks/{task}:resume", **schemas.returns(schemas.Empty))
def resume_task(run_id: str, task: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    """``task`` is the task's id or its path (``for-loop-2[0]/train``, URL-encoded);
    409 when it is not paused."""
    ctx.store.get_run(run_id)  # 404 for an unknown run
    request_resume(find_paused(ctx.store.list_tasks(run_id), task))
    return {}
