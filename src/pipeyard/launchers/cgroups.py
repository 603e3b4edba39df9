"""One control group per task attempt, for memory and CPU limits the kernel enforces.

Two layouts exist and machines mix them:

- cgroup v2 (one unified tree): the task's group gets ``memory.max`` (and
  ``memory.swap.max = 0``, so it cannot escape into swap), ``cpu.max`` for a CPU limit
  and ``cpu.weight`` for a CPU request; OOM kills are counted in ``memory.events``.
  A process may only enable controllers for groups without processes, so pipeyard's
  own group ``pipeyard-<pid>`` is made beside (or, at the root, under) the group the
  launcher runs in, with the controllers enabled for its children.
- cgroup v1 (one tree per controller, e.g. ``/sys/fs/cgroup/memory``): the task gets a
  group in the memory tree (``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``)
  and one in the cpu tree (``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``, and
  ``cpu.shares``); OOM kills are counted in ``memory.oom_control``.

v2 is used when its tree offers the memory controller, else v1 when its memory tree is
writable, else nothing (``task_limits.py`` falls back to an RSS watchdog). A task enters
its groups itself, before exec (``TaskGroup.procs_files``), so not one allocation happens
outside them. Groups are removed when the attempt ends; a dead launcher's are removed by
the next one (its processes were ours, so they are killed first).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeyard.launchers.process import pid_alive

CFS_PERIOD_US = 100_000
_REMOVE_TRIES = 200
_REMOVE_PAUSE_SECONDS = 0.025
_PREFIX = "pipeyard-"


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 0  # hard memory limit
    cpu: float = 0.0  # hard CPU limit, in CPUs
    cpu_request: float = 0.0  # relative share under contention

    @property
    def any(self) -> bool:
        return bool(self.memory_bytes or self.cpu or self.cpu_request)


@dataclass
class TaskGroup:
    """The groups of one attempt (one dir on v2, one per controller on v1)."""

    dirs: tuple[Path, ...]
    procs_files: tuple[str, ...]  # the task writes its pid into each
    oom_file: Path | None  # where the OOM-kill counter is

    def oom_kills(self) -> int:
        if self.oom_file is None:
            return 0
        with contextlib.suppress(OSError, ValueError):
            for line in self.oom_file.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
        return 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in Path(procs).read_text().split())
        return sorted(found)

    def remove(self) -> None:
        """Kill whatever is still inside (a process that left the task's process group
        is still in its cgroup) and remove the groups. Blocking (up to a few seconds):
        call it from a thread."""
        _remove_tree(list(self.dirs))


def _kill_pids(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _remove_tree(dirs: list[Path]) -> None:
    for top in dirs:
        if not top.is_dir():
            continue
        # Deepest first: a cgroup directory is removed with rmdir once it has no children.
        subdirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for path in [*subdirs, top]:
            # Killed processes leave the group only once reaped (by us, or by init for
            # their orphaned children, which may take a moment): retry for a while.
            for _ in range(_REMOVE_TRIES):
                procs = path / "cgroup.procs"
                _kill_pids([int(p) for p in _read(procs).split()] if procs.exists() else [])
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(_REMOVE_PAUSE_SECONDS)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)




def _remove_stale(parent: Path) -> None:
    """Groups of launchers that died (their pid is gone) are ours to clean up."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            pid = entry.name[len(_PREFIX):]
            if (entry.name.startswith(_PREFIX) and pid.isdigit() and entry.is_dir()
                    and int(pid) != os.getpid() and not pid_alive(int(pid))):
                _remove_tree([entry])


