from __future__ import annotations

import asyncio

from pipeyard.launchers.resources import ResourcePool


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_slots_limit_parallel_tasks() -> None:
    async def scenario() -> None:
        pool = ResourcePool(max_parallel=2, total_cpu=8, total_memory_bytes=0)
        order: list[str] = []
        gates = {name: asyncio.Event() for name in "abc"}

        async def task(name: str) -> None:
            async with pool.reserve(0, 0):
                order.append(f"start {name}")
                await gates[name].wait()
            order.append(f"end {name}")

        tasks = [asyncio.create_task(task(n)) for n in "abc"]
        await _settle()
        assert order == ["start a", "start b"] and pool.running == 2
        gates["a"].set()
        await _settle()
        assert order == ["start a", "start b", "end a", "start c"]
        gates["b"].set()
        gates["c"].set()
        await asyncio.gather(*tasks)
        assert pool.running == 0

    asyncio.run(scenario())


def test_cpu_and_memory_are_accounted_in_arrival_order() -> None:
    async def scenario() -> None:
        pool = ResourcePool(max_parallel=10, total_cpu=4, total_memory_bytes=100)
        started: list[str] = []
        gates = {name: asyncio.Event() for name in "abcd"}

        async def task(name: str, cpu: float, memory: int) -> None:
            async with pool.reserve(cpu, memory):
                started.append(name)
                await gates[name].wait()

        tasks = [
            asyncio.create_task(task("a", 3, 10)),
            asyncio.create_task(task("b", 2, 10)),  # does not fit next to a
            asyncio.create_task(task("c", 0, 10)),  # would fit, but waits behind b
            asyncio.create_task(task("d", 0, 95)),
        ]
        await _settle()
        assert started == ["a"]
        gates["a"].set()
        await _settle()
        assert started == ["a", "b", "c"]  # d needs 95 bytes; b and c hold 20
        gates["b"].set()
        gates["c"].set()
        await _settle()
        assert started == ["a", "b", "c", "d"]
        gates["d"].set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())


def test_cancelled_waiter_does_not_leak_capacity() -> None:
    async def scenario() -> None:
        pool = ResourcePool(max_parallel=1, total_cpu=1, total_memory_bytes=0)
        gate = asyncio.Event()

        async def holder() -> None:
            async with pool.reserve(0, 0):
                await gate.wait()

        async def waiter() -> None:
            async with pool.reserve(0, 0):
                pass

        held = asyncio.create_task(holder())
        await _settle()
        waiting = asyncio.create_task(waiter())
        await _settle()
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        gate.set()
        await held
        assert pool.running == 0
        async with pool.reserve(1, 0):
            assert pool.running == 1

    asyncio.run(scenario())


def test_refusal_messages() -> None:
    pool = ResourcePool(max_parallel=1, total_cpu=2, total_memory_bytes=1000)
    assert pool.refusal(4, 0) == "task requests 4 CPUs but this machine has 2"
    assert pool.refusal(2, 1000) is None
    assert pool.refusal(0, 2000) == "task requests 2000 bytes of memory but this machine has 1000"


def test_a_limit_without_a_request_reserves_the_limit_at_most_the_machine() -> None:
    pool = ResourcePool(max_parallel=4, total_cpu=2, total_memory_bytes=1000)
    # Requests are what admission reserves, whatever the limits.
    assert pool.admission(0.5, 100, cpu_limit=1.5, memory_limit_bytes=900) == (0.5, 100)
    # Kubernetes' rule: a limit alone is the request...
    assert pool.admission(0.0, 0, cpu_limit=1.5, memory_limit_bytes=900) == (1.5, 900)
    # ...but a limit beyond the machine reserves the machine instead of making the task unrunnable.
    cpu, memory = pool.admission(0.0, 0, cpu_limit=4.0, memory_limit_bytes=5000)
    assert (cpu, memory) == (2.0, 1000) and pool.refusal(cpu, memory) is None
    # An explicit request beyond the machine is still refused.
    assert pool.refusal(*pool.admission(4.0, 0)) == "task requests 4 CPUs but this machine has 2"
