"""Memory and CPU limits of local tasks (``set_memory_limit``, ``set_cpu_limit``, requests).

Which mechanism holds them is decided once per launcher (``PIPEYARD_TASK_LIMITS``:
``auto``, the default, ``rss`` or ``off``):

- ``auto`` with a cgroup tree this process can write (``cgroups.py``; v2 first, then v1):
  the kernel enforces both. A task past its memory limit is OOM-killed; CPU limits are a
  CFS quota, CPU requests a relative weight.
- otherwise (or ``rss``): memory limits are held by an RSS watchdog (``memory_guard.py``);
  CPU limits are not enforced, and each such task's log says so.
- ``off``: nothing is enforced (admission by request still is, in ``resources.py``).

Either way a task killed for its memory fails with ``out of memory: limit 650M``.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from pipeyard.launchers import cgroups
from pipeyard.launchers.base import LaunchRequest
from pipeyard.launchers.memory_guard import RssGuard

LIMITS_ENV = "PIPEYARD_TASK_LIMITS"
_UNITS = [("Ei", 1024**6), ("E", 1000**6), ("Pi", 1024**5), ("P", 1000**5), ("Ti", 1024**4), ("T", 1000**4),
          ("Gi", 1024**3), ("G", 1000**3), ("Mi", 1024**2), ("M", 1000**2), ("Ki", 1024), ("k", 1000)]


def format_memory(n: int) -> str:
    """Bytes as the Kubernetes quantity a user would have written: 650000000 -> "650M"."""
    for suffix, factor in _UNITS:
        if n >= factor and n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


def oom_message(limit_bytes: int) -> str:
    return f"out of memory: limit {format_memory(limit_bytes)}"


@dataclass
class Enforcement:
    """The limits of one attempt while it runs."""

    limit_bytes: int
    group: cgroups.TaskGroup | None = None
    rss_limit: int = 0
    notes: list[str] = field(default_factory=list)  # said in the task's log before it starts
    _guard: RssGuard | None = None

    @property
    def procs_files(self) -> tuple[str, ...]:
        return self.group.procs_files if self.group is not None else ()

    def started(self, pgid: int) -> None:
        if self.rss_limit:
            self._guard = RssGuard(pgid, self.rss_limit)
            self._guard.start()

    async def finished(self) -> bool:
        """Stop watching and remove the task's groups; True when memory killed the task."""
        oom = False
        if self._guard is not None:
            await self._guard.stop()
            oom = self._guard.tripped
        if self.group is not None:
            oom = oom or self.group.oom_kills() > 0
            await asyncio.to_thread(self.group.remove)
        return oom


class TaskLimits:
    def __init__(self, mode: str | None = None) -> None:
        self.mode = (mode or os.environ.get(LIMITS_ENV, "auto")).strip().lower() or "auto"
        if self.mode not in ("auto", "rss", "off"):
            raise ValueError(f"{LIMITS_ENV}={self.mode!r}: want auto, rss or off")
        self._tree: cgroups.CgroupTree | None = None
        self._probed = False

    @property
    def tree(self) -> cgroups.CgroupTree | None:
        if not self._probed:
            self._probed = True
            if self.mode == "auto":
                self._tree = cgroups.detect()
        return self._tree

    @property
    def backend(self) -> str:
        """What enforces limits here: "cgroup v2", "cgroup v1", "rss watchdog" or "off"."""
        if self.mode == "off":
            return "off"
        tree = self.tree
        return f"cgroup v{tree.version}" if tree is not None else "rss watchdog"

    def begin(self, request: LaunchRequest) -> Enforcement:
        limits = cgroups.Limits(request.memory_limit_bytes, request.cpu_limit, request.cpu)
        enforcement = Enforcement(request.memory_limit_bytes)
        if self.mode == "off" or not limits.any:
            return enforcement
        tree = self.tree
        if tree is not None:
            try:
                enforcement.group = tree.create(limits)
                return enforcement
            except OSError as e:
                enforcement.notes.append(f"pipeyard: cannot make the task's cgroup ({e}); using the RSS watchdog")
        enforcement.rss_limit = request.memory_limit_bytes
        if request.cpu_limit:
            enforcement.notes.append(
                f"pipeyard: CPU limit {request.cpu_limit:g} is not enforced: no writable cgroup on this machine")
        return enforcement

    def close(self) -> None:
        if self._tree is not None:
            self._tree.close()
            self._tree = None
            self._probed = False
