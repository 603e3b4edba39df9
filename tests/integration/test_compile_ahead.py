"""A ``.py`` pipeline compiled in a forked child (cli/compile_ahead.py) is the one the
process would have compiled itself; the file's mistakes come back as the same errors; a
child that cannot answer makes the caller load the file itself; the module's own
output is printed once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

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

# Each case runs in a fresh interpreter: compile_ahead forks only a process without other
# threads, which a test process that ran other tests may not be.
PROBE = """
import json, os, signal, sys
from pathlib import Path
from pipeyard.cli import compile_ahead
from pipeyard.errors import SpecError
from pipeyard.ir.loader import load_pipeline_file

def reaped(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False

source, case = Path(sys.argv[1]), sys.argv[2]
out = {}
if case == "same":
    ahead = compile_ahead.start(str(source), None)
    loaded = ahead.result()
    here = load_pipeline_file(source)
    out = {"same_spec": loaded.spec == here.spec and loaded.spec_dict == here.spec_dict,
           "sources": [loaded.source, here.source],
           "same_platform": loaded.platform_spec == here.platform_spec, "reaped": reaped(ahead.pid),
           "yaml_forks": compile_ahead.start(str(source.with_suffix(".yaml")), None) is not None}
elif case == "error":
    ahead = compile_ahead.start(str(source), "missing")
    try:
        ahead.result()
    except SpecError as e:
        out["child"] = [e.where, e.reason]
    try:
        load_pipeline_file(source, "missing")
    except SpecError as e:
        out["here"] = [e.where, e.reason]
elif case == "killed":
    ahead = compile_ahead.start(str(source), None)
    os.kill(ahead.pid, signal.SIGKILL)
    out["result"] = repr(ahead.result())
    out["reaped"] = reaped(ahead.pid)
    held = compile_ahead.start(str(source), None)
    held.discard()
    out["discarded_reaped"] = reaped(held.pid)
sys.stdout.write("\\nRESULT " + json.dumps(out) + "\\n")
"""


def _case(tmp_path: Path, case: str) -> Any:
    source = tmp_path / "p.py"
    source.write_text(PIPELINE)
    done = subprocess.run([sys.executable, "-c", PROBE, str(source), case], capture_output=True, text=True,
                          timeout=300, cwd=REPO, check=False)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    return json.loads(lines[-1][len("RESULT "):])


def test_the_child_hands_over_what_an_in_process_load_gives(tmp_path: Path) -> None:
    assert _case(tmp_path, "same") == {"same_spec": True, "sources": ["p.py", "p.py"], "same_platform": True,
                                       "reaped": True, "yaml_forks": False}


def test_the_files_mistakes_are_the_same_errors(tmp_path: Path) -> None:
    expected = ["p.py", "no pipeline named 'missing'; pipelines in the file: ahead"]
    assert _case(tmp_path, "error") == {"child": expected, "here": expected}


def test_a_child_that_cannot_answer_leaves_the_load_to_the_caller(tmp_path: Path) -> None:
    (tmp_path / "hold").touch()  # the child's import of the module waits
    assert _case(tmp_path, "killed") == {"result": "None", "reaped": True, "discarded_reaped": True}


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
