"""A launcher that runs each task attempt as a task on a Ray cluster.

For when one machine is not enough: the engine, the store and the task logs
stay on the driver (the machine running pipeyard); every attempt's command runs
in a Ray worker, wherever Ray schedules it.

- Each attempt is one Ray task (``_run_attempt``, a streaming generator). On its
  worker it starts the command as the leader of its own process group, with the
  request's env on top of the worker's environment, and yields the output in
  chunks as it comes; the driver appends them to ``log_path`` and hands lines to
  ``on_output``. The last item is the exit code.
- Timeouts are enforced on the worker: SIGTERM to the group, a grace period,
  then SIGKILL. Cancelling the awaiting coroutine cancels the Ray task (without
  ``force``, so Ray raises KeyboardInterrupt inside it rather than killing the
  worker); the task kills its whole process group before it ends, and the
  driver waits for that end before re-raising. Should Ray kill the worker itself
  (the driver died, ``ray stop``), a watchdog per worker (``watchdog.py``) kills
  the groups it was running.
- KFP Python components run ``python -m kfp.dsl.executor_main`` with the
  worker's interpreter and ``_KFP_RUNTIME=true``; a lightweight component's
  source goes to a temp ``ephemeral_component.py`` on the worker. KFP's
  ``pip install`` bootstrap never runs.
- ``packages_to_install`` (and ``pip_index_urls``) are installed by the attempt on
  its node, into a venv per requirement set (``venvs.py``, as the local launcher does)
  that still sees the worker's own site packages, so kfp and pipeyard are not
  reinstalled; every later task with the same set reuses it. The venvs live in the
  Ray node's session directory (``PIPEYARD_RAY_ENVS_DIR`` to choose). Not Ray's
  ``pip`` runtime environment: from a worker that runs in a virtualenv Ray clones
  that whole virtualenv per requirement set (a gigabyte and a minute here).
- Resources (``ray_resources.py``): CPUs, memory, GPUs and custom resources become
  Ray task options; a request no single node can hold is refused at once. Tasks
  are spread over the nodes (``PIPEYARD_RAY_SCHEDULING=DEFAULT`` for Ray's policy).
- The first item an attempt yields names its node; the launcher returns it in
  ``LaunchResult.details`` for the task's details. When the node dies mid-task the
  attempt fails naming it, and when the engine will not retry (no retry policy)
  the launcher resubmits it once to the remaining nodes.
- ``mounts`` are not supported yet: such a request fails naming the paths.

Nodes need not share the driver's filesystem when the pipeline root is remote
(``s3://``, ``gs://``, ``minio://``): the attempt fetches its staged inputs from the
bucket on its node, uploads its outputs there and sends back the executor's
small output files (``ray_files.py``). With a local pipeline root every node must
see ``PIPEYARD_HOME`` at the same path (one node, or a shared filesystem).
Workers need the same ``pipeyard`` and ``kfp`` installed as the driver, and the
credentials of the bucket in their environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from pipeyard.launchers import ray_files
from pipeyard.launchers.base import LaunchRequest, LaunchResult
from pipeyard.launchers.host_env import task_base_env
from pipeyard.launchers.process import (
    DRAIN_SECONDS,
    REAP_SECONDS,
    TERM_GRACE_SECONDS,
    append_to_log,
    group_members,
    signal_group,
)
from pipeyard.launchers.ray_files import NodeFiles
from pipeyard.launchers.ray_resources import ray_options, refusal
from pipeyard.launchers.venvs import VenvError, VirtualEnvs
from pipeyard.launchers.watchdog import GroupWatchdog

# "SPREAD" places a fan-out's tasks across the nodes; "DEFAULT" is Ray's own
# policy (fill the driver's node first).
SCHEDULING_ENV = "PIPEYARD_RAY_SCHEDULING"
# Where a node keeps the venvs of packages_to_install (default: its Ray session dir).
ENVS_DIR_ENV = "PIPEYARD_RAY_ENVS_DIR"
# How long a cancelled attempt may take to report that its processes are gone.
_CANCEL_WAIT_SECONDS = 30.0
_READ_CHUNK = 1 << 16
# Off the main thread a Ray cancellation cannot wake a blocked wait, so wait in slices.
_FALLBACK_WAKE_SECONDS = 0.5


@dataclass(frozen=True)
class _AttemptSpec:
    """What the Ray task needs: plain data, so it pickles to any worker."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str | None
    timeout_seconds: float | None
    # argv is executor_main's arguments: run them with the worker's interpreter.
    kfp_executor: bool = False
    source: str | None = None
    module_dirs: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    files: NodeFiles = NodeFiles()
    driver_node: str = ""  # the driver's Ray node id: files are shared there
    packages: tuple[str, ...] = ()  # packages_to_install, with their index URLs
    index_urls: tuple[str, ...] = ()


