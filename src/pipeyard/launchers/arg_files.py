"""Large executor arguments travel through files, not the command line.

A Python task gets its whole ``ExecutorInput`` (every parameter value) as one argument.
Linux refuses to ``exec`` an argument over 128 KB ("Argument list too long"), and the fork
server's requests are bounded too, so a list of a million items could never start. Such
arguments are written to a file in the task's own temporary directory and replaced by a
reference that the task's bootstrap (the fork server child, or :data:`BOOTSTRAP` for a
fresh interpreter) reads back before KFP's executor sees ``sys.argv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# Below both the kernel's per-argument limit and the fork server's request bound.
SPILL_BYTES = 64 * 1024
PREFIX = "@pipeyard-arg-file:"

# Run as ``python -c BOOTSTRAP ARGS...``: the same as ``python -m kfp.dsl.executor_main
# ARGS...`` once file references are read back.
BOOTSTRAP = (
    "import runpy, sys\n"
    f"P = {PREFIX!r}\n"
    "def _read(a):\n"
    "    with open(a[len(P):], encoding='utf-8') as f:\n"
    "        return f.read()\n"
    "sys.argv = ['executor_main'] + [_read(a) if a.startswith(P) else a for a in sys.argv[1:]]\n"
    "runpy.run_module('kfp.dsl.executor_main', run_name='__main__', alter_sys=True)\n"
)


def spill(args: Sequence[str], directory: Path) -> list[str]:
    """``args`` with every argument over :data:`SPILL_BYTES` replaced by a file reference."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if len(arg.encode("utf-8", "surrogatepass")) > SPILL_BYTES:
            path = directory / f"arg-{index}.txt"
            path.write_text(arg, encoding="utf-8")
            out.append(PREFIX + str(path))
        else:
            out.append(arg)
    return out


def needs_spill(args: Sequence[str]) -> bool:
    return any(len(a) > SPILL_BYTES // 4 and len(a.encode("utf-8", "surrogatepass")) > SPILL_BYTES for a in args)
