"""Parameter values larger than the command line can carry reach their task."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kfp import compiler, dsl

ITEMS = 1_000_000


@dsl.component(base_image="python:3.11")
def produce(n: int) -> list[int]:
    return list(range(n))


@dsl.component(base_image="python:3.11")
def total(items: list[int]) -> int:
    return sum(items)


@dsl.pipeline(name="large-list")
def large_list(n: int = ITEMS) -> int:
    return total(items=produce(n=n).output).output


@pytest.mark.parametrize("fork_server", ["1", "0"])
def test_a_million_item_list_reaches_the_task(tmp_path: Path, fork_server: str) -> None:
    spec = tmp_path / "p.yaml"
    compiler.Compiler().compile(large_list, str(spec))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env.update({"PIPEYARD_HOME": str(tmp_path / "home"), "PIPEYARD_FORK_SERVER": fork_server})
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("pipeyard")), "run", str(spec), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    import json

    result = json.loads(proc.stdout)
    assert result["state"] == "SUCCEEDED"
    assert result["outputs"]["Output"] == ITEMS * (ITEMS - 1) // 2
