"""Link a run to the pipeline version its spec was saved as (a pipeyard extension).

A run created from a package (``create_run_from_pipeline_package``, the SDK's usual path) has
no stored pipeline. When the UI saves its spec as a pipeline (version), it links the run to
that version here, so that after a reload the run shows the version it ran, as a run started
from the version would. Only a run without a version, and only to a version holding the very
spec the run ran.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from pipeyard.engine.run_events import RunChanged
from pipeyard.errors import FailedPrecondition
from pipeyard.server import schemas
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.converters import run_json

router = APIRouter(prefix="/apis/pipeyard/v1", tags=["runs"])


class LinkVersionBody(BaseModel):
    pipeline_version_id: str


@router.post("/runs/{run_id}:link-version", **schemas.returns(schemas.Run))
def link_version(run_id: str, body: LinkVersionBody, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    version = ctx.store.get_pipeline_version(body.pipeline_version_id)
    if run.pipeline_version_id and run.pipeline_version_id != version.version_id:
        raise FailedPrecondition(f"run {run_id} already ran pipeline version {run.pipeline_version_id}")
    if (version.pipeline_spec or {}) != (run.pipeline_spec or {}):
        raise FailedPrecondition(
            f"pipeline version {version.version_id} does not hold the spec run {run_id} ran; "
            "save the run's spec as a version first"
        )
    pipeline = ctx.store.get_pipeline(version.pipeline_id)
    linked = ctx.store.update_run(
        run_id,
        pipeline_id=version.pipeline_id,
        pipeline_version_id=version.version_id,
        pipeline_name=run.pipeline_name or pipeline.name,
    )
    ctx.hub.publish(RunChanged(linked))
    return run_json(linked)
