"""Deployments: models served behind KServe's protocols (``pipeyard.serving``).

``create_router`` gives the routes and, through the router's lifespan, the server's
deployment manager: started with the app (restoring deployments the store holds),
stopped with it. The routes sit under ``/apis/`` so the server's auth rule covers them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from pipeyard.server.timefmt import fmt
from pipeyard.serving.manager import DeploymentManager
from pipeyard.serving.service import Deployments
from pipeyard.serving.specs import DeploymentSpec
from pipeyard.store.deployments import Deployment

PREFIX = "/apis/pipeyard/v1"


class TryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protocol: Literal["v1", "v2"] = "v1"
    body: Any = Field(description="the request body sent to the model server, as JSON")


class DeploymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    model: str = Field(description="artifact URI or path, or RUN_ID/TASK/OUTPUT")
    host: str = "127.0.0.1"
    port: int | None = None
    runtime: str = "kserve"
    framework: str | None = None
    replicas: int = 1


def deployment_json(d: Deployment) -> dict[str, Any]:
    endpoints = {}
    if d.url:
        endpoints = {
            "v1_predict": f"{d.url}/v1/models/{d.name}:predict",
            "v2_infer": f"{d.url}/v2/models/{d.name}/infer",
        }
    return {
        "name": d.name,
        "state": d.state,
        "url": d.url,
        "model_uri": d.model_uri,
        "run_id": d.run_id,
        "task": d.task,
        "created_at": fmt(d.created_at),
        "updated_at": fmt(d.updated_at),
        "artifact_id": d.artifact_id,
        "framework": d.framework,
        "runtime": d.runtime,
        "replicas": d.replicas,
        "host": d.host,
        "port": d.port,
        "restarts": d.restarts,
        "pid": d.pid,
        "error": d.error,
        "deleting": d.desired == "delete",
        "endpoints": endpoints,
    }


def get_deployments(request: Request) -> Deployments:
    service: Deployments = request.app.state.deployments
    return service


def create_router(*, auth_token: str | None, start_manager: bool) -> APIRouter:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = get_ctx_of(app)
        manager = DeploymentManager(ctx.store, ctx.settings, auth_token=auth_token) if start_manager else None
        app.state.deployments = Deployments(ctx.store, ctx.settings, manager, token=auth_token)
        if manager is not None:
            ctx.settings.ensure_dirs()
            manager.start()
        try:
            yield
        finally:
            if manager is not None:
                await asyncio.to_thread(manager.stop)

    router = APIRouter(prefix=PREFIX, tags=["deployments"], lifespan=lifespan)

    @router.get("/deployments")
    def list_deployments(service: Deployments = Depends(get_deployments)) -> dict[str, Any]:
        return {"deployments": [deployment_json(d) for d in service.list()]}

    @router.post("/deployments")
    def create_deployment(body: DeploymentBody, service: Deployments = Depends(get_deployments)) -> dict[str, Any]:
        spec = DeploymentSpec(**body.model_dump())
        return deployment_json(service.apply(spec))

    @router.get("/deployments/{name}")
    def get_deployment(name: str, service: Deployments = Depends(get_deployments)) -> dict[str, Any]:
        return deployment_json(service.get(name))

    @router.delete("/deployments/{name}")
    def delete_deployment(name: str, service: Deployments = Depends(get_deployments)) -> dict[str, Any]:
        service.delete(name)
        return {}

    @router.post("/deployments/{name}/try")
    def try_deployment(name: str, body: TryBody, service: Deployments = Depends(get_deployments)) -> dict[str, Any]:
        """Send one request to the deployment's model server and return its answer (for
        the UI's try-it form: the browser cannot call the model server's origin itself)."""
        return service.try_request(name, body.protocol, body.body)

    @router.get("/deployments/{name}/logs", response_class=PlainTextResponse)
    def deployment_logs(name: str, service: Deployments = Depends(get_deployments)) -> str:
        return service.logs(name)

    return router


def get_ctx_of(app: FastAPI) -> Any:
    return app.state.ctx

