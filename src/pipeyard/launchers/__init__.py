"""Where task commands run. ``LocalLauncher`` is the default (child processes on this machine).

The names below load lazily: ``pipeyard run`` starts the fork server
(``forkserver.prestart``) before it pays for importing the launcher itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeyard.launchers.forkserver import FORK_SERVER_ENV
    from pipeyard.launchers.local import LocalLauncher
    from pipeyard.launchers.venvs import VenvError, VirtualEnvs

__all__ = ["FORK_SERVER_ENV", "LocalLauncher", "VenvError", "VirtualEnvs"]
_HOMES = {"FORK_SERVER_ENV": "forkserver", "LocalLauncher": "local", "VenvError": "venvs", "VirtualEnvs": "venvs"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pipeyard.launchers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"pipeyard.launchers.{home}"), name)
