"""A ``.py`` pipeline compiled in a forked child (cli/compile_ahead.py) is the one the
process would have compiled itself; the file's mistakes come back as the same errors; a
child that cannot answer makes the caller load the file itself; the module's own
output is printed once."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from pipeyard.cli import compile_ahead
from pipeyard.errors import SpecError
from pipeyard.ir.loader import load_pipeline_file

REPO = Path(__file__).resolve().parents[2]


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False

PIPELINE = """
import pathlib, time
from kfp import dsl

print("module says hi")
if pathlib.Path(__file__).with_name("hold").exists():
    time.sleep(600)

@dsl.component
def add_one(x: int) -> int:
    return x + 1

@dsl.pipeline(name="ahead")
def ahead(x: int = 1) -> None:
    add_one(x=x)
"""


def test_the_child_hands_over_what_an_in_process_load_gives(tmp_path: Path) -> None:
    source = tmp_path / "p.py"
    source.write_text(PIPELINE)
    ahead = compile_ahead.start(str(source), None)
    assert ahead is not None
    loaded = ahead.result()
    assert loaded is not None
    here = load_pipeline_file(source)
    assert loaded.spec == here.spec and loaded.source == here.source == "p.py"
    assert loaded.platform_spec == here.platform_spec
    assert _reaped(ahead.pid)
    assert compile_ahead.start(str(tmp_path / "p.yaml"), None) is None  # only .py files


def test_the_files_mistakes_are_the_same_errors(tmp_path: Path) -> None:
    source = tmp_path / "p.py"
    source.write_text(PIPELINE)
    ahead = compile_ahead.start(str(source), "missing")
    assert ahead is not None
    with pytest.raises(SpecError) as raised:
        ahead.result()
    with pytest.raises(SpecError) as here:
        load_pipeline_file(source, "missing")
    assert (raised.value.where, raised.value.reason) == (here.value.where, here.value.reason) == (
        "p.py", "no pipeline named 'missing'; pipelines in the file: ahead")


def test_a_child_that_cannot_answer_leaves_the_load_to_the_caller(tmp_path: Path) -> None:
    source = tmp_path / "p.py"
    source.write_text(PIPELINE)
    (tmp_path / "hold").touch()  # the child's import of the module waits
    ahead = compile_ahead.start(str(source), None)
    assert ahead is not None
    os.kill(ahead.pid, signal.SIGKILL)
    assert ahead.result() is None
    assert _reaped(ahead.pid)
    held = compile_ahead.start(str(source), None)
    assert held is not None
    held.discard()  # a run that ended before loading its file stops and reaps the child
    assert _reaped(held.pid)


def test_pipeyard_run_prints_the_modules_output_once(tmp_path: Path) -> None:
    source = tmp_path / "p.py"
    source.write_text(PIPELINE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(tmp_path / "home")
    done = subprocess.run([str(REPO / ".venv" / "bin" / "pipeyard"), "run", str(source)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("module says hi") == 1, done.stdout
    assert "SUCCEEDED" in done.stdout
