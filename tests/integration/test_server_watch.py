"""A UI connected to one server sees, live, a run that another process executes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.test_server_multiworker import FAST, spec


def test_events_follow_a_run_executed_by_a_worker_process(start_server: Any, tmp_path: Path) -> None:
    home = tmp_path / "shared-home"
    # The API server executes nothing; a separate worker process on the same database does.
    api = start_server(home=home, env=FAST, args=["--workers", "0"])
    start_server(home=home, env=FAST, args=["--worker-only"])
    with api.http() as http:
        run_id = http.post("/apis/v2beta1/runs", json={
            "display_name": "elsewhere",
            "pipeline_spec": spec(2),
            "runtime_config": {"parameters": {"path": str(tmp_path / "out.txt")}},
        }).json()["run_id"]
        seen: list[tuple[str, dict[str, Any]]] = []
        with http.stream("GET", "/apis/pipeyard/v1/events", params={"run_id": run_id},
                         timeout=60) as stream:
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    seen.append((name, json.loads(line[len("data: "):])))
                    if name == "run" and seen[-1][1]["state"] == "SUCCEEDED":
                        break
    task_states = {d["name"]: d["state"] for n, d in seen if n == "task"}
    assert task_states == {"t0": "SUCCEEDED", "t1": "SUCCEEDED"}
    assert [d["state"] for n, d in seen if n == "run"][-1] == "SUCCEEDED"
    assert (tmp_path / "out.txt").read_text().split() in (["t0", "t1"], ["t1", "t0"])
