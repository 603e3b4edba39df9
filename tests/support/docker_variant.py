"""The docker launcher as a variant of the launcher contract suite.

The suite's requests name no image and no host paths (they were written for launchers
that run on the host), so the variant gives each request the test Python image and
its test folder, then runs it in a container like any task. Containers share the
host's pid namespace (``pid_mode=host``) so that the suite's check that a cancelled
task's processes are gone looks at the right pids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeyard.launchers.base import Launcher, LaunchRequest, LaunchResult


class _InTestImage:
    def __init__(self, launcher: Launcher, image: str, folder: Path) -> None:
        self._launcher, self._image, self._folder = launcher, image, folder

    async def launch(self, request: LaunchRequest) -> LaunchResult:
        return await self._launcher.launch(dataclasses.replace(
            request, image=request.image or self._image,
            host_paths=(*request.host_paths, str(self._folder))))

    async def aclose(self) -> None:
        await self._launcher.aclose()


def docker_variant() -> Callable[[Path], Launcher]:
    """A launcher factory. The docker SDK is a dev dependency: without it this fails;
    only a machine without a container engine skips (scripts/start-docker.sh says why)."""

    def make(tmp: Path) -> Launcher:
        from pipeyard.launchers.docker import DockerLauncher
        from pipeyard.launchers.docker_engine import Engine, EngineError
        from tests.support.docker_images import build_python_image

        try:
            Engine().close()
        except EngineError as e:
            pytest.skip(f"no container engine can run here: {e}")
        image = build_python_image()
        # network=host: KFP's bootstrap pip-installs kfp into the image (once, cached).
        launcher = DockerLauncher(envs_dir=tmp / "envs", network="host", container_options={"pid_mode": "host"})
        return _InTestImage(launcher, image, tmp)

    return make
