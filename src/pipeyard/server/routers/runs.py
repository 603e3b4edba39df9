"""Runs: create, get, list, terminate, retry, archive, unarchive, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from pipeyard.engine.run_events import RunChanged
from pipeyard.entities import FINAL_STATES, Run
from pipeyard.errors import FailedPrecondition
from pipeyard.server import namespaces, schemas
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.converters import run_json
from pipeyard.server.json_body import json_response
from pipeyard.server.listing import RUN_KEYS, list_query, page_body
from pipeyard.server.models import RunBody
from pipeyard.server.task_pages import run_with_tasks
from pipeyard.server.timefmt import utcnow
from pipeyard.store.runs import PAGE_OMITS
from pipeyard.submission.runs import new_run, resolve_spec

router = APIRouter(prefix="/apis/v2beta1", tags=["runs"])

RETRYABLE = frozenset({"FAILED", "CANCELED"})


def reference_of(body: RunBody) -> dict[str, Any] | None:
    ref = body.pipeline_version_reference.model_dump() if body.pipeline_version_reference else {}
    if body.pipeline_version_id and not ref.get("pipeline_version_id"):
        ref["pipeline_version_id"] = body.pipeline_version_id
    return ref or None


def _changed(ctx: ServerContext, run: Run) -> Run:
    ctx.hub.publish(RunChanged(run))
    return run


@router.get("/runs", **schemas.returns(schemas.ListRunsResponse))
def list_runs(
    namespace: str | None = None,
    experiment_id: str | None = None,
    page_token: str | None = None,
    page_size: int | None = None,
    sort_by: str | None = None,
    filter: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> Response:
    q = list_query(
        page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter, key_map=RUN_KEYS
    )
    # Specs are large and a list never shows them: the page stays two SQL statements,
    # reading only the columns run_json shows.
    page = ctx.store.list_runs(
        q, experiment_id=experiment_id or None, namespace=namespaces.scope(namespace), omit=PAGE_OMITS
    )
    return json_response(page_body("runs", page, run_json))


@router.post("/runs", **schemas.returns(schemas.Run))
def create_run(
    body: RunBody, experiment_id: str | None = None, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    spec = resolve_spec(ctx.store, pipeline_spec=body.pipeline_spec, reference=reference_of(body))
    cfg = body.runtime_config
    run = new_run(
        ctx.store,
        display_name=body.display_name or "",
        spec=spec,
        parameters=cfg.parameters if cfg else None,
        pipeline_root=(cfg.pipeline_root or "") if cfg else "",
        experiment_id=body.experiment_id or experiment_id,
        description=body.description or "",
        service_account=body.service_account or "",
        namespace=namespaces.stored(body.namespace),
        input_artifacts=cfg.pipeyard_input_artifacts if cfg else None,
    )
    _changed(ctx, run)
    ctx.wake_workers()
    return run_json(run, [])


@router.get("/runs/{run_id}", **schemas.returns(schemas.Run))
def get_run(
    run_id: str,
    task_page_size: int | None = None,
    task_page_token: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> Response:
    # Large runs' task details come in pages (a pipeyard extension): see server/task_pages.py.
    return json_response(run_with_tasks(ctx.store, ctx.store.get_run(run_id), task_page_size, task_page_token))


@router.delete("/runs/{run_id}", **schemas.returns(schemas.Empty))
def delete_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    if run.state not in FINAL_STATES and ctx.workers is not None:
        # Stop its task processes; a run owned by another process notices that its
        # row is gone when it next renews its lease.
        ctx.workers.terminate(run_id)
    ctx.store.delete_run(run_id)
    return {}


@router.post("/runs/{run_id}:terminate", **schemas.returns(schemas.Empty))
def terminate_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    if run.state in FINAL_STATES:
        return {}
    now = utcnow()
    unclaimed = run.worker_id is None or (run.lease_expires_at is not None and run.lease_expires_at < now)
    if run.state == "PENDING" and unclaimed:
        # Nobody executes it: it ends here.
        _changed(ctx, ctx.store.update_run(run_id, state="CANCELED", finished_at=now))
    elif run.state != "CANCELING":
        _changed(ctx, ctx.store.update_run(run_id, state="CANCELING", generation=run.generation + 1))
    if ctx.workers is not None:
        # Also after CANCELED above: our worker may have claimed it a moment ago.
        ctx.workers.terminate(run_id)
    return {}


@router.post("/runs/{run_id}:retry", **schemas.returns(schemas.Empty))
def retry_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    if run.state not in RETRYABLE:
        raise FailedPrecondition(
            f"run {run_id!r} is {run.state}; only FAILED or CANCELED runs can be retried"
        )
    # The engine resumes it: tasks that succeeded are reused, the rest run again.
    _changed(
        ctx,
        ctx.store.update_run(
            run_id,
            state="PENDING",
            error=None,
            finished_at=None,
            worker_id=None,
            lease_expires_at=None,
            generation=run.generation + 1,
        ),
    )
    ctx.wake_workers()
    return {}


@router.post("/runs/{run_id}:archive", **schemas.returns(schemas.Empty))
def archive_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    _changed(ctx, ctx.store.update_run(run_id, storage_state="ARCHIVED"))
    return {}


@router.post("/runs/{run_id}:unarchive", **schemas.returns(schemas.Empty))
def unarchive_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    _changed(ctx, ctx.store.update_run(run_id, storage_state="AVAILABLE"))
    return {}
