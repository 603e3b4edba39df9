"""Task processes run at a lower CPU priority than the process that launches them.

On a small machine the API (``pipeyard server``), the engine's bookkeeping and the tasks
share the same cores. A KFP user expects the UI and ``kfp.Client`` to stay responsive while
pods run - on Kubernetes the API server is never starved by the workload - so local task
processes of ``pipeyard server`` get ``nice`` + ``PIPEYARD_TASK_NICE`` (default 10 there,
``SERVER_NICE``). Elsewhere (``pipeyard run`` in a terminal) nothing interactive waits on the
launcher, so the default is 0: the launcher's own priority, as a user running a script
expects. Niceness only orders who runs first when CPUs are contended: an idle machine
still gives a task all the CPU it wants.

The increment is relative to the launcher's own niceness (as ``nice -n`` is), capped at 19;
raising niceness needs no privilege. A task is reniced right after it starts (for both the
fork-server and the plain-subprocess path, whose children are not ours to pre-configure);
what it starts afterwards inherits the value.
"""

from __future__ import annotations

import contextlib
import os

NICE_ENV = "PIPEYARD_TASK_NICE"
DEFAULT_NICE = 0
# What `pipeyard server` sets unless PIPEYARD_TASK_NICE says otherwise.
SERVER_NICE = 10
_MAX_NICE = 19


def task_nice_from_env(env: dict[str, str] | None = None) -> int:
    """The configured increment; a value that is not an integer 0-19 is an error naming the variable."""
    raw = (dict(os.environ) if env is None else env).get(NICE_ENV, "").strip()
    if not raw:
        return DEFAULT_NICE
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{NICE_ENV}={raw!r}: want an integer from 0 to {_MAX_NICE}") from None
    if not 0 <= value <= _MAX_NICE:
        raise ValueError(f"{NICE_ENV}={raw!r}: want an integer from 0 to {_MAX_NICE}")
    return value


def target_nice(increment: int) -> int:
    """This process's niceness plus ``increment``, as the kernel would cap it."""
    return min(_MAX_NICE, os.getpriority(os.PRIO_PROCESS, 0) + increment)


def lower_priority(pid: int, increment: int) -> None:
    """Renice a task's leader and its process group (they are one unless the leader has not
    yet called setsid). A task that already exited, or one that made itself nicer than the
    target (lowering needs privilege), is left as it is."""
    if increment <= 0:
        return
    nice = target_nice(increment)
    for which in (os.PRIO_PROCESS, os.PRIO_PGRP):
        with contextlib.suppress(OSError):
            os.setpriority(which, pid, nice)
