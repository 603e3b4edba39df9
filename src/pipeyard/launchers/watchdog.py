"""Task process groups die with the process that launched them, however it ends.

Each task is the leader of its own process group (``process.py``), so that a task and
everything it started can be stopped together. The flip side: when the launching process
is killed (SIGKILL, OOM killer, a crash) nobody stops them, and a resumed run would start
them a second time beside the orphans. ``PR_SET_PDEATHSIG`` alone would reach only each
group's leader, not the processes it started.

So one small watchdog process per launcher holds the list of live task groups, read from a
pipe whose only writer is the launching process. The kernel closes that pipe when the
launcher dies, whatever the cause; the watchdog then SIGKILLs every group still on the
list and exits. A normal shutdown tells it to exit without killing anything.

``pipeyard run`` starts its watchdog first thing (``prestart``), on the other core while
it imports: started with the first task instead, its interpreter was still starting up
when the run, a few milliseconds later, told it to quit and waited for it to exit.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

_WATCHDOG_CODE = r"""
import os, signal, sys
groups = set()
for line in sys.stdin.buffer:
    op, _, pgid = line.strip().partition(b" ")
    if op == b"+":
        groups.add(int(pgid))
    elif op == b"-":
        groups.discard(int(pgid))
    elif op == b"q":
        sys.exit(0)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class GroupWatchdog:
    """Started lazily with the first task (or adopted from ``prestart``); one per launcher."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._write_fd: int | None = None

    def _ensure_started(self) -> int | None:
        if self._write_fd is not None and self._process is not None and self._process.poll() is None:
            return self._write_fd
        self._close_fd()
        started = _adopt_prestarted() or _start()
        if started is None:
            return None
        self._process, self._write_fd = started
        return self._write_fd

    def _send(self, line: str) -> None:
        fd = self._ensure_started() if line.startswith("+") else self._write_fd
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(fd, line.encode())

    def watch(self, pgid: int) -> None:
        self._send(f"+ {pgid}\n")

    def forget(self, pgid: int) -> None:
        self._send(f"- {pgid}\n")

    def close(self) -> None:
        """Normal shutdown: the watchdog exits and kills nothing.

        Not waited for: it exits by itself once it reads the line, and is reaped by a later
        ``close`` (or, when this process leaves first, by init). Waiting was the last
        thing ``pipeyard run`` did, for the length of an interpreter's exit."""
        if self._write_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._write_fd, b"q\n")
        self._close_fd()
        if self._process is not None:
            _EXITING.append(self._process)
            self._process = None
        _EXITING[:] = [p for p in _EXITING if p.poll() is None]

    def __del__(self) -> None:
        # A launcher dropped without aclose(): its tasks are over, so let the watchdog go.
        self.close()

    def _close_fd(self) -> None:
        if self._write_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._write_fd = None


def _start() -> tuple[subprocess.Popen[bytes], int] | None:
    """A watchdog process and the write end of its pipe."""
    read_fd, write_fd = os.pipe()  # not inheritable: no task holds the write end open
    try:
        process = subprocess.Popen(
            [sys.executable, "-S", "-E", "-c", _WATCHDOG_CODE],
            stdin=read_fd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C aimed at pipeyard's terminal group does not end it early.
            start_new_session=True,
            env={},
        )
    except OSError:
        os.close(write_fd)
        return None
    finally:
        os.close(read_fd)
    return process, write_fd


# Watchdogs told to quit, until they are seen to have exited (and so are reaped).
_EXITING: list[subprocess.Popen[bytes]] = []

# A watchdog started ahead of its launcher (``prestart``): at most one, until adopted.
_PRESTARTED: list[tuple[subprocess.Popen[bytes], int]] = []


def prestart() -> None:
    """Start a watchdog now, for the first ``GroupWatchdog`` that needs one to adopt.

    For a process that will launch tasks soon but has much to import first (``pipeyard
    run``). Unadopted, it exits with this process: its pipe closes then, with no group on
    its list."""
    if not _PRESTARTED:
        started = _start()
        if started is not None:
            _PRESTARTED.append(started)


def _adopt_prestarted() -> tuple[subprocess.Popen[bytes], int] | None:
    while _PRESTARTED:
        process, write_fd = _PRESTARTED.pop()
        if process.poll() is None:
            return process, write_fd
        with contextlib.suppress(OSError):
            os.close(write_fd)
    return None
