"""The rich consoles the CLI prints through.

On a terminal rich wraps to the window and can show the live run view. Anywhere else (a
pipe, a file, CI logs) rich would assume 80 columns and split run ids, log paths and
artifact URIs mid-word, so output that is read by programs or pasted back into a shell is
printed on lines as long as they need to be.

``pipeyard run`` prints through ``run_console``: off a terminal (``--json``, benchmarks,
CI) its lines are plain text, and rich, a tenth of the command's start-up, is imported
only if something rich (a table, styled text) is printed.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# Wide enough for any path or URI; tables still take only the width their contents need.
UNWRAPPED_WIDTH = 10_000


def make_console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=UNWRAPPED_WIDTH, soft_wrap=True)


class PlainConsole:
    """What ``pipeyard run`` prints off a terminal: text without markup as is; anything
    else through the unwrapped rich console ``make_console`` gives, made when first needed."""

    is_terminal = False

    def __init__(self, *, stderr: bool) -> None:
        self.stderr = stderr
        self._rich: Console | None = None

    @property
    def file(self) -> IO[str]:
        return sys.stderr if self.stderr else sys.stdout

    def print(self, *objects: Any, markup: bool | None = None, **options: Any) -> None:
        if markup is False and all(isinstance(o, str) for o in objects) and set(options) <= {"highlight", "soft_wrap"}:
            self.file.write(" ".join(objects) + "\n")
            return
        self.rich().print(*objects, markup=markup, **options)

    def rich(self) -> Console:
        if self._rich is None:
            self._rich = make_console(stderr=self.stderr)
        return self._rich


def run_console(*, stderr: bool = False) -> Console | PlainConsole:
    """``make_console``'s console on a terminal, else a ``PlainConsole``."""
    stream = sys.stderr if stderr else sys.stdout
    if _is_terminal(stream):
        return make_console(stderr=stderr)
    return PlainConsole(stderr=stderr)


def rich_console(console: Console | PlainConsole) -> Console:
    return console.rich() if isinstance(console, PlainConsole) else console


def _is_terminal(stream: IO[str]) -> bool:
    # rich's own rule, which its environment variables can overrule: ask it then.
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        from rich.console import Console

        return Console(file=stream).is_terminal
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
