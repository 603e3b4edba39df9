"""Leaving the process without the interpreter's teardown, for commands that allow it.

After ``pipeyard run`` printed its summary, Python's own shutdown (tearing down every
module of SQLAlchemy, the engine and rich, and collecting their objects) cost about a
tenth of a second of CPU more: about a third of what a one-task run should take. A
command that has closed its files calls ``allow_fast_exit()``; ``main()``
then ends the process with ``os._exit`` once what a normal exit must still do is done:
non-daemon threads joined, ``atexit`` functions run (logging's flush among them), the
standard streams flushed. Anything else (``--help``, in-process callers of ``cli``)
exits the normal way.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

_allowed = False
_from_main = False


def allow_fast_exit() -> None:
    global _allowed
    _allowed = True


def entered_from_main() -> None:
    """Called by ``main()``, the only caller that ends the process through ``leave``."""
    global _from_main
    _from_main = True


def fast_exit_allowed() -> bool:
    """Whether the process ends with ``os._exit`` once the command returns: what the exit
    releases by itself (a SQLite connection) need not be closed first."""
    return _allowed and _from_main


def leave(exit: SystemExit) -> NoReturn:
    """End the process with ``exit``'s code: fast if the command allowed it, else re-raise."""
    if not _allowed:
        raise exit
    code = exit.code
    if code is not None and not isinstance(code, int):
        with contextlib.suppress(Exception):
            print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)
