"""GPUs for tasks that ask for them (``set_accelerator_type`` / ``set_accelerator_limit``).

The devices are what ``nvidia-smi`` lists (narrowed to the host's own
``CUDA_VISIBLE_DEVICES`` when pipeyard itself was given a subset). ``ResourcePool``
hands them out: a task holds its devices exclusively until it ends, and sees only
them through ``CUDA_VISIBLE_DEVICES``; a task that asked for none sees none, as a pod
without a GPU limit does. A request the machine cannot meet at all is refused; where
there is no GPU (or the type is not an NVIDIA one) the task runs without one and its
log says the request was not satisfied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CUDA_ENV = "CUDA_VISIBLE_DEVICES"


def is_nvidia(kind: str) -> bool:
    """KFP users write "nvidia.com/gpu", Vertex names ("NVIDIA_TESLA_T4") or just "gpu"."""
    k = kind.strip().lower()
    return "nvidia" in k or k.startswith("tesla") or k in ("gpu", "gpus")


def list_gpus(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
              host_visible: str | None = None) -> tuple[str, ...]:
    """Device indexes nvidia-smi lists, or () without nvidia-smi or GPUs."""
    if run is subprocess.run and shutil.which("nvidia-smi") is None:
        return ()
    try:
        out = run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                  capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if out.returncode != 0:
        return ()
    devices = tuple(line.strip() for line in out.stdout.splitlines() if line.strip().isdigit())
    visible = os.environ.get(CUDA_ENV) if host_visible is None else host_visible
    if visible is not None and visible.strip():
        allowed = [v.strip() for v in visible.split(",")]
        devices = tuple(d for d in devices if d in allowed)
    return devices


@dataclass(frozen=True)
class GpuPlan:
    count: int  # devices to reserve
    note: str | None = None  # why the request is not satisfied (said in the task's log)


def plan(kind: str, count: int, devices: Sequence[str]) -> GpuPlan:
    if not kind or count <= 0:
        return GpuPlan(0)
    asked = f"accelerator {kind} x{count} requested"
    if not is_nvidia(kind):
        return GpuPlan(0, f"{asked} but not satisfied: only NVIDIA GPUs are handed out locally; "
                          "the task runs without one")
    if not devices:
        return GpuPlan(0, f"{asked} but not satisfied: no GPU on this machine (nvidia-smi lists none); "
                          "the task runs without one")
    return GpuPlan(count)


def task_env(devices: Sequence[str], machine_has_gpus: bool) -> dict[str, str]:
    """The task's CUDA_VISIBLE_DEVICES: its own devices, or none where the machine has some."""
    if devices or machine_has_gpus:
        return {CUDA_ENV: ",".join(devices)}
    return {}
