"""Live events (SSE) for the UI."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.events import sse_stream

router = APIRouter(prefix="/apis/pipeyard/v1", tags=["events"])


@router.get("/events")
async def events(run_id: str | None = None, ctx: ServerContext = Depends(get_ctx)) -> StreamingResponse:
    return StreamingResponse(
        sse_stream(ctx.hub, run_id or None),
        media_type="text/event-stream",
        # Proxies must neither buffer nor cache a live stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
