"""Limits as numbers (from a compiled pipeline's parameters), their messages, and the
cgroup files written for them on v1 and v2 layouts (a fake /sys/fs/cgroup in a tmp dir:
the kernel's own tree is exercised by tests/integration/test_task_limits.py)."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.

import os
from pathlib import Path

import pytest
from kfp import compiler, dsl

from pipeyard.engine.task_resources import resolve
from pipeyard.errors import SpecError
from pipeyard.ir.loader import load_pipeline_file
from pipeyard.ir.placeholders import PlaceholderContext
from pipeyard.ir.views import build_view
from pipeyard.launchers import cgroups
from pipeyard.launchers.task_limits import format_memory, oom_message


@dsl.component
def work(n: int) -> int:
    return n


@dsl.pipeline
def limited(mem: str = "650M", cpu: str = "1500m", gpus: int = 2):
    task = work(n=1).set_memory_limit(mem).set_cpu_limit(cpu).set_cpu_request("0.5")
    task.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(gpus)


def test_limits_from_pipeline_parameters_resolve_to_numbers(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(limited, str(path))
    component = next(iter(build_view(load_pipeline_file(path).spec).components.values()))
    assert component.container is not None
    params = {"pipelinechannel--mem": "1Gi", "pipelinechannel--cpu": "1500m", "pipelinechannel--gpus": 2}
    res = resolve(component.container.resources, PlaceholderContext(input_parameters=params), "task 'work'")
    assert (res.memory_limit_bytes, res.cpu_limit, res.cpu) == (1024**3, 1.5, 0.5)
    assert res.memory_bytes == 0  # no memory request: admission takes the limit (test_launcher_resources.py)
    assert (res.accelerator_type, res.accelerator_count) == ("nvidia.com/gpu", 2)

    bad = {**params, "pipelinechannel--mem": "lots"}
    with pytest.raises(SpecError, match=r"task 'work': memory limit 'lots' is not a quantity"):
        resolve(component.container.resources, PlaceholderContext(input_parameters=bad), "task 'work'")


@pytest.mark.parametrize(("n", "text"), [(650 * 10**6, "650M"), (100 * 2**20, "100Mi"), (2 * 10**9, "2G"),
                                         (1536, "1536"), (3 * 2**30, "3Gi")])
def test_memory_is_said_as_the_user_wrote_it(n: int, text: str) -> None:
    assert format_memory(n) == text
    assert oom_message(650 * 10**6) == "out of memory: limit 650M"


def _fake(tmp_path: Path, mounts: str, cgroup: str) -> tuple[str, str]:
    (tmp_path / "mounts").write_text(mounts)
    (tmp_path / "cgroup").write_text(cgroup)
    return str(tmp_path / "mounts"), str(tmp_path / "cgroup")


def test_v2_task_group_gets_memory_max_and_cpu_max(tmp_path: Path) -> None:
    root = tmp_path / "fs"
    own = root / "sys/fs/cgroup/user.slice/me"
    own.mkdir(parents=True)
    for d in (own.parent, own):
        (d / "cgroup.controllers").write_text("cpu memory pids\n")
    mounts, cgroup = _fake(tmp_path, "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n", "0::/user.slice/me\n")
    # A real group dir gets its interface files from the kernel; make them up front.
    base = own.parent / f"pipeyard-{os.getpid()}"
    base.mkdir()
    (base / "cgroup.controllers").write_text("cpu memory\n")
    tree = cgroups.detect(mounts, cgroup, root=str(root))
    assert isinstance(tree, cgroups.V2Tree) and tree.base == base
    assert (base / "cgroup.subtree_control").read_text() == "+memory +cpu"
    group = tree.create(cgroups.Limits(memory_bytes=100 * 10**6, cpu=0.25, cpu_request=0.5))
    task = group.dirs[0]
    assert (task / "memory.max").read_text() == "100000000"
    assert (task / "cpu.max").read_text() == "25000 100000"
    assert group.procs_files == (str(task / "cgroup.procs"),)
    (task / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_kills() == 1


def test_v1_task_groups_in_memory_and_cpu_trees(tmp_path: Path) -> None:
    root = tmp_path / "fs"
    for tree_dir in ("memory/api/me", "cpu"):
        (root / "sys/fs/cgroup" / tree_dir).mkdir(parents=True)
    mounts, cgroup = _fake(
        tmp_path,
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
        "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
        "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n",
        "4:memory:/api/me\n1:cpu:/\n0::/\n",
    )
    (root / "sys/fs/cgroup/unified").mkdir(parents=True)
    (root / "sys/fs/cgroup/unified/cgroup.controllers").write_text("\n")  # v1 holds them all
    tree = cgroups.detect(mounts, cgroup, root=str(root))
    assert isinstance(tree, cgroups.V1Tree)
    group = tree.create(cgroups.Limits(memory_bytes=2**30, cpu=1.5, cpu_request=0.5))
    memory, cpu = group.dirs
    assert memory.parent == root / f"sys/fs/cgroup/memory/api/me/pipeyard-{os.getpid()}"
    assert (memory / "memory.limit_in_bytes").read_text() == str(2**30)
    assert (cpu / "cpu.cfs_quota_us").read_text() == "150000"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert (cpu / "cpu.shares").read_text() == "512"
    assert len(group.procs_files) == 2


def test_no_writable_tree_means_none(tmp_path: Path) -> None:
    mounts, cgroup = _fake(tmp_path, "proc /proc proc rw 0 0\n", "0::/\n")
    assert cgroups.detect(mounts, cgroup, root=str(tmp_path)) is None
