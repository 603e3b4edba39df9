"""GPU devices as local task processes see them: CUDA_VISIBLE_DEVICES holds only the
devices the resource pool granted, and an unsatisfiable request is said in the task's log.
(The allocation itself is unit-tested over a fake device list in tests/unit/launchers/test_gpus.py.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchRequest


def _print_cuda(tmp_path: Path, name: str, count: int) -> LaunchRequest:
    return LaunchRequest(key=f"r/{name}/1", argv=("sh", "-c", 'echo "cuda=${CUDA_VISIBLE_DEVICES-unset}"'),
                         log_path=str(tmp_path / f"{name}.log"), accelerator_type="nvidia.com/gpu" if count else "",
                         accelerator_count=count)


def test_local_tasks_see_only_their_devices(tmp_path: Path) -> None:
    async def scenario() -> None:
        launcher = LocalLauncher(envs_dir=tmp_path / "envs", gpu_devices=("0", "1"))
        try:
            results = await asyncio.gather(launcher.launch(_print_cuda(tmp_path, "two", 2)),
                                           launcher.launch(_print_cuda(tmp_path, "none", 0)))
        finally:
            await launcher.aclose()
        assert all(r.succeeded for r in results)

    asyncio.run(scenario())
    assert (tmp_path / "two.log").read_text() == "cuda=0,1\n"
    assert (tmp_path / "none.log").read_text() == "cuda=\n"  # the machine's GPUs are not its to use


def test_without_gpus_the_log_says_the_request_was_not_satisfied(tmp_path: Path) -> None:
    async def scenario() -> None:
        launcher = LocalLauncher(envs_dir=tmp_path / "envs", gpu_devices=())
        try:
            assert (await launcher.launch(_print_cuda(tmp_path, "one", 1))).succeeded
        finally:
            await launcher.aclose()

    asyncio.run(scenario())
    log = (tmp_path / "one.log").read_text().splitlines()
    assert log[0].startswith("pipeyard: accelerator nvidia.com/gpu x1 requested but not satisfied")
    assert log[1] == "cuda=unset"