# Items the attempt yields: ("node", node id, ip, host name) first, ("out", bytes)
# chunks, then ("error", message) when nothing could be started, or ("files",
# {path: bytes}) for a node other than the driver's and ("exit", exit code or None,
# timed out, outputs uploaded).
_Item = tuple[Any, ...]


# ----------------------------------------------------------------------------- worker side


def _start_error(exc: OSError, executable: str, cwd: str | None) -> str:
    if cwd is not None and exc.filename == cwd:
        return f"working directory {cwd!r} does not exist or is not accessible ({exc.strerror})"
    if isinstance(exc, FileNotFoundError):
        return f"executable {executable!r} not found"
    if isinstance(exc, PermissionError):
        return f"executable {executable!r} is not executable (permission denied)"
    return f"{executable!r}: {exc}"


def _wait_gone(pids: list[int], timeout: float) -> None:
    """Block until every pid has exited (pidfds, no sleeping), or the timeout passes."""
    poller = select.poll()
    fds: list[int] = []
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            continue
        fds.append(fd)
        poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    try:
        remaining = set(fds)
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for fd, _ in poller.poll(left * 1000):
                poller.unregister(fd)
                remaining.discard(fd)
    finally:
        for fd in fds:
            os.close(fd)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the attempt's group, reap the leader, wait until no member runs."""
    if signal_group(process.pid, signal.SIGKILL):
        _wait_gone(group_members(process.pid), REAP_SECONDS)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(REAP_SECONDS)


def _terminate_group(process: subprocess.Popen[bytes]) -> None:
    if signal_group(process.pid, signal.SIGTERM):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(TERM_GRACE_SECONDS)
    _kill_group(process)


def _here() -> tuple[str, str, str]:
    import socket

    return ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address(), socket.gethostname()


def _attempt_items(spec: _AttemptSpec) -> Iterator[_Item]:
    node_id, ip, host = _here()
    yield ("node", node_id, ip, host)
    remote_node = node_id != spec.driver_node
    created: list[str] = []
    try:
        try:
            created = ray_files.prepare(spec.files)
        except Exception as e:  # the task cannot run without its inputs
            yield ("error", f"on Ray node {ip}: cannot fetch the task's inputs: {type(e).__name__}: {e}")
            return
        last: _Item | None = None
        for item in _command_items(spec):
            if item[0] == "exit":
                last = item
                break
            yield item
        if last is None:
            return
        uploaded = False
        if last[1] == 0 and not last[2] and spec.files.remote:
            try:
                ray_files.upload_outputs(spec.files)
                uploaded = True
            except Exception as e:
                yield ("error", f"on Ray node {ip}: uploading the task's outputs to "
                                f"{spec.files.task_root_uri} failed: {type(e).__name__}: {e}")
                return
        if remote_node:
            yield ("files", ray_files.collect_returned(spec.files))
        yield (*last, uploaded)
    finally:
        if remote_node and spec.files.remote:
            ray_files.remove_created(created)


def _node_envs_dir() -> Path:
    chosen = os.environ.get(ENVS_DIR_ENV)
    if chosen:
        return Path(chosen)
    with contextlib.suppress(Exception):  # Ray's private API: its layout may change
        node = ray._private.worker.global_worker.node
        if node is not None:
            return Path(node.get_session_dir_path(), "pipeyard-envs")
    return Path(tempfile.gettempdir(), f"pipeyard-ray-envs-{os.getuid()}")


def _interpreter(spec: _AttemptSpec) -> Iterator[_Item]:
    """Yields what installing the task's packages says, then ("python", path)."""
    if not spec.packages:
        yield ("python", sys.executable)
        return
    envs = VirtualEnvs(_node_envs_dir())
    if not envs.on_host(spec.packages) and not envs.path_for(spec.packages, spec.index_urls).exists():
        yield ("out", f"pipeyard: installing {' '.join(spec.packages)} on this node\n".encode())
    try:
        python = envs.ensure(spec.packages, spec.index_urls)
    except VenvError as exc:
        yield ("error", f"{exc}\n{exc.output}".rstrip())
        return
    yield ("python", str(python))


