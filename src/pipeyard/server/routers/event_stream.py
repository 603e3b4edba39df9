"""Live events (SSE) for the UI."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from pipeyard.entities import FINAL_STATES
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.event_hub import sse_stream
from pipeyard.server.watch import executed_here, store_changes

router = APIRouter(prefix="/apis/pipeyard/v1", tags=["events"])


@router.get("/events")
async def events(run_id: str | None = None, ctx: ServerContext = Depends(get_ctx)) -> StreamingResponse:
    watch = None
    if run_id:
        run = await asyncio.to_thread(ctx.store.get_run, run_id)  # NotFound -> 404
        if run.state not in FINAL_STATES and not executed_here(run, ctx.workers):
            watch = store_changes(ctx.store, run_id)
    return StreamingResponse(
        sse_stream(ctx.hub, run_id or None, watch=watch),
        media_type="text/event-stream",
        # Proxies must neither buffer nor cache a live stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
