"""KFP's bootstrap for lightweight Python components, paid once per image and bootstrap.

A lightweight component compiles to ``sh -c "<bootstrap> && \\"$0\\" \\"$@\\"" sh -ec
"<script>" "<source>" <executor args>``: the bootstrap pip-installs the pinned ``kfp``
(and ``packages_to_install``) into the image's Python, then the script runs the
module. Inside a container that is KFP's behaviour exactly, but paying a pip install
per task is what makes kfp.local slow.

So the bootstrap runs once, in a container of the base image (as root, like a pod's
default user, with the launcher's network so pip can reach its index), and that
container is committed as an image tagged by the digest of the base image's id and
the bootstrap text. Tasks then run only the ``sh -ec <script> ...`` part in the
committed image. A new kfp version or package set is a new bootstrap text, so a new
image; an unchanged one is reused across tasks, runs and processes. Nothing runs on
the host. ``pipeyard`` never deletes these images: ``docker image prune --filter
label=pipeyard.kfp-bootstrap`` does.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from docker.models.containers import Container

from pipeyard.launchers.docker_engine import Engine, EngineError, owner_labels
from pipeyard.launchers.docker_run import run_container
from pipeyard.launchers.process import append_to_log

CACHE_REPOSITORY = "pipeyard-kfp-bootstrap"
CACHE_LABEL = "pipeyard.kfp-bootstrap"
# pip settings of the user's environment that the bootstrap inside the container honours.
_PIP_ENV = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT")


def split_lightweight(argv: Sequence[str]) -> tuple[str, tuple[str, ...]] | None:
    """(bootstrap, what runs after it) for a lightweight component's command, else None."""
    if len(argv) >= 7 and argv[0] == "sh" and argv[1] == "-c" and '"$0" "$@"' in argv[2]:
        return argv[2], tuple(argv[3:])
    return None


def cache_tag(base_image_id: str, bootstrap: str) -> str:
    digest = hashlib.sha256(f"{base_image_id}\0{bootstrap}".encode()).hexdigest()[:32]
    return f"{CACHE_REPOSITORY}:{digest}"


class BootstrapCache:
    def __init__(self, engine: Engine, pool: Executor, network: str | None) -> None:
        self._engine, self._pool, self._network = engine, pool, network
        self._locks: dict[str, asyncio.Lock] = {}

    async def image_for(self, image: str, image_id: str, bootstrap: str, log_path: str,
                        on_output: Callable[[str], None] | None) -> str:
        """The tag of ``image`` with ``bootstrap`` applied, building it if needed.

        Raises EngineError (naming the image) when the bootstrap fails; its output is
        in the task's log."""
        tag = cache_tag(image_id, bootstrap)
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(self._pool, self._engine.image_id, tag) is not None:
            return tag
        lock = self._locks.setdefault(tag, asyncio.Lock())
        async with lock:
            if await loop.run_in_executor(self._pool, self._engine.image_id, tag) is not None:
                return tag
            append_to_log(log_path, f"pipeyard: installing kfp into image {image} with KFP's bootstrap "
                                    f"(once per image and kfp version; cached as {tag})", on_output)
            repository, _, digest = tag.partition(":")

            def commit(container: Container, code: int) -> Any:
                if code != 0:
                    return None
                return container.commit(repository=repository, tag=digest,
                                        changes=[f"LABEL {CACHE_LABEL}={image_id}"])

            env = {k: os.environ[k] for k in _PIP_ENV if k in os.environ}
            finished = await run_container(
                self._engine, self._pool,
                {"image": image_id, "entrypoint": ["sh", "-c", bootstrap], "command": ["true"],
                 "user": "0:0", "environment": {"PIP_DISABLE_PIP_VERSION_CHECK": "1", **env},
                 "labels": owner_labels(f"bootstrap/{tag}"), "network_mode": self._network,
                 "detach": True},
                log_path=log_path, on_output=on_output, timeout_seconds=None, after_exit=commit)
            if finished.exit_code != 0 or finished.result is None:
                raise EngineError(
                    f"KFP's bootstrap (pip install of kfp and the component's packages) failed in "
                    f"image {image!r} with exit code {finished.exit_code}; its output is in the task log"
                    + ("" if self._network else "; if pip could not reach its index, set "
                       "PIPEYARD_DOCKER_NETWORK (e.g. host)"))
            append_to_log(log_path, f"pipeyard: cached {tag}", on_output)
            return tag
