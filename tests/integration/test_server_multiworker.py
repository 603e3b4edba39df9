"""Two pipeyard processes on one PostgreSQL database never execute the same run twice.

Every task appends a line to a file of its run; with runs claimed under row locks and
leases, each file ends with exactly one line per task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.postgres

FAST = {"PIPEYARD_CLAIM_POLL_SECONDS": "0.3", "PIPEYARD_WORKER_RUNS": "3"}


def spec(tasks: int) -> dict[str, Any]:
    names = [f"t{i}" for i in range(tasks)]
    return {
        "pipelineInfo": {"name": "append"},
        "schemaVersion": "2.1.0",
        "sdkVersion": "kfp-2.17.3",
        "root": {
            "inputDefinitions": {"parameters": {"path": {"parameterType": "STRING"}}},
            "dag": {
                "tasks": {
                    n: {
                        "componentRef": {"name": "comp-append"},
                        "taskInfo": {"name": n},
                        "inputs": {
                            "parameters": {
                                "path": {"componentInputParameter": "path"},
                                "who": {"runtimeValue": {"constant": n}},
                            }
                        },
                    }
                    for n in names
                }
            },
        },
        "components": {
            "comp-append": {
                "executorLabel": "exec-append",
                "inputDefinitions": {
                    "parameters": {"path": {"parameterType": "STRING"}, "who": {"parameterType": "STRING"}}
                },
            }
        },
        "deploymentSpec": {
            "executors": {
                "exec-append": {
                    "container": {
                        "image": "alpine",
                        "command": ["sh", "-c", 'echo "$1" >> "$0"; sleep 0.2'],
                        "args": ["{{$.inputs.parameters['path']}}", "{{$.inputs.parameters['who']}}"],
                    }
                }
            }
        },
    }


@pytest.mark.parametrize("second", ["server", "worker"])
def test_two_processes_share_runs_without_duplicates(
    start_server: Any, postgres_url: str, tmp_path: Path, second: str
) -> None:
    a = start_server(database_url=postgres_url, env=FAST)
    b = start_server(
        database_url=postgres_url, env=FAST, args=["--worker-only"] if second == "worker" else []
    )
    body = spec(3)
    run_files: dict[str, Path] = {}
    # A stand-alone worker serves no API: everything is submitted to the server then.
    with a.http() as http_a, (a if second == "worker" else b).http() as http_b:
        for i in range(16):
            path = tmp_path / f"run-{i}.txt"
            http = http_a if i % 2 == 0 else http_b
            resp = http.post(
                "/apis/v2beta1/runs",
                json={
                    "display_name": f"r{i}",
                    "pipeline_spec": body,
                    "runtime_config": {"parameters": {"path": str(path)}},
                },
            )
            assert resp.status_code == 200, resp.text
            run_files[resp.json()["run_id"]] = path
        for run_id in run_files:
            run = a.wait_run(http_a, run_id)
            assert run["state"] == "SUCCEEDED", run.get("error")
    for run_id, path in run_files.items():
        assert sorted(path.read_text().split()) == ["t0", "t1", "t2"], (run_id, path.read_text())
    # Both processes took part, and no run was claimed by both.
    claimed_a = {r for r in run_files if f"run {r}: claimed" in a.log_tail(10_000)}
    claimed_b = {r for r in run_files if f"run {r}: claimed" in b.log_tail(10_000)}
    assert claimed_a and claimed_b
    assert claimed_a | claimed_b == set(run_files)
    assert not claimed_a & claimed_b
