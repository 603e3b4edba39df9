"""The container engine as the docker launcher sees it: a connection, images, leftovers.

Talks to Docker (or Podman's Docker-compatible socket) through the ``docker`` SDK,
which finds the engine like the ``docker`` CLI does (``DOCKER_HOST``, else the
default socket). Every call here blocks, so the launcher runs them in threads.

Every container pipeyard creates carries ``LABEL_LAUNCHER`` and the host and pid of
the pipeyard process that owns it. A process that starts removes the labelled
containers whose owner is gone (a crashed or killed pipeyard), never those of a
pipeyard still running beside it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from pipeyard.errors import PipeyardError
from pipeyard.launchers.process import pid_alive

LABEL_LAUNCHER = "pipeyard.launcher"
LABEL_HOST = "pipeyard.host"
LABEL_PID = "pipeyard.pid"
LABEL_KEY = "pipeyard.key"
LAUNCHER_VALUE = "docker"
# Calls that return at once get this long; waits and log streams are unbounded.
_CONTROL_TIMEOUT_SECONDS = 120


class EngineError(PipeyardError):
    """The container engine is unreachable or refused a request."""


def owner_labels(key: str) -> dict[str, str]:
    return {LABEL_LAUNCHER: LAUNCHER_VALUE, LABEL_HOST: socket.gethostname(),
            LABEL_PID: str(os.getpid()), LABEL_KEY: key[:250]}




class Engine:
    """One connection for control calls, one without a read timeout for waits and logs."""

    def __init__(self) -> None:
        try:
            self.client = docker.from_env(timeout=_CONTROL_TIMEOUT_SECONDS)
            self.client.ping()
            # A read timeout would end a log stream of a task that is quiet for a while.
            self.streams = docker.from_env(timeout=None)  # type: ignore[arg-type]
        except docker.errors.DockerException as e:
            raise EngineError(
                f"cannot reach a container engine (Docker or Podman; set DOCKER_HOST for a "
                f"non-default socket): {e}") from None
        self._pull_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def close(self) -> None:
        self.client.close()
        self.streams.close()

    # ------------------------------------------------------------------ images

    def image_id(self, image: str) -> str | None:
        try:
            return str(self.client.images.get(image).id)
        except docker.errors.ImageNotFound:
            return None

    def ensure_image(self, image: str, note: Callable[[str], None]) -> str:
        """The image's id, pulling it first when the engine does not have it.

        ``note`` gets one line when a pull starts and one when it ends; concurrent
        tasks wanting the same image wait for a single pull."""
        found = self.image_id(image)
        if found is not None:
            return found
        with self._locks_guard:
            lock = self._pull_locks.setdefault(image, threading.Lock())
        with lock:
            found = self.image_id(image)
            if found is not None:
                return found
            note(f"pipeyard: pulling image {image} ...")
            repository, tag = _split_reference(image)
            try:
                for _ in self.streams.api.pull(repository, tag=tag, stream=True, decode=True):
                    pass  # the final state is checked below; per-layer progress is noise in a task log
            except docker.errors.APIError as e:
                raise EngineError(f"cannot pull image {image!r}: {_explain(e)}") from None
            found = self.image_id(image)
            if found is None:
                raise EngineError(f"cannot pull image {image!r}: the engine reported no image after the pull")
            note(f"pipeyard: pulled image {image}")
            return found

    # ------------------------------------------------------------------ containers

    def create(self, **kwargs: Any) -> Container:
        try:
            return self.client.containers.create(**kwargs)
        except docker.errors.APIError as e:
            raise EngineError(f"cannot create a container of image {kwargs.get('image')!r}: {_explain(e)}") from None

    def start(self, container: Container, image: str) -> None:
        try:
            container.start()
        except docker.errors.APIError as e:
            raise EngineError(f"cannot start the task in image {image!r}: {_explain(e)}") from None

    def wait(self, container: Container) -> int:
        result: Mapping[str, Any] = self.streams.api.wait(container.id)
        return int(result.get("StatusCode", -1))

    def stop(self, container: Container, grace_seconds: int) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.stop(container.id, timeout=grace_seconds)

    def remove(self, container_id: str) -> None:
        try:
            self.client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            # Already being removed by another call: that is the outcome we want.
            if "removal of container" not in str(e) or "in progress" not in str(e):
                raise

    def oom_killed(self, container: Container) -> bool:
        try:
            state = self.client.api.inspect_container(container.id).get("State") or {}
        except docker.errors.NotFound:
            return False
        return bool(state.get("OOMKilled"))

    def labelled(self, *labels: str) -> list[dict[str, Any]]:
        """``{"Id", "Labels", ...}`` of the containers carrying all ``labels`` ("k=v"). The
        engine's plain list: the SDK's models inspect each container afterwards, which fails
        when another process removes one in between."""
        found: list[dict[str, Any]] = self.client.api.containers(
            all=True, filters={"label": [f"{LABEL_LAUNCHER}={LAUNCHER_VALUE}", *labels]})
        return found

    def remove_orphans(self) -> list[str]:
        """Remove this host's labelled containers whose pipeyard process is gone."""
        removed: list[str] = []
        for c in self.labelled(f"{LABEL_HOST}={socket.gethostname()}"):
            pid = (c.get("Labels") or {}).get(LABEL_PID, "")
            if pid.isdigit() and pid_alive(int(pid)):
                continue
            self.remove(c["Id"])
            removed.append(c["Id"])
        return removed


def _split_reference(image: str) -> tuple[str, str | None]:
    """("repo/name", "tag") from "repo/name:tag"; a digest or no tag passes as is."""
    if "@" in image:
        return image, None
    name, sep, tag = image.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return image, "latest"


def _explain(e: docker.errors.APIError) -> str:
    explanation = getattr(e, "explanation", None)
    return str(explanation or e)
