"""Process groups and task output: the parts every local execution path shares.

Every task runs as the leader of its own session/process group, so "the task"
means "every process in that group": killing it, and checking nothing of it
is left, are group operations. A task's stdout and stderr go into one pipe
that the launcher reads; the launcher appends each chunk to the task's log
file and hands complete lines to ``on_output``. Reading the pipe ourselves
(instead of pointing the child at the log file) is what makes live output
possible without tailing the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

# How long a task gets between SIGTERM and SIGKILL when it is cancelled or
# times out: long enough for Python's default handlers to flush, short enough
# that cancelling a run feels immediate.
TERM_GRACE_SECONDS = 2.0
# After the task's leader exited and its group was killed, how long to wait
# for the last writer of the output pipe (a process that left the group) before
# giving up on reading the rest of its output.
DRAIN_SECONDS = 2.0
# A pump still receiving output keeps draining past DRAIN_SECONDS, up to this long: on a
# loaded machine the last pipe-fulls of a chatty task (and the callbacks that hand each line
# on) can take more than DRAIN_SECONDS, and giving up while output still arrives would drop
# the end of the log. A stray process that stays silent is still given up on after DRAIN_SECONDS.
DRAIN_MAX_SECONDS = 120.0
# How long to wait for killed processes to disappear before giving up.
REAP_SECONDS = 5.0


def group_members(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes whose process group is ``pgid``."""
    members: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


async def _wait_pid_exit(pid: int) -> None:
    """Wait, without polling, until ``pid`` (not necessarily our child) has exited."""
    try:
        fd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def on_exit() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, on_exit)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def kill_group(pgid: int) -> None:
    """SIGKILL every process in the group and wait until none of them runs.

    Zombies count as gone: their parent (or init) reaps them, and they hold no
    resources a later task could trip over.
    """
    if not signal_group(pgid, signal.SIGKILL):
        return
    members = group_members(pgid)
    if members:
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(_wait_pid_exit(pid) for pid in members)), REAP_SECONDS)


async def terminate_group(pgid: int, leader_exited: Callable[[], asyncio.Future[int]]) -> None:
    """SIGTERM the group, give the leader a grace period, then SIGKILL what is left.

    ``leader_exited`` returns an awaitable that completes when the leader has
    exited (a child's ``wait()``, or the fork server's exit report).
    """
    if signal_group(pgid, signal.SIGTERM):
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(leader_exited()), TERM_GRACE_SECONDS)
    await kill_group(pgid)


def start_error(exc: OSError, executable: str, cwd: str | None) -> str:
    """What a failed start of a task's command says: the missing directory or executable."""
    if cwd is not None and exc.filename == cwd:
        return f"working directory {cwd!r} does not exist or is not accessible ({exc.strerror})"
    if isinstance(exc, FileNotFoundError):
        return f"executable {executable!r} not found"
    if isinstance(exc, PermissionError):
        return f"executable {executable!r} is not executable (permission denied)"
    return f"{executable!r}: {exc}"


class OutputPump:
    """Copies a task's output pipe into its log file and, line by line, to a callback.

    The pipe is read by an event-loop reader callback, one ``read`` per readiness: no
    stream, transport or task per pump (those were a millisecond of a trivial task)."""

    def __init__(self, read_fd: int, log_path: str, on_output: Callable[[str], None] | None) -> None:
        self._log = _open_log(log_path)
        self._read_fd = read_fd
        self._on_output = on_output
        self._partial = b""
        self._log_failed = False
        self._done: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._received = 0  # reads that returned output

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        # Only our end: the writer's end is another open file, still blocking for the task.
        os.set_blocking(self._read_fd, False)
        self._loop.add_reader(self._read_fd, self._on_readable)

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._read_fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._close()
            return
        self._received += 1
        self._write_log(chunk)
        self._emit_lines(chunk)

    def _close(self) -> None:
        """Stop reading (end of output, or given up on): emit the last partial line, close."""
        if self._done is None or self._done.done():
            return
        assert self._loop is not None
        self._loop.remove_reader(self._read_fd)
        os.close(self._read_fd)
        if self._partial:
            self._emit(self._partial)
            self._partial = b""
        self._log.close()
        self._done.set_result(None)

    def _write_log(self, chunk: bytes) -> None:
        # A full disk must not stop the draining: a task whose pipe is not read blocks
        # forever. The log keeps what fit, and the task's own failure says the rest.
        if self._log_failed:
            return
        try:
            self._log.write(chunk)
        except OSError as exc:
            self._log_failed = True
            self._emit(f"pipeyard: the task's log cannot be written ({exc.strerror or exc}); output is lost".encode())

    def _emit_lines(self, chunk: bytes) -> None:
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

    async def finish(self) -> None:
        """Wait for the rest of the output; stop waiting if a stray process keeps the pipe
        open: after DRAIN_SECONDS without output, or DRAIN_MAX_SECONDS in all."""
        if self._done is None:
            self._log.close()
            return
        assert self._loop is not None
        give_up = self._loop.time() + DRAIN_MAX_SECONDS
        while True:
            seen = self._received
            try:
                await asyncio.wait_for(asyncio.shield(self._done), DRAIN_SECONDS)
                return
            except (TimeoutError, asyncio.TimeoutError):
                if self._received == seen or self._loop.time() >= give_up:
                    self._close()
                    return

    def close_unstarted(self) -> None:
        """Release the pipe and log when the task never started."""
        if self._done is None:
            os.close(self._read_fd)
            self._log.close()


def _open_log(log_path: str) -> BinaryIO:
    # The attempt's folder usually exists already: try first, make it only when missing.
    try:
        return open(log_path, "ab", buffering=0)  # noqa: SIM115 - the pump closes it
    except FileNotFoundError:
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        return open(log_path, "ab", buffering=0)  # noqa: SIM115 - the pump closes it


def append_to_log(log_path: str, text: str, on_output: Callable[[str], None] | None = None) -> None:
    """Write a launcher message into a task log that has no pump (e.g. before start)."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(text if text.endswith("\n") else text + "\n")
    if on_output is not None:
        for line in text.rstrip("\n").split("\n"):
            with contextlib.suppress(Exception):
                on_output(line)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts: it is not ours to reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
