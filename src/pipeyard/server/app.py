"""The FastAPI application: KFP's v2beta1 API, the UI's extensions, the static UI, and
the workers that execute runs in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import pipeyard
from pipeyard.config import Settings
from pipeyard.engine.events import RunChanged
from pipeyard.server.auth import BearerAuth
from pipeyard.server.context import ServerContext
from pipeyard.server.errors import install_error_handlers
from pipeyard.server.events import EventHub
from pipeyard.server.routers import artifacts, events, experiments, pipelines, recurring_runs, runs, system
from pipeyard.server.routers import v1beta1 as v1beta1_routes
from pipeyard.server.scheduler import RecurringScheduler
from pipeyard.server.static import STATIC_DIR, mount_static
from pipeyard.server.workers import RunWorkers, WorkerConfig


def create_app(
    settings: Settings,
    store: Any,
    *,
    auth_token: str | None = None,
    start_workers: bool = True,
    workers: int | None = None,
    worker_config: WorkerConfig | None = None,
    static_dir: Path | None = None,
) -> FastAPI:
    """``workers`` is how many runs execute at once in this process (``start_workers=False``
    serves the API only: runs wait for a ``pipeyard worker`` or another server)."""
    hub = EventHub()
    ctx = ServerContext(settings=settings, store=store, hub=hub)
    if start_workers:
        config = worker_config or WorkerConfig.from_env(workers)
        ctx.workers = RunWorkers(store, settings, config, on_event=hub.publish)

        def created(run: Any) -> None:
            hub.publish(RunChanged(run))
            ctx.wake_workers()

        ctx.scheduler = RecurringScheduler(store, on_run_created=created)
        ctx.workers.add_companion(ctx.scheduler.run)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub.attach(asyncio.get_running_loop())
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
    for module in (system, pipelines, experiments, runs, recurring_runs, artifacts, events, v1beta1_routes):
        app.include_router(module.router)
    # Last: its catch-all route must not shadow the API.
    mount_static(app, static_dir or STATIC_DIR)
    if auth_token:
        app.add_middleware(BearerAuth, token=auth_token)
    return app
