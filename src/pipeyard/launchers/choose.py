"""Which launcher runs tasks, by name: ``local`` (default), ``ray`` or ``docker``.

Launchers with optional dependencies are imported only when chosen, so a user
without Ray never imports it and gets a clear message if they ask for it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeyard.errors import InvalidArgument
from pipeyard.launchers.base import Launcher

LAUNCHER_ENV = "PIPEYARD_LAUNCHER"
RAY_ADDRESS_ENV = "PIPEYARD_RAY_ADDRESS"
NAMES = ("local", "ray", "docker")


def launcher_name(explicit: str | None = None) -> str:
    name = (explicit or os.environ.get(LAUNCHER_ENV) or "local").strip().lower()
    if name not in NAMES:
        raise InvalidArgument(f"unknown launcher {name!r}; choose one of: {', '.join(NAMES)}",
                              field="launcher")
    return name


def make_launcher(name: str, *, envs_dir: Path, max_parallel: int | None = None) -> Launcher:
    if name == "ray":
        try:
            from pipeyard.launchers.ray import RayLauncher
        except ImportError as e:
            raise InvalidArgument(
                f"the ray launcher needs Ray installed in this environment (pip install ray, or the ray "
                f"extra: pip install '.[ray]' in a pipeyard checkout): {e}",
                field="launcher",
            ) from None
        return RayLauncher(address=os.environ.get(RAY_ADDRESS_ENV) or None, max_parallel=max_parallel)
    if name == "docker":
        try:
            from pipeyard.launchers.docker import DockerLauncher
        except ImportError as e:
            raise InvalidArgument(
                f"the docker launcher needs the docker SDK (pip install 'pipeyard[docker]'): {e}",
                field="launcher",
            ) from None
        return DockerLauncher(max_parallel=max_parallel, envs_dir=envs_dir)
    from pipeyard.launchers.local import LocalLauncher

    return LocalLauncher(max_parallel=max_parallel, envs_dir=envs_dir)
