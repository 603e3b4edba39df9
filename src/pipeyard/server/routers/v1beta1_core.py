"""KFP v1beta1 API, part one: healthz, experiments, pipelines and pipeline versions.

What kfp 1.8's ``kfp.Client`` and the KFP v1 UI call, on the same store as v2beta1 (a
pipeline uploaded here is listed there and the other way round). Uploads go through the
same loader, so a kfp 1.x Argo Workflow and a v2 IR file are both accepted.
"""

from __future__ import annotations

import uuid
from typing import Any

import yaml
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict

import pipeyard
from pipeyard.entities import Experiment
from pipeyard.errors import InvalidArgument, NotFound
from pipeyard.server import namespaces
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.listing import EXPERIMENT_KEYS, PIPELINE_KEYS, VERSION_KEYS, list_query
from pipeyard.server.routers import pipelines as v2_pipelines
from pipeyard.server.routers.experiments import refuse_deleting_default
from pipeyard.server.timefmt import utcnow
from pipeyard.server.v1beta1_convert import (
    experiment_v1,
    pipeline_v1,
    references,
    v1_filter,
    v1_sort,
    version_v1,
)

router = APIRouter(prefix="/apis/v1beta1", tags=["v1beta1"])


class ExperimentV1(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = ""
    description: str | None = None
    resource_references: list[dict[str, Any]] | None = None


def _page(key: str, page: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {key: items, "total_size": page.total_size}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"commit_sha": "", "tag_name": pipeyard.__version__, "multi_user": False}


# --------------------------------------------------------------------------- experiments


@router.post("/experiments")
def create_experiment(body: ExperimentV1, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    if not body.name.strip():
        raise InvalidArgument("must not be empty", field="experiment.name")
    namespace = namespaces.stored(references(body.resource_references).get("NAMESPACE"))
    exp = Experiment(experiment_id=str(uuid.uuid4()), display_name=body.name,
                     description=body.description or "", created_at=utcnow(), namespace=namespace)
    return experiment_v1(ctx.store.create_experiment(exp))


@router.get("/experiments")
def list_experiments(
    page_token: str | None = None, page_size: int | None = None, sort_by: str | None = None,
    filter: str | None = None,
    resource_reference_key_id: str | None = Query(None, alias="resource_reference_key.id"),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(page_token=page_token, page_size=page_size, sort_by=v1_sort(sort_by),
                   filter=v1_filter(filter), key_map=EXPERIMENT_KEYS)
    page = ctx.store.list_experiments(q, namespace=namespaces.scope(resource_reference_key_id))
    return _page("experiments", page, [experiment_v1(e) for e in page.items])


@router.get("/experiments/{experiment_id}")
def get_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return experiment_v1(ctx.store.get_experiment(experiment_id))


@router.delete("/experiments/{experiment_id}")
def delete_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    refuse_deleting_default(ctx.store.get_experiment(experiment_id))
    ctx.store.delete_experiment(experiment_id)
    return {}


@router.post("/experiments/{experiment_id}:archive")
def archive_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    ctx.store.set_experiment_storage_state(experiment_id, "ARCHIVED")
    ctx.wake_scheduler()
    return {}


@router.post("/experiments/{experiment_id}:unarchive")
def unarchive_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    ctx.store.set_experiment_storage_state(experiment_id, "AVAILABLE")
    return {}


# --------------------------------------------------------------------------- pipelines


def _pipeline(ctx: ServerContext, pipeline_id: str) -> dict[str, Any]:
    p = ctx.store.get_pipeline(pipeline_id)
    return pipeline_v1(p, ctx.store.latest_pipeline_version(pipeline_id))


@router.get("/pipelines")
def list_pipelines(
    page_token: str | None = None, page_size: int | None = None, sort_by: str | None = None,
    filter: str | None = None, ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(page_token=page_token, page_size=page_size, sort_by=sort_by,
                   filter=v1_filter(filter), key_map=PIPELINE_KEYS)
    page = ctx.store.list_pipelines(q, namespace=None)
    items = [pipeline_v1(p, ctx.store.latest_pipeline_version(p.pipeline_id)) for p in page.items]
    return _page("pipelines", page, items)


@router.get("/pipelines/{pipeline_id}")
def get_pipeline(pipeline_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return _pipeline(ctx, pipeline_id)


@router.delete("/pipelines/{pipeline_id}")
def delete_pipeline(pipeline_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    # v1 deletes a pipeline with its versions.
    ctx.store.delete_pipeline(pipeline_id, cascade=True)
    return {}


def _template(spec: dict[str, Any]) -> dict[str, Any]:
    return {"template": yaml.safe_dump(spec, sort_keys=False)}


@router.get("/pipelines/{pipeline_id}/templates")
def get_template(pipeline_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    latest = ctx.store.latest_pipeline_version(pipeline_id)
    if latest is None:
        ctx.store.get_pipeline(pipeline_id)  # NotFound for an unknown pipeline
        raise NotFound("pipeline version of pipeline", pipeline_id)
    return _template(latest.pipeline_spec)


@router.post("/pipelines/upload")
def upload_pipeline(
    request: Request, uploadfile: UploadFile = File(...), name: str | None = Query(None),
    description: str | None = Query(None), ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    created = v2_pipelines.upload_pipeline(request, uploadfile, name, None, description, None, None, None, ctx)
    return _pipeline(ctx, created["pipeline_id"])


@router.post("/pipelines/upload_version")
def upload_pipeline_version(
    request: Request, uploadfile: UploadFile = File(...), name: str | None = Query(None),
    pipelineid: str | None = Query(None), description: str | None = Query(None),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    created = v2_pipelines.upload_pipeline_version(request, uploadfile, name, None, pipelineid,
                                                   description, None, None, ctx)
    return version_v1(ctx.store.get_pipeline_version(created["pipeline_version_id"]))


@router.get("/pipeline_versions")
def list_versions(
    page_token: str | None = None, page_size: int | None = None, sort_by: str | None = None,
    filter: str | None = None,
    key_type: str | None = Query(None, alias="resource_key.type"),
    key_id: str | None = Query(None, alias="resource_key.id"),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    if not key_id or (key_type or "PIPELINE").upper() != "PIPELINE":
        raise InvalidArgument("list versions of one pipeline: resource_key.type=PIPELINE and "
                              "resource_key.id=<pipeline id>", field="resource_key")
    q = list_query(page_token=page_token, page_size=page_size, sort_by=v1_sort(sort_by),
                   filter=v1_filter(filter), key_map=VERSION_KEYS)
    page = ctx.store.list_pipeline_versions(key_id, q, include_pipeline_spec=True)
    return _page("versions", page, [version_v1(v) for v in page.items])


@router.get("/pipeline_versions/{version_id}")
def get_version(version_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return version_v1(ctx.store.get_pipeline_version(version_id))


@router.delete("/pipeline_versions/{version_id}")
def delete_version(version_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    ctx.store.delete_pipeline_version(version_id)
    return {}


@router.get("/pipeline_versions/{version_id}/templates")
def get_version_template(version_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return _template(ctx.store.get_pipeline_version(version_id).pipeline_spec)
