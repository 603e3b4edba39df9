"""Warm fork servers: fork servers that have imported what a component imported last time.

``LocalLauncher`` asks ``pick`` for a server before it forks a task. When the component's
record (``preload.py``) has a plan, a warm server whose imports cover that plan serves
it; one being started is awaited (it is doing the import the task would do); otherwise
one is started in the background and the task runs on the plain fork server meanwhile.
``hint`` starts one server for the union of a whole pipeline's plans before its first
task, which is what makes the second run of an ML pipeline skip its import bill.
A server whose imports left threads running is closed, and the records that asked for
it are marked unsafe, so it is never tried again for them.

Two things start the import earlier still. ``remember`` keeps, per pipeline file
(its content's hash), which records its components have; ``hint_remembered`` starts
their servers from that alone, before the file is even parsed, and ``prestart_remembered``
spawns their processes first thing in ``pipeyard run``, before it has imported its engine,
store and console (seconds on a loaded machine), for the launcher's ``WarmServers`` to
adopt: on the second run of an ML pipeline that import is its critical path. And in a long-lived
launcher (``pipeyard server``) servers outlive the run that started them, so the next
run's tasks find the import done; one unused for ``idle_seconds`` is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeyard.launchers.forkserver import ForkServer, ForkServerError
from pipeyard.launchers.preload import THREAD_LIMITS, Records, plan, union

PRELOAD_ENV = "PIPEYARD_PRELOAD"
IDLE_ENV = "PIPEYARD_WARM_IDLE_SECONDS"
PRELOAD_DIR = ".preload"  # the records' folder under a launcher's envs_dir
_START_SECONDS = 300.0
_DEFAULT_IDLE_SECONDS = 600.0
_KEY_MAX_BYTES = 8 << 20


def preload_wanted() -> bool:
    return os.environ.get(PRELOAD_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def pipeline_key(path: str) -> str | None:
    """What ``remember`` files a pipeline under: its file's content, so an edit starts afresh."""
    try:
        with open(path, "rb") as f:
            data = f.read(_KEY_MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > _KEY_MAX_BYTES:
        return None  # hashing a huge spec would delay the run more than it saves
    return hashlib.sha256(data).hexdigest()[:32]


def hint_run(launcher: object, pipeline_spec: Mapping[str, Any]) -> None:
    """Let ``launcher`` (when it keeps warm servers) start importing what this run's
    components imported last time; a hint, so nothing about the run depends on it."""
    preload_for = getattr(launcher, "preload_for", None)
    if preload_for is None:
        return
    # Here, not at the top: ``prestart_remembered`` imports this module first thing in
    # ``pipeyard run``, before anything of the IR is needed.
    from pipeyard.ir.python_component import component_programs

    with contextlib.suppress(Exception):
        preload_for(component_programs(pipeline_spec.get("deploymentSpec") or {}))


def warm_note(server: ForkServer) -> str:
    return (f"forked from a warm fork server that imported {len(server.preload)} modules beforehand, "
            f"BLAS/OpenMP limited to one thread ({PRELOAD_ENV}=0 turns this off)")


def idle_seconds_from_env() -> float:
    try:
        return max(0.0, float(os.environ.get(IDLE_ENV) or _DEFAULT_IDLE_SECONDS))
    except ValueError:
        return _DEFAULT_IDLE_SECONDS


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
    used: float = 0.0  # loop time of the last pick
    idle_timer: asyncio.TimerHandle | None = None


class WarmServers:
    def __init__(self, records_root: Path, enabled: bool = True, idle_seconds: float | None = None) -> None:
        self.records = Records(records_root)
        self.enabled = enabled
        # None: servers live as long as this object (a CLI run); else closed when unused that long.
        self.idle_seconds = idle_seconds
        self._warm: list[_Warm] = []
        self._closing: set[asyncio.Future[None]] = set()

    def hint(self, interpreter: str, sources: Sequence[str]) -> None:
        """Start, in the background, one warm server for every planned source in ``sources``."""
        self._hint_paths(interpreter, [self.records.path(interpreter, source) for source in sources])

    def remember(self, pipeline_key: str, sources: Mapping[str, Sequence[str]]) -> None:
        """Note which records the pipeline ``pipeline_key`` uses, per interpreter."""
        if not self.enabled:
            return
        wanted = {interp: sorted(self.records.path(interp, s).name for s in srcs) for interp, srcs in sources.items()}
        path = _pipeline_path(self.records, pipeline_key)
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()) == wanted:
                return
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(json.dumps(wanted))
            partial.replace(path)

    def hint_remembered(self, pipeline_key: str, allowed: Callable[[str], bool]) -> None:
        """``hint`` for what ``remember`` noted for this pipeline last time, if anything,
        for the interpreters ``allowed`` accepts (a file is never trusted to name one)."""
        if not self.enabled:
            return
        for interpreter, paths in _remembered(self.records, pipeline_key, allowed):
            self._hint_paths(interpreter, paths)

    def _hint_paths(self, interpreter: str, record_paths: Sequence[Path]) -> None:
        if not self.enabled:
            return
        modules, paths = _planned(self.records, record_paths)
        if modules:
            self._covering(interpreter, modules, paths, create=True)

    async def pick(self, interpreter: str, source: str | None) -> Pick | None:
        if not self.enabled or source is None:
            return None
        path = self.records.path(interpreter, source)
        record = self.records.read(path)
        planned = plan(record)
        if planned is None:
            # Known and not worth (or not safe) preloading: no need to record it again.
            return Pick(None, path, None) if record is not None else Pick(None, path, _report_path(path, True))
        report = _report_path(path, False)
        warm = self._covering(interpreter, frozenset(planned), {path}, create=True)
        assert warm is not None and warm.start is not None
        server = await asyncio.shield(warm.start)
        self._touch(warm)
        if server is not None and not server.alive and warm in self._warm:
            self._warm.remove(warm)  # it died: the next task starts a fresh one
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
        self._touch(warm)
        return warm

    def _touch(self, warm: _Warm) -> None:
        if self.idle_seconds is None:
            return
        loop = asyncio.get_running_loop()
        warm.used = loop.time()
        if warm.idle_timer is None:
            warm.idle_timer = loop.call_later(self.idle_seconds, self._maybe_idle, warm)

    def _maybe_idle(self, warm: _Warm) -> None:
        """Close ``warm`` if nothing picked it for ``idle_seconds`` and it runs no task."""
        assert self.idle_seconds is not None
        loop = asyncio.get_running_loop()
        warm.idle_timer = None
        if warm not in self._warm or warm.start is None:
            return
        start = warm.start
        server = start.result() if start.done() and not start.cancelled() and start.exception() is None else None
        due = warm.used + self.idle_seconds - loop.time()
        if due > 0:
            warm.idle_timer = loop.call_later(due, self._maybe_idle, warm)
            return
        if not start.done() or (server is not None and server.busy):
            # Still importing, or running a task: look again later (never in a tight loop).
            warm.idle_timer = loop.call_later(max(self.idle_seconds, 1.0), self._maybe_idle, warm)
            return
        self._warm.remove(warm)
        if server is not None:
            self._closing.add(asyncio.ensure_future(server.aclose()))

    async def _start(self, warm: _Warm) -> ForkServer | None:
        # One spawned by prestart_remembered for exactly this import, or a new one.
        server = _PRESTARTED.pop((warm.interpreter, warm.modules), None)
        if server is None:
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
            if warm.idle_timer is not None:
                warm.idle_timer.cancel()
            if warm.start is None:
                continue
            if not warm.start.done():
                warm.start.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                server = await warm.start
                if server is not None:
                    await server.aclose()
        closing, self._closing = self._closing, set()
        # Spawned early for a run that did not get to use them (say, a pipeline that failed to load).
        unused = list(_PRESTARTED.values())
        _PRESTARTED.clear()
        await asyncio.gather(*closing, *(server.aclose() for server in unused), return_exceptions=True)


