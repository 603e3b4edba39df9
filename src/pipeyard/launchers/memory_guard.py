"""The memory limit where no cgroup can be made: an RSS watchdog over the task's group.

Every ``INTERVAL_SECONDS`` it adds up the resident memory of the processes in the
task's process group; above the limit it SIGKILLs the group, as the kernel's OOM
killer would in a cgroup. What it cannot do: see a spike shorter than one interval,
or count a process that left the task's process group (``setsid``). RLIMIT_AS is
not used instead because it limits address space, not memory: interpreters and
libraries that reserve large virtual ranges (thread stacks, arenas, JITs) fail under
it long before they use that much.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from pipeyard.launchers.process import group_members, signal_group

INTERVAL_SECONDS = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE")


def group_rss_bytes(pgid: int) -> int:
    total = 0
    for pid in group_members(pgid):
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
            if group_rss_bytes(self.pgid) > self.limit_bytes:
                self.tripped = True
                signal_group(self.pgid, signal.SIGKILL)
                return
            await asyncio.sleep(INTERVAL_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
