"""The CLI against a real server: `pipeyard run --server`, `runs list/show` and
`logs` with `--server` (and PIPEYARD_SERVER)."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler, dsl
from tests.integration.conftest import ServerFactory

PIPEYARD = [sys.executable, "-m", "pipeyard.cli.main"]


@dsl.component
def shout(text: str) -> str:
    print(f"shouting {text}")
    return text.upper() + "!"


@dsl.component
def fail_on(text: str, bad: str) -> str:
    if text == bad:
        raise RuntimeError(f"refusing {text!r}")
    return text


@dsl.pipeline(name="remote-cli")
def remote_pipeline(text: str = "hello", bad: str = "") -> str:
    loud = shout(text=text)
    return fail_on(text=loud.output, bad=bad).output


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("remote") / "remote.yaml"
    compiler.Compiler().compile(remote_pipeline, str(path))
    return path


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    factory = ServerFactory(tmp_path_factory.mktemp("remote-servers"))
    try:
        yield factory().url
    finally:
        factory.close()


def cli(*args: str, server: str | None = None, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    if server:
        env["PIPEYARD_SERVER"] = server
    if home:
        env["PIPEYARD_HOME"] = str(home)
    return subprocess.run([*PIPEYARD, *args], capture_output=True, text=True, env=env, timeout=180)


def test_run_on_a_server_reports_the_run_like_a_local_run(
    pipeline_file: Path, server_url: str, tmp_path: Path
) -> None:
    done = cli("run", str(pipeline_file), "--arg", "text=abc", "--json", "--server", server_url,
               home=tmp_path / "client-home")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["state"] == "SUCCEEDED"
    tasks = {t["name"]: t for t in doc["tasks"]}
    assert tasks["shout"]["outputs"] == {"Output": "ABC!"}
    assert tasks["fail-on"]["state"] == "SUCCEEDED"
    # Nothing ran in the client's own home: the server executed it.
    assert not (tmp_path / "client-home" / "pipeyard.db").exists()

    shown = cli("runs", "show", doc["run_id"], "--json", server=server_url)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "SUCCEEDED"
    listed = cli("runs", "list", "--json", server=server_url)
    assert doc["run_id"] in [r["run_id"] for r in json.loads(listed.stdout)]
    logs = cli("logs", doc["run_id"], "shout", server=server_url)
    assert "shouting abc" in logs.stdout


def test_a_failing_run_exits_1_and_bad_arguments_exit_2(pipeline_file: Path, server_url: str) -> None:
    failed = cli("run", str(pipeline_file), "--arg", "text=x", "--arg", "bad=X!", "--json",
                 server=server_url)
    assert failed.returncode == 1
    doc = json.loads(failed.stdout)
    assert doc["state"] == "FAILED"
    assert {t["name"]: t["state"] for t in doc["tasks"]}["fail-on"] == "FAILED"

    wrong = cli("run", str(pipeline_file), "--arg", "nope=1", server=server_url)
    assert wrong.returncode == 2
    assert "nope" in wrong.stderr