# Warm servers spawned by ``prestart_remembered``, by (interpreter, modules), until a
# ``WarmServers`` starting a server for the same import adopts one.
_PRESTARTED: dict[tuple[str, frozenset[str]], ForkServer] = {}


def prestart_remembered(path: str, python: str, envs_dir: Path) -> None:
    """Spawn now the warm servers the pipeline file ``path`` used last time, for the
    ``WarmServers`` of a ``LocalLauncher(envs_dir, python)`` to adopt when hinted the same.

    For ``pipeyard run``, first thing: the servers import while it imports its own modules.
    Only the interpreters that launcher accepts (``python`` and venvs under ``envs_dir``).
    One nobody adopts exits when this process does, or when a ``WarmServers`` closes."""
    if not preload_wanted():
        return
    key = pipeline_key(path)
    if key is None:
        return
    records = Records(envs_dir / PRELOAD_DIR)
    for interpreter, paths in _remembered(records, key, lambda i: runs_tasks_on(i, python, envs_dir)):
        modules, _ = _planned(records, paths)
        if not modules or (interpreter, modules) in _PRESTARTED:
            continue
        server = ForkServer(interpreter, sorted(modules), THREAD_LIMITS)
        with contextlib.suppress(ForkServerError):
            server.spawn_process()
            _PRESTARTED[(interpreter, modules)] = server


def runs_tasks_on(interpreter: str, python: str, envs_dir: Path) -> bool:
    """Whether a local launcher on ``python`` with venvs in ``envs_dir`` runs tasks on
    ``interpreter``: the host's interpreter or one of its venvs (a remembered file is
    never trusted to name any other)."""
    return interpreter == python or Path(interpreter).is_relative_to(envs_dir)


def _report_path(record: Path, make_folder: bool) -> str:
    """Where a child writes its imports for ``record``."""
    if make_folder:
        record.parent.mkdir(parents=True, exist_ok=True)
    return str(record.with_name(f".{uuid.uuid4().hex}.report"))


def _pipeline_path(records: Records, pipeline_key: str) -> Path:
    return records.root / "pipelines" / f"{pipeline_key}.json"


def _remembered(records: Records, pipeline_key: str, allowed: Callable[[str], bool]) -> list[tuple[str, list[Path]]]:
    """The record paths ``remember`` noted for this pipeline, per interpreter ``allowed`` accepts."""
    try:
        remembered = json.loads(_pipeline_path(records, pipeline_key).read_text())
        items = [(str(interp), [str(n) for n in names]) for interp, names in remembered.items()]
    except (OSError, ValueError, TypeError, AttributeError):
        return []
    found = []
    for interpreter, names in items:
        if not allowed(interpreter) or not os.path.exists(interpreter):
            continue  # e.g. a venv removed since: starting it would mark its records unsafe
        folder = records.path(interpreter, "").parent
        found.append((interpreter, [folder / Path(name).name for name in names]))
    return found


def _planned(records: Records, record_paths: Sequence[Path]) -> tuple[frozenset[str], set[Path]]:
    """The union of the records' plans, and the records that have one."""
    plans, paths = [], set()
    for path in record_paths:
        planned = plan(records.read(path))
        if planned is not None:
            plans.append(planned)
            paths.add(path)
    return frozenset(union(plans)), paths
