"""Memory and CPU limits of local tasks, through the real ``pipeyard run`` with compiled
pipelines whose limits come from pipeline parameters (KFP 2.x channel values)."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl
from tests.support.pipeline_runs import CLI_DEADLINE_SECONDS, PIPEYARD, cli_env, compile_pipeline

from pipeyard.launchers.task_limits import TaskLimits

component = dsl.component(base_image="python:3.11")


@component
def hog(mb: int, hold_seconds: float) -> int:
    import time

    chunks = []
    for _ in range(mb // 10):
        chunks.append("x" * (10 * 1024 * 1024))  # written, so resident
    time.sleep(hold_seconds)  # keeps the memory, for a watchdog that samples it
    return len(chunks) * 10


@dsl.pipeline
def memory_pipeline(limit: str = "100M", mb: int = 200, hold_seconds: float = 0.0):
    hog(mb=mb, hold_seconds=hold_seconds).set_memory_limit(limit).set_memory_request("50M")


@component
def spin(cpu_seconds: float) -> str:
    import json
    import time
    from pathlib import Path

    wall, cpu = time.monotonic(), time.process_time()
    while time.process_time() - cpu < cpu_seconds:
        pass
    ratio = (time.process_time() - cpu) / (time.monotonic() - wall)
    files = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "pipeyard-" not in path or controllers not in ("cpu", "cpu,cpuacct", ""):
            continue
        # v1 mounts the cpu tree under its controller's name, v2 has one tree.
        for root in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup"):
            for name in ("cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.max", "cpu.stat"):
                file = Path(f"{root}{path}/{name}")
                if file.exists():
                    files[name] = file.read_text().strip()
    return json.dumps({"ratio": ratio, "files": files})


@dsl.pipeline
def cpu_pipeline(cpu: str = "200m"):
    spin(cpu_seconds=0.5).set_cpu_limit(cpu)


def _run(home: Path, file: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run([str(PIPEYARD), "run", str(file), "--no-cache", "--json", *args],
                          env={**cli_env(home), **(env or {})}, capture_output=True, text=True,
                          timeout=CLI_DEADLINE_SECONDS, check=False)
    assert proc.stdout.strip(), proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def _task(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["tasks"] if t["name"] == name)


def _log(home: Path, doc: dict[str, Any], name: str) -> str:
    return "".join(p.read_text() for p in sorted((home / "logs" / doc["run_id"]).rglob("*.log"))
                   if name in str(p))


def test_memory_limit_from_a_parameter_fails_the_task_past_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    file = compile_pipeline(memory_pipeline, tmp_path / "memory.yaml")
    over = _run(home, file, "--arg", "mb=200")
    assert over["state"] == "FAILED", over
    assert _task(over, "hog")["error"].startswith("out of memory: limit 100M"), _task(over, "hog")
    assert "out of memory: limit 100M" in _log(home, over, "hog")

    under = _run(home, file, "--arg", "mb=20")
    assert under["state"] == "SUCCEEDED", under
    assert _task(under, "hog")["outputs"]["Output"] == 20


def test_rss_watchdog_holds_the_limit_without_cgroups(tmp_path: Path) -> None:
    home = tmp_path / "home"
    file = compile_pipeline(memory_pipeline, tmp_path / "memory.yaml")
    rss = {"PIPEYARD_TASK_LIMITS": "rss"}
    # Held for a minute if nothing stopped it: the run would then succeed and the test fail.
    over = _run(home, file, "--arg", "mb=300", "--arg", "limit=150Mi", "--arg", "hold_seconds=60", env=rss)
    assert over["state"] == "FAILED", over
    assert _task(over, "hog")["error"].startswith("out of memory: limit 150Mi"), _task(over, "hog")

    under = _run(home, file, "--arg", "mb=10", env=rss)
    assert under["state"] == "SUCCEEDED", under


def test_cpu_limit_from_a_parameter_is_a_cfs_quota(tmp_path: Path) -> None:
    probe = TaskLimits()
    backend = probe.backend
    probe.close()
    if not backend.startswith("cgroup"):
        pytest.skip(f"CPU limits need a writable cgroup; this machine has: {backend}")
    home = tmp_path / "home"
    file = compile_pipeline(cpu_pipeline, tmp_path / "cpu.yaml")
    doc = _run(home, file, "--arg", "cpu=250m")
    assert doc["state"] == "SUCCEEDED", doc
    report = json.loads(_task(doc, "spin")["outputs"]["Output"])
    files = report["files"]
    if "cpu.max" in files:
        assert files["cpu.max"] == "25000 100000"
    else:
        assert (files["cpu.cfs_quota_us"], files["cpu.cfs_period_us"]) == ("25000", "100000")
    # 0.5 s of CPU at 25 ms per 100 ms period is throttled, unless the loaded machine gave it less anyway.
    stat = dict(line.split() for line in files["cpu.stat"].splitlines())
    assert int(stat["nr_throttled"]) > 0 or report["ratio"] < 0.3, report
    # Generous bound: the limit is 0.25 CPU, an unlimited spin on an idle core would be ~1.
    assert report["ratio"] < 0.6, report


@component
def cuda_devices() -> str:
    import os

    return os.environ.get("CUDA_VISIBLE_DEVICES", "unset")


@dsl.pipeline
def gpu_pipeline(gpus: int = 1):
    cuda_devices().set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(gpus)


def test_unsatisfied_gpu_request_is_said_in_the_log_and_the_json_summary(tmp_path: Path) -> None:
    from pipeyard.launchers.gpus import list_gpus

    if list_gpus():
        pytest.skip("this machine has GPUs: the request is satisfied (see tests/unit/launchers/test_gpus.py)")
    home = tmp_path / "home"
    doc = _run(home, compile_pipeline(gpu_pipeline, tmp_path / "gpu.yaml"), "--arg", "gpus=2")
    assert doc["state"] == "SUCCEEDED", doc
    task = _task(doc, "cuda-devices")
    assert any("nvidia.com/gpu x2 requested: not satisfied" in w for w in task["warnings"]), task
    assert "pipeyard: accelerator nvidia.com/gpu x2 requested but not satisfied" in _log(home, doc, "cuda-devices")


@pytest.mark.parametrize("mode", ["auto", "rss"])
def test_plain_command_past_its_limit_is_stopped_and_its_groups_removed(mode: str, tmp_path: Path) -> None:
    import asyncio

    from pipeyard.launchers import LocalLauncher
    from pipeyard.launchers.base import LaunchRequest, LaunchResult

    # A shell holding 200 MB in a variable, read slowly enough for the watchdog to sample.
    script = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}"
    request = LaunchRequest(key="r/t/1", argv=("sh", "-c", script), log_path=str(tmp_path / "t.log"),
                            memory_limit_bytes=50 * 1000 * 1000)
    launcher = LocalLauncher(envs_dir=tmp_path / "envs", fork_server=False)
    launcher.limits = TaskLimits(mode)

    async def main() -> tuple[LaunchResult, list[Path]]:
        try:
            result = await launcher.launch(request)
            tree = launcher.limits.tree
            bases = [] if tree is None else [p for p in vars(tree).values() if isinstance(p, Path)]
            return result, bases
        finally:
            await launcher.aclose()

    result, bases = asyncio.run(main())
    log = (tmp_path / "t.log").read_text()
    assert result.error == "out of memory: limit 50M", (result, log)
    assert "survived" not in log and "pipeyard: out of memory: limit 50M" in log
    if mode == "rss":
        assert not bases
    assert not [b for b in bases if b.exists()]  # the launcher's cgroups went with it
