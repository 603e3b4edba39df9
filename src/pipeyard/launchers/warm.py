"""Warm fork servers: fork servers that have imported what a component imported last time.

``LocalLauncher`` asks ``pick`` for a server before it forks a task. When the component's
record (``preload.py``) has a plan, a warm server whose imports cover that plan serves
it; one being started is awaited (it is doing the import the task would do); otherwise
one is started in the background and the task runs on the plain fork server meanwhile.
``hint`` starts one server for the union of a whole pipeline's plans before its first
task, which is what makes the second run of an ML pipeline skip its import bill.
A server whose imports left threads running is closed, and the records that asked for
it are marked unsafe, so it is never tried again for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeyard.launchers.forkserver import ForkServer, ForkServerError
from pipeyard.launchers.preload import THREAD_LIMITS, Records, plan, union

PRELOAD_ENV = "PIPEYARD_PRELOAD"
_START_SECONDS = 300.0


def preload_wanted() -> bool:
    return os.environ.get(PRELOAD_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass
class Pick:
    """Where a task runs and how its child reports its imports."""

    server: ForkServer | None  # a warm server, or None for the plain one
    record: Path
    report: str | None  # where the child writes its imports, when a report is wanted


@dataclass
class _Warm:
    interpreter: str
    modules: frozenset[str]
    records: set[Path] = field(default_factory=set)
    start: asyncio.Task[ForkServer | None] | None = None


class WarmServers:
    def __init__(self, records_root: Path, enabled: bool = True) -> None:
        self.records = Records(records_root)
        self.enabled = enabled
        self._warm: list[_Warm] = []

    def hint(self, interpreter: str, sources: Sequence[str]) -> None:
        """Start, in the background, one warm server for every planned source in ``sources``."""
        if not self.enabled:
            return
        plans, paths = [], set()
        for source in sources:
            path = self.records.path(interpreter, source)
            planned = plan(self.records.read(path))
            if planned is not None:
                plans.append(planned)
                paths.add(path)
        if plans:
            self._covering(interpreter, frozenset(union(plans)), paths, create=True)

    async def pick(self, interpreter: str, source: str | None) -> Pick | None:
        if not self.enabled or source is None:
            return None
        path = self.records.path(interpreter, source)
        record = self.records.read(path)
        planned = plan(record)
        report = str(path.with_name(f".{uuid.uuid4().hex}.report"))
        if record is None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if planned is None:
            # Known and not worth (or not safe) preloading: no need to record it again.
            return Pick(None, path, report if record is None else None)
        warm = self._covering(interpreter, frozenset(planned), {path}, create=True)
        assert warm is not None and warm.start is not None
        server = await asyncio.shield(warm.start)
        if server is None or not server.alive:
            return Pick(None, path, None)
        return Pick(server, path, report)

    def after_task(self, pick: Pick) -> None:
        if pick.report is not None:
            self.records.merge_child_report(pick.record, Path(pick.report), keep_previous=pick.server is not None)

    def _covering(self, interpreter: str, modules: frozenset[str], paths: set[Path], create: bool) -> _Warm | None:
        for warm in self._warm:
            if warm.interpreter == interpreter and modules <= warm.modules:
                warm.records |= paths
                return warm
        if not create:
            return None
        warm = _Warm(interpreter, modules, set(paths))
        warm.start = asyncio.ensure_future(self._start(warm))
        self._warm.append(warm)
        return warm

    async def _start(self, warm: _Warm) -> ForkServer | None:
        server = ForkServer(warm.interpreter, sorted(warm.modules), THREAD_LIMITS)
        try:
            await asyncio.wait_for(server.start(), _START_SECONDS)
        except asyncio.CancelledError:
            await server.aclose()
            raise
        except (ForkServerError, TimeoutError, asyncio.TimeoutError) as exc:
            await server.aclose()
            self.records.mark_unsafe(warm.records, server.unsafe or f"the warm fork server did not start: {exc}")
            return None
        return server

    async def aclose(self) -> None:
        warms, self._warm = self._warm, []
        for warm in warms:
            if warm.start is None:
                continue
            if not warm.start.done():
                warm.start.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                server = await warm.start
                if server is not None:
                    await server.aclose()
