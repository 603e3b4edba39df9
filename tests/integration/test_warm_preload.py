"""Warm fork servers: a second run of a numpy-importing component finds numpy imported,
and a module list whose import starts a thread is refused for good."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
import json
import os
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


@dsl.component(packages_to_install=["numpy"])
def colour_step() -> str:
    import json
    import os
    import sys

    # Before this task imports anything: what its fork server had imported already.
    seen = {"numpy": "numpy" in sys.modules, "difflib": "difflib" in sys.modules}
    import colorsys

    import numpy as np

    return json.dumps({**seen, "server": os.getppid(), "hue": round(colorsys.rgb_to_hsv(*np.ones(3))[2], 3)})


@dsl.component(packages_to_install=["numpy"])
def diff_step(after: str) -> str:
    import difflib
    import json
    import os
    import sys

    import numpy as np

    seen = {"colorsys": "colorsys" in sys.modules}
    return json.dumps({**seen, "server": os.getppid(), "ratio": difflib.SequenceMatcher(None, "ab", after[:2]).ratio(),
                       "n": int(np.int64(3))})


@dsl.pipeline(name="two-numpy-steps")
def two_steps_pipeline() -> str:
    first = colour_step()
    return diff_step(after=first.output).output


def _outputs(doc: dict) -> dict[str, dict]:
    return {t["name"]: json.loads(t["outputs"]["Output"]) for t in doc["tasks"]}


def test_steps_with_packages_to_install_fork_from_one_warm_server_started_before_the_first(tmp_path: Path) -> None:
    """The host has numpy, so the steps run on it; on the second run one warm server,
    started before the first task for both steps' imports, forks both."""
    from tests.support.processes import gone, wait_until

    pipeline = compile_pipeline(two_steps_pipeline, tmp_path / "two.yaml")
    home = tmp_path / "home"
    code, first = cli_json(home, "run", str(pipeline), "--no-cache")
    assert code == 0, first
    cold = _outputs(first)
    assert cold["colour-step"]["numpy"] is False and cold["diff-step"]["colorsys"] is False
    code, second = cli_json(home, "run", str(pipeline), "--no-cache")
    assert code == 0, second
    warm = _outputs(second)
    # The first step found the second step's import done: the server was made for both.
    assert warm["colour-step"]["numpy"] is True and warm["colour-step"]["difflib"] is True
    assert warm["diff-step"]["colorsys"] is True
    assert warm["colour-step"]["server"] == warm["diff-step"]["server"]
    for step in ("colour-step", "diff-step"):
        log = next((home / "logs" / second["run_id"]).glob(f"{step}.attempt-*.log")).read_text()
        assert "pipeyard: forked from a warm fork server" in log
    # The command is over: its warm server is too.
    wait_until(lambda: gone(warm["colour-step"]["server"]), "the warm fork server to exit with the CLI")


def test_a_remembered_pipeline_starts_its_warm_server_before_it_is_parsed(tmp_path: Path) -> None:
    from pipeyard.launchers.warm import pipeline_key

    spec = tmp_path / "pipeline.yaml"
    spec.write_text("not parsed by this test\n")
    key = pipeline_key(str(spec))
    assert key is not None

    async def scenario() -> None:
        first = WarmServers(tmp_path / "records")
        for source, extra in (("source", "json"), ("other", "difflib")):
            path = first.records.path(sys.executable, source)
            first.records.write(path, Record((("numpy", "site"), (extra, "stdlib"))))
        first.remember(key, {sys.executable: ["source", "other"]})
        await first.aclose()

        later = WarmServers(tmp_path / "records")  # the next command, knowing only the file
        later.hint_remembered(key, lambda interpreter: False)
        assert await later.pick(sys.executable, "other") is not None
        assert len(later._warm) == 1  # only the pick's own: an interpreter not allowed is not started
        await later.aclose()
        later = WarmServers(tmp_path / "records")
        later.hint_remembered(key, lambda interpreter: interpreter == sys.executable)
        pick = await later.pick(sys.executable, "source")
        assert pick is not None and pick.server is not None
        # Served by the server started for both remembered records, not one made for this pick.
        assert {"numpy", "json", "difflib"} <= set(pick.server.preload)
        again = await later.pick(sys.executable, "other")
        assert again is not None and again.server is pick.server
        await later.aclose()
        assert not pick.server.alive

    asyncio.run(scenario())


