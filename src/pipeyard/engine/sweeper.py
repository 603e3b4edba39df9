"""Removing finished attempts' work directories off the path from one task to the next.

A succeeded attempt's work folder (its parameter output files, its scratch) is removed
once its outputs are read. Awaited, that removal sat between a task's end and its
successor's start; in a worker thread, ``shutil.rmtree`` cost about 2 ms of the
interpreter's time per task, which it took from the event loop (the GIL). Here the
folders queue up and one ``rm -rf`` process removes a batch of them: the kernel work
is the same, none of it in this interpreter. A batch leaves once ``BATCH`` folders
wait or ``DELAY`` seconds after its first one, so a slow run keeps few folders around;
one removal runs at a time. The run waits for the queue to empty before it ends, so
nothing is left behind once the run's final state is written. A batch smaller than
``SPAWN_FROM`` (a small run's few folders), or one ``rm`` cannot be started for, is
removed by a worker thread instead: starting a process costs more than a few folders.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from pathlib import Path

BATCH = 100
DELAY = 1.0
SPAWN_FROM = 16


class Sweeper:
    def __init__(self, batch: int = BATCH, delay: float = DELAY, spawn_from: int = SPAWN_FROM) -> None:
        self.batch = batch
        self.delay = delay
        self.spawn_from = spawn_from
        self._paths: list[str] = []
        self._job: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def remove(self, path: str | Path) -> None:
        """Remove ``path`` (a tree; errors ignored) soon, in the background."""
        self._paths.append(str(path))
        if len(self._paths) >= self.batch:
            self._start()
        elif self._timer is None and self._job is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._start)

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._job is None and self._paths:
            self._job = asyncio.ensure_future(self._drain())
            self._job.add_done_callback(self._job_done)

    async def _drain(self) -> None:
        # What waits now, at most ten batches (a command line has a limit); what is
        # queued meanwhile waits for a batch of its own (see _job_done).
        paths, self._paths = self._paths[: self.batch * 10], self._paths[self.batch * 10:]
        await _remove_trees(paths, self.spawn_from)

    def _job_done(self, job: asyncio.Task[None]) -> None:
        self._job = None
        if not job.cancelled():
            job.exception()  # removal ignores errors; nothing else can fail
        if len(self._paths) >= self.batch:  # queued during the last removal
            self._start()
        elif self._paths and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._start)

    async def finish(self) -> None:
        """Wait until everything queued is removed."""
        self._start()
        while self._job is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._job)
            await asyncio.sleep(0)  # let _job_done run
            self._start()


async def _remove_trees(paths: list[str], spawn_from: int) -> None:
    if len(paths) < spawn_from:
        await asyncio.to_thread(_rmtrees, paths)
        return
    try:  # the paths after "--": none can be taken for an option
        process = await asyncio.create_subprocess_exec(
            "rm", "-rf", "--", *paths,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:  # no rm, or no process to spare: the interpreter does it
        await asyncio.to_thread(_rmtrees, paths)
        return
    await process.wait()


def _rmtrees(paths: list[str]) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
