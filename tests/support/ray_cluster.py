"""A local Ray cluster of the tests' own (never one a developer has running), and
the Ray launcher as a variant of the launcher contract suite."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeyard.launchers.base import Launcher

CLUSTER_CPUS = 4


@contextlib.contextmanager
def local_ray_cluster() -> Iterator[None]:
    import ray

    ray.init(address="local", num_cpus=CLUSTER_CPUS, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024 * 1024)
    try:
        yield
    finally:
        ray.shutdown()


def ray_variant() -> Callable[[Path], Launcher]:
    """A launcher factory; the caller starts the cluster (``local_ray_cluster``) first.
    Ray is a dev dependency: without it this fails, it does not skip."""

    def make(tmp: Path) -> Launcher:
        from pipeyard.launchers.ray import RayLauncher  # fails loudly without Ray

        return RayLauncher()

    return make
