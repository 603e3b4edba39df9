"""`pipeyard server` takes its address from PIPEYARD_HOST / PIPEYARD_PORT (as scripts/run.sh
and the README say), and stops cleanly on SIGTERM, the README's way to stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.integration.conftest import READY_DEADLINE_SECONDS, free_port


def test_server_reads_its_port_from_the_environment_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PIPEYARD_HOME": str(tmp_path / "home"), "PIPEYARD_HOST": "127.0.0.1",
           "PIPEYARD_PORT": str(port)}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "pipeyard.cli.main", "server"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        answered = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/apis/v2beta1/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered is not None and answered.status_code == 200, (tmp_path / "server.log").read_text()
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then re-raises the signal it caught, as a process killed by it would.
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in (tmp_path / "server.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
