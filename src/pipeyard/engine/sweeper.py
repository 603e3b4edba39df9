"""Removing finished attempts' work directories off the path from one task to the next.

A succeeded attempt's work folder (its parameter output files, its scratch) is removed
once its outputs are read. Awaited, that removal sat between a task's end and its
successor's start: a hop to a worker thread and back, whose wake-ups cost milliseconds
on a loaded machine. Here the folders queue up and one worker-thread job at a time
removes whatever is queued; the run waits for the queue to empty before it ends, so
nothing is left behind once the run's final state is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path


class Sweeper:
    def __init__(self) -> None:
        self._paths: list[str | Path] = []
        self._job: asyncio.Future[None] | None = None

    def remove(self, path: str | Path) -> None:
        """Remove ``path`` (a tree; errors ignored) soon, in the background."""
        self._paths.append(path)
        if self._job is None:
            self._start()

    def _start(self) -> None:
        self._job = asyncio.ensure_future(asyncio.to_thread(self._drain))
        self._job.add_done_callback(self._job_done)

    def _drain(self) -> None:
        # In the worker thread; list.pop is atomic, and the loop only appends meanwhile.
        while self._paths:
            shutil.rmtree(self._paths.pop(0), ignore_errors=True)

    def _job_done(self, job: asyncio.Future[None]) -> None:
        self._job = None
        if not job.cancelled():
            job.exception()  # rmtree ignores errors; nothing else can fail
        if self._paths:  # queued after the thread's last look
            self._start()

    async def finish(self) -> None:
        """Wait until everything queued is removed."""
        while self._job is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._job)
            await asyncio.sleep(0)  # let _job_done run (it may start another job)
