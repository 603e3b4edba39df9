"""What `pipeyard` imports to start: `--help` needs neither kfp, nor the server, nor the store;
`run` of a compiled pipeline needs neither kfp's client nor its compiler; `runs list` no engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("kfp", "fastapi", "sqlalchemy", "kubernetes", "celpy", "rich.live")

PROBE = """
import json, sys
sys.argv = ["pipeyard", *json.loads(sys.argv[1])]
from pipeyard.cli.main import main
try:
    main()
except SystemExit:
    pass
sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


# Commands that may leave through os._exit (cli/exiting.py) are run through ``cli``
# itself, which exits the normal way, so that the probe can still report.
RUN_PROBE = """
import json, sys
from pipeyard.cli.main import cli
try:
    cli(json.loads(sys.argv[1]), prog_name="pipeyard")
except SystemExit as e:
    sys.__stdout__.write("\\nEXIT " + json.dumps(e.code) + "\\n")
from pipeyard.launchers import forkserver, watchdog
left = [s._process.pid for s in forkserver._PRESTARTED.values() if s._process is not None]
sys.__stdout__.write("\\nPRESTARTED_LEFT " + json.dumps(left) + "\\n")
sys.__stdout__.write("\\nWATCHDOGS_LEFT " + json.dumps([p.pid for p, _ in watchdog._PRESTARTED]) + "\\n")
sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""

ONE_TASK = """
from kfp import compiler, dsl

@dsl.component(base_image="python:3.11")
def add_one(x: int) -> int:
    return x + 1

@dsl.pipeline(name="one-task")
def one_task(x: int = 41) -> None:
    add_one(x=x)

if __name__ == "__main__":
    import sys
    compiler.Compiler().compile(one_task, sys.argv[1])
"""


def _probe(probe: str, args: tuple[str, ...], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", probe, json.dumps(list(args))], capture_output=True,
                          text=True, timeout=300, cwd=REPO, check=False, env=env)


def _tagged(proc: subprocess.CompletedProcess[str], tag: str) -> Any:
    line = [x for x in proc.stdout.splitlines() if x.startswith(tag + " ")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[-1][len(tag) + 1:])


def _imported(*args: str) -> set[str]:
    return set(_tagged(_probe(PROBE, args), "MODULES"))


def _home_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    return {**env, "PIPEYARD_HOME": str(home)}


def _compiled_one_task(tmp_path: Path) -> Path:
    source = tmp_path / "one_task.py"
    source.write_text(ONE_TASK)
    compiled = tmp_path / "one_task.yaml"
    subprocess.run([sys.executable, str(source), str(compiled)], check=True, timeout=300, cwd=tmp_path)
    return compiled


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_none_of_the_heavy_libraries() -> None:
    modules = _imported("--help")
    assert "click" in modules  # the probe did run the CLI
    assert _heavy(modules) == []


def test_a_commands_help_imports_only_its_own_module() -> None:
    modules = _imported("secrets", "--help")
    assert "pipeyard.cli.service_cmds" in modules
    assert "pipeyard.cli.inspect_cmds" not in modules
    assert _heavy(modules) == []


def test_reading_specs_skips_kfps_client_yet_kfp_client_still_resolves() -> None:
    probe = (
        "import sys, pipeyard.ir.loader, kfp\n"
        "skipped = 'kfp.client' not in sys.modules and 'kubernetes' not in sys.modules\n"
        "print(skipped, kfp.Client.__name__, kfp.dsl.component.__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "Client", "component"]


def _pipeyard_run(compiled: Path, env: dict[str, str]) -> str:
    """A run through the real command (which leaves with os._exit): its --json arrives whole."""
    done = subprocess.run([str(REPO / ".venv" / "bin" / "pipeyard"), "run", str(compiled), "--json"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads(done.stdout)
    assert run["state"] == "SUCCEEDED", run
    return str(run["run_id"])


def test_running_a_compiled_pipeline_imports_neither_kfps_client_nor_its_compiler(tmp_path: Path) -> None:
    compiled = _compiled_one_task(tmp_path)
    env = _home_env(tmp_path / "home")
    _pipeyard_run(compiled, env)  # creates the database: the probed run finds its schema current
    proc = _probe(RUN_PROBE, ("run", str(compiled), "--json", "--arg", "x=1"), env=env)
    assert _tagged(proc, "EXIT") == 0, proc.stdout + proc.stderr
    run = json.loads(proc.stdout.splitlines()[0])
    assert run["state"] == "SUCCEEDED" and run["tasks"][0]["outputs"] == {"Output": 2}
    # The fork server and the watchdog started before the imports were the ones the task
    # used: none is left over.
    assert _tagged(proc, "PRESTARTED_LEFT") == []
    assert _tagged(proc, "WATCHDOGS_LEFT") == []
    modules = set(_tagged(proc, "MODULES"))
    assert "pipeyard.engine.runner" in modules  # the probe did run the pipeline here
    unwanted = ("kfp.client", "kfp.compiler", "kubernetes", "sqlalchemy.dialects.postgresql", "alembic",
                "packaging", "fastapi", "rich")
    assert sorted(m for m in modules if m.startswith(unwanted)) == []


def test_a_pipeline_py_file_is_compiled_in_a_child_and_run_here_without_kfps_dsl(tmp_path: Path) -> None:
    source = tmp_path / "one_task.py"
    source.write_text(ONE_TASK)
    proc = _probe(RUN_PROBE, ("run", str(source), "--json"), env=_home_env(tmp_path / "home"))
    assert _tagged(proc, "EXIT") == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout.splitlines()[0])["tasks"][0]["outputs"] == {"Output": 42}
    modules = set(_tagged(proc, "MODULES"))
    assert "pipeyard.engine.runner" in modules and "pipeyard.cli.compile_ahead" in modules
    # The forked child compiled it (cli/compile_ahead.py): this process imported neither
    # kfp's compiler nor its DSL, nor the user's module.
    assert sorted(m for m in modules if m.startswith(("kfp.compiler", "kfp.dsl", "kfp.client", "kubernetes"))) == []
    assert [m for m in modules if m.startswith("_pipeyard_user_")] == []


def test_runs_list_imports_no_engine_and_leaves_with_its_output(tmp_path: Path) -> None:
    env = _home_env(tmp_path / "home")
    run_id = _pipeyard_run(_compiled_one_task(tmp_path), env)
    proc = _probe(RUN_PROBE, ("runs", "list", "--json"), env=env)
    # The run's last commits were made by a process that left with os._exit, its SQLite
    # connection unclosed (its WAL not checkpointed): the next process reads them all.
    assert [(r["run_id"], r["state"]) for r in json.loads(proc.stdout.splitlines()[0])] == [(run_id, "SUCCEEDED")]
    modules = set(_tagged(proc, "MODULES"))
    unwanted = ("pipeyard.engine.context", "pipeyard.engine.runner", "pipeyard.ir", "google.protobuf", "kfp",
                "sqlalchemy.dialects.postgresql", "alembic")
    assert sorted(m for m in modules if m.startswith(unwanted)) == []
    # Through the real command, which leaves with os._exit: the whole listing still arrives.
    listed = subprocess.run([str(REPO / ".venv" / "bin" / "pipeyard"), "runs", "list"], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert listed.returncode == 0 and run_id in listed.stdout, listed.stdout + listed.stderr