class CgroupTree:
    """Makes task groups under this launcher's own group; ``version`` is 1 or 2."""

    version: int

    def __init__(self) -> None:
        self._names = itertools.count(1)

    def _next_name(self) -> str:
        return f"task-{next(self._names)}"

    def create(self, limits: Limits) -> TaskGroup:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class V2Tree(CgroupTree):
    version = 2

    def __init__(self, base: Path) -> None:
        super().__init__()
        self.base = base

    @classmethod
    def open(cls, mount: Path, own: str) -> V2Tree | None:
        """Our group beside our own one (v2 forbids controllers for a group with processes)."""
        own_dir = mount / own.lstrip("/")
        candidates = [own_dir.parent, own_dir] if own_dir != mount else [mount]
        for parent in candidates:
            if "memory" not in _read(parent / "cgroup.controllers").split():
                continue
            with contextlib.suppress(OSError):
                # Needed where the parent has not delegated them yet (harmless when it has).
                _write(parent / "cgroup.subtree_control", "+memory +cpu")
            _remove_stale(parent)
            base = parent / f"{_PREFIX}{os.getpid()}"
            try:
                base.mkdir(exist_ok=True)
                wanted = [c for c in ("memory", "cpu") if c in _read(base / "cgroup.controllers").split()]
                if "memory" not in wanted:
                    base.rmdir()
                    continue
                _write(base / "cgroup.subtree_control", " ".join("+" + c for c in wanted))
            except OSError:
                with contextlib.suppress(OSError):
                    base.rmdir()
                continue
            return cls(base)
        return None

    def create(self, limits: Limits) -> TaskGroup:
        path = self.base / self._next_name()
        path.mkdir()
        try:
            if limits.memory_bytes:
                _write(path / "memory.max", str(limits.memory_bytes))
                if (path / "memory.swap.max").exists():
                    _write(path / "memory.swap.max", "0")
            if limits.cpu:
                quota = max(1000, int(limits.cpu * CFS_PERIOD_US))
                _write(path / "cpu.max", f"{quota} {CFS_PERIOD_US}")
            if limits.cpu_request and (path / "cpu.weight").exists():
                # cpu.weight 100 is one CPU's default share, as cpu.shares 1024 is on v1.
                _write(path / "cpu.weight", str(min(10000, max(1, round(limits.cpu_request * 100)))))
        except OSError:
            _remove_tree([path])
            raise
        return TaskGroup((path,), (str(path / "cgroup.procs"),), path / "memory.events")

    def close(self) -> None:
        _remove_tree([self.base])


class V1Tree(CgroupTree):
    version = 1

    def __init__(self, memory_base: Path, cpu_base: Path | None) -> None:
        super().__init__()
        self.memory_base = memory_base
        self.cpu_base = cpu_base

    @classmethod
    def open(cls, memory: tuple[Path, str], cpu: tuple[Path, str] | None) -> V1Tree | None:
        bases: list[Path] = []
        for mount, own in [memory, *([cpu] if cpu else [])]:
            parent = mount / own.lstrip("/")
            _remove_stale(parent)
            base = parent / f"{_PREFIX}{os.getpid()}"
            try:
                base.mkdir(exist_ok=True)
            except OSError:
                if not bases:
                    return None  # no memory tree: no v1 at all
                break  # memory without cpu
            bases.append(base)
        return cls(bases[0], bases[1] if len(bases) > 1 else None)

    def create(self, limits: Limits) -> TaskGroup:
        name = self._next_name()
        mem = self.memory_base / name
        mem.mkdir()
        dirs = [mem]
        try:
            if limits.memory_bytes:
                _write(mem / "memory.limit_in_bytes", str(limits.memory_bytes))
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    _write(mem / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
            if self.cpu_base is not None and (limits.cpu or limits.cpu_request):
                cpu = self.cpu_base / name
                cpu.mkdir()
                dirs.append(cpu)
                if limits.cpu:
                    _write(cpu / "cpu.cfs_period_us", str(CFS_PERIOD_US))
                    _write(cpu / "cpu.cfs_quota_us", str(max(1000, int(limits.cpu * CFS_PERIOD_US))))
                if limits.cpu_request:
                    _write(cpu / "cpu.shares", str(max(2, round(limits.cpu_request * 1024))))
        except OSError:
            _remove_tree(dirs)
            raise
        return TaskGroup(tuple(dirs), tuple(str(d / "cgroup.procs") for d in dirs), mem / "memory.oom_control")

    def close(self) -> None:
        _remove_tree([self.memory_base, *([self.cpu_base] if self.cpu_base else [])])


def _mounts(mounts_file: str) -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, options) of the cgroup file systems."""
    found = []
    for line in _read(Path(mounts_file)).splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
            found.append((parts[1], parts[2], set(parts[3].split(","))))
    return found


def _own_paths(cgroup_file: str) -> dict[str, str]:
    """Controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in _read(Path(cgroup_file)).splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def detect(mounts_file: str = "/proc/self/mounts", cgroup_file: str = "/proc/self/cgroup",
           root: str = "") -> CgroupTree | None:
    """The tree this process can make task groups in, or None. ``root`` prefixes the mount
    points (tests point it at a fake file system)."""
    mounts = _mounts(mounts_file)
    own = _own_paths(cgroup_file)
    for point, kind, _ in mounts:
        if kind == "cgroup2" and "" in own:
            tree = V2Tree.open(Path(root + point), own[""])
            if tree is not None:
                return tree
    memory = next(((Path(root + p), own.get("memory", "/")) for p, k, o in mounts
                   if k == "cgroup" and "memory" in o), None)
    cpu = next(((Path(root + p), own.get("cpu", "/")) for p, k, o in mounts if k == "cgroup" and "cpu" in o), None)
    if memory is not None and os.access(memory[0] / memory[1].lstrip("/"), os.W_OK):
        return V1Tree.open(memory, cpu)
    return None