def _command_items(spec: _AttemptSpec) -> Iterator[_Item]:
    env = {**task_base_env(), **spec.env, **spec.extra_env}
    argv = list(spec.argv)
    python = sys.executable
    if spec.kfp_executor:
        for item in _interpreter(spec):
            if item[0] != "python":
                yield item
                if item[0] == "error":
                    return
            else:
                python = item[1]
    module_dir: str | None = None
    if spec.source is not None:
        module_dir = tempfile.mkdtemp(prefix="pipeyard-component-")
        module_path = Path(module_dir, "ephemeral_component.py")
        module_path.write_text(spec.source)
        argv = ["--component_module_path", str(module_path), *argv]
    if spec.kfp_executor:
        argv = [python, "-m", "kfp.dsl.executor_main", *argv]
    if spec.module_dirs:
        existing = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
        env["PYTHONPATH"] = os.pathsep.join([*spec.module_dirs, *existing])
    try:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            yield ("error", f"cannot start task: {_start_error(exc, argv[0], spec.cwd)}")
            return
        # Should Ray kill this worker outright (its driver died, `ray stop`), nothing
        # below runs: the watchdog then kills the group, so a resumed run never finds
        # the old attempt still running beside the new one.
        _WATCHDOG.watch(process.pid)
        try:
            yield from _supervise(process, spec.timeout_seconds)
        finally:
            # Normal exit, timeout, or Ray's KeyboardInterrupt on cancellation: the
            # group goes with the task either way, as a container's processes would.
            _kill_group(process)
            _WATCHDOG.forget(process.pid)
    finally:
        if module_dir is not None:
            shutil.rmtree(module_dir, ignore_errors=True)


