"""A launcher that runs every task attempt as a container of its component's image.

- The attempt's resolved command line is the container's entrypoint and arguments;
  the request's env comes on top of the image's; CPU limits (``nano_cpus``), CPU
  requests (``cpu_shares``) and memory limits are applied, and a container killed for
  its memory fails with ``out of memory: limit 650M``. GPU requests take devices from
  the pool (``gpus.py``) and become a device request for exactly those. The working directory is the image's own (``WORKDIR``), as on
  a KFP cluster: containerized Python components import their code from it. The container runs as the user
  running pipeyard (``uid:gid``), so what it writes is theirs; ``HOME`` is ``/tmp``
  unless the task sets it (that user has no home in the image).
- Files: the host paths the engine names (work folder, task root, input artifacts,
  output folders) are bind-mounted at the same paths, so the executor input's
  paths are valid inside; ``request.mounts`` (secrets as files, PVCs, workspace,
  empty dirs) are bind-mounted at their container paths.
- A missing image is pulled (one note in the log); a failed pull fails the attempt
  with the image name and the engine's message.
- Lightweight Python components run in their base image with KFP's own bootstrap,
  applied once per image and kfp version (``docker_bootstrap.py``).
  Containerized Python components and all other containers run as they are.
- Timeout and cancellation stop and remove the container (``docker_run.py``);
  containers are labelled, and those of a pipeyard process that died are removed
  when the launcher connects (``docker_engine.py``).
- Images matching ``host_images`` (``PIPEYARD_DOCKER_HOST_IMAGES``, comma-separated
  shell patterns such as ``python:3.*``) run on the host with the local launcher:
  for images that carry only Python, the fast path stays available.
- ``network`` (``PIPEYARD_DOCKER_NETWORK``): the engine network of task and bootstrap
  containers, e.g. ``host`` where the default bridge has no route to a package index.
- ``container_options``: further keyword arguments of the SDK's ``containers.create``
  for every task container (e.g. ``device_requests`` for GPUs, ``pid_mode``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from docker.types import DeviceRequest, Mount

from pipeyard.launchers import gpus
from pipeyard.launchers.base import LaunchRequest, LaunchResult
from pipeyard.launchers.docker_bootstrap import BootstrapCache, split_lightweight
from pipeyard.launchers.docker_engine import Engine, EngineError, owner_labels
from pipeyard.launchers.docker_run import run_container
from pipeyard.launchers.local import LocalLauncher
from pipeyard.launchers.process import append_to_log
from pipeyard.launchers.resources import ResourcePool
from pipeyard.launchers.task_limits import oom_message

HOST_IMAGES_ENV = "PIPEYARD_DOCKER_HOST_IMAGES"
NETWORK_ENV = "PIPEYARD_DOCKER_NETWORK"
_THREADS = 64


def _patterns(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        value = os.environ.get(HOST_IMAGES_ENV, "")
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(p.strip() for p in items if p.strip())


def bind_paths(paths: Sequence[str]) -> list[str]:
    """The existing paths among ``paths``, without those inside another one (one bind covers them)."""
    real = sorted({os.path.abspath(p) for p in paths if p and os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


class DockerLauncher:
    def __init__(
        self,
        max_parallel: int | None = None,
        *,
        envs_dir: Path,
        network: str | None = None,
        host_images: str | Sequence[str] | None = None,
        user: str | None = None,
        container_options: Mapping[str, Any] | None = None,
        gpu_devices: Sequence[str] | None = None,
    ) -> None:
        self.envs_dir = Path(envs_dir)
        self.network = network if network is not None else (os.environ.get(NETWORK_ENV) or None)
        self.host_images = _patterns(host_images)
        self.user = user or f"{os.getuid()}:{os.getgid()}"
        self.container_options = dict(container_options or {})
        self._max_parallel = max_parallel
        self._pool = ResourcePool(max_parallel, gpus=gpus.list_gpus() if gpu_devices is None else gpu_devices)
        self._threads = ThreadPoolExecutor(_THREADS, thread_name_prefix="pipeyard-docker")
        self._engine: Engine | None = None
        self._connecting = asyncio.Lock()
        self._bootstrap: BootstrapCache | None = None
        self._local: LocalLauncher | None = None

    @property
    def max_parallel(self) -> int:
        return self._pool.max_parallel

    def runs_on_host(self, image: str) -> bool:
        return any(fnmatch.fnmatchcase(image, p) for p in self.host_images)

    async def launch(self, request: LaunchRequest) -> LaunchResult:
        if request.image and self.runs_on_host(request.image):
            return await self._local_launcher().launch(request)
        gpu = gpus.plan(request.accelerator_type, request.accelerator_count, self._pool.gpus)
        cpu, memory = self._pool.admission(request.cpu, request.memory_bytes, request.cpu_limit,
                                           request.memory_limit_bytes)
        refusal = self._pool.refusal(cpu, memory, gpu.count)
        if refusal is not None:
            return _fail(request, refusal)
        if not request.image:
            return _fail(request, "the task's component names no container image")
        if not request.argv:
            return _fail(request, "task has an empty command")
        if gpu.note:
            append_to_log(request.log_path, f"pipeyard: {gpu.note}", request.on_output)
        async with self._pool.reserve(cpu, memory, gpu.count) as devices:
            try:
                return await self._run(request, devices)
            except EngineError as e:
                return _fail(request, str(e))

    async def aclose(self) -> None:
        if self._local is not None:
            await self._local.aclose()
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self._threads.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ internals

    def _local_launcher(self) -> LocalLauncher:
        if self._local is None:
            self._local = LocalLauncher(self._max_parallel, envs_dir=self.envs_dir)
        return self._local

    async def _connect(self) -> Engine:
        async with self._connecting:
            if self._engine is None:
                loop = asyncio.get_running_loop()
                engine = await loop.run_in_executor(self._threads, Engine)
                await loop.run_in_executor(self._threads, engine.remove_orphans)
                self._bootstrap = BootstrapCache(engine, self._threads, self.network)
                self._engine = engine
            return self._engine

    async def _run(self, request: LaunchRequest, devices: Sequence[str] = ()) -> LaunchResult:
        engine = await self._connect()
        loop = asyncio.get_running_loop()

        def note(line: str) -> None:
            append_to_log(request.log_path, line, None)
            if request.on_output is not None:
                loop.call_soon_threadsafe(request.on_output, line)

        image_id = await loop.run_in_executor(self._threads, engine.ensure_image, request.image, note)
        image, argv = request.image, list(request.argv)
        lightweight = split_lightweight(argv) if request.python is not None else None
        if lightweight is not None:
            assert self._bootstrap is not None
            bootstrap, argv_after = lightweight
            image = await self._bootstrap.image_for(request.image, image_id, bootstrap, request.log_path,
                                                    request.on_output)
            argv = list(argv_after)
        finished = await run_container(engine, self._threads, self._create_args(request, image, argv, devices),
                                       log_path=request.log_path, on_output=request.on_output,
                                       timeout_seconds=request.timeout_seconds)
        if finished.timed_out:
            return LaunchResult(exit_code=None, timed_out=True)
        # Podman 4.x on cgroup v1 does not report OOMKilled (its conmon writes the "oom" marker
        # into its own working directory instead); a SIGKILLed container with a memory limit,
        # that we neither timed out nor cancelled, was the OOM killer's.
        suspected = bool(request.memory_limit_bytes) and finished.exit_code == 137
        if finished.oom_killed or suspected:
            message = oom_message(request.memory_limit_bytes or request.memory_bytes)
            if not finished.oom_killed:
                message += " (killed by SIGKILL; the engine does not say it was its OOM killer)"
            append_to_log(request.log_path, f"pipeyard: {message}", request.on_output)
            return LaunchResult(exit_code=finished.exit_code, error=message)
        return LaunchResult(exit_code=finished.exit_code)

    def _create_args(self, request: LaunchRequest, image: str, argv: list[str],
                     devices: Sequence[str] = ()) -> dict[str, Any]:
        binds = [Mount(path, path, type="bind") for path in bind_paths(request.host_paths)]
        for container_path, host in request.mounts.items():
            Path(host).mkdir(parents=True, exist_ok=True)
            binds.append(Mount(container_path, os.path.abspath(host), type="bind"))
        env = {"HOME": "/tmp", **request.env}
        args: dict[str, Any] = {
            "image": image,
            "entrypoint": argv[:1],
            "command": argv[1:],
            "environment": env,
            "user": self.user,
            "mounts": binds,
            "labels": owner_labels(request.key),
            "network_mode": self.network,
            "detach": True,
        }
        if request.cpu_limit > 0:
            args["nano_cpus"] = int(request.cpu_limit * 1e9)
        if request.cpu > 0:
            args["cpu_shares"] = max(2, round(request.cpu * 1024))
        if request.memory_limit_bytes > 0:
            args["mem_limit"] = request.memory_limit_bytes
            args["memswap_limit"] = request.memory_limit_bytes  # no escape into swap
        if devices:
            args["device_requests"] = [DeviceRequest(device_ids=list(devices), capabilities=[["gpu"]])]
        return {**args, **self.container_options}


def _fail(request: LaunchRequest, message: str) -> LaunchResult:
    append_to_log(request.log_path, f"pipeyard: {message}", request.on_output)
    return LaunchResult(exit_code=None, error=message)
