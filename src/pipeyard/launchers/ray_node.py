"""The node side of the Ray launcher (``ray.py``): the Ray task that runs one attempt
on whichever worker Ray picks, and what it yields back to the driver.

It starts the command as the leader of its own process group and streams its output;
enforces the timeout (SIGTERM to the group, a grace period, SIGKILL); kills the group
when Ray cancels the task, and a watchdog kills it when Ray kills the worker outright;
fetches inputs from and uploads outputs to a remote pipeline root (``ray_files.py``);
and installs ``packages_to_install`` into a venv per requirement set on the node.
"""

from __future__ import annotations

import contextlib
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
from pipeyard.launchers.host_env import task_base_env
from pipeyard.launchers.process import (
    DRAIN_SECONDS,
    REAP_SECONDS,
    TERM_GRACE_SECONDS,
    group_members,
    signal_group,
    start_error,
)
from pipeyard.launchers.ray_files import NodeFiles
from pipeyard.launchers.venvs import VenvError, VirtualEnvs
from pipeyard.launchers.watchdog import GroupWatchdog

# Where a node keeps the venvs of packages_to_install (default: its Ray session dir).
ENVS_DIR_ENV = "PIPEYARD_RAY_ENVS_DIR"
_READ_CHUNK = 1 << 16
# Off the main thread a Ray cancellation cannot wake a blocked wait, so wait in slices.
_FALLBACK_WAKE_SECONDS = 0.5


@dataclass(frozen=True)
class AttemptSpec:
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


def _attempt_items(spec: AttemptSpec) -> Iterator[_Item]:
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


def _interpreter(spec: AttemptSpec) -> Iterator[_Item]:
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


def _command_items(spec: AttemptSpec) -> Iterator[_Item]:
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
            yield ("error", f"cannot start task: {start_error(exc, argv[0], spec.cwd)}")
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


def _run_attempt(spec: AttemptSpec) -> Iterator[_Item]:
    yield from _attempt_items(spec)


# One per Ray worker process (this module is imported there), started with its first task.
_WATCHDOG = GroupWatchdog()

# Retries would re-run a user's command behind the engine's back; the engine owns retries.
remote_attempt = ray.remote(num_returns="streaming", max_retries=0)(_run_attempt)
