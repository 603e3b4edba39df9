"""A task fills the disk that also holds the database (the default layout).

Performed for real on a small tmpfs as PIPEYARD_HOME (needs root to mount, as CI has).
The run must end FAILED with the reason, the summary must print, the partial output
must be gone (so the space is back), and the next run must work.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp import compiler
from tests.support.disk_pipelines import SIZE_MB, fill_pipeline, small_pipeline
from tests.support.disks import small_tmpfs


@pytest.fixture
def small_home(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "home", SIZE_MB) as home:
        yield home


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(home)
    env["PIPEYARD_ENVS_DIR"] = str(home.parent / "envs")
    return subprocess.run([str(Path(sys.executable).with_name("pipeyard")), *args], env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_task_that_fills_the_disk_fails_cleanly(small_home: Path, tmp_path: Path) -> None:
    fill_yaml, small_yaml = tmp_path / "fill.yaml", tmp_path / "small.yaml"
    compiler.Compiler().compile(fill_pipeline, str(fill_yaml))
    compiler.Compiler().compile(small_pipeline, str(small_yaml))
    # The database exists before the disk fills, as on any used machine.
    assert _cli(small_home, "run", str(small_yaml)).returncode == 0

    proc = _cli(small_home, "run", str(fill_yaml), "--json")
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["state"] == "FAILED"
    (task,) = [t for t in result["tasks"] if t["name"] == "fill"]
    assert task["state"] == "FAILED"
    assert "No space left on device" in (result["error"] or ""), (result["error"], proc.stderr[-3000:])
    # The partial output is gone and the space is back.
    leftovers = [p for p in (small_home / "artifacts").rglob("*") if p.is_file() and p.stat().st_size > (1 << 20)]
    assert leftovers == []
    assert shutil.disk_usage(small_home).free > (SIZE_MB // 2) << 20

    shown = _cli(small_home, "runs", "show", result["run_id"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "FAILED"
    again = _cli(small_home, "run", str(small_yaml), "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["outputs"]["Output"] == "fine"
