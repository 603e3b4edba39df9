"""The rich consoles the CLI prints through.

On a terminal rich wraps to the window and can show the live run view. Anywhere else (a
pipe, a file, CI logs) rich would assume 80 columns and split run ids, log paths and
artifact URIs mid-word, so output that is read by programs or pasted back into a shell is
printed on lines as long as they need to be.
"""

from __future__ import annotations

from rich.console import Console

# Wide enough for any path or URI; tables still take only the width their contents need.
UNWRAPPED_WIDTH = 10_000


def make_console(*, stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=UNWRAPPED_WIDTH, soft_wrap=True)
