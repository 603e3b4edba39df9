"""KFP v1beta1 API, part two: runs and jobs (recurring runs), over the same store.

A v1 run is created from ``pipeline_spec.workflow_manifest`` (the JSON of an Argo
Workflow compiled by kfp 1.x, or of a v2 IR), ``pipeline_spec.pipeline_manifest``, or a
stored pipeline / version (``pipeline_spec.pipeline_id``, a ``PIPELINE_VERSION``
reference). Parameters are ``[{name, value}]`` text, checked against the pipeline's
inputs like v2 runs. Terminate, retry, archive and delete are the v2 operations.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from pipeyard.errors import InvalidArgument
from pipeyard.ir.loader import load_pipeline_bytes, spec_to_dict
from pipeyard.server import namespaces
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.listing import RECURRING_KEYS, RUN_KEYS, list_query
from pipeyard.server.models import RecurringRunBody, RuntimeConfig, VersionReference
from pipeyard.server.routers import recurring_runs as v2_jobs
from pipeyard.server.routers import runs as v2_runs
from pipeyard.server.v1beta1_convert import (
    job_v1,
    parameters_dict,
    references,
    run_v1,
    v1_filter,
    v1_sort,
    workflow_manifest,
)
from pipeyard.submission.runs import ResolvedSpec, new_run, resolve_spec

router = APIRouter(prefix="/apis/v1beta1", tags=["v1beta1"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PipelineSpecV1(_Body):
    pipeline_id: str | None = None
    workflow_manifest: str | None = None
    pipeline_manifest: str | None = None
    parameters: list[dict[str, Any]] | None = None


class RunV1(_Body):
    name: str | None = None
    description: str | None = None
    pipeline_spec: PipelineSpecV1 | None = None
    resource_references: list[dict[str, Any]] | None = None
    service_account: str | None = None


class JobV1(RunV1):
    trigger: dict[str, Any] | None = None
    max_concurrency: int | str | None = None
    enabled: bool | None = None
    no_catchup: bool | None = None


def _manifest(text: str, field: str) -> ResolvedSpec:
    try:
        json.loads(text)
        name = f"{field}.json"
    except json.JSONDecodeError:
        name = f"{field}.yaml"  # the v1 UI may send YAML text
    loaded = load_pipeline_bytes(text.encode(), name)
    return ResolvedSpec(spec_to_dict(loaded.spec), loaded.platform_spec)


def _spec(ctx: ServerContext, body: RunV1) -> tuple[ResolvedSpec, dict[str, Any], dict[str, str]]:
    ps = body.pipeline_spec or PipelineSpecV1()
    refs = references(body.resource_references)
    params = parameters_dict(ps.parameters, "pipeline_spec.parameters")
    version_id = refs.get("PIPELINE_VERSION")
    pipeline_id = ps.pipeline_id or refs.get("PIPELINE")
    if version_id or pipeline_id:
        spec = resolve_spec(ctx.store, pipeline_spec=None,
                            reference={"pipeline_id": pipeline_id, "pipeline_version_id": version_id})
    elif ps.workflow_manifest:
        spec = _manifest(ps.workflow_manifest, "pipeline_spec.workflow_manifest")
    elif ps.pipeline_manifest:
        spec = _manifest(ps.pipeline_manifest, "pipeline_spec.pipeline_manifest")
    else:
        raise InvalidArgument("give workflow_manifest, pipeline_manifest, pipeline_id or a PIPELINE_VERSION "
                              "resource reference", field="pipeline_spec")
    return spec, params, refs


def _detail(ctx: ServerContext, run_id: str) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    tasks = ctx.store.list_tasks(run_id)
    return {"run": run_v1(run, tasks), "pipeline_runtime": {"workflow_manifest": workflow_manifest(run, tasks)}}


# --------------------------------------------------------------------------- runs


@router.post("/runs")
def create_run(body: RunV1, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    spec, params, refs = _spec(ctx, body)
    run = new_run(ctx.store, display_name=body.name or "", spec=spec, parameters=params,
                  experiment_id=refs.get("EXPERIMENT"), description=body.description or "",
                  service_account=body.service_account or "", namespace=namespaces.stored(refs.get("NAMESPACE")))
    v2_runs._changed(ctx, run)
    ctx.wake_workers()
    return _detail(ctx, run.run_id)


@router.get("/runs")
def list_runs(
    page_token: str | None = None, page_size: int | None = None, sort_by: str | None = None,
    filter: str | None = None,
    key_type: str | None = Query(None, alias="resource_reference_key.type"),
    key_id: str | None = Query(None, alias="resource_reference_key.id"),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    kind = (key_type or "").upper()
    if key_id and kind not in ("EXPERIMENT", "NAMESPACE"):
        raise InvalidArgument("runs are listed by EXPERIMENT or NAMESPACE", field="resource_reference_key.type")
    q = list_query(page_token=page_token, page_size=page_size, sort_by=v1_sort(sort_by),
                   filter=v1_filter(filter), key_map=RUN_KEYS)
    page = ctx.store.list_runs(q, experiment_id=key_id if kind == "EXPERIMENT" else None,
                               namespace=namespaces.scope(key_id), include_pipeline_spec=False)
    body: dict[str, Any] = {"runs": [run_v1(r, ctx.store.list_tasks(r.run_id)) for r in page.items],
                            "total_size": page.total_size}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body


@router.get("/runs/{run_id}")
def get_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return _detail(ctx, run_id)


@router.delete("/runs/{run_id}")
def delete_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_runs.delete_run(run_id, ctx)


@router.post("/runs/{run_id}/terminate")
def terminate_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_runs.terminate_run(run_id, ctx)


@router.post("/runs/{run_id}/retry")
def retry_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_runs.retry_run(run_id, ctx)


@router.post("/runs/{run_id}:archive")
def archive_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_runs.archive_run(run_id, ctx)


@router.post("/runs/{run_id}:unarchive")
def unarchive_run(run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_runs.unarchive_run(run_id, ctx)


# --------------------------------------------------------------------------- jobs


@router.post("/jobs")
def create_job(body: JobV1, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    spec, params, refs = _spec(ctx, body)
    v2 = RecurringRunBody(
        display_name=body.name or "", description=body.description or "",
        experiment_id=refs.get("EXPERIMENT"),
        pipeline_spec=None if spec.pipeline_version_id else (
            {"pipeline_spec": spec.pipeline_spec, "platform_spec": spec.platform_spec}
            if spec.platform_spec else spec.pipeline_spec),
        pipeline_version_reference=VersionReference(pipeline_id=spec.pipeline_id,
                                                    pipeline_version_id=spec.pipeline_version_id)
        if spec.pipeline_version_id else None,
        runtime_config=RuntimeConfig(parameters=params), service_account=body.service_account or "",
        namespace=refs.get("NAMESPACE", ""), trigger=body.trigger,
        mode="DISABLE" if body.enabled is False else "ENABLE",
        max_concurrency=body.max_concurrency, no_catchup=body.no_catchup,
    )
    created = v2_jobs.create_recurring_run(v2, ctx)
    return job_v1(ctx.store.get_recurring_run(created["recurring_run_id"]))


@router.get("/jobs")
def list_jobs(
    page_token: str | None = None, page_size: int | None = None, sort_by: str | None = None,
    filter: str | None = None,
    key_type: str | None = Query(None, alias="resource_reference_key.type"),
    key_id: str | None = Query(None, alias="resource_reference_key.id"),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(page_token=page_token, page_size=page_size, sort_by=v1_sort(sort_by),
                   filter=v1_filter(filter), key_map=RECURRING_KEYS)
    experiment = key_id if (key_type or "").upper() == "EXPERIMENT" else None
    page = ctx.store.list_recurring_runs(q, experiment_id=experiment, namespace=None)
    body: dict[str, Any] = {"jobs": [job_v1(j) for j in page.items], "total_size": page.total_size}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body


@router.get("/jobs/{job_id}")
def get_job(job_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return job_v1(ctx.store.get_recurring_run(job_id))


@router.delete("/jobs/{job_id}")
def delete_job(job_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_jobs.delete_recurring_run(job_id, ctx)


@router.post("/jobs/{job_id}/enable")
def enable_job(job_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_jobs.enable_recurring_run(job_id, ctx)


@router.post("/jobs/{job_id}/disable")
def disable_job(job_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return v2_jobs.disable_recurring_run(job_id, ctx)
