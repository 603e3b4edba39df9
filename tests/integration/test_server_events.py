"""The live event stream (SSE) carries run and task state changes and log lines."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import httpx

SPEC: dict[str, Any] = {
    "pipelineInfo": {"name": "shout"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.3",
    "root": {"dag": {"tasks": {"say": {"componentRef": {"name": "comp-say"}, "taskInfo": {"name": "say"}}}}},
    "components": {"comp-say": {"executorLabel": "exec-say"}},
    "deploymentSpec": {
        "executors": {
            "exec-say": {"container": {"image": "alpine", "command": ["sh", "-c", "echo hello-from-task"]}}
        }
    },
}


def read_events(http: httpx.Client, url: str, out: queue.Queue[tuple[str, Any]]) -> None:
    try:
        with http.stream("GET", url) as resp:
            out.put(("status", resp.status_code))
            _parse(resp, out)
    except httpx.HTTPError:
        pass  # the test closed the client: done


def _parse(resp: httpx.Response, out: queue.Queue[tuple[str, Any]]) -> None:
    name = None
    for line in resp.iter_lines():
        if line.startswith(": connected"):
            out.put(("connected", None))
        elif line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name:
            out.put((name, json.loads(line[len("data: ") :])))
            name = None


def test_events_stream_run_task_and_log(server: Any) -> None:
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stream_client = httpx.Client(timeout=httpx.Timeout(60, read=60), headers=server.auth_headers())
    reader = threading.Thread(
        target=read_events, args=(stream_client, f"{server.url}/apis/pipeyard/v1/events", events), daemon=True
    )
    reader.start()
    assert events.get(timeout=30) == ("status", 200)
    assert events.get(timeout=30) == ("connected", None)
    with server.http() as http:
        resp = http.post("/apis/v2beta1/runs", json={"display_name": "sse", "pipeline_spec": SPEC})
        assert resp.status_code == 200, resp.text
        run_id = resp.json()["run_id"]
        seen: list[tuple[str, Any]] = []
        while True:
            name, data = events.get(timeout=60)
            if data.get("run_id") != run_id:
                continue
            seen.append((name, data))
            if name == "run" and data["state"] in ("SUCCEEDED", "FAILED", "CANCELED"):
                break
    # The reader thread stays blocked until the next ping or the server's shutdown; it
    # is a daemon and swallows the disconnect, so it is not joined here.
    stream_client.close()
    run_states = [d["state"] for n, d in seen if n == "run"]
    assert run_states[0] == "PENDING" and "RUNNING" in run_states and run_states[-1] == "SUCCEEDED"
    task_states = [d["state"] for n, d in seen if n == "task" and d["name"] == "say"]
    assert task_states[-1] == "SUCCEEDED"
    logs = [d["line"] for n, d in seen if n == "log"]
    assert "hello-from-task" in logs