def test_an_unused_warm_server_is_closed_after_its_idle_time(tmp_path: Path) -> None:
    from tests.support.processes import gone

    async def scenario() -> None:
        warm = WarmServers(tmp_path / "records", idle_seconds=0.2)
        path = warm.records.path(sys.executable, "source")
        warm.records.write(path, Record((("numpy", "site"),)))
        pick = await warm.pick(sys.executable, "source")
        assert pick is not None and pick.server is not None and pick.server.alive
        process = pick.server._process
        assert process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while not (gone(process.pid) and not pick.server.alive):
            assert loop.time() < deadline, "the idle warm server was not closed"
            await asyncio.sleep(0.05)
        # Asked again, a fresh one is started.
        again = await warm.pick(sys.executable, "source")
        assert again is not None and again.server is not None and again.server is not pick.server
        await warm.aclose()

    asyncio.run(scenario())


def test_a_long_lived_launcher_is_hinted_a_whole_run_when_it_starts(tmp_path: Path) -> None:
    """What `pipeyard server` does when it claims a run: one warm server for all its steps."""
    import yaml

    from pipeyard.ir.python_component import component_programs
    from pipeyard.launchers.local import LocalLauncher
    from pipeyard.launchers.warm import hint_run

    spec = yaml.safe_load(compile_pipeline(two_steps_pipeline, tmp_path / "two.yaml").read_text())
    sources = [p.source for p in component_programs(spec["deploymentSpec"])]
    assert len(sources) == 2 and all(sources)

    async def scenario() -> None:
        launcher = LocalLauncher(envs_dir=tmp_path / "envs")
        records = Records(tmp_path / "envs" / ".preload")
        for source, extra in zip(sources, ("colorsys", "difflib"), strict=True):
            assert source is not None
            records.write(records.path(launcher.python, source), Record((("numpy", "site"), (extra, "stdlib"))))
        hint_run(launcher, spec)
        try:
            pick = await launcher._warm_servers.pick(launcher.python, sources[0])
            assert pick is not None and pick.server is not None
            assert {"numpy", "colorsys", "difflib"} <= set(pick.server.preload)
        finally:
            await launcher.aclose()

    asyncio.run(scenario())


def test_pipeyard_run_spawns_the_remembered_warm_server_first_and_the_launcher_adopts_it(tmp_path: Path) -> None:
    """What `pipeyard run` does before importing its engine: spawn the server the file used
    last time; the launcher's hint for the same file then takes that process, not a new one."""
    from tests.support.processes import gone, wait_until

    from pipeyard.launchers import warm
    from pipeyard.launchers.local import LocalLauncher

    spec = tmp_path / "pipeline.yaml"
    spec.write_text("not parsed by this test\n")
    key = warm.pipeline_key(str(spec))
    assert key is not None
    envs = tmp_path / "envs"
    records = Records(envs / warm.PRELOAD_DIR)
    for source, extra in (("source", "json"), ("other", "difflib")):
        records.write(records.path(sys.executable, source), Record((("numpy", "site"), (extra, "stdlib"))))
    WarmServers(records.root).remember(key, {sys.executable: ["source", "other"], "/not/ours/python": ["x"]})

    async def scenario() -> None:
        warm.prestart_remembered(str(spec), sys.executable, envs)
        early = list(warm._PRESTARTED.values())
        assert len(early) == 1  # the host's; an interpreter the launcher would not run is not started
        assert {"numpy", "json", "difflib"} <= set(early[0].preload)
        process = early[0]._process
        assert process is not None  # spawned already, with no event loop needed
        # In a session of its own (its CPU share under autogroup scheduling is not the CLI's).
        assert os.getsid(process.pid) == process.pid != os.getsid(0)
        launcher = LocalLauncher(envs_dir=envs)
        try:
            launcher.preload_file(str(spec))
            pick = await launcher._warm_servers.pick(sys.executable, "other")
            assert pick is not None and pick.server is early[0] and pick.server.alive
            assert not warm._PRESTARTED
        finally:
            await launcher.aclose()
        assert not early[0].alive

        # Spawned for a run that never asks (say, its file failed to load): closed with the launcher.
        warm.prestart_remembered(str(spec), sys.executable, envs)
        (unused,) = warm._PRESTARTED.values()
        assert unused._process is not None
        pid = unused._process.pid
        await LocalLauncher(envs_dir=envs).aclose()
        assert not warm._PRESTARTED
        wait_until(lambda: gone(pid), "the unadopted warm server to exit")

    asyncio.run(scenario())
