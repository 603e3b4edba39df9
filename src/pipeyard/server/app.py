"""The FastAPI application: KFP's v2beta1 API, the UI's extensions, the static UI, and
the workers that execute runs in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

import pipeyard
import pipeyard.server.routers.deployments as deployment_routes
from pipeyard.config import Settings
from pipeyard.engine.run_events import RunChanged
from pipeyard.server.auth import BearerAuth
from pipeyard.server.body_limit import BodyLimit
from pipeyard.server.context import ServerContext
from pipeyard.server.edge import EdgeGuard, EdgePolicy
from pipeyard.server.errors import install_error_handlers
from pipeyard.server.event_hub import EventHub
from pipeyard.server.routers import (
    artifacts,
    event_stream,
    experiments,
    pipelines,
    recurring_runs,
    run_links,
    runs,
    system,
)
from pipeyard.server.routers import debug_pause as debug_pause_routes
from pipeyard.server.routers import v1beta1 as v1beta1_routes
from pipeyard.server.scheduler import RecurringScheduler
from pipeyard.server.static import STATIC_DIR, mount_static
from pipeyard.server.timefmt import utcnow
from pipeyard.server.workers import RunWorkers, WorkerConfig
from pipeyard.submission.registry import DEFAULT_EXPERIMENT, ensure_experiment

if TYPE_CHECKING:
    from pipeyard.entities import Run
    from pipeyard.store.sql_store import Store


def create_app(
    settings: Settings,
    store: Store,
    *,
    auth_token: str | None = None,
    start_workers: bool = True,
    workers: int | None = None,
    worker_config: WorkerConfig | None = None,
    static_dir: Path | None = None,
    bind_host: str = "127.0.0.1",
    edge_policy: EdgePolicy | None = None,
) -> FastAPI:
    """``workers`` is how many runs execute at once in this process (``start_workers=False``
    serves the API only: runs wait for a ``pipeyard worker`` or another server).
    ``bind_host`` is the address the server listens on: requests must name it (or
    localhost) in their Host header (see ``server/edge.py``); ``edge_policy`` overrides that."""
    hub = EventHub()
    ctx = ServerContext(settings=settings, store=store, hub=hub)
    if start_workers:
        config = worker_config or WorkerConfig.from_env(workers)
        ctx.workers = RunWorkers(store, settings, config, on_event=hub.publish)

        def created(run: Run) -> None:
            hub.publish(RunChanged(run))
            ctx.wake_workers()

        ctx.scheduler = RecurringScheduler(store, on_run_created=created)
        ctx.workers.add_companion(ctx.scheduler.run)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub.attach(asyncio.get_running_loop())
        # As KFP's API server in single-user mode: clients that submit without an
        # experiment find "Default" instead of racing each other to create it.
        await asyncio.to_thread(ensure_experiment, store, DEFAULT_EXPERIMENT, utcnow())
        if ctx.workers is not None:
            settings.ensure_dirs()
            ctx.workers.start()
        try:
            yield
        finally:
            if ctx.workers is not None:
                await asyncio.to_thread(ctx.workers.stop)
            hub.detach()

    app = FastAPI(
        title="pipeyard",
        version=pipeyard.__version__,
        description="Kubeflow Pipelines v2beta1 API (for kfp.Client) and pipeyard's UI API.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    for module in (system, pipelines, experiments, runs, recurring_runs, artifacts, event_stream, v1beta1_routes):
        app.include_router(module.router)
    app.include_router(debug_pause_routes.router)
    app.include_router(run_links.router)
    app.include_router(deployment_routes.create_router(auth_token=auth_token, start_manager=start_workers))
    # Last: its catch-all route must not shadow the API.
    mount_static(app, static_dir or STATIC_DIR)
    app.add_middleware(BodyLimit)
    if auth_token:
        app.add_middleware(BearerAuth, token=auth_token)
    # Outermost: a request from a rebound or foreign page is refused before anything else.
    app.add_middleware(EdgeGuard, policy=edge_policy or EdgePolicy.from_env(bind_host))
    return app
