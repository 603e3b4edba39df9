"""Looking at processes from outside, for tests that kill them: is a pid dead, or
at least already on its way out (which is what "killed before the call returned"
means on a loaded machine, where the kernel may not have run the dying process yet)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

SIGKILL_BIT = 1 << (9 - 1)  # bits of signals in /proc/<pid>/status masks
SIGTERM_BIT = 1 << (15 - 1)
SIGINT_BIT = 1 << (2 - 1)
PF_EXITING = 0x4  # the kernel's flag on a task that has begun to exit (/proc/<pid>/stat flags)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Fields after the command name, which is in parentheses and may hold spaces.
    return text.rsplit(")", 1)[1].split()


def gone(pid: int) -> bool:
    """No process, or only its zombie (dead, not yet reaped)."""
    fields = _stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")


def killed(pid: int) -> bool:
    """Dead, or dying: exit begun, SIGKILL pending (for the thread or its group), or
    SIGTERM/SIGINT pending where the process neither catches nor ignores it. A live
    process that nobody signalled is none of these."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return True
    if int(fields[6]) & PF_EXITING:  # stat field 9, "flags"
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    masks = {k: int(v.strip(), 16) for k, v in
             (line.split(":", 1) for line in status.splitlines()
              if line.startswith(("SigPnd", "ShdPnd", "SigCgt", "SigIgn")))}
    pending = masks.get("SigPnd", 0) | masks.get("ShdPnd", 0)
    handled = masks.get("SigCgt", 0) | masks.get("SigIgn", 0)
    fatal = SIGKILL_BIT | ((SIGTERM_BIT | SIGINT_BIT) & ~handled)
    return bool(pending & fatal)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` until true; a generous deadline guards against a hang only."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def niceness(pid: int) -> int | None:
    """The process's nice value (/proc/<pid>/stat field 19), or None once it is gone."""
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[16])
