"""Admission control for local tasks: parallel slots, CPUs, memory and GPUs.

Every task takes one of ``max_parallel`` slots. A task that requests CPUs or
memory also needs that much free on this machine; one that requests GPUs gets
that many of ``gpus`` (device ids) to itself until it ends (``gpus.py``). Waiters are served strictly
in arrival order, so a large request is not starved by a stream of small ones;
a request that can never fit is refused up front rather than waiting forever.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass


def machine_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0


@dataclass(frozen=True)
class Need:
    cpu: float
    memory_bytes: int
    gpus: int = 0


class ResourcePool:
    def __init__(
        self,
        max_parallel: int | None = None,
        total_cpu: float | None = None,
        total_memory_bytes: int | None = None,
        gpus: Sequence[str] = (),
    ) -> None:
        cpus = os.cpu_count() or 1
        self.max_parallel = max(1, max_parallel if max_parallel is not None else cpus)
        self.total_cpu = float(total_cpu if total_cpu is not None else cpus)
        self.total_memory = total_memory_bytes if total_memory_bytes is not None else machine_memory_bytes()
        self._slots = self.max_parallel
        self._cpu = self.total_cpu
        self._memory = self.total_memory
        self.gpus = tuple(gpus)
        self._free_gpus = list(self.gpus)
        self._waiters: deque[tuple[Need, asyncio.Future[list[str]]]] = deque()

    def admission(self, cpu: float, memory_bytes: int, cpu_limit: float = 0.0,
                  memory_limit_bytes: int = 0) -> tuple[float, int]:
        """The CPU and memory a task reserves: its requests, or, for a limit without a request,
        the limit (Kubernetes' rule) capped at the whole machine. A limit above the machine
        bounds nothing here; it must not make the task unrunnable, as a request would."""
        if not cpu and cpu_limit:
            cpu = min(cpu_limit, self.total_cpu)
        if not memory_bytes and memory_limit_bytes:
            memory_bytes = min(memory_limit_bytes, self.total_memory) if self.total_memory else memory_limit_bytes
        return cpu, memory_bytes

    def refusal(self, cpu: float, memory_bytes: int, gpus: int = 0) -> str | None:
        """Why a request can never run here, or None when it can."""
        if gpus > len(self.gpus):
            return f"task requests {gpus} GPUs but this machine has {len(self.gpus)}"
        if cpu > self.total_cpu:
            return f"task requests {cpu:g} CPUs but this machine has {self.total_cpu:g}"
        if self.total_memory and memory_bytes > self.total_memory:
            return f"task requests {memory_bytes} bytes of memory but this machine has {self.total_memory}"
        return None

    def _fits(self, need: Need) -> bool:
        return (
            self._slots >= 1
            and need.cpu <= self._cpu + 1e-9
            and (not self.total_memory or need.memory_bytes <= self._memory)
            and need.gpus <= len(self._free_gpus)
        )

    def _take(self, need: Need) -> list[str]:
        devices, self._free_gpus = self._free_gpus[: need.gpus], self._free_gpus[need.gpus :]
        self._slots -= 1
        self._cpu -= need.cpu
        if self.total_memory:
            self._memory -= need.memory_bytes
        return devices

    def _give_back(self, need: Need, devices: Sequence[str]) -> None:
        self._free_gpus.extend(devices)
        self._slots += 1
        self._cpu += need.cpu
        if self.total_memory:
            self._memory += need.memory_bytes
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            need, future = self._waiters[0]
            if future.done():  # cancelled while waiting
                self._waiters.popleft()
                continue
            if not self._fits(need):
                return
            self._waiters.popleft()
            future.set_result(self._take(need))

    @asynccontextmanager
    async def reserve(self, cpu: float, memory_bytes: int, gpus: int = 0) -> AsyncIterator[list[str]]:
        """Hold the resources while in the block; yields the GPU device ids taken."""
        need = Need(max(cpu, 0.0), max(memory_bytes, 0), max(gpus, 0))
        if not self._waiters and self._fits(need):
            devices = self._take(need)
        else:
            future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
            self._waiters.append((need, future))
            try:
                devices = await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._give_back(need, future.result())  # granted just as we were cancelled
                else:
                    future.cancel()
                    self._wake()
                raise
        try:
            yield devices
        finally:
            self._give_back(need, devices)

    @property
    def running(self) -> int:
        return self.max_parallel - self._slots
