"""The recurring-run scheduler: fires real runs when cron or periodic triggers are due.

It runs on the workers' event loop. Instead of ticking at a fixed rate it sleeps
until the soonest upcoming fire time (capped, so schedules created by other
processes are seen) or until the API wakes it after a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeyard.entities import RecurringRun, Run
from pipeyard.errors import PipeyardError
from pipeyard.server.timefmt import fmt, utcnow
from pipeyard.server.triggers import due, next_fire, parse_trigger
from pipeyard.submission.runs import ResolvedSpec, new_run

if TYPE_CHECKING:
    from pipeyard.store.sql_store import Store

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 5.0
# A schedule held back by max_concurrency is looked at again this soon.
BUSY_RETRY_SECONDS = 1.0


def spec_of(store: Store, rr: RecurringRun) -> ResolvedSpec:
    if rr.pipeline_version_id:
        v = store.get_pipeline_version(rr.pipeline_version_id)
        return ResolvedSpec(v.pipeline_spec, v.platform_spec, v.pipeline_id, v.version_id)
    if rr.pipeline_spec is None:
        raise PipeyardError("the recurring run has neither a pipeline spec nor a pipeline version")
    return ResolvedSpec(rr.pipeline_spec, rr.platform_spec)


class RecurringScheduler:
    def __init__(
        self,
        store: Store,
        *,
        on_run_created: Callable[[Run], None] = lambda _run: None,
        max_sleep: float = MAX_SLEEP_SECONDS,
    ) -> None:
        self.store = store
        self.on_run_created = on_run_created
        self.max_sleep = max_sleep
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def wake(self) -> None:
        """Thread-safe: a schedule was created, changed, enabled or disabled."""
        loop, ev = self._loop, self._wake
        if loop is not None and ev is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ev.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            try:
                upcoming = self.tick(utcnow())
            except Exception:
                log.exception("the recurring-run scheduler failed; retrying")
                upcoming = None
            delay = self.max_sleep
            if upcoming is not None:
                delay = max(0.0, min(delay, (upcoming - utcnow()).total_seconds()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def tick(self, now: datetime) -> datetime | None:
        """Fire what is due; return the soonest time something may be due next."""
        soonest: datetime | None = None
        for rr in self.store.list_enabled_recurring_runs():
            try:
                upcoming = self._one(rr, now)
            except Exception:
                log.exception("recurring run %s: cannot schedule it", rr.recurring_run_id)
                continue
            if upcoming is not None and (soonest is None or upcoming < soonest):
                soonest = upcoming
        return soonest

    def _one(self, rr: RecurringRun, now: datetime) -> datetime | None:
        trigger = parse_trigger(rr.trigger)
        last = rr.last_fired_at or rr.created_at
        when = due(trigger, last, now, no_catchup=rr.no_catchup)
        if when is None:
            return next_fire(trigger, last)
        if self.store.count_active_runs_of_recurring(rr.recurring_run_id) >= max(1, rr.max_concurrency):
            return now + timedelta(seconds=BUSY_RETRY_SECONDS)
        # Claim this firing first: another scheduler on the same database may be here too.
        if not self.store.advance_recurring_run(rr.recurring_run_id, rr.last_fired_at, when):
            return now
        try:
            run = new_run(
                self.store,
                display_name=f"{rr.display_name} {fmt(when)}",
                spec=spec_of(self.store, rr),
                parameters=rr.parameters,
                pipeline_root=rr.pipeline_root,
                experiment_id=rr.experiment_id,
                description=rr.description,
                service_account=rr.service_account,
                namespace=rr.namespace,
                recurring_run_id=rr.recurring_run_id,
                scheduled_at=when,
            )
        except PipeyardError as e:
            # The schedule cannot produce a run (its version was deleted, ...): skip this
            # time rather than retry it forever.
            log.warning("recurring run %s: skipped the run due at %s: %s", rr.recurring_run_id, fmt(when), e)
            run = None
        if run is not None:
            self.on_run_created(run)
        # More may be due already (catch-up): look again at once.
        return next_fire(trigger, when)
