"""What a task asks for, as Ray task options, and whether any node can give it.

- ``cpu`` becomes ``num_cpus`` (at least ``MIN_TASK_CPUS``, so many trivial tasks
  share a core) and ``memory_bytes`` Ray's ``memory``.
- An accelerator (``set_accelerator_type`` / ``set_accelerator_limit``): a GPU type
  (``nvidia.com/gpu``, ``NVIDIA_TESLA_T4``, ``amd.com/gpu``, anything naming a GPU)
  becomes ``num_gpus``; a TPU type the ``TPU`` resource; any other name is taken as
  a custom Ray resource of that name (``ray start --resources='{"ssd": 1}'``), which
  is how a task is pinned to the nodes that have something.
- A Ray task runs on one node: a request no single alive node can hold is refused
  at once, naming what is short, instead of waiting forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Ray accounts fractional CPUs; a task asking for nothing still takes this much,
# so a node with N cores runs up to N / MIN_TASK_CPUS trivial tasks at once.
MIN_TASK_CPUS = 0.05
_GPU_WORDS = ("gpu", "nvidia", "tesla", "amd.com")
_NAMES = {"CPU": "CPUs", "GPU": "GPUs", "memory": "bytes of memory"}


def is_gpu(accelerator_type: str) -> bool:
    kind = accelerator_type.lower()
    return any(word in kind for word in _GPU_WORDS)


def ray_options(cpu: float, memory_bytes: int, accelerator_type: str = "",
                accelerator_count: float = 0.0) -> dict[str, Any]:
    """``.options(...)`` for the Ray task of one attempt."""
    options: dict[str, Any] = {"num_cpus": max(cpu, MIN_TASK_CPUS)}
    if memory_bytes:
        options["memory"] = memory_bytes
    kind = accelerator_type.strip()
    if kind and accelerator_count > 0:
        if is_gpu(kind):
            options["num_gpus"] = accelerator_count
        elif "tpu" in kind.lower():
            options["resources"] = {"TPU": accelerator_count}
        else:
            options["resources"] = {kind: accelerator_count}
    return options


def needs(options: Mapping[str, Any]) -> dict[str, float]:
    """The options as Ray resource amounts."""
    wanted: dict[str, float] = {
        "CPU": float(options.get("num_cpus", 0.0)),
        "GPU": float(options.get("num_gpus", 0.0)),
        "memory": float(options.get("memory", 0.0)),
        **{k: float(v) for k, v in (options.get("resources") or {}).items()},
    }
    return {k: v for k, v in wanted.items() if v > 0}


def _describe(resource: str) -> str:
    return _NAMES.get(resource, f"of the Ray resource {resource!r}")


def refusal(options: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]]) -> str | None:
    """Why no alive node (``ray.nodes()`` entries) can run a task with ``options``;
    None when one can."""
    wanted = needs(options)
    alive = [dict(n.get("Resources") or {}) for n in nodes if n.get("Alive")]
    if not alive:
        return "the Ray cluster has no alive node"
    if any(all(node.get(k, 0.0) + 1e-9 >= v for k, v in wanted.items()) for node in alive):
        return None
    for resource, amount in wanted.items():
        best = max(node.get(resource, 0.0) for node in alive)
        if best + 1e-9 < amount:
            if best == 0:
                return (f"task requests {amount:g} {_describe(resource)} but no node of the Ray "
                        f"cluster has any ({len(alive)} alive nodes)")
            return (f"task requests {amount:g} {_describe(resource)} but the largest node of the "
                    f"Ray cluster has {best:g} (a task runs on one node)")
    asked = ", ".join(f"{v:g} {_describe(k)}" for k, v in wanted.items())
    return f"task requests {asked} together, and no single node of the Ray cluster has all of them"
