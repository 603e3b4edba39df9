"""GPU requests: the device list from nvidia-smi, the pool that never lends one device to
two tasks at once (a fake device list: this machine has no GPU), and what a task sees."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from pipeyard.launchers import gpus
from pipeyard.launchers.resources import ResourcePool


def _smi(stdout: str, code: int = 0) -> Any:
    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert argv[0] == "nvidia-smi"
        return subprocess.CompletedProcess(argv, code, stdout, "")
    return run


def test_devices_come_from_nvidia_smi_narrowed_by_the_hosts_visible_devices() -> None:
    assert gpus.list_gpus(_smi("0\n1\n2\n3\n"), host_visible="") == ("0", "1", "2", "3")
    assert gpus.list_gpus(_smi("0\n1\n2\n3\n"), host_visible="1,3") == ("1", "3")
    assert gpus.list_gpus(_smi("", code=9), host_visible="") == ()


def test_plan_notes_requests_that_cannot_be_satisfied() -> None:
    assert gpus.plan("nvidia.com/gpu", 2, ("0", "1")) == gpus.GpuPlan(2)
    missing = gpus.plan("nvidia.com/gpu", 1, ())
    assert missing.count == 0 and missing.note is not None
    assert "nvidia.com/gpu x1 requested but not satisfied: no GPU on this machine" in missing.note
    tpu = gpus.plan("cloud-tpus.google.com/v3", 8, ("0",))
    assert tpu.count == 0 and tpu.note is not None and "only NVIDIA GPUs" in tpu.note
    assert gpus.plan("", 0, ("0",)) == gpus.GpuPlan(0)


def test_pool_never_gives_one_gpu_to_two_tasks_at_once() -> None:
    async def scenario() -> None:
        pool = ResourcePool(max_parallel=8, total_cpu=8, total_memory_bytes=0, gpus=("0", "1", "2"))
        assert pool.refusal(0, 0, 4) == "task requests 4 GPUs but this machine has 3"
        held: dict[str, str] = {}
        seen: list[list[str]] = []
        release = {n: asyncio.Event() for n in range(4)}

        async def task(n: int, count: int) -> None:
            async with pool.reserve(0, 0, count) as devices:
                assert len(devices) == count
                for d in devices:
                    assert d not in held, f"GPU {d} given to task {n} while task {held[d]} holds it"
                    held[d] = str(n)
                seen.append(list(devices))
                await release[n].wait()
                for d in devices:
                    del held[d]

        async def settle() -> None:
            for _ in range(5):
                await asyncio.sleep(0)

        tasks = [asyncio.create_task(task(n, c)) for n, c in enumerate([2, 2, 1, 3])]
        await settle()
        # Task 1 needs two devices and one is free: it waits, and task 2 waits behind it.
        assert seen == [["0", "1"]]
        release[0].set()
        await settle()
        assert len(seen) == 3 and sorted(seen[1] + seen[2]) == ["0", "1", "2"]
        release[1].set()
        await settle()
        assert len(seen) == 3  # task 3 needs all three; task 2 still holds one
        release[2].set()
        release[3].set()
        await asyncio.gather(*tasks)
        assert sorted(seen[3]) == ["0", "1", "2"] and not held

    asyncio.run(scenario())
