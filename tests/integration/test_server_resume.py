"""Runs survive a crash: SIGKILL the server mid-run, start it again, and the run
finishes from where it was, with the outputs of an uninterrupted run."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration
# time and cannot interpret string annotations.

import time
from pathlib import Path
from typing import Any

from kfp import compiler, dsl

BASE_IMAGE = "python:3.11"
# Short leases so a killed server's runs are taken over quickly after the restart.
FAST_LEASES = {
    "PIPEYARD_LEASE_SECONDS": "2",
    "PIPEYARD_RENEW_SECONDS": "0.5",
    "PIPEYARD_CLAIM_POLL_SECONDS": "0.5",
}


@dsl.component(base_image=BASE_IMAGE)
def first(marker: str, word: str) -> str:
    with open(marker, "a") as f:
        f.write("first\n")
    return word.upper()


@dsl.component(base_image=BASE_IMAGE)
def slow(marker: str, upstream: str, seconds: float) -> str:
    import time

    with open(marker, "a") as f:
        f.write("slow-start\n")
    time.sleep(seconds)
    return upstream + "-done"


@dsl.component(base_image=BASE_IMAGE)
def last(upstream: str, out: dsl.Output[dsl.Dataset]) -> str:
    with open(out.path, "w") as f:
        f.write(upstream)
    return upstream + "!"


@dsl.pipeline(name="resumable")
def resumable(marker: str, word: str = "alpha", seconds: float = 4.0) -> None:
    a = first(marker=marker, word=word)
    b = slow(marker=marker, upstream=a.output, seconds=seconds)
    last(upstream=b.output)


def outcome(run: dict[str, Any]) -> dict[str, Any]:
    """What must match between an interrupted and an uninterrupted run."""
    tasks = {t["display_name"]: t for t in run["run_details"]["task_details"]}
    return {
        "state": run["state"],
        "tasks": {
            n: (tasks[n]["state"], tasks[n]["output_parameters"], sorted(tasks[n]["outputs"]))
            for n in ("first", "slow", "last")
        },
    }


def _wait_for_line(path: Path, line: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if path.exists() and line in path.read_text().splitlines():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never got {line!r}")


def test_sigkill_mid_run_then_restart_resumes(start_server: Any, tmp_path: Path) -> None:
    spec = tmp_path / "resumable.yaml"
    compiler.Compiler().compile(resumable, str(spec))
    srv = start_server(env=FAST_LEASES)
    client = srv.client()
    marker = tmp_path / "marker"
    run_id = client.create_run_from_pipeline_package(
        str(spec), arguments={"marker": str(marker)}, enable_caching=False
    ).run_id
    _wait_for_line(marker, "slow-start")
    assert srv.kill() == -9
    srv.start()
    with srv.http() as http:
        resumed = srv.wait_run(http, run_id)
        # The same server again, uninterrupted, for the reference outcome.
        reference_marker = tmp_path / "reference-marker"
        ref_id = (
            srv.client()
            .create_run_from_pipeline_package(
                str(spec), arguments={"marker": str(reference_marker)}, enable_caching=False
            )
            .run_id
        )
        reference = srv.wait_run(http, ref_id)
        tasks = http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks").json()["tasks"]
    assert resumed["state"] == "SUCCEEDED", resumed.get("error")
    assert outcome(resumed) == outcome(reference)
    assert outcome(resumed)["tasks"]["last"][1] == {"Output": "ALPHA-done!"}
    lines = marker.read_text().splitlines()
    # The finished task was not run again; the one that was running started over.
    assert lines.count("first") == 1
    assert lines.count("slow-start") == 2
    slow_task = next(t for t in tasks if t["name"] == "slow")
    assert slow_task["state"] == "SUCCEEDED"


def test_graceful_stop_mid_run_requeues_it(start_server: Any, tmp_path: Path) -> None:
    """SIGTERM (a service restart) stops the task processes but does not cancel the run:
    the next start resumes it."""
    spec = tmp_path / "resumable.yaml"
    compiler.Compiler().compile(resumable, str(spec))
    srv = start_server(env=FAST_LEASES)
    marker = tmp_path / "marker"
    run_id = (
        srv.client()
        .create_run_from_pipeline_package(
            str(spec), arguments={"marker": str(marker), "seconds": 2.0}, enable_caching=False
        )
        .run_id
    )
    _wait_for_line(marker, "slow-start")
    # uvicorn re-raises SIGTERM after its graceful shutdown, hence -15.
    assert srv.stop() in (0, -15)
    assert "Application shutdown complete" in srv.log_tail()
    srv.start()
    with srv.http() as http:
        run = srv.wait_run(http, run_id)
    assert run["state"] == "SUCCEEDED", run.get("error")
    lines = marker.read_text().splitlines()
    assert lines.count("first") == 1 and lines.count("slow-start") == 2
