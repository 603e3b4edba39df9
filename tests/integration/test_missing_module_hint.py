"""A task that fails because a module is not installed says which package is missing and
how to provide it: in the task's error, the run's error, the CLI summary and the REST API."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import json
import os
import subprocess
import sys
from pathlib import Path

from kfp import compiler, dsl
from tests.integration.conftest import ServerFactory

MODULE = "pipeyard_absent_module"
PACKAGE = "pipeyard-absent-module"
HINT_PARTS = (
    f"No module named '{MODULE}'",
    f"packages_to_install=['{PACKAGE}']",
    f"-m pip install {PACKAGE}",
)


@dsl.component
def needs_absent_module() -> str:
    import pipeyard_absent_module  # noqa: F401  (the point: it is not installed)

    return "unreachable"


@dsl.pipeline(name="missing-module")
def missing_module_pipeline() -> str:
    return needs_absent_module().output


def _has_hint(text: str | None) -> bool:
    return text is not None and all(part in text for part in HINT_PARTS)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIPEYARD_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "pipeyard.cli.main", *args], capture_output=True, text=True,
                          timeout=180, env=env)


def test_cli_summary_and_task_error_name_the_package(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    compiler.Compiler().compile(missing_module_pipeline, str(path))
    home = tmp_path / "home"
    done = _cli("run", str(path), home=home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _has_hint(done.stdout), done.stdout

    run_id = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("run "))
    shown = _cli("runs", "show", run_id, "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["state"] == "FAILED"
    assert _has_hint(doc["error"])
    (task,) = [t for t in doc["tasks"] if t["kind"] == "CONTAINER"]
    assert task["state"] == "FAILED"
    assert task["error"].startswith("exit code 1: ModuleNotFoundError")
    assert _has_hint(task["error"])


def test_api_run_and_task_errors_name_the_package(start_server: ServerFactory, tmp_path: Path) -> None:
    server = start_server()
    path = tmp_path / "missing.yaml"
    compiler.Compiler().compile(missing_module_pipeline, str(path))
    created = server.client().create_run_from_pipeline_package(str(path), arguments={})
    with server.http() as http:
        run = server.wait_run(http, created.run_id)
    assert run["state"] == "FAILED"
    assert _has_hint(run["error"]["message"])
    failed = [t for t in run["run_details"]["task_details"] if t.get("state") == "FAILED" and t.get("error")]
    assert any(_has_hint(t["error"]["message"]) for t in failed), run["run_details"]
