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

The list is a table of group ids in shared memory (a memfd both map): the launcher adds
and removes a group with one store into it, so a task costs the watchdog no wake-up (a
pipe write per watch and per forget woke it twice per task, and on a busy machine it ran
on the launcher's CPU meanwhile). Without a memfd, or with the table full, groups go down
the pipe as lines instead.
"""

from __future__ import annotations

import contextlib
import mmap
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
if len(sys.argv) > 1:
    import mmap
    with mmap.mmap(int(sys.argv[1]), 0, access=mmap.ACCESS_READ) as table:
        view = memoryview(table).cast("i")
        groups.update(pgid for pgid in view if pgid > 0)
        view.release()
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""
# Far more than tasks at once; only the pages of slots in use are ever touched.
TABLE_SLOTS = 16384


class _Table:
    """The launcher's side of the shared table: one slot per live group, 0 when free."""

    def __init__(self) -> None:
        self.fd = os.memfd_create("pipeyard-watchdog")  # close-on-exec: only the watchdog gets it
        try:
            os.ftruncate(self.fd, TABLE_SLOTS * 4)
            self._map = mmap.mmap(self.fd, TABLE_SLOTS * 4)
        except OSError:
            os.close(self.fd)
            raise
        self._slots = memoryview(self._map).cast("i")
        self._free = list(range(TABLE_SLOTS - 1, -1, -1))
        self._used: dict[int, int] = {}  # group id -> slot

    def add(self, pgid: int) -> bool:
        if not self._free or pgid in self._used or pgid <= 0:
            return False
        slot = self._free.pop()
        self._slots[slot] = pgid
        self._used[pgid] = slot
        return True

    def remove(self, pgid: int) -> bool:
        slot = self._used.pop(pgid, None)
        if slot is None:
            return False
        self._slots[slot] = 0
        self._free.append(slot)
        return True

    def close(self) -> None:
        self._slots.release()
        self._map.close()
        os.close(self.fd)


class GroupWatchdog:
    """Started lazily with the first task (or adopted from ``prestart``); one per launcher."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._write_fd: int | None = None
        self._table: _Table | None = None

    def _ensure_started(self) -> int | None:
        if self._write_fd is not None and self._process is not None and self._process.poll() is None:
            return self._write_fd
        self._close_fd()
        # A restarted watchdog gets the table that already lists the live groups.
        started = (_adopt_prestarted() if self._table is None else None) or _start(self._table)
        if started is None:
            return None
        self._process, self._write_fd, table = started
        self._table = self._table or table
        return self._write_fd

    def _send(self, line: str) -> None:
        fd = self._ensure_started() if line.startswith("+") else self._write_fd
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(fd, line.encode())

    def watch(self, pgid: int) -> None:
        if self._ensure_started() is not None and self._table is not None and self._table.add(pgid):
            return
        self._send(f"+ {pgid}\n")

    def forget(self, pgid: int) -> None:
        if self._table is not None and self._table.remove(pgid):
            return
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
        if self._table is not None:
            self._table.close()  # the watchdog has its own descriptor of it
            self._table = None

    def __del__(self) -> None:
        # A launcher dropped without aclose(): its tasks are over, so let the watchdog go.
        self.close()

    def _close_fd(self) -> None:
        if self._write_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._write_fd = None


_Started = tuple[subprocess.Popen[bytes], int, _Table | None]


def _start(table: _Table | None = None) -> _Started | None:
    """A watchdog process, the write end of its pipe, and its table (``table``, or a new
    one; None without memfds)."""
    if table is None:
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.memfd_create
            table = _Table()
    pass_fds = (table.fd,) if table is not None else ()
    read_fd, write_fd = os.pipe()  # not inheritable: no task holds the write end open
    try:
        process = subprocess.Popen(
            [sys.executable, "-S", "-E", "-c", _WATCHDOG_CODE, *(str(fd) for fd in pass_fds)],
            stdin=read_fd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=pass_fds,
            # Its own session: a Ctrl-C aimed at pipeyard's terminal group does not end it early.
            start_new_session=True,
            env={},
        )
    except OSError:
        os.close(write_fd)
        return None
    finally:
        os.close(read_fd)
    return process, write_fd, table


# Watchdogs told to quit, until they are seen to have exited (and so are reaped).
_EXITING: list[subprocess.Popen[bytes]] = []

# A watchdog started ahead of its launcher (``prestart``): at most one, until adopted.
_PRESTARTED: list[_Started] = []


def prestart() -> None:
    """Start a watchdog now, for the first ``GroupWatchdog`` that needs one to adopt.

    For a process that will launch tasks soon but has much to import first (``pipeyard
    run``). Unadopted, it exits with this process: its pipe closes then, with no group on
    its list."""
    if not _PRESTARTED:
        started = _start()
        if started is not None:
            _PRESTARTED.append(started)


def _adopt_prestarted() -> _Started | None:
    while _PRESTARTED:
        process, write_fd, table = _PRESTARTED.pop()
        if process.poll() is None:
            return process, write_fd, table
        with contextlib.suppress(OSError):
            os.close(write_fd)
        if table is not None:
            table.close()
    return None
