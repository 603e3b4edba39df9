"""Experiments: create, get, list, delete, archive, unarchive."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends

from pipeyard.entities import Experiment
from pipeyard.errors import InvalidArgument
from pipeyard.server import namespaces, schemas
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.converters import experiment_json
from pipeyard.server.listing import EXPERIMENT_KEYS, list_query, page_body
from pipeyard.server.models import ExperimentBody
from pipeyard.server.timefmt import utcnow
from pipeyard.submission.registry import is_default_experiment


def refuse_deleting_default(experiment: Experiment) -> None:
    """KFP's API server keeps its "Default" experiment: runs without one are filed there."""
    if is_default_experiment(experiment):
        raise InvalidArgument(f"the default experiment ({experiment.experiment_id}) cannot be deleted",
                              field="experiment_id")


router = APIRouter(prefix="/apis/v2beta1", tags=["experiments"])


@router.get("/experiments", **schemas.returns(schemas.ListExperimentsResponse))
def list_experiments(
    page_token: str | None = None,
    page_size: int | None = None,
    sort_by: str | None = None,
    filter: str | None = None,
    namespace: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(
        page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter, key_map=EXPERIMENT_KEYS
    )
    page = ctx.store.list_experiments(q, namespace=namespaces.scope(namespace))
    return page_body("experiments", page, experiment_json)


@router.post("/experiments", **schemas.returns(schemas.Experiment))
def create_experiment(body: ExperimentBody, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    if not body.display_name.strip():
        raise InvalidArgument("must not be empty", field="experiment.display_name")
    exp = Experiment(
        experiment_id=str(uuid.uuid4()),
        display_name=body.display_name,
        description=body.description or "",
        created_at=utcnow(),
        namespace=namespaces.stored(body.namespace),
    )
    return experiment_json(ctx.store.create_experiment(exp))


@router.get("/experiments/{experiment_id}", **schemas.returns(schemas.Experiment))
def get_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return experiment_json(ctx.store.get_experiment(experiment_id))


@router.delete("/experiments/{experiment_id}", **schemas.returns(schemas.Empty))
def delete_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    refuse_deleting_default(ctx.store.get_experiment(experiment_id))
    ctx.store.delete_experiment(experiment_id)
    return {}


@router.post("/experiments/{experiment_id}:archive", **schemas.returns(schemas.Empty))
def archive_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    ctx.store.set_experiment_storage_state(experiment_id, "ARCHIVED")
    ctx.wake_scheduler()  # its recurring runs were disabled
    return {}


@router.post("/experiments/{experiment_id}:unarchive", **schemas.returns(schemas.Empty))
def unarchive_experiment(experiment_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    ctx.store.set_experiment_storage_state(experiment_id, "AVAILABLE")
    return {}
