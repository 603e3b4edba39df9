"""Pipelines and pipeline versions, including KFP's multipart uploads."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile

from pipeyard.entities import Pipeline, PipelineVersion
from pipeyard.errors import AlreadyExists, InvalidArgument, PayloadTooLarge
from pipeyard.ir.loader import load_pipeline_bytes, spec_to_dict
from pipeyard.server import namespaces, schemas
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.converters import pipeline_json, version_json
from pipeyard.server.listing import PIPELINE_KEYS, VERSION_KEYS, list_query, page_body
from pipeyard.server.models import CreatePipelineAndVersion, PipelineBody, PipelineVersionBody
from pipeyard.server.timefmt import utcnow
from pipeyard.store.tags import check_tags
from pipeyard.submission.runs import check_inline_spec

router = APIRouter(prefix="/apis/v2beta1", tags=["pipelines"])

MAX_UPLOAD_BYTES = 32 * 1024 * 1024


def _read_upload(request: Request, upload: UploadFile) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise PayloadTooLarge(f"the upload is larger than the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit")
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the upload is larger than the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit")
    if not data:
        raise InvalidArgument("the uploaded file is empty", field="uploadfile")
    return data


def _file_stem(filename: str | None) -> str:
    name = PurePath(filename or "").name
    for suffix in (".tar.gz", ".tgz", ".yaml", ".yml", ".json", ".zip", ".tar", ".py"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _loaded(data: bytes, filename: str | None) -> tuple[dict[str, Any], dict[str, Any] | None, str, str]:
    """(spec, platform spec, pipelineInfo.name, pipelineInfo.description)"""
    loaded = load_pipeline_bytes(data, PurePath(filename or "").name or "uploadfile")
    spec = spec_to_dict(loaded.spec)
    info = spec.get("pipelineInfo") or {}
    return spec, loaded.platform_spec, str(info.get("name") or ""), str(info.get("description") or "")


# --------------------------------------------------------------------------- pipelines


@router.get("/pipelines", **schemas.returns(schemas.ListPipelinesResponse))
def list_pipelines(
    namespace: str | None = None,
    page_token: str | None = None,
    page_size: int | None = None,
    sort_by: str | None = None,
    filter: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(
        page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter, key_map=PIPELINE_KEYS
    )
    return page_body("pipelines", ctx.store.list_pipelines(q, namespace=namespaces.scope(namespace)), pipeline_json)


def _new_pipeline(body: PipelineBody) -> Pipeline:
    name = body.name or body.display_name
    if not name:
        raise InvalidArgument("a pipeline needs a name (or display_name)", field="pipeline.name")
    return Pipeline(
        pipeline_id=str(uuid.uuid4()),
        name=name,
        display_name=body.display_name or name,
        description=body.description or "",
        created_at=utcnow(),
        namespace=namespaces.stored(body.namespace),
        tags=check_tags(body.tags, "pipeline.tags"),
    )


def _query_tags(raw: str | None, field: str) -> dict[str, str]:
    """Uploads take tags as a JSON-encoded query parameter, as KFP's upload server does."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidArgument(f"not valid JSON ({e.msg})", field=field) from None
    return check_tags(value, field)


