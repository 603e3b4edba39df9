"""The memory limit where no cgroup can be made: an RSS watchdog over the task's processes.

Every ``INTERVAL_SECONDS`` it adds up the resident memory of the task's leader and its
descendants (walking ``/proc/<pid>/task/*/children``, not all of ``/proc``); above the
limit it SIGKILLs the task's group, as the kernel's OOM killer would in a cgroup. What it
cannot do: see a spike shorter than one interval, or count a process that left the
task's process tree (a daemon whose parent exited). RLIMIT_AS is not used instead
because it limits address space, not memory: interpreters and libraries that reserve
large virtual ranges (thread stacks, arenas, JITs) fail under it long before they use
that much.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from pipeyard.launchers.process import signal_group

INTERVAL_SECONDS = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc/<pid>/task/*/children: cheap for a task's
    few processes, where a scan of all of /proc costs milliseconds on a busy machine."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.scandir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError, ValueError), open(f"{task.path}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
    return found


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of the task's leader and its descendants."""
    total = 0
    for pid in _tree(pgid):
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/statm") as f:
            total += int(f.read().split()[1]) * _PAGE
    return total


class RssGuard:
    def __init__(self, pgid: int, limit_bytes: int) -> None:
        self.pgid = pgid
        self.limit_bytes = limit_bytes
        self.tripped = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL_SECONDS)
            if group_rss_bytes(self.pgid) > self.limit_bytes:
                self.tripped = True
                signal_group(self.pgid, signal.SIGKILL)
                return

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
