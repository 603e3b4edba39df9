"""A pre-imported interpreter that forks KFP Python tasks in a few milliseconds.

A cold interpreter pays ~75 ms to import ``kfp.dsl.executor_main`` before any
user code runs. ``ForkServer`` starts one long-lived helper per interpreter
(``_forkserver_main.py``) that has paid that import once; each task is a fresh
``fork()`` of it, so every task still gets its own process (and its own copy of
any global state user code mutates) without the import cost.

Protocol: one SOCK_SEQPACKET unix socket pair. The launcher sends one JSON
message per task with the write end of the task's output pipe attached
(SCM_RIGHTS); the server answers ``{"id", "pid"}`` right after forking and
``{"id", "exit"}`` when it reaps the child. The launcher reads answers with an
event-loop reader callback, so waiting costs nothing and never polls.

Any failure to start or talk to the server raises ``ForkServerError`` before a
task was forked, so the caller can fall back to a plain subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeyard.launchers.host_env import task_base_env

FORK_SERVER_ENV = "PIPEYARD_FORK_SERVER"
_SERVER_SCRIPT = str(Path(__file__).with_name("_forkserver_main.py"))
# Requests larger than this (huge executor inputs) go through a subprocess
# instead; the socket buffer is sized to hold at least one such message.
MAX_REQUEST_BYTES = 512 * 1024
_RECV_BYTES = 1 << 16


class ForkServerError(Exception):
    """The fork server could not start or is gone; use a subprocess instead."""


@dataclass
class ForkedTask:
    """A task forked by the server: its pid (also its process group id) and exit code."""

    pid: int
    exited: asyncio.Future[int] = field(repr=False)


@dataclass
class _Pending:
    started: asyncio.Future[int]
    exited: asyncio.Future[int]


class ForkServer:
    """One helper process for one interpreter; started by ``start()``, stopped by ``aclose()``."""

    def __init__(self, python: str, preload: Sequence[str] = (), preload_env: Mapping[str, str] | None = None) -> None:
        self.python = python
        # Modules imported before the first fork (a "warm" server, see preload.py).
        self.preload = tuple(preload)
        self._preload_env = dict(preload_env or {})
        # Set when the server refused to serve because importing ``preload`` started threads.
        self.unsafe: str | None = None
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._env: dict[str, str] = {}
        self._plan_files: list[str] = []
        self._ready: asyncio.Future[None] | None = None
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._buffer = b""
        self._dead: str | None = None

    @property
    def alive(self) -> bool:
        return self._dead is None and self._sock is not None

    @property
    def busy(self) -> bool:
        """Whether a task forked (or being forked) by this server is still running."""
        return bool(self._pending)

    def spawn_process(self) -> None:
        """Start the server's process now, without an event loop (no-op once started).

        ``start()`` does this itself; ``prestart`` calls it first thing in ``pipeyard run``,
        so the server's interpreter imports the KFP executor on the other core while this
        process is still importing the engine and the store."""
        if self._sock is not None or self._process is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for sock in (ours, theirs):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2 * MAX_REQUEST_BYTES)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 * MAX_REQUEST_BYTES)
        self._env = _server_env()
        if self.preload:
            plan = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="pipeyard-preload-", delete=False)  # noqa: SIM115
            with plan:
                json.dump({"modules": list(self.preload), "env": self._preload_env}, plan)
            self._plan_files = [plan.name]
        try:
            # A plain Popen, not asyncio's: it needs no loop, and no child-watcher thread.
            self._process = subprocess.Popen(
                [self.python, _SERVER_SCRIPT, str(theirs.fileno()), *self._plan_files],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=self._env,
                # A warm server's import (seconds of CPU) in a session of its own, as a task's is: with
                # the kernel's autogroup scheduling it then gets a session's share of a loaded machine,
                # instead of splitting pipeyard run's with the CLI's own start-up (launchers/warm.py).
                start_new_session=bool(self.preload),
            )
        except OSError as exc:
            ours.close()
            self._remove_plan_files()
            raise ForkServerError(f"cannot start fork server with {self.python}: {exc}") from exc
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours

    async def start(self) -> None:
        if not self.preload:
            self._adopt_prestarted()
        self.spawn_process()
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        loop.add_reader(self._sock.fileno(), self._on_readable)
        try:
            await self._ready
        except ForkServerError:
            await self.aclose()
            raise
        except BaseException:
            # Cancelled (a timeout, a cancelled run) while the server started: close our
            # end now, or the socket outlives this object; the process exits and is reaped later.
            if self._dead is None:
                self._fail("fork server start was cancelled")
            self._abandon()
            raise
        finally:
            self._remove_plan_files()

    def _adopt_prestarted(self) -> None:
        early = _PRESTARTED.pop(self.python, None)
        if early is None or self._sock is not None:
            return
        if early._env != _server_env() or early._process is None or early._process.poll() is not None:
            early._abandon()  # started for another environment, or already gone: start afresh
            return
        self._sock, self._process, self._env = early._sock, early._process, early._env

    def _abandon(self) -> None:
        """Close a server nobody adopted; it exits when its socket closes (reaped later)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._process is not None:
            _ABANDONED.append(self._process)
            self._process = None

    def _remove_plan_files(self) -> None:
        for path in self._plan_files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._plan_files = []

    async def spawn(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        cwd: str | None,
        sys_path: Sequence[str],
        out_fd: int,
        cgroup_procs: Sequence[str] = (),
        report: str | None = None,
        alone: bool = False,
    ) -> ForkedTask:
        """Fork a child running ``executor_main`` with ``args``; returns once it runs.

        ``out_fd`` is the write end of the task's output pipe; the caller keeps
        ownership and closes its own copy. The child writes its pid into each of
        ``cgroup_procs`` (task_limits.py) before running anything. With ``report``, the
        child writes there the modules it imported beyond the server's (see preload.py).
        ``alone``: the caller runs no other task meanwhile (a chain), so the server may fork
        the next task's child ahead of its request (``_forkserver_main.Server``).
        """
        if not self.alive or self._sock is None:
            raise ForkServerError(self._dead or "fork server not started")
        loop = asyncio.get_running_loop()
        self._next_id += 1
        request_id = self._next_id
        message = json.dumps(
            {"id": request_id, "args": list(args), "env": dict(env), "cwd": cwd, "sys_path": list(sys_path),
             "cgroup_procs": list(cgroup_procs), "report": report, "alone": alone}
        ).encode()
        if len(message) > MAX_REQUEST_BYTES:
            raise ForkServerError(f"request of {len(message)} bytes is too large for the fork server")
        pending = _Pending(loop.create_future(), loop.create_future())
        self._pending[request_id] = pending
        try:
            socket.send_fds(self._sock, [message], [out_fd])
        except OSError as exc:
            del self._pending[request_id]
            raise ForkServerError(f"cannot send to fork server: {exc}") from exc
        try:
            pid = await asyncio.shield(pending.started)
        except asyncio.CancelledError:
            # The fork may already have happened: kill the child as soon as we learn its pid.
            pending.started.add_done_callback(_kill_when_started)
            raise
        return ForkedTask(pid=pid, exited=pending.exited)

    def _on_readable(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(_RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._fail(f"fork server connection failed: {exc}")
                return
            if not data:
                self._fail("fork server exited")
                return
            self._dispatch(json.loads(data))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("ready"):
            threads = int(message.get("threads", 1))
            if threads > 1:
                self.unsafe = f"importing {len(self.preload)} modules left {threads} threads running"
                self._fail(f"fork server is not fork-safe: {self.unsafe}")
            elif self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            return
        pending = self._pending.get(message["id"])
        if pending is None:
            return
        if "pid" in message:
            pending.started.set_result(message["pid"])
        elif "exit" in message:
            del self._pending[message["id"]]
            pending.exited.set_result(message["exit"])
        elif "error" in message:
            del self._pending[message["id"]]
            pending.started.set_exception(ForkServerError(message["error"]))

    def _fail(self, reason: str) -> None:
        self._dead = reason
        if self._sock is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ForkServerError(reason))
        for pending in self._pending.values():
            for future in (pending.started, pending.exited):
                if not future.done():
                    future.set_exception(ForkServerError(reason))
                    # Nobody may be awaiting ``exited`` yet; do not warn about it.
                    future.add_done_callback(_consume_exception)
        self._pending.clear()

    async def aclose(self) -> None:
        """Stop the server; it kills any task it still runs when its socket closes."""
        if self._sock is not None:
            if self._dead is None:
                self._fail("fork server closed")
            self._sock.close()
            self._sock = None
        if self._process is not None:
            await _reap(self._process)


def fork_server_enabled() -> bool:
    """``PIPEYARD_FORK_SERVER=0`` makes every task a fresh interpreter."""
    return os.environ.get(FORK_SERVER_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


# Plain fork servers started ahead of their launcher (``prestart``), by interpreter.
_PRESTARTED: dict[str, ForkServer] = {}
_ABANDONED: list[subprocess.Popen[bytes]] = []


def prestart(python: str) -> None:
    """Start a plain fork server for ``python`` now, for the first ``ForkServer(python)`` to adopt.

    For a caller that will launch tasks soon but has a lot to import and set up first
    (``pipeyard run``). If nobody adopts it, it exits when this process does."""
    if python in _PRESTARTED:
        return
    server = ForkServer(python)
    with contextlib.suppress(ForkServerError):
        server.spawn_process()
        _PRESTARTED[python] = server


def _server_env() -> dict[str, str]:
    return {**task_base_env(), "_KFP_RUNTIME": "true"}


async def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait for a server that was told to stop (its socket closed), killing it after 5 s."""
    for other in [p for p in _ABANDONED if p.poll() is not None]:
        _ABANDONED.remove(other)
    if process.poll() is not None:
        return
    try:
        await asyncio.to_thread(process.wait, 5.0)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


def _kill_when_started(future: asyncio.Future[int]) -> None:
    if not future.cancelled() and future.exception() is None:
        with contextlib.suppress(OSError):
            os.killpg(future.result(), signal.SIGKILL)


def _consume_exception(future: asyncio.Future[int]) -> None:
    if not future.cancelled():
        future.exception()