@router.post("/pipelines", **schemas.returns(schemas.Pipeline))
def create_pipeline(body: PipelineBody, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return pipeline_json(ctx.store.create_pipeline(_new_pipeline(body)))


def _version_from_body(body: PipelineVersionBody, pipeline_id: str, fallback_name: str) -> PipelineVersion:
    if body.pipeline_spec is None:
        if body.package_url is not None and body.package_url.pipeline_url:
            raise InvalidArgument(
                "fetching a package_url is not supported; upload the file or send pipeline_spec",
                field="pipeline_version.package_url",
            )
        raise InvalidArgument("pipeline_spec is required", field="pipeline_version.pipeline_spec")
    spec, platform = check_inline_spec(body.pipeline_spec, "pipeline_version.pipeline_spec")
    name = body.name or body.display_name or fallback_name
    return PipelineVersion(
        version_id=str(uuid.uuid4()),
        pipeline_id=pipeline_id,
        name=name,
        display_name=body.display_name or name,
        description=body.description or "",
        created_at=utcnow(),
        pipeline_spec=spec,
        platform_spec=platform,
        code_source_url=body.code_source_url or "",
        tags=check_tags(body.tags, "pipeline_version.tags"),
    )


@router.post("/pipelines/create", **schemas.returns(schemas.Pipeline))
def create_pipeline_and_version(
    body: CreatePipelineAndVersion, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    pipeline = _new_pipeline(body.pipeline)
    version = _version_from_body(body.pipeline_version, pipeline.pipeline_id, pipeline.name)
    created, _ = ctx.store.create_pipeline_with_version(pipeline, version)
    return pipeline_json(created)


@router.get("/pipelines/names/{name}", **schemas.returns(schemas.Pipeline))
def get_pipeline_by_name(
    name: str, namespace: str | None = None, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    return pipeline_json(ctx.store.get_pipeline_by_name(name, namespaces.stored(namespace)))


@router.get("/pipelines/{pipeline_id}", **schemas.returns(schemas.Pipeline))
def get_pipeline(pipeline_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return pipeline_json(ctx.store.get_pipeline(pipeline_id))


@router.patch("/pipelines/{pipeline_id}", **schemas.returns(schemas.Pipeline))
def update_pipeline(pipeline_id: str, body: PipelineBody, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    """KFP's UpdatePipeline: ``display_name`` and ``tags`` are mutable; tags given
    replace all of them (``{}`` clears), tags left out are kept."""
    tags = None if body.tags is None else check_tags(body.tags, "pipeline.tags")
    return pipeline_json(ctx.store.update_pipeline(pipeline_id, display_name=body.display_name, tags=tags))


@router.delete("/pipelines/{pipeline_id}", **schemas.returns(schemas.Empty))
def delete_pipeline(
    pipeline_id: str, cascade: bool = False, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    ctx.store.delete_pipeline(pipeline_id, cascade=cascade)
    return {}


# --------------------------------------------------------------------------- versions


@router.get("/pipelines/{pipeline_id}/versions", **schemas.returns(schemas.ListPipelineVersionsResponse))
def list_versions(
    pipeline_id: str,
    page_token: str | None = None,
    page_size: int | None = None,
    sort_by: str | None = None,
    filter: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(
        page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter, key_map=VERSION_KEYS
    )
    page = ctx.store.list_pipeline_versions(pipeline_id, q, include_pipeline_spec=True)
    return page_body("pipeline_versions", page, version_json)


@router.post("/pipelines/{pipeline_id}/versions", **schemas.returns(schemas.PipelineVersion))
def create_version(
    pipeline_id: str, body: PipelineVersionBody, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    pipeline = ctx.store.get_pipeline(pipeline_id)
    if body.pipeline_id and body.pipeline_id != pipeline_id:
        raise InvalidArgument("does not match the pipeline in the path", field="pipeline_version.pipeline_id")
    version = _version_from_body(body, pipeline_id, f"{pipeline.name}-{uuid.uuid4().hex[:8]}")
    return version_json(ctx.store.create_pipeline_version(version))


@router.get("/pipelines/{pipeline_id}/versions/{pipeline_version_id}", **schemas.returns(schemas.PipelineVersion))
def get_version(
    pipeline_id: str, pipeline_version_id: str, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    version = ctx.store.get_pipeline_version(pipeline_version_id)
    if version.pipeline_id != pipeline_id:
        from pipeyard.errors import NotFound

        raise NotFound("pipeline version", f"{pipeline_id}/{pipeline_version_id}")
    return version_json(version)


@router.patch("/pipelines/{pipeline_id}/versions/{pipeline_version_id}", **schemas.returns(schemas.PipelineVersion))
def update_version(
    pipeline_id: str, pipeline_version_id: str, body: PipelineVersionBody, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    """UpdatePipelineVersion: ``display_name`` and ``tags``, as for pipelines."""
    get_version(pipeline_id, pipeline_version_id, ctx)
    tags = None if body.tags is None else check_tags(body.tags, "pipeline_version.tags")
    updated = ctx.store.update_pipeline_version(pipeline_version_id, display_name=body.display_name, tags=tags)
    return version_json(updated)


@router.delete("/pipelines/{pipeline_id}/versions/{pipeline_version_id}", **schemas.returns(schemas.Empty))
def delete_version(
    pipeline_id: str, pipeline_version_id: str, ctx: ServerContext = Depends(get_ctx)
) -> dict[str, Any]:
    get_version(pipeline_id, pipeline_version_id, ctx)
    ctx.store.delete_pipeline_version(pipeline_version_id)
    return {}


# --------------------------------------------------------------------------- uploads


def _uploaded_version(
    pipeline_id: str, name: str, display_name: str | None, description: str,
    spec: dict[str, Any], platform: dict[str, Any] | None, code_source_url: str | None,
    created_at: datetime | None = None, tags: dict[str, str] | None = None,
) -> PipelineVersion:
    return PipelineVersion(
        version_id=str(uuid.uuid4()),
        pipeline_id=pipeline_id,
        name=name,
        display_name=display_name or name,
        description=description,
        created_at=created_at or utcnow(),
        pipeline_spec=spec,
        platform_spec=platform,
        code_source_url=code_source_url or "",
        tags=tags or {},
    )


@router.post("/pipelines/upload", **schemas.returns(schemas.Pipeline))
def upload_pipeline(
    request: Request,
    uploadfile: UploadFile = File(...),
    name: str | None = Query(None),
    display_name: str | None = Query(None),
    description: str | None = Query(None),
    namespace: str | None = Query(None),
    code_source_url: str | None = Query(None),
    tags: str | None = Query(None, description="JSON-encoded map of the pipeline's tags"),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    tag_map = _query_tags(tags, "tags")
    data = _read_upload(request, uploadfile)
    spec, platform, spec_name, spec_desc = _loaded(data, uploadfile.filename)
    pname = name or display_name or spec_name or _file_stem(uploadfile.filename)
    if not pname:
        raise InvalidArgument("cannot tell the pipeline's name; pass ?name=", field="name")
    now = utcnow()
    pipeline = Pipeline(
        pipeline_id=str(uuid.uuid4()),
        name=pname,
        display_name=display_name or pname,
        description=description if description is not None else spec_desc,
        created_at=now,
        namespace=namespaces.stored(namespace),
        tags=tag_map,
    )
    version = _uploaded_version(pipeline.pipeline_id, pname, display_name,
                                description if description is not None else spec_desc,
                                spec, platform, code_source_url, created_at=now)
    created, _ = ctx.store.create_pipeline_with_version(pipeline, version)
    return pipeline_json(created)


@router.post("/pipelines/upload_version", **schemas.returns(schemas.PipelineVersion))
def upload_pipeline_version(
    request: Request,
    uploadfile: UploadFile = File(...),
    name: str | None = Query(None),
    display_name: str | None = Query(None),
    pipelineid: str | None = Query(None),
    description: str | None = Query(None),
    code_source_url: str | None = Query(None),
    tags: str | None = Query(None, description="JSON-encoded map of the version's tags"),
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    tag_map = _query_tags(tags, "tags")
    if not pipelineid:
        raise InvalidArgument("the pipeline to add a version to is required", field="pipelineid")
    pipeline = ctx.store.get_pipeline(pipelineid)
    data = _read_upload(request, uploadfile)
    spec, platform, spec_name, spec_desc = _loaded(data, uploadfile.filename)
    explicit = name or display_name
    vname = explicit or _file_stem(uploadfile.filename) or spec_name or pipeline.name

    def version(vn: str) -> PipelineVersion:
        return _uploaded_version(pipeline.pipeline_id, vn, display_name,
                                 description if description is not None else spec_desc,
                                 spec, platform, code_source_url, tags=tag_map)

    try:
        created = ctx.store.create_pipeline_version(version(vname))
    except AlreadyExists:
        if explicit:
            raise
        # An unnamed upload of the same file again is a new version, not a conflict.
        created = ctx.store.create_pipeline_version(version(f"{vname}-{uuid.uuid4().hex[:8]}"))
    return version_json(created)
