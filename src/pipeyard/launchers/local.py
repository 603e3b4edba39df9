"""The default launcher: every task is a child process on this machine.

- Each task leads its own session/process group; cancelling or timing out a
  task terminates the whole group (SIGTERM, a short grace, SIGKILL) and waits
  until none of its processes runs. When the task's main process exits, any
  process it left behind in its group is killed too, as a container's would be.
- Output (stdout and stderr, interleaved) is appended to ``log_path`` and passed
  line by line to ``on_output``.
- ``python`` and ``python3`` on the task's PATH are the task's interpreter (see
  ``shims.py``), never whichever bare interpreter comes first on the host PATH.
- KFP Python components (``request.python``) run ``kfp.dsl.executor_main``
  directly with ``_KFP_RUNTIME=true``, never KFP's ``pip install kfp``
  bootstrap; by default through a fork server (``forkserver.py``) that has
  already imported it. ``packages_to_install`` go into cached venvs
  (``venvs.py``); nothing is installed into the host environment.
- ``mounts`` use a private mount namespace when possible (with a private root when a
  mount point is missing, so nothing is created on the host), else argv rewriting
  (``mounts.py`` explains both).
- ``max_parallel`` slots (default: two per CPU, ``TASKS_PER_CPU``), and CPU / memory /
  GPU requests, are enforced by ``resources.py``; a request larger than the machine fails at once. Memory and
  CPU limits hold while the task runs (``task_limits.py``: a cgroup per attempt
  that the task enters before exec, else an RSS watchdog); GPUs are handed out
  through ``CUDA_VISIBLE_DEVICES`` (``gpus.py``).

The fork server is on by default; ``LocalLauncher(fork_server=False)`` or the
environment variable ``PIPEYARD_FORK_SERVER=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path

from pipeyard.ir.python_component import PythonProgram
from pipeyard.launchers import arg_files, gpus
from pipeyard.launchers.base import LaunchRequest, LaunchResult
from pipeyard.launchers.component_files import ComponentFiles
from pipeyard.launchers.forkserver import ForkServer, ForkServerError, fork_server_enabled
from pipeyard.launchers.host_env import task_base_env_shared
from pipeyard.launchers.mounts import Mounter
from pipeyard.launchers.priority import lower_priority, task_nice_from_env
from pipeyard.launchers.process import (
    REAP_SECONDS,
    OutputPump,
    append_to_log,
    kill_group,
    start_error,
    terminate_group,
)
from pipeyard.launchers.resources import ResourcePool
from pipeyard.launchers.shims import shim_dir, with_path_prepended
from pipeyard.launchers.task_limits import Enforcement, TaskLimits, oom_message
from pipeyard.launchers.venvs import VenvError, VirtualEnvs
from pipeyard.launchers.warm import (
    PRELOAD_DIR,
    Pick,
    WarmServers,
    idle_seconds_from_env,
    pipeline_key,
    preload_wanted,
    runs_tasks_on,
    warm_note,
)
from pipeyard.launchers.watchdog import GroupWatchdog

# Tasks at once without resource requests, per CPU. One per CPU left a core idle while this
# process did a finished task's bookkeeping and started the next (a fan-out of trivial
# tasks ran at the speed of a chain); requests (cpu=...) still reserve whole CPUs.
TASKS_PER_CPU = 2
_FORK_SERVER_START_SECONDS = 60.0


def _fork_server_wanted(flag: bool) -> bool:
    return flag and fork_server_enabled()


async def _uncancellable(awaitable: Awaitable[object]) -> None:
    """Run cleanup to completion even if our caller is cancelled again meanwhile."""
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
    task.result()


class LocalLauncher:
    def __init__(
        self,
        max_parallel: int | None = None,
        *,
        envs_dir: Path,
        python: str = sys.executable,
        fork_server: bool = True,
        mount_namespaces: bool = True,
        gpu_devices: Sequence[str] | None = None,
    ) -> None:
        self.envs_dir = Path(envs_dir)
        self.python = python
        self.fork_server = _fork_server_wanted(fork_server)
        self.venvs = VirtualEnvs(self.envs_dir, python)
        if max_parallel is None:
            max_parallel = TASKS_PER_CPU * (os.cpu_count() or 1)
        self._pool = ResourcePool(max_parallel, gpus=gpus.list_gpus() if gpu_devices is None else gpu_devices)
        self._mounter = Mounter(mount_namespaces, scratch=self.envs_dir.parent / "tmp" / "mount-roots")
        self._servers: dict[str, ForkServer] = {}
        self._server_locks: dict[str, asyncio.Lock] = {}
        self._server_failed: set[str] = set()
        self._warming: asyncio.Future[ForkServer | None] | None = None
        self._watchdog = GroupWatchdog()
        self.limits = TaskLimits()
        self.task_nice = task_nice_from_env()  # tasks yield the CPU to the API (priority.py)
        self._component_files = ComponentFiles()
        self._warm_servers = WarmServers(self.envs_dir / PRELOAD_DIR, enabled=self.fork_server and preload_wanted(),
                                         idle_seconds=idle_seconds_from_env())
        self._pipeline_key: str | None = None
        self._host_envs: dict[str, tuple[Mapping[str, str], dict[str, str]]] = {}
        self._launching = 0

    def warm_up(self) -> None:
        """Start the fork server now, in the background (call from a running loop).

        Its interpreter spends a few hundred milliseconds importing the KFP
        executor; started before the caller loads the pipeline and opens the
        store, that happens on another core instead of before the first task."""
        if self.fork_server and self._warming is None:
            self._warming = asyncio.ensure_future(self._server_for(self.python))

    def preload_file(self, path: str) -> None:
        """Start at once the warm fork servers this pipeline file's tasks used last time
        (``WarmServers.hint_remembered``), before it is parsed; call from a running loop."""
        if not self._warm_servers.enabled:
            return
        self._pipeline_key = pipeline_key(path)
        if self._pipeline_key is not None:
            self._warm_servers.hint_remembered(self._pipeline_key, self._own_interpreter)

    def _own_interpreter(self, interpreter: str) -> bool:
        """The host's interpreter or one of our venvs: what a task of ours can run on."""
        return runs_tasks_on(interpreter, self.python, self.envs_dir)

    def preload_for(self, programs: Sequence[PythonProgram]) -> None:
        """Start, in the background, fork servers that have imported what these components
        imported last time (``warm.py``), one per interpreter they will run on (the host's,
        or the venv of their ``packages_to_install``); call from a running loop before the run."""
        if not self._warm_servers.enabled:
            return
        by_interpreter: dict[str, list[str]] = {}
        for program in programs:
            if program.source is None:
                continue
            # A venv not built yet has no record either: its first task builds and records it.
            interpreter = self.venvs.ready(program.packages, program.index_urls) if program.packages else self.python
            if interpreter is not None:
                by_interpreter.setdefault(str(interpreter), []).append(program.source)
        for interpreter, sources in by_interpreter.items():
            self._warm_servers.hint(interpreter, sources)
        if self._pipeline_key is not None:
            self._warm_servers.remember(self._pipeline_key, by_interpreter)

    @property
    def max_parallel(self) -> int:
        return self._pool.max_parallel

    async def launch(self, request: LaunchRequest) -> LaunchResult:
        # How many tasks this launcher is running: one alone is a chain (see _run_forked).
        self._launching += 1
        try:
            return await self._launch(request)
        finally:
            self._launching -= 1

    async def _launch(self, request: LaunchRequest) -> LaunchResult:
        gpu = gpus.plan(request.accelerator_type, request.accelerator_count, self._pool.gpus)
        cpu, memory = self._pool.admission(request.cpu, request.memory_bytes, request.cpu_limit,
                                           request.memory_limit_bytes)
        refusal = self._pool.refusal(cpu, memory, gpu.count)
        if refusal is not None:
            append_to_log(request.log_path, f"pipeyard: {refusal}", request.on_output)
            return LaunchResult(exit_code=None, error=refusal)
        if gpu.note:
            append_to_log(request.log_path, f"pipeyard: {gpu.note}", request.on_output)
        async with self._pool.reserve(cpu, memory, gpu.count) as devices:
            cuda = gpus.task_env(devices, bool(self._pool.gpus))
            if cuda:
                request = dataclasses.replace(request, env={**request.env, **cuda})
            limits = self.limits.begin(request)
            for note in limits.notes:
                append_to_log(request.log_path, note, request.on_output)
            try:
                if request.python is not None:
                    return await self._run_python(request, request.python, limits)
                return await self._run_command(request, request.argv, self._env(request, self.python), limits)
            finally:
                # A task that never started leaves an empty group; remove it.
                if limits.group is not None:
                    await _uncancellable(asyncio.to_thread(limits.group.remove))

    async def aclose(self) -> None:
        if self._warming is not None:
            # Let a start in progress finish, so the server it made is closed below.
            await asyncio.gather(self._warming, return_exceptions=True)
            self._warming = None
        await self._warm_servers.aclose()
        servers, self._servers = list(self._servers.values()), {}
        await asyncio.gather(*(server.aclose() for server in servers), return_exceptions=True)
        self._watchdog.close()
        await asyncio.to_thread(self.limits.close)
        self._component_files.close()

    # ------------------------------------------------------------------ environment

    def _env(self, request: LaunchRequest, interpreter: str) -> dict[str, str]:
        # The host's part, with the interpreter's shims first on PATH, is the same for every
        # task until os.environ changes: built once per interpreter (it was 0.4 ms a task).
        host = task_base_env_shared()
        cached = self._host_envs.get(interpreter)
        if cached is None or cached[0] is not host:
            cached = (host, with_path_prepended(dict(host), shim_dir(self.envs_dir, interpreter)))
            self._host_envs[interpreter] = cached
        env = {**cached[1], **request.env}
        if "PATH" in request.env:  # the task's own PATH, still behind the shims
            env = with_path_prepended(env, shim_dir(self.envs_dir, interpreter))
        return env

    # ------------------------------------------------------------------ Python components

    async def _run_python(self, request: LaunchRequest, program: PythonProgram, limits: Enforcement) -> LaunchResult:
        interpreter = self.python
        if program.packages:
            try:
                venv_python = await asyncio.to_thread(self.venvs.ensure, program.packages, program.index_urls)
            except VenvError as exc:
                message = f"{exc}\n{exc.output}".rstrip()
                append_to_log(request.log_path, f"pipeyard: {message}", request.on_output)
                return LaunchResult(exit_code=None, error=message)
            interpreter = str(venv_python)
        env = self._env(request, interpreter)
        env["_KFP_RUNTIME"] = "true"
        # Live logs: the task's output is a pipe, which Python would block-buffer.
        env.setdefault("PYTHONUNBUFFERED", "1")
        args = list(program.executor_args)
        module_dir: str | None = None
        if program.source is not None:
            module_path = self._component_files.path_for(program.source)
            args = ["--component_module_path", str(module_path), *args]
        if arg_files.needs_spill(args):
            module_dir = module_dir or tempfile.mkdtemp(prefix="pipeyard-component-")
            args = arg_files.spill(args, Path(module_dir))
        try:
            if self.fork_server and not request.mounts:
                pick = await self._warm_servers.pick(interpreter, program.source)
                # A warm server serves the task by itself: the plain one is wanted only without it.
                server = pick.server if pick is not None and pick.server is not None else None
                server = server or await self._server_for(interpreter)
                if server is not None:
                    with contextlib.suppress(ForkServerError):
                        return await self._run_forked(server, request, args, env, program.module_dirs, limits,
                                                      pick)
            if program.module_dirs:
                existing = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
                env["PYTHONPATH"] = os.pathsep.join([*program.module_dirs, *existing])
            argv = (interpreter, "-c", arg_files.BOOTSTRAP, *args)
            return await self._run_command(request, argv, env, limits)
        finally:
            if module_dir is not None:
                shutil.rmtree(module_dir, ignore_errors=True)

    async def _server_for(self, interpreter: str) -> ForkServer | None:
        if interpreter in self._server_failed:
            return None
        running = self._servers.get(interpreter)
        if running is not None and running.alive:
            return running  # the common case, without taking the lock
        lock = self._server_locks.setdefault(interpreter, asyncio.Lock())
        async with lock:
            server = self._servers.get(interpreter)
            if server is not None and server.alive:
                return server
            if server is not None:
                await server.aclose()  # it died; start a fresh one
            server = ForkServer(interpreter)
            try:
                await asyncio.wait_for(server.start(), _FORK_SERVER_START_SECONDS)
            except (ForkServerError, TimeoutError, asyncio.TimeoutError):
                await server.aclose()
                self._server_failed.add(interpreter)
                self._servers.pop(interpreter, None)
                return None
            self._servers[interpreter] = server
            return server

    async def _run_forked(
        self,
        server: ForkServer,
        request: LaunchRequest,
        args: Sequence[str],
        env: Mapping[str, str],
        module_dirs: Sequence[str],
        limits: Enforcement,
        pick: Pick | None = None,
    ) -> LaunchResult:
        """Run through the fork server; ForkServerError means nothing ran, so fall back."""
        if pick is not None and pick.server is not None:
            # Said in the log because numpy then runs with one BLAS thread (preload.py).
            append_to_log(request.log_path, f"pipeyard: {warm_note(pick.server)}", request.on_output)
        read_fd, write_fd = os.pipe()
        pump = OutputPump(read_fd, request.log_path, request.on_output)
        report = pick.report if pick is not None else None
        try:
            forked = await server.spawn(args, env, request.cwd, module_dirs, write_fd, limits.procs_files, report,
                                        alone=self._launching == 1)
        except BaseException:
            pump.close_unstarted()
            raise
        finally:
            os.close(write_fd)
        pump.start()
        result = await self._supervise(request, forked.pid, forked.exited, pump, limits)
        if pick is not None:
            self._warm_servers.after_task(pick)
        return result

    # ------------------------------------------------------------------ any command

    async def _run_command(
        self, request: LaunchRequest, argv: Sequence[str], env: dict[str, str], limits: Enforcement
    ) -> LaunchResult:
        if not argv:
            return LaunchResult(exit_code=None, error="task has an empty command")
        plan = self._mounter.plan(argv, request.mounts)
        try:
            # Under unshare or the cgroup prologue a missing executable would only show as
            # exit 127; say it clearly.
            if (
                (plan.namespaced or limits.procs_files)
                and not any(argv[0].startswith(c.rstrip("/") + "/") for c in request.mounts)
                and shutil.which(argv[0], path=env.get("PATH")) is None
            ):
                return self._not_started(request, f"executable {argv[0]!r} not found")
            read_fd, write_fd = os.pipe()
            pump = OutputPump(read_fd, request.log_path, request.on_output)
            try:
                process = await asyncio.create_subprocess_exec(
                    *_enter_groups(limits.procs_files, plan.argv),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=write_fd,
                    stderr=write_fd,
                    cwd=request.cwd,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                pump.close_unstarted()
                return self._not_started(request, start_error(exc, plan.argv[0], request.cwd))
            finally:
                os.close(write_fd)
            pump.start()
            exited = asyncio.ensure_future(process.wait())
            return await self._supervise(request, process.pid, exited, pump, limits)
        finally:
            self._mounter.release(plan)

    def _not_started(self, request: LaunchRequest, message: str) -> LaunchResult:
        append_to_log(request.log_path, f"pipeyard: cannot start task: {message}", request.on_output)
        return LaunchResult(exit_code=None, error=f"cannot start task: {message}")

    async def _supervise(
        self, request: LaunchRequest, pgid: int, exited: asyncio.Future[int], pump: OutputPump,
        limits: Enforcement,
    ) -> LaunchResult:
        """Wait for the task's exit, honouring timeout and cancellation; leave no process behind,
        even when this process is killed meanwhile (the watchdog stops the group then)."""
        lower_priority(pgid, self.task_nice)
        self._watchdog.watch(pgid)
        limits.started(pgid)
        try:
            result = await self._wait_task(request, pgid, exited, pump)
        finally:
            self._watchdog.forget(pgid)
            out_of_memory = await _uncancellable_result(limits.finished())
        if out_of_memory and not result.succeeded and not result.timed_out:
            message = oom_message(limits.limit_bytes)
            append_to_log(request.log_path, f"pipeyard: {message}", request.on_output)
            return LaunchResult(exit_code=result.exit_code, error=message)
        return result

    async def _wait_task(
        self, request: LaunchRequest, pgid: int, exited: asyncio.Future[int], pump: OutputPump
    ) -> LaunchResult:

        def leader_exited() -> asyncio.Future[int]:
            return exited

        async def stop(note: str | None) -> None:
            await terminate_group(pgid, leader_exited)
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), REAP_SECONDS)
            await pump.finish()
            if note:
                pump_note(note)

        def pump_note(note: str) -> None:
            append_to_log(request.log_path, note, request.on_output)

        try:
            done, _ = await asyncio.wait({exited}, timeout=request.timeout_seconds)
        except asyncio.CancelledError:
            await _uncancellable(stop("pipeyard: task cancelled"))
            raise
        if not done:
            await _uncancellable(
                stop(f"pipeyard: task timed out after {request.timeout_seconds:g} s and was killed")
            )
            code = exited.result() if exited.done() and not exited.exception() else None
            return LaunchResult(exit_code=code, timed_out=True)
        # Whatever the task left running in its group goes with it.
        await _uncancellable(_cleanup_after_exit(pgid, pump))
        error = exited.exception()
        if error is not None:
            message = f"lost track of the task: {error}"
            pump_note(f"pipeyard: {message}")
            return LaunchResult(exit_code=None, error=message)
        return LaunchResult(exit_code=exited.result())


async def _uncancellable_result(awaitable: Awaitable[bool]) -> bool:
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
    return task.result()


# Runs as the task's first process: joins the task's cgroups, then becomes the command,
# so nothing the task allocates is charged outside them.
_ENTER_GROUPS = 'while [ "$1" != "--" ]; do echo $$ >"$1" || exit 125; shift; done; shift; exec "$@"'


def _enter_groups(procs_files: Sequence[str], argv: Sequence[str]) -> tuple[str, ...]:
    if not procs_files:
        return tuple(argv)
    return ("/bin/sh", "-c", _ENTER_GROUPS, "sh", *procs_files, "--", *argv)


async def _cleanup_after_exit(pgid: int, pump: OutputPump) -> None:
    await kill_group(pgid)
    await pump.finish()

