"""``python``/``python3`` on a task's PATH that resolve to the task's interpreter.

Commands of non-Python components often call ``python3 ...`` themselves; on a
developer machine that would be the bare system interpreter, without ``kfp``
or the user's packages. Each interpreter gets a directory holding just
``python`` and ``python3``, prepended to the task's PATH.

A plain interpreter gets symlinks. An interpreter inside a venv gets a
one-line ``exec`` script instead: Python finds its venv through
``pyvenv.cfg`` next to the path it was started from, so a symlink in another
directory would silently start the venv's base interpreter without the venv's
packages.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

_NAMES = ("python", "python3")
# Container images' /bin/sh is usually busybox ash or bash, which know `[[`;
# Debian's dash does not. Component commands written for images call plain
# `sh`, so on the host that means bash, in its POSIX mode.
_SH = "sh"
_BASH = "/bin/bash"


def _is_venv_interpreter(python: Path) -> bool:
    return (python.parent / "pyvenv.cfg").exists() or (python.parent.parent / "pyvenv.cfg").exists()


def shim_dir(root: Path, python: str) -> Path:
    """Create (once) and return the directory of shims for ``python``."""
    interpreter = Path(os.path.abspath(python))
    digest = hashlib.sha256(str(interpreter).encode()).hexdigest()[:16]
    target = root / "shims" / digest
    if all((target / name).exists() for name in _NAMES) and (
        not os.path.exists(_BASH) or (target / _SH).exists()
    ):
        return target
    building = root / "shims" / f"{digest}.building-{os.getpid()}"
    building.mkdir(parents=True, exist_ok=True)
    for name in _NAMES:
        path = building / name
        if path.exists() or path.is_symlink():
            path.unlink()
        if _is_venv_interpreter(interpreter):
            path.write_text(f'#!/bin/sh\nexec {shlex.quote(str(interpreter))} "$@"\n')
            path.chmod(0o755)
        else:
            path.symlink_to(interpreter)
    if os.path.exists(_BASH):
        sh = building / _SH
        if sh.exists() or sh.is_symlink():
            sh.unlink()
        sh.symlink_to(_BASH)
    try:
        building.rename(target)
    except OSError:
        # Another process finished the same shims first; theirs are identical.
        for name in (*_NAMES, _SH):
            (building / name).unlink(missing_ok=True)
        building.rmdir()
    return target


def with_path_prepended(env: dict[str, str], directory: Path) -> dict[str, str]:
    current = env.get("PATH", os.defpath)
    return {**env, "PATH": f"{directory}{os.pathsep}{current}" if current else str(directory)}
