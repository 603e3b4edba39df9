"""Task logs and artifacts: KFP's log and ``:read`` endpoints and the UI's extensions."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from pipeyard.artifacts.uris import is_remote
from pipeyard.entities import Task, TaskAttempt
from pipeyard.errors import InvalidArgument, NotFound, PayloadTooLarge
from pipeyard.server import schemas
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.converters import artifact_json, task_json
from pipeyard.server.files import is_directory, open_local_range, read_bytes
from pipeyard.server.json_body import json_response
from pipeyard.server.listing import list_query, page_body
from pipeyard.server.task_pages import task_window_json

router = APIRouter(tags=["logs and artifacts"])

# Beyond this the UI should download rather than inline.
DEFAULT_MAX_CONTENT = 50 * 1024 * 1024
# KFP's :read answers base64 in JSON, held in memory whole.
MAX_READ_BYTES = 32 * 1024 * 1024


def _task_of_run(ctx: ServerContext, run_id: str, task_id: str) -> Task:
    ctx.store.get_run(run_id)  # 404 names the run when it is the run that is missing
    task: Task = ctx.store.get_task(task_id)
    if task.run_id != run_id:
        raise NotFound("task", f"{run_id}/{task_id}")
    return task


def _attempt(ctx: ServerContext, task: Task, attempt: int | None) -> TaskAttempt:
    attempts: list[TaskAttempt] = ctx.store.list_attempts(task.task_id)
    if not attempts:
        raise NotFound("log of task", task.task_id)
    if attempt is None:
        return attempts[-1]
    for a in attempts:
        if a.attempt == attempt:
            return a
    raise NotFound("attempt", f"{task.task_id}#{attempt}")


def _log_response(ctx: ServerContext, att: TaskAttempt, offset: int) -> Response:
    if offset < 0:
        raise InvalidArgument("must not be negative", field="offset")
    if not att.log_path:
        return Response(b"", media_type="text/plain; charset=utf-8", headers={"X-Log-Size": "0"})
    try:
        opened = open_local_range(ctx.settings, att.log_path, "log", offset=offset)
        if opened is None:
            data, size = read_bytes(ctx.settings, att.log_path, "log", offset=offset)
            return Response(data, media_type="text/plain; charset=utf-8", headers={"X-Log-Size": str(size)})
    except NotFound:
        # The attempt started but wrote nothing yet.
        return Response(b"", media_type="text/plain; charset=utf-8", headers={"X-Log-Size": "0"})
    chunks, size = opened
    return StreamingResponse(chunks, media_type="text/plain; charset=utf-8", headers={"X-Log-Size": str(size)})


@router.get("/apis/v1alpha1/runs/{run_id}/nodes/{node_id}/log")
def kfp_node_log(run_id: str, node_id: str, ctx: ServerContext = Depends(get_ctx)) -> Response:
    task = _task_of_run(ctx, run_id, node_id)
    return _log_response(ctx, _attempt(ctx, task, None), 0)


@router.get("/apis/v2beta1/runs/{run_id}/nodes/{node_id}/artifacts/{artifact_name}:read", **schemas.returns(schemas.ReadArtifactResponse))
def kfp_read_artifact(
    run_id: str, node_id: str, artifact_name: str, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    task = _task_of_run(ctx, run_id, node_id)
    items = ((task.outputs or {}).get("artifacts") or {}).get(artifact_name) or []
    if not items or not isinstance(items[0], dict) or not items[0].get("uri"):
        raise NotFound("output artifact", f"{node_id}/{artifact_name}")
    # KFP's answer is one JSON document holding the bytes, so it cannot be streamed: it is
    # bounded instead, and larger artifacts are read through the content endpoint.
    data, size = read_bytes(ctx.settings, str(items[0]["uri"]), "artifact", max_bytes=MAX_READ_BYTES + 1)
    if size > MAX_READ_BYTES:
        raise PayloadTooLarge(
            f"artifact {artifact_name!r} is {size} bytes; :read returns at most {MAX_READ_BYTES} "
            f"(read it with GET /apis/pipeyard/v1/artifacts/{{id}}/content, which streams)"
        )
    return {"data": base64.b64encode(data).decode()}


# --------------------------------------------------------------------------- pipeyard UI API


@router.get("/apis/pipeyard/v1/runs/{run_id}/tasks", **schemas.returns(schemas.ListTasksResponse))
def list_tasks(
    run_id: str,
    iteration_page_size: int | None = None,
    loop: str = "",
    iteration_offset: int = 0,
    ctx: ServerContext = Depends(get_ctx),
) -> Response:
    ctx.store.get_run(run_id)
    if iteration_page_size is not None or loop or iteration_offset:
        # The run page of a huge loop: a page of iterations, not 20,000 tasks (task_windows.py).
        return json_response(task_window_json(ctx.store, run_id, iteration_page_size, loop, iteration_offset))
    tasks = ctx.store.list_tasks(run_id)
    attempts = ctx.store.list_attempts_for_run(run_id)
    return json_response({"tasks": [task_json(t, attempts.get(t.task_id, ())) for t in tasks]})


@router.get("/apis/pipeyard/v1/runs/{run_id}/tasks/{task_id}/log")
def task_log(
    run_id: str,
    task_id: str,
    attempt: int | None = None,
    offset: int = 0,
    ctx: ServerContext = Depends(get_ctx),
) -> Response:
    task = _task_of_run(ctx, run_id, task_id)
    return _log_response(ctx, _attempt(ctx, task, attempt), offset)


@router.get("/apis/pipeyard/v1/runs/{run_id}/spec")
def run_spec(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    return {"pipeline_spec": run.pipeline_spec, "platform_spec": run.platform_spec}


@router.get("/apis/pipeyard/v1/artifacts", **schemas.returns(schemas.ListArtifactsResponse))
def list_artifacts(
    run_id: str | None = None,
    type: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(page_token=page_token, page_size=page_size, sort_by=None, filter=None)
    page = ctx.store.list_artifacts(q, run_id=run_id or None, schema_title=type or None)
    return page_body("artifacts", page, artifact_json)


@router.get("/apis/pipeyard/v1/artifacts/{artifact_id}", **schemas.returns(schemas.ArtifactWithLineage))
def get_artifact(artifact_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    art = ctx.store.get_artifact(artifact_id)
    events = ctx.store.artifact_events(artifact_id)
    names: dict[str, str] = {}

    def task_name(task_id: str) -> str:
        if task_id not in names:
            try:
                t = ctx.store.get_task(task_id)
                names[task_id] = t.display_name or t.name
            except NotFound:
                names[task_id] = ""
        return names[task_id]

    producer = None
    consumers = []
    for ev in events:
        if ev.kind == "OUTPUT" and producer is None:
            producer = {"run_id": ev.run_id, "task_id": ev.task_id, "task_name": task_name(ev.task_id)}
        elif ev.kind == "INPUT":
            consumers.append(
                {
                    "run_id": ev.run_id,
                    "task_id": ev.task_id,
                    "task_name": task_name(ev.task_id),
                    "input_name": ev.name,
                }
            )
    if producer is None and art.task_id:
        producer = {"run_id": art.run_id, "task_id": art.task_id, "task_name": task_name(art.task_id)}
    body = artifact_json(art)
    body["lineage"] = {"producer": producer, "consumers": consumers}
    return body


# KFP writes these without a file extension; their type says what they are.
TYPE_MEDIA = {
    "system.HTML": "text/html; charset=utf-8",
    "system.Markdown": "text/markdown; charset=utf-8",
}


@router.get("/apis/pipeyard/v1/artifacts/{artifact_id}/content")
def artifact_content(
    artifact_id: str,
    max_bytes: int | None = Query(None, ge=0, le=2**53),
    download: int = 0,
    ctx: ServerContext = Depends(get_ctx),
) -> Response:
    art = ctx.store.get_artifact(artifact_id)
    limit = DEFAULT_MAX_CONTENT if max_bytes is None else max_bytes
    opened = open_local_range(ctx.settings, art.uri, "artifact", max_bytes=limit)
    if opened is None:
        # Remote objects and directory listings are read whole, so never past the default.
        data, size = read_bytes(ctx.settings, art.uri, "artifact", max_bytes=min(limit, DEFAULT_MAX_CONTENT))
    else:
        size = opened[1]
    name = PurePosixPath(art.uri if not is_remote(art.uri) else art.uri.split("://", 1)[1]).name or art.name
    is_dir = is_directory(art.uri)
    media = (
        "text/plain; charset=utf-8"
        if is_dir
        else (mimetypes.guess_type(name)[0] or TYPE_MEDIA.get(art.schema_title, "application/octet-stream"))
    )
    # Artifact content is whatever a pipeline wrote (HTML with scripts included):
    # opened directly, it runs in a sandbox with an opaque origin, never as our app.
    headers = {"X-Content-Size": str(size), "Content-Security-Policy": "sandbox",
               "X-Content-Type-Options": "nosniff"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{name.replace(chr(34), "")}"'
    if opened is not None:
        return StreamingResponse(opened[0], media_type=media, headers=headers)
    return Response(data, media_type=media, headers=headers)