@contextlib.contextmanager
def _interrupt_pipe() -> Iterator[int | None]:
    """A fd that becomes readable when Ray cancels the task.

    Ray cancels a running task with ``_thread.interrupt_main()``, which raises
    KeyboardInterrupt only once the main thread runs Python code again, so a
    task blocked in ``select`` would never see it. CPython writes to the signal
    wakeup fd when that interrupt is requested, which wakes the ``select``.
    ``None`` off the main thread, where we fall back to short waits.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:
        os.close(read_fd)
        os.close(write_fd)
        yield None
        return
    try:
        yield read_fd
    finally:
        signal.set_wakeup_fd(previous)
        os.close(read_fd)
        os.close(write_fd)


def _supervise(process: subprocess.Popen[bytes], timeout: float | None) -> Iterator[_Item]:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = None if timeout is None else time.monotonic() + timeout
    # Set once the leader exited: what it left in its group is killed, and a
    # process that left the group may hold the pipe open only this long.
    drain_deadline: float | None = None
    timed_out = False
    with contextlib.ExitStack() as stack:
        stack.enter_context(process.stdout)
        leader_fd = os.pidfd_open(process.pid)
        stack.callback(os.close, leader_fd)
        interrupt_fd = stack.enter_context(_interrupt_pipe())
        watched = [fd, leader_fd] + ([] if interrupt_fd is None else [interrupt_fd])
        while True:
            limit = drain_deadline if drain_deadline is not None else deadline
            left = None if limit is None else max(0.0, limit - time.monotonic())
            if interrupt_fd is None:
                left = _FALLBACK_WAKE_SECONDS if left is None else min(left, _FALLBACK_WAKE_SECONDS)
            ready, _, _ = select.select(watched, [], [], left)
            if interrupt_fd is not None and interrupt_fd in ready:
                # The pending KeyboardInterrupt (if that is what woke us) is raised here.
                os.read(interrupt_fd, 512)
            if fd in ready:
                chunk = os.read(fd, _READ_CHUNK)
                if not chunk:
                    break
                yield ("out", chunk)
                continue
            if leader_fd in ready:
                watched.remove(leader_fd)
                drain_deadline = time.monotonic() + DRAIN_SECONDS
                signal_group(process.pid, signal.SIGKILL)
                continue
            now = time.monotonic()
            if drain_deadline is not None:
                if now >= drain_deadline:
                    break
            elif deadline is not None and now >= deadline:
                timed_out = True
                _terminate_group(process)
                break
    # Before reporting the exit: once the driver has it, nothing of the task may run.
    _kill_group(process)
    code = process.returncode
    if timed_out:
        yield ("out", f"pipeyard: task timed out after {timeout:g} s and was killed\n".encode())
    yield ("exit", code, timed_out)


def _run_attempt(spec: _AttemptSpec) -> Iterator[_Item]:
    yield from _attempt_items(spec)


# One per Ray worker process (this module is imported there), started with its first task.
_WATCHDOG = GroupWatchdog()

# Retries would re-run a user's command behind the engine's back; the engine owns retries.
_remote_attempt = ray.remote(num_returns="streaming", max_retries=0)(_run_attempt)


# ----------------------------------------------------------------------------- driver side


class _Output:
    """Appends an attempt's chunks to its log file and hands out complete lines."""

    def __init__(self, request: LaunchRequest) -> None:
        Path(request.log_path).parent.mkdir(parents=True, exist_ok=True)
        self._log = open(request.log_path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        self._on_output = request.on_output
        self._partial = b""

    def write(self, chunk: bytes) -> None:
        self._log.write(chunk)
        if self._on_output is None:
            return
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            self._emit(line)

    def _emit(self, line: bytes) -> None:
        if self._on_output is None:
            return
        # A faulty callback must not lose the task's log or kill the launcher.
        with contextlib.suppress(Exception):
            self._on_output(line.rstrip(b"\r").decode("utf-8", errors="replace"))

    def close(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = b""
        self._log.close()


class RayLauncher:
    """Runs attempts on the Ray cluster at ``address`` (``None``: start or attach a local one).

    ``max_parallel`` caps this launcher's attempts in flight (Ray's own resource
    accounting applies on top); ``init_kwargs`` go to ``ray.init``.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        max_parallel: int | None = None,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.max_parallel = max_parallel
        self.init_kwargs = dict(init_kwargs or {})
        self._slots = asyncio.Semaphore(max_parallel) if max_parallel else None
        self._connect_lock = asyncio.Lock()
        self._connected = False
        self._started_ray = False
        self._driver_node = ""

    async def _connect(self) -> None:
        async with self._connect_lock:
            if self._connected:
                return
            if not ray.is_initialized():
                # ray.init blocks for seconds when it starts a local cluster.
                await asyncio.to_thread(ray.init, address=self.address, **self.init_kwargs)
                self._started_ray = True
            self._driver_node = ray.get_runtime_context().get_node_id()
            self._connected = True

    def _refusal(self, request: LaunchRequest, options: dict[str, Any]) -> str | None:
        if request.mounts:
            return "the Ray launcher does not support volume mounts yet (task mounts " + ", ".join(
                sorted(request.mounts)
            ) + ")"
        return refusal(options, ray.nodes())

    def _spec(self, request: LaunchRequest) -> _AttemptSpec:
        files = _node_files(request)
        driver = self._driver_node
        program = request.python
        if program is None:
            return _AttemptSpec(request.argv, dict(request.env), request.cwd, request.timeout_seconds,
                                files=files, driver_node=driver)
        # Live logs: the task's output is a pipe, which Python would block-buffer.
        extra = {"_KFP_RUNTIME": "true", "PYTHONUNBUFFERED": request.env.get("PYTHONUNBUFFERED", "1")}
        return _AttemptSpec(
            program.executor_args,
            dict(request.env),
            request.cwd,
            request.timeout_seconds,
            kfp_executor=True,
            source=program.source,
            module_dirs=program.module_dirs,
            extra_env=extra,
            files=files,
            driver_node=driver,
            packages=program.packages,
            index_urls=program.index_urls,
        )

    async def launch(self, request: LaunchRequest) -> LaunchResult:
        if not request.argv and request.python is None:
            return LaunchResult(exit_code=None, error="task has an empty command")
        await self._connect()
        options = ray_options(request.cpu, request.memory_bytes, request.accelerator_type,
                              request.accelerator_count)
        strategy = (os.environ.get(SCHEDULING_ENV) or "SPREAD").strip().upper()
        if strategy in ("SPREAD", "DEFAULT"):
            options["scheduling_strategy"] = strategy
        refused = self._refusal(request, options)
        if refused is not None:
            append_to_log(request.log_path, f"pipeyard: {refused}", request.on_output)
            return LaunchResult(exit_code=None, error=refused)
        if self._slots is None:
            return await self._run_resubmitting(request, options)
        async with self._slots:
            return await self._run_resubmitting(request, options)

    async def _run_resubmitting(self, request: LaunchRequest, options: dict[str, Any]) -> LaunchResult:
        """One run, and when its node was lost and the engine will not retry, one more."""
        result, lost = await self._run(request, options, try_number=1)
        if not lost or request.engine_retries:
            return result
        still = self._refusal(request, options)
        if still is not None:
            return result
        append_to_log(request.log_path, "pipeyard: the task has no retry policy: resubmitting it once "
                      "to the remaining nodes", request.on_output)
        second, _ = await self._run(request, options, try_number=2)
        tries = [*result.details.get("tries", []), *second.details.get("tries", [])]
        return dataclasses.replace(second, details={**second.details, "tries": tries,
                                                    "lost": result.error})

    async def _run(self, request: LaunchRequest, options: dict[str, Any],
                   try_number: int) -> tuple[LaunchResult, bool]:
        """The result, and whether the node running it was lost."""
        # An ObjectRefGenerator at run time; Ray's stubs call it an ObjectRef.
        generator: Any = _remote_attempt.options(**options).remote(self._spec(request))
        output = _Output(request)
        node: dict[str, str] = {}

        def result(exit_code: int | None, **fields: Any) -> LaunchResult:
            tries = [dict(node, try_number=str(try_number))] if node else []
            details = {**node, "tries": tries} if node else {}
            return LaunchResult(exit_code=exit_code, details=details, **fields)

        try:
            try:
                async for ref in generator:
                    item = await ref
                    if item[0] == "node":
                        node = {"ray_node_id": item[1], "ray_node_ip": item[2], "hostname": item[3]}
                    elif item[0] == "out":
                        output.write(item[1])
                    elif item[0] == "files":
                        await asyncio.to_thread(ray_files.write_returned, item[1])
                    elif item[0] == "error":
                        output.write(f"pipeyard: {item[1]}\n".encode())
                        return result(None, error=item[1]), False
                    else:
                        return result(item[1], timed_out=bool(item[2]), uploaded=bool(item[3])), False
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):  # it may have just finished
                    ray.cancel(generator)
                await _until_finished(generator)
                output.write(b"pipeyard: task cancelled\n")
                raise
            except (ray.exceptions.RayError, ray.exceptions.RaySystemError) as exc:
                lost = await asyncio.to_thread(_node_lost, node.get("ray_node_id"), exc)
                if lost:
                    where = f"{node.get('ray_node_ip', '?')} (node id {node.get('ray_node_id', '?')})"
                    message = (f"the Ray node {where} running this attempt was lost "
                               f"({type(exc).__name__}); its output so far is above")
                else:
                    message = f"the Ray task failed: {exc}"
                output.write(f"pipeyard: {message}\n".encode())
                return result(None, error=message), lost
        finally:
            output.close()
        message = "the Ray task ended without reporting an exit code"
        append_to_log(request.log_path, f"pipeyard: {message}", request.on_output)
        return result(None, error=message), False

    async def aclose(self) -> None:
        # A cluster someone else connected to (a test fixture, the server) is theirs to shut down.
        if self._started_ray:
            await asyncio.to_thread(ray.shutdown)
            self._started_ray = False
        self._connected = False


def _node_files(request: LaunchRequest) -> NodeFiles:
    root, root_uri = request.staged_task_root or (None, None)
    inputs = set(request.staged_inputs)
    folders = tuple(p for p in request.host_paths if p not in inputs and p != root)
    return NodeFiles(dict(request.staged_inputs), root, root_uri, folders, request.cwd)


_NODE_LOSS = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
              ray.exceptions.ObjectLostError, ray.exceptions.LocalRayletDiedError)


def _node_lost(node_id: str | None, exc: BaseException) -> bool:
    """Whether ``exc`` means the node (or its worker process) went away, rather
    than the task's own failure."""
    if isinstance(exc, _NODE_LOSS):
        return True
    if not node_id:
        return False
    with contextlib.suppress(Exception):
        return not any(n.get("NodeID") == node_id and n.get("Alive") for n in ray.nodes())
    return False


async def _until_finished(generator: Any) -> None:
    """Wait, even if cancelled again, until the cancelled Ray task has ended: its
    ``finally`` is what kills the process group."""

    async def drain() -> None:
        with contextlib.suppress(Exception):
            async for ref in generator:
                with contextlib.suppress(Exception):
                    await ref

    task = asyncio.ensure_future(asyncio.wait_for(drain(), _CANCEL_WAIT_SECONDS))
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.shield(task)
