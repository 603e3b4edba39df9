"""What every request handler needs, kept on ``app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from pipeyard.config import Settings
from pipeyard.server.event_hub import EventHub


@dataclass
class ServerContext:
    settings: Settings
    store: Any  # pipeyard.store.Store; Any keeps the server testable with any store
    hub: EventHub
    workers: Any = None  # RunWorkers, when this process executes runs
    scheduler: Any = None  # RecurringScheduler

    def wake_workers(self) -> None:
        if self.workers is not None:
            self.workers.wake()

    def wake_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()


def get_ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx
