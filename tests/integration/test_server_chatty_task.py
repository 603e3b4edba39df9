"""A task that prints a lot while a slow event-stream client is connected.

The stream must drop (and say so) instead of holding up the run or other requests, and
the task's log file must still have every line.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import socket
import threading
from typing import Any

from kfp import dsl

LINES = 200_000


@dsl.component(base_image="python:3.11")
def chatty(lines: int) -> int:
    import sys

    out = sys.stdout
    for i in range(lines):
        out.write(f"line {i:07d} " + "x" * 40 + "\n")
    return lines


@dsl.pipeline(name="chatty")
def chatty_pipeline(lines: int = LINES) -> None:
    chatty(lines=lines).set_caching_options(False)


def test_slow_subscriber_loses_log_events_not_the_run(start_server: Any, run_waiter: Any) -> None:
    srv = start_server()
    # A subscriber to every run that reads nothing while the task prints: its socket
    # buffers fill, then its queue, and the server must drop events for it.
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=120)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(b"GET /apis/pipeyard/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = slow.recv(4096)
    assert b"200" in head.split(b"\r\n", 1)[0], head
    try:
        run = srv.client().create_run_from_pipeline_func(chatty_pipeline, arguments={})
        with srv.http() as http:
            # Other requests are answered while the task prints.
            assert http.get("/apis/v2beta1/healthz").status_code == 200
            done = run_waiter(http, run.run_id)
            assert done["state"] == "SUCCEEDED", done.get("error")
            (task,) = [t for t in done["run_details"]["task_details"] if t["display_name"] == "chatty"]
            assert task["output_parameters"]["Output"] == LINES
            log = http.get(f"/apis/v1alpha1/runs/{run.run_id}/nodes/{task['task_id']}/log").text
            body = [line for line in log.splitlines() if line.startswith("line ")]
            assert len(body) == LINES
            assert body[0].startswith("line 0000000") and body[-1].startswith(f"line {LINES - 1:07d}")
        # Now read what the slow subscriber was sent: it was told that events were dropped.
        received = bytearray()
        seen_dropped = threading.Event()
        slow.settimeout(30)
        while not seen_dropped.is_set():
            chunk = slow.recv(1 << 16)
            if not chunk:
                break
            received += chunk
            if b": dropped " in received:
                seen_dropped.set()
        assert seen_dropped.is_set(), bytes(received[-500:])
    finally:
        slow.close()


def test_verbose_cli_prints_every_line_of_a_chatty_task(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from kfp import compiler

    spec = Path(tmp_path) / "chatty.yaml"
    compiler.Compiler().compile(chatty_pipeline, str(spec))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(Path(tmp_path) / "home")
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("pipeyard")), "run", str(spec), "-v", "--arg", "lines=100000"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = [line for line in proc.stdout.splitlines() if line.startswith("[chatty] line ")]
    assert len(printed) == 100_000
    assert printed[-1].startswith("[chatty] line 0099999")
