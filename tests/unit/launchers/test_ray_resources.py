"""How a task's requests become Ray task options, and the refusal of what no node holds."""

from __future__ import annotations

from typing import Any

import pytest

from pipeyard.launchers.ray_resources import MIN_TASK_CPUS, ray_options, refusal


def _node(alive: bool = True, **resources: float) -> dict[str, Any]:
    return {"Alive": alive, "Resources": resources}


@pytest.mark.parametrize(
    ("kind", "count", "expected"),
    [
        ("nvidia.com/gpu", 2, {"num_gpus": 2}),
        ("NVIDIA_TESLA_T4", 1, {"num_gpus": 1}),
        ("amd.com/gpu", 1, {"num_gpus": 1}),
        ("TPU_V4", 4, {"resources": {"TPU": 4}}),
        ("fast_disk", 1, {"resources": {"fast_disk": 1}}),
        ("", 0, {}),
        ("nvidia.com/gpu", 0, {}),
    ],
)
def test_accelerators_become_gpus_tpus_or_custom_resources(kind: str, count: float,
                                                           expected: dict[str, Any]) -> None:
    assert ray_options(0.0, 0, kind, count) == {"num_cpus": MIN_TASK_CPUS, **expected}


def test_cpus_and_memory() -> None:
    assert ray_options(1.5, 1024) == {"num_cpus": 1.5, "memory": 1024}
    assert ray_options(0.0, 0) == {"num_cpus": MIN_TASK_CPUS}


def test_a_request_one_node_can_hold_is_placed() -> None:
    nodes = [_node(CPU=2, memory=10), _node(CPU=4, GPU=1, memory=10)]
    assert refusal(ray_options(3, 0, "nvidia.com/gpu", 1), nodes) is None


def test_more_cpus_than_any_node_is_refused_even_if_the_cluster_has_them() -> None:
    message = refusal(ray_options(3, 0), [_node(CPU=2), _node(CPU=2)])
    assert message == "task requests 3 CPUs but the largest node of the Ray cluster has 2 (a task runs on one node)"


def test_a_missing_custom_resource_or_gpu_is_named() -> None:
    nodes = [_node(CPU=2)]
    assert "of the Ray resource 'fast_disk' but no node of the Ray cluster has any" in str(
        refusal(ray_options(0, 0, "fast_disk", 1), nodes))
    assert "1 GPUs but no node" in str(refusal(ray_options(0, 0, "nvidia.com/gpu", 1), nodes))


def test_dead_nodes_do_not_count_and_needs_must_meet_on_one_node() -> None:
    assert refusal(ray_options(1, 0), [_node(False, CPU=8)]) == "the Ray cluster has no alive node"
    split = [_node(CPU=4), _node(CPU=1, GPU=1)]
    assert "no single node of the Ray cluster has all of them" in str(
        refusal(ray_options(2, 0, "nvidia.com/gpu", 1), split))
