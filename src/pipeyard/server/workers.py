"""Run workers: claim runs from the store and execute them with the engine.

The workers live on their own thread with their own asyncio loop, so the engine's
blocking store calls never stall the API's loop (and a slow API request never
delays a task). Up to ``max_runs`` runs execute at once; each is claimed with a
lease (``Store.claim_run``) that is renewed while it runs, so a worker that dies
(SIGKILL, power loss) leaves runs that another worker - or this server, restarted -
takes over once the lease lapses; the engine resumes them from the recorded tasks.

Waking is event-driven for what this process knows about (a submission, a retry, a
freed slot); a slow periodic claim picks up runs submitted by other processes and
runs whose worker died. Terminate is an in-process signal that cancels the run's
asyncio task at once (the engine then kills the task processes and records
CANCELED); a run owned by another process notices it at its next lease renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeyard.config import Settings
from pipeyard.engine import ttl
from pipeyard.engine.cancel import ABANDON
from pipeyard.engine.run_events import EventSink, RunChanged, TaskChanged, discard
from pipeyard.entities import FINAL_STATES, Run, Task
from pipeyard.server.timefmt import utcnow
from pipeyard.submission.local_claims import settle_abandoned_local_runs

if TYPE_CHECKING:
    from pipeyard.launchers.base import Launcher
    from pipeyard.store.sql_store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    max_runs: int = 4
    lease_seconds: float = 10.0
    renew_seconds: float = 3.0
    # The fallback claim for runs this process was not told about.
    poll_seconds: float = 3.0

    @staticmethod
    def from_env(max_runs: int | None = None, env: dict[str, str] | None = None) -> WorkerConfig:
        """Lease timings are tunable so tests can watch a lease lapse quickly."""
        env = dict(os.environ) if env is None else env
        default = WorkerConfig()
        return WorkerConfig(
            max_runs=max_runs or int(env.get("PIPEYARD_WORKER_RUNS") or default.max_runs),
            lease_seconds=float(env.get("PIPEYARD_LEASE_SECONDS") or default.lease_seconds),
            renew_seconds=float(env.get("PIPEYARD_RENEW_SECONDS") or default.renew_seconds),
            poll_seconds=float(env.get("PIPEYARD_CLAIM_POLL_SECONDS") or default.poll_seconds),
        )


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _default_launcher(settings: Settings) -> Launcher:
    # Imported here: the launcher pulls in process machinery the API never needs.
    from pipeyard.launchers.choose import launcher_name, make_launcher

    # PIPEYARD_LAUNCHER=ray (and PIPEYARD_RAY_ADDRESS) runs the tasks on a Ray cluster.
    return make_launcher(launcher_name(), envs_dir=settings.envs_dir)


def _hint_run(launcher: Launcher | None, pipeline_spec: dict[str, Any]) -> None:
    # The warm fork servers a long-lived launcher keeps (launchers/warm.py) start importing now.
    from pipeyard.launchers.warm import hint_run

    hint_run(launcher, pipeline_spec)


def _execute_run() -> Callable[..., Any]:
    from pipeyard.engine.runner import execute_run

    return execute_run


# Why a run's asyncio task was cancelled decides what is written afterwards.
TERMINATE, SHUTDOWN, LEASE_LOST = "terminate", "shutdown", ABANDON


class RunWorkers:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        config: WorkerConfig | None = None,
        *,
        on_event: EventSink = discard,
        worker_id: str | None = None,
        launcher_factory: Callable[[Settings], Launcher] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.config = config or WorkerConfig()
        self.on_event = on_event
        self.worker_id = worker_id or default_worker_id()
        self._launcher_factory = launcher_factory or _default_launcher
        self._launcher: Launcher | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._active: dict[str, asyncio.Task[None]] = {}
        self._reasons: dict[str, str] = {}
        self._ready = threading.Event()
        # Hooks run on the worker loop next to claiming (the recurring-run scheduler).
        self._companions: list[Callable[[], Coroutine[Any, Any, None]]] = []

    # ------------------------------------------------------------------ any thread

    def start(self) -> None:
        """Run the workers on a dedicated thread (inside the server)."""
        self._thread = threading.Thread(target=self._thread_main, name="pipeyard-workers", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._begin_stop)
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """A run was submitted or retried here: claim now rather than at the next poll."""
        self._call(lambda: self._wake.set() if self._wake else None)

    def terminate(self, run_id: str) -> None:
        """Cancel the run's execution if this process runs it (no-op otherwise)."""
        self._call(lambda: self._cancel(run_id, TERMINATE))

    def add_companion(self, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """``factory()`` returns a coroutine run on the worker loop until shutdown."""
        self._companions.append(factory)

    @property
    def active_runs(self) -> list[str]:
        return list(self._active)

    def _call(self, fn: Callable[[], Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(fn)

    # ------------------------------------------------------------------ worker loop

    def _thread_main(self) -> None:
        asyncio.run(self.run_forever())

    async def run_forever(self) -> None:
        """Claim and execute runs until ``stop``; usable without the thread (``pipeyard worker``)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._launcher = self._launcher_factory(self.settings)
        self._ready.set()
        self._settle_local_runs()
        helpers = [asyncio.create_task(self._renew_loop(), name="lease-renewal")]
        helpers += [asyncio.create_task(f()) for f in self._companions]
        try:
            while not self._stopping:
                self._wake.clear()
                await self._claim_available()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
        finally:
            for t in helpers:
                t.cancel()
            for run_id in list(self._active):
                self._cancel(run_id, SHUTDOWN)
            if self._active:
                await asyncio.gather(*self._active.values(), return_exceptions=True)
            await asyncio.gather(*helpers, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._launcher.aclose()
            self._stopped.set()

    def _begin_stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def _claim_available(self) -> None:
        while not self._stopping and len(self._active) < self.config.max_runs:
            try:
                run = self.store.claim_run(self.worker_id, self.config.lease_seconds, utcnow())
            except Exception:
                log.exception("claiming a run failed; retrying at the next poll")
                return
            if run is None:
                return
            if not self._prepare(run):
                continue
            log.info("run %s: claimed by worker %s (%s)", run.run_id, self.worker_id, run.state)
            task = asyncio.create_task(self._execute(run), name=f"run-{run.run_id}")
            self._active[run.run_id] = task

    def _prepare(self, run: Run) -> bool:
        """Settle a claimed run that must not execute; True when it should."""
        if run.state == "CANCELING":
            # Its previous worker died after the user asked to stop it: just record the end.
            now = utcnow()
            for task in self.store.list_tasks(run.run_id):
                if task.state not in FINAL_STATES:
                    self._emit_task(self.store, task, now)
            done = self.store.update_run(run.run_id, state="CANCELED", finished_at=now)
            self.store.release_run(run.run_id, self.worker_id)
            self.on_event(RunChanged(done))
            return False
        if run.state in FINAL_STATES:
            self.store.release_run(run.run_id, self.worker_id)
            return False
        return True

    def _emit_task(self, store: Store, task: Task, now: datetime) -> None:
        ended = dataclasses.replace(task, state="CANCELED", finished_at=task.finished_at or now)
        store.put_task(ended)
        self.on_event(TaskChanged(ended))

    async def _execute(self, run: Run) -> None:
        run_id = run.run_id
        try:
            _hint_run(self._launcher, run.pipeline_spec)
            await _execute_run()(
                run_id,
                recorder=self.store,
                launcher=self._launcher,
                settings=self.settings,
                on_event=self.on_event,
            )
        except asyncio.CancelledError:
            pass  # we cancelled it ourselves; what to record depends on why (below)
        except Exception as e:
            log.exception("run %s: the engine failed", run_id)
            self._settle(run_id, "FAILED", f"internal error while executing the run: {type(e).__name__}: {e}")
        finally:
            reason = self._reasons.pop(run_id, None)
            self._active.pop(run_id, None)
            try:
                self._after(run_id, reason)
            except Exception:
                log.exception("run %s: cannot record the end of its execution", run_id)
            if self._wake is not None:
                self._wake.set()  # a slot is free

    def _after(self, run_id: str, reason: str | None) -> None:
        if reason == LEASE_LOST:
            return  # another worker owns the run now: write nothing
        if reason == SHUTDOWN:
            # Leave it for the next start (or another worker) to resume.
            current = self.store.get_run(run_id)
            if current.state not in FINAL_STATES or current.state == "CANCELED":
                self.store.update_run(run_id, state="RUNNING", finished_at=None, error=None)
        elif reason == TERMINATE:
            self._settle(run_id, "CANCELED", None)
        self.store.release_run(run_id, self.worker_id)

    def _settle(self, run_id: str, state: str, error: str | None) -> None:
        """Make sure a run that stopped executing is in a final state."""
        try:
            current = self.store.get_run(run_id)
        except Exception:
            return
        if current.state in FINAL_STATES:
            return
        fields: dict[str, Any] = {"state": state, "finished_at": utcnow()}
        if error:
            fields["error"] = error
        self.on_event(RunChanged(self.store.update_run(run_id, **fields)))

    def _cancel(self, run_id: str, reason: str) -> None:
        task = self._active.get(run_id)
        if task is None or task.done():
            return
        self._reasons.setdefault(run_id, reason)
        # The reason travels with the CancelledError: on ABANDON the engine writes nothing.
        task.cancel(msg=reason)

    def _settle_local_runs(self) -> None:
        """Runs of killed `pipeyard run` processes sharing this database end FAILED."""
        try:
            for run_id in settle_abandoned_local_runs(self.store):
                log.info("run %s: its `pipeyard run` process is gone; marked FAILED", run_id)
        except Exception:
            log.exception("settling abandoned local runs failed; trying again later")

    def _release_expired(self) -> None:
        """PipelineConfig TTLs: finished runs' work directories go when theirs pass."""
        try:
            ttl.sweep(self.store, self.settings, utcnow())
        except Exception:
            log.exception("releasing expired runs' resources failed; trying again later")

    async def _renew_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self.config.renew_seconds)
            ticks += 1
            if ticks % 10 == 0:
                self._settle_local_runs()
                self._release_expired()
            for run_id in list(self._active):
                try:
                    held = self.store.renew_lease(run_id, self.worker_id, self.config.lease_seconds, utcnow())
                    state = self.store.get_run(run_id).state if held else None
                except Exception:
                    # A failed renewal is retried; the lease outlasts a few of them.
                    log.exception("run %s: renewing its lease failed", run_id)
                    continue
                if not held:
                    log.warning("run %s: lease lost to another worker; stopping here", run_id)
                    self._cancel(run_id, LEASE_LOST)
                elif state == "CANCELING":
                    self._cancel(run_id, TERMINATE)
