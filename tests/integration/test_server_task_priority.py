"""Under `pipeyard server` a run's task process runs at the server's niceness plus 10 (the
default PIPEYARD_TASK_NICE), and the API lists runs while it runs."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration
# time and cannot interpret string annotations.

from pathlib import Path
from typing import Any

from kfp import compiler, dsl
from tests.support.launcher_components import hold
from tests.support.processes import niceness, wait_until

from pipeyard.launchers.priority import SERVER_NICE


@dsl.pipeline(name="held")
def held(pid_file: str, release_file: str) -> None:
    hold(pid_file=pid_file, release_file=release_file)


def test_task_runs_niced_while_the_api_answers(start_server: Any, tmp_path: Path) -> None:
    spec = tmp_path / "held.yaml"
    compiler.Compiler().compile(held, str(spec))
    server = start_server()
    assert server.proc is not None
    server_nice = niceness(server.proc.pid)
    assert server_nice is not None
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    run_id = str(
        server.client()
        .create_run_from_pipeline_package(
            str(spec), arguments={"pid_file": str(pid_file), "release_file": str(release)}, enable_caching=False
        )
        .run_id
    )
    try:
        wait_until(pid_file.exists, "the task's pid file")
        pid = int(pid_file.read_text())
        expected = min(19, server_nice + SERVER_NICE)
        wait_until(lambda: niceness(pid) == expected, f"the task at niceness {expected}", 60)
        with server.http() as http:
            # The task is still held: the list shows it running, with the server untouched.
            page = http.get("/apis/v2beta1/runs", params={"page_size": 50})
            assert page.status_code == 200
            assert [(r["run_id"], r["state"]) for r in page.json()["runs"]] == [(run_id, "RUNNING")]
            assert niceness(server.proc.pid) == server_nice
    finally:
        release.write_text("go")
    with server.http() as http:
        run = server.wait_run(http, run_id)
    assert run["state"] == "SUCCEEDED", run.get("error")
    (task,) = [t for t in run["run_details"]["task_details"] if t["display_name"] == "hold"]
    assert task["output_parameters"]["Output"] == pid
