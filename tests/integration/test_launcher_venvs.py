from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.launcher_components import needs_missing_package, use_inflection
from tests.support.launcher_kfp_tasks import compile_component, executor_output, python_request

from pipeyard.launchers import LocalLauncher, VirtualEnvs


def host_freeze() -> str:
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("fork_server", [True, False], ids=["forkserver", "subprocess"])
def test_packages_go_into_one_cached_venv(fork_server: bool, tmp_path: Path) -> None:
    before = host_freeze()
    envs = tmp_path / "envs"
    compiled = compile_component(use_inflection, tmp_path, word="x")
    assert compiled.packages == ("inflection==0.5.1",)

    async def two_runs() -> None:
        for run_no in range(2):
            # A fresh launcher per run: the cache must survive across runs.
            launcher = LocalLauncher(envs_dir=envs, fork_server=fork_server)
            try:
                run_dir = tmp_path / f"run{run_no}"
                result = await launcher.launch(python_request(compiled, run_dir, {"word": "hello_world"}))
                log = (run_dir / "logs" / "task.log").read_text()
                assert result.exit_code == 0, log
                assert executor_output(run_dir)["parameterValues"] == {"Output": "HelloWorld"}
                assert "pip install" not in log
                if run_no == 0:
                    first = sorted(envs.glob("venv-*/"))
                    assert len(first) == 1
                    marker = (first[0] / "pyvenv.cfg").stat().st_ino
                    assert f"inflection from {first[0]}" in log
            finally:
                await launcher.aclose()
        again = sorted(p for p in envs.glob("venv-*") if p.is_dir())
        assert again == first
        assert (again[0] / "pyvenv.cfg").stat().st_ino == marker

    asyncio.run(two_runs())
    assert host_freeze() == before
    assert subprocess.run([sys.executable, "-c", "import inflection"], capture_output=True).returncode != 0


def test_failed_install_is_a_launch_error_with_pip_output(tmp_path: Path) -> None:
    compiled = compile_component(needs_missing_package, tmp_path)
    request = python_request(compiled, tmp_path, {})
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    result = asyncio.run(launcher.launch(request))
    assert result.exit_code is None
    assert result.error is not None
    assert "installing pipeyard-no-such-package-xyz==0.0.1 failed" in result.error
    # pip's own explanation is carried along, in the result and in the task log.
    # pip says "No matching distribution", uv says the requirements are "unsatisfiable".
    assert "pipeyard-no-such-package-xyz" in result.error
    assert any(m in result.error for m in ("No matching distribution", "unsatisfiable"))
    assert "pipeyard-no-such-package-xyz" in Path(request.log_path).read_text()
    assert not [p for p in (tmp_path / "envs").glob("venv-*") if p.is_dir()]


def test_env_key_ignores_requirement_order(tmp_path: Path) -> None:
    venvs = VirtualEnvs(tmp_path)
    assert venvs.path_for(["b", "a"]) == venvs.path_for(["a", "b"])
    assert venvs.path_for(["a"]) != venvs.path_for(["a"], ["https://example.invalid/simple"])


def test_concurrent_ensure_builds_once(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    venvs = [VirtualEnvs(tmp_path / "envs") for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        pythons = list(pool.map(lambda v: v.ensure(["inflection==0.5.1"]), venvs))
    assert len(set(pythons)) == 1
    assert len([p for p in (tmp_path / "envs").glob("venv-*") if p.is_dir()]) == 1
    assert not list((tmp_path / "envs").glob("*.building-*"))
    probe = subprocess.run([str(pythons[0]), "-c", "import inflection, kfp"], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
