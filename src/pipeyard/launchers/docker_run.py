"""One container from creation to removal: start, live output, timeout, cancellation.

- Output (stdout and stderr, interleaved as the engine records them) is appended to
  the log file and handed line by line to ``on_output`` on the event loop.
- A timeout or a cancellation of the awaiting coroutine stops the container
  (SIGTERM, a grace period, SIGKILL: the engine's ``stop``); in every case the
  container is removed before this returns or re-raises, so the engine's list
  holds nothing of a finished attempt.
- Blocking SDK calls run on the launcher's own thread pool, not asyncio's default
  one, whose few threads would otherwise be taken by waits of long tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

from docker.models.containers import Container

from pipeyard.launchers.docker_engine import Engine
from pipeyard.launchers.process import append_to_log

T = TypeVar("T")
STOP_GRACE_SECONDS = 5


@dataclass(frozen=True)
class Finished:
    exit_code: int | None
    timed_out: bool = False
    oom_killed: bool = False
    result: Any = None  # what ``after_exit`` returned


class _LogPump:
    """Follows the container's log stream in a thread; lines go to the file and the loop."""

    def __init__(self, engine: Engine, container: Container, log_path: str,
                 on_output: Callable[[str], None] | None, loop: asyncio.AbstractEventLoop) -> None:
        self._engine, self._container = engine, container
        self._log_path, self._on_output, self._loop = log_path, on_output, loop
        self._thread = threading.Thread(target=self._run, name=f"pipeyard-logs-{container.short_id}",
                                        daemon=True)
        self.done = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _emit(self, line: bytes) -> None:
        if self._on_output is not None:
            text = line.rstrip(b"\r").decode("utf-8", errors="replace")
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                self._loop.call_soon_threadsafe(self._on_output, text)

    def _run(self) -> None:
        pending = b""
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self._log_path)), exist_ok=True)
            stream = self._engine.streams.api.logs(self._container.id, stream=True, follow=True)
            with open(self._log_path, "ab") as log:
                for chunk in stream:
                    log.write(chunk)
                    log.flush()
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        self._emit(line)
                if pending:
                    log.write(b"\n")
                    self._emit(pending)
        except Exception as e:  # the stream ends with an error when the container vanishes
            if pending:
                self._emit(pending)
            if not isinstance(e, OSError | ValueError):
                with contextlib.suppress(OSError):
                    append_to_log(self._log_path, f"pipeyard: log stream ended: {e}")
        finally:
            self.done.set()

    async def finish(self, pool: Executor) -> None:
        await asyncio.get_running_loop().run_in_executor(pool, self._thread.join)
        # Lines scheduled with call_soon_threadsafe run before anything awaited after this.
        await asyncio.sleep(0)


async def _uncancellable(awaitable: Any) -> Any:
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
    return task.result()


async def run_container(
    engine: Engine, pool: Executor, create: dict[str, Any], *, log_path: str,
    on_output: Callable[[str], None] | None, timeout_seconds: float | None,
    after_exit: Callable[[Container, int], Any] | None = None,
) -> Finished:
    """Create, start and supervise one container; remove it whatever happens.

    ``after_exit`` runs (in a thread) when the container exited by itself, before it is
    removed, e.g. to commit it as an image."""
    loop = asyncio.get_running_loop()

    def call(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return loop.run_in_executor(pool, fn, *args)

    container = await _uncancellable(call(lambda: engine.create(**create)))
    try:
        pump = _LogPump(engine, container, log_path, on_output, loop)
        await _uncancellable(call(engine.start, container, create["image"]))
        pump.start()
        exited = call(engine.wait, container)
        try:
            done, _ = await asyncio.wait({exited}, timeout=timeout_seconds)
        except asyncio.CancelledError:
            await _uncancellable(_stop(engine, pool, container, exited, pump))
            append_to_log(log_path, "pipeyard: task cancelled", on_output)
            raise
        if not done:
            await _uncancellable(_stop(engine, pool, container, exited, pump))
            append_to_log(log_path, f"pipeyard: task timed out after {timeout_seconds:g} s and was stopped",
                          on_output)
            return Finished(exit_code=None, timed_out=True)
        code = exited.result()
        await pump.finish(pool)
        oom = await call(engine.oom_killed, container)
        result = await call(after_exit, container, code) if after_exit is not None else None
        return Finished(exit_code=code, oom_killed=oom, result=result)
    finally:
        await _uncancellable(call(engine.remove, container.id))


async def _stop(engine: Engine, pool: Executor, container: Container,
                exited: asyncio.Future[int], pump: _LogPump) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, engine.stop, container, STOP_GRACE_SECONDS)
    with contextlib.suppress(Exception):
        await exited
    await pump.finish(pool)
