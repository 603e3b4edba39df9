"""Output that goes to a pipe is copyable: long run ids, log paths and artifact URIs stay on
one line instead of being wrapped at rich's assumed 80 columns."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import os
import subprocess
import sys
from pathlib import Path

from kfp import compiler, dsl


@dsl.component
def greet() -> str:
    return "hello"


@dsl.pipeline(name="unwrapped-output")
def unwrapped_pipeline() -> str:
    return greet().output


def _long_dir(base: Path) -> Path:
    # Well past 80 columns, without spaces, as real nested project paths are.
    long = base.joinpath(*["a-rather-long-directory-name-for-pipeyard"] * 4)
    long.mkdir(parents=True)
    return long


def _cli(*args: str, home: Path, columns: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIPEYARD_HOME": str(home)}
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-m", "pipeyard.cli.main", *args], capture_output=True,
                          text=True, timeout=180, env=env)


def test_run_summary_lines_are_whole_when_piped(tmp_path: Path) -> None:
    home = _long_dir(tmp_path) / "home"
    path = tmp_path / "unwrapped.yaml"
    compiler.Compiler().compile(unwrapped_pipeline, str(path))
    done = _cli("run", str(path), home=home)
    assert done.returncode == 0, done.stderr
    run_id = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("run "))
    logs_line = f"logs:      pipeyard logs {run_id}  ({home / 'logs' / run_id})"
    artifacts_line = f"artifacts: {home / 'artifacts'}/unwrapped-output/{run_id}"
    assert len(logs_line) > 80
    lines = done.stdout.splitlines()
    assert logs_line in lines, done.stdout
    assert artifacts_line in lines, done.stdout

    listed = _cli("runs", "list", home=home)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if run_id in line)
    assert "unwrapped-output" in row and "SUCCEEDED" in row


def test_errors_naming_a_long_path_stay_on_one_line(tmp_path: Path) -> None:
    missing = _long_dir(tmp_path) / "no-such-pipeline.yaml"
    done = _cli("run", str(missing), home=tmp_path / "home")
    assert done.returncode == 2
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, done.stderr
    assert str(missing) in error_lines[0]
