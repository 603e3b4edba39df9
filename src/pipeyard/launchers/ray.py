"""A launcher that runs each task attempt as a task on a Ray cluster.

For when one machine is not enough: the engine, the store and the task logs
stay on the driver (the machine running pipeyard); every attempt's command runs
in a Ray worker, wherever Ray schedules it.

- Each attempt is one Ray task (``ray_node.py``, a streaming generator). On its
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
from pathlib import Path
from typing import Any

import ray

from pipeyard.launchers import ray_files
from pipeyard.launchers.base import LaunchRequest, LaunchResult
from pipeyard.launchers.process import append_to_log
from pipeyard.launchers.ray_files import NodeFiles
from pipeyard.launchers.ray_node import ENVS_DIR_ENV, AttemptSpec, remote_attempt
from pipeyard.launchers.ray_resources import ray_options, refusal

# "SPREAD" places a fan-out's tasks across the nodes; "DEFAULT" is Ray's own
# policy (fill the driver's node first).
SCHEDULING_ENV = "PIPEYARD_RAY_SCHEDULING"
# How long a cancelled attempt may take to report that its processes are gone.
_CANCEL_WAIT_SECONDS = 30.0
__all__ = ["ENVS_DIR_ENV", "SCHEDULING_ENV", "RayLauncher"]


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

    def _spec(self, request: LaunchRequest) -> AttemptSpec:
        files = _node_files(request)
        driver = self._driver_node
        program = request.python
        if program is None:
            return AttemptSpec(request.argv, dict(request.env), request.cwd, request.timeout_seconds,
                                files=files, driver_node=driver)
        # Live logs: the task's output is a pipe, which Python would block-buffer.
        extra = {"_KFP_RUNTIME": "true", "PYTHONUNBUFFERED": request.env.get("PYTHONUNBUFFERED", "1")}
        return AttemptSpec(
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
        generator: Any = remote_attempt.options(**options).remote(self._spec(request))
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
                if await _until_finished(generator):
                    output.write(f"pipeyard: the task had not ended {_CANCEL_WAIT_SECONDS:g} s after the "
                                 "cancel: its Ray worker process was killed\n".encode())
                output.write(b"pipeyard: task cancelled\n")
                raise
            except (ray.exceptions.RayError, ray.exceptions.RaySystemError) as exc:
                lost = await asyncio.to_thread(_what_was_lost, node.get("ray_node_id"), exc)
                where = f"{node.get('ray_node_ip', '?')} (node id {node.get('ray_node_id', '?')})"
                if lost == "node":
                    message = (f"the Ray node {where} running this attempt was lost "
                               f"({type(exc).__name__}); its output so far is above")
                elif lost == "worker":
                    message = (f"the Ray worker process running this attempt on node {where} died "
                               f"({type(exc).__name__}); the node is still alive; its output so far is above")
                else:
                    message = f"the Ray task failed: {exc}"
                output.write(f"pipeyard: {message}\n".encode())
                return result(None, error=message), lost is not None
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


def _what_was_lost(node_id: str | None, exc: BaseException) -> str | None:
    """"node" when ``exc`` means the node went away, "worker" when only the Ray worker
    process running the attempt died on a node that is still alive, None when the
    failure is the task's own."""
    alive: bool | None = None
    if node_id:
        with contextlib.suppress(Exception):
            alive = any(n.get("NodeID") == node_id and n.get("Alive") for n in ray.nodes())
    if isinstance(exc, _NODE_LOSS):
        return "worker" if alive and isinstance(exc, ray.exceptions.WorkerCrashedError) else "node"
    return "node" if alive is False else None


async def _until_finished(generator: Any) -> bool:
    """Wait, even if cancelled again, until the cancelled Ray task has ended: its
    ``finally`` is what kills the process group. Should Ray's cancel (a KeyboardInterrupt
    in the worker) not end it within ``_CANCEL_WAIT_SECONDS``, as on a loaded machine,
    the worker process is killed (``force``); its watchdog then kills the group. True
    when it came to that."""
    if await _drained_within(generator, _CANCEL_WAIT_SECONDS):
        return False
    with contextlib.suppress(Exception):
        ray.cancel(generator, force=True)
    await _drained_within(generator, _CANCEL_WAIT_SECONDS)
    return True


async def _drained_within(generator: Any, seconds: float) -> bool:
    """Whether the generator ended within ``seconds`` (shielded from further cancels)."""

    async def drain() -> None:
        with contextlib.suppress(Exception):
            async for ref in generator:
                with contextlib.suppress(Exception):
                    await ref

    task = asyncio.ensure_future(asyncio.wait_for(drain(), seconds))
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.shield(task)
    return not task.cancelled() and task.exception() is None
