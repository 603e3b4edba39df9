"""Recurring runs (KFP's schedules): create, get, list, enable, disable, delete."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends

from pipeyard.entities import RecurringRun
from pipeyard.errors import InvalidArgument
from pipeyard.server import namespaces, schemas
from pipeyard.server.context import ServerContext, get_ctx
from pipeyard.server.converters import recurring_run_json
from pipeyard.server.listing import RECURRING_KEYS, list_query, page_body
from pipeyard.server.models import RecurringRunBody
from pipeyard.server.routers.runs import reference_of
from pipeyard.server.timefmt import utcnow
from pipeyard.server.triggers import parse_trigger
from pipeyard.submission.runs import check_parameters, resolve_experiment, resolve_spec

router = APIRouter(prefix="/apis/v2beta1", tags=["recurring runs"])

MAX_CONCURRENCY = 10  # KFP's limit


def _max_concurrency(raw: int | str | None) -> int:
    if raw is None or raw == "":
        return 1
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidArgument(f"must be an integer, got {raw!r}", field="max_concurrency") from None
    if not 1 <= value <= MAX_CONCURRENCY:
        raise InvalidArgument(
            f"must be between 1 and {MAX_CONCURRENCY}, got {value}", field="max_concurrency"
        )
    return value


def _clean(d: Any) -> Any:
    """Drop nulls so the stored trigger reads like protobuf JSON."""
    if isinstance(d, dict):
        return {k: _clean(v) for k, v in d.items() if v is not None}
    return d


@router.get("/recurringruns", **schemas.returns(schemas.ListRecurringRunsResponse))
def list_recurring_runs(
    page_token: str | None = None,
    page_size: int | None = None,
    sort_by: str | None = None,
    namespace: str | None = None,
    filter: str | None = None,
    experiment_id: str | None = None,
    ctx: ServerContext = Depends(get_ctx),
) -> dict[str, Any]:
    q = list_query(
        page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter, key_map=RECURRING_KEYS
    )
    page = ctx.store.list_recurring_runs(q, experiment_id=experiment_id or None, namespace=namespaces.scope(namespace))
    # KFP's response really uses camelCase for this one field.
    return page_body("recurringRuns", page, recurring_run_json)


@router.post("/recurringruns", **schemas.returns(schemas.RecurringRun))
def create_recurring_run(body: RecurringRunBody, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    trigger = _clean(body.trigger)
    parse_trigger(trigger)
    mode = _mode(body.mode)
    spec = resolve_spec(ctx.store, pipeline_spec=body.pipeline_spec, reference=reference_of(body))
    cfg = body.runtime_config
    params = check_parameters(spec, cfg.parameters if cfg else None)
    if cfg is not None and cfg.pipeyard_input_artifacts:
        raise InvalidArgument("root input artifacts are taken by one-off runs only, not recurring runs",
                              field="runtime_config.pipeyard_input_artifacts")
    max_conc = _max_concurrency(body.max_concurrency)
    display_name = body.display_name or spec.pipeline_name
    if not display_name:
        raise InvalidArgument("is required", field="display_name")
    experiment_id = resolve_experiment(ctx.store, body.experiment_id, namespaces.stored(body.namespace))
    now = utcnow()
    rr = RecurringRun(
        recurring_run_id=str(uuid.uuid4()),
        display_name=display_name,
        created_at=now,
        updated_at=now,
        trigger=trigger,
        mode=mode,
        description=body.description or "",
        experiment_id=experiment_id,
        pipeline_id=spec.pipeline_id,
        pipeline_version_id=spec.pipeline_version_id,
        pipeline_spec=None if spec.pipeline_version_id else spec.pipeline_spec,
        platform_spec=None if spec.pipeline_version_id else spec.platform_spec,
        parameters=params,
        pipeline_root=(cfg.pipeline_root or "") if cfg else "",
        max_concurrency=max_conc,
        no_catchup=bool(body.no_catchup),
        namespace=namespaces.stored(body.namespace),
        service_account=body.service_account or "",
    )
    created = ctx.store.create_recurring_run(rr)
    ctx.wake_scheduler()
    return recurring_run_json(created)


@router.get("/recurringruns/{recurring_run_id}", **schemas.returns(schemas.RecurringRun))
def get_recurring_run(recurring_run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return recurring_run_json(ctx.store.get_recurring_run(recurring_run_id))


@router.delete("/recurringruns/{recurring_run_id}", **schemas.returns(schemas.Empty))
def delete_recurring_run(recurring_run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    ctx.store.delete_recurring_run(recurring_run_id)
    ctx.wake_scheduler()
    return {}


def _mode(given: str | None) -> Literal["ENABLE", "DISABLE"]:
    mode = (given or "ENABLE").upper()
    if mode in ("ENABLE", "MODE_UNSPECIFIED"):
        return "ENABLE"
    if mode == "DISABLE":
        return "DISABLE"
    raise InvalidArgument(f"must be ENABLE or DISABLE, got {given!r}", field="mode")


def _set_mode(ctx: ServerContext, recurring_run_id: str, mode: Literal["ENABLE", "DISABLE"]) -> dict[str, Any]:
    ctx.store.update_recurring_run(recurring_run_id, mode=mode, updated_at=utcnow())
    ctx.wake_scheduler()
    return {}


@router.post("/recurringruns/{recurring_run_id}:enable", **schemas.returns(schemas.Empty))
def enable_recurring_run(recurring_run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return _set_mode(ctx, recurring_run_id, "ENABLE")


@router.post("/recurringruns/{recurring_run_id}:disable", **schemas.returns(schemas.Empty))
def disable_recurring_run(recurring_run_id: str, ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return _set_mode(ctx, recurring_run_id, "DISABLE")
