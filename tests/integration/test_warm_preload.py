"""Warm fork servers: a second run of a numpy-importing component finds numpy imported,
and a module list whose import starts a thread is refused for good."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
import json
import sys
from pathlib import Path

import pytest
from kfp import dsl
from tests.support.pipeline_runs import cli_json, compile_pipeline

from pipeyard.launchers.forkserver import ForkServer, ForkServerError
from pipeyard.launchers.preload import Record, Records, plan
from pipeyard.launchers.warm import WarmServers


@dsl.component
def numpy_step(x: int) -> str:
    import json
    import sys

    warm = "numpy" in sys.modules  # before this task imported it: the fork server had
    import numpy as np

    return json.dumps({"warm": warm, "sum": int(np.arange(x).sum())})


@dsl.pipeline(name="numpy-twice")
def numpy_pipeline(x: int = 5) -> str:
    return numpy_step(x=x).output


def _step_output(doc: dict) -> dict:
    return json.loads(doc["outputs"]["Output"])


def test_second_run_of_a_numpy_component_forks_from_a_warm_server(tmp_path: Path) -> None:
    pipeline = compile_pipeline(numpy_pipeline, tmp_path / "numpy.yaml")
    home = tmp_path / "home"
    code, first = cli_json(home, "run", str(pipeline), "--no-cache")
    assert code == 0, first
    assert _step_output(first) == {"warm": False, "sum": 10}
    records = list((home / "envs" / ".preload").glob("[0-9a-f]*/*.json"))  # per interpreter
    assert len(records) == 1
    planned = plan(Records(home).read(records[0]))
    assert planned is not None and "numpy" in planned
    code, second = cli_json(home, "run", str(pipeline), "--no-cache", "--arg", "x=4")
    assert code == 0, second
    assert _step_output(second) == {"warm": True, "sum": 6}


def test_a_module_list_that_starts_threads_is_refused_and_marked_unsafe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "mods"
    modules.mkdir()
    (modules / "starts_a_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(modules))

    async def scenario() -> None:
        server = ForkServer(sys.executable, ["starts_a_thread"])
        with pytest.raises(ForkServerError, match="not fork-safe"):
            await server.start()
        assert server.unsafe is not None and "threads" in server.unsafe
        await server.aclose()

        warm = WarmServers(tmp_path / "records")
        path = warm.records.path(sys.executable, "source")
        # As a child would have reported it, were this module installed in site-packages.
        warm.records.write(path, Record((("starts_a_thread", "site"),)))
        pick = await warm.pick(sys.executable, "source")
        assert pick is not None and pick.server is None
        record = warm.records.read(path)
        assert record is not None and record.unsafe is not None and "threads" in record.unsafe
        assert plan(record) is None
        await warm.aclose()

    asyncio.run(scenario())
