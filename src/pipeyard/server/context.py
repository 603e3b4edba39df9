"""What every request handler needs, kept on ``app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from pipeyard.config import Settings
from pipeyard.server.event_hub import EventHub

if TYPE_CHECKING:
    from pipeyard.server.scheduler import RecurringScheduler
    from pipeyard.server.workers import RunWorkers
    from pipeyard.store.sql_store import Store


@dataclass
class ServerContext:
    settings: Settings
    store: Store
    hub: EventHub
    workers: RunWorkers | None = None  # when this process executes runs
    scheduler: RecurringScheduler | None = None

    def wake_workers(self) -> None:
        if self.workers is not None:
            self.workers.wake()

    def wake_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()


def get_ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx
