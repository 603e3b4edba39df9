"""Where task commands run. ``LocalLauncher`` is the default (child processes on this machine)."""

from __future__ import annotations

from pipeyard.launchers.local import FORK_SERVER_ENV, LocalLauncher
from pipeyard.launchers.venvs import VenvError, VirtualEnvs

__all__ = ["FORK_SERVER_ENV", "LocalLauncher", "VenvError", "VirtualEnvs"]
