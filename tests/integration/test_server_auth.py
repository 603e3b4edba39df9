"""Authentication: none on loopback; off loopback a token is required to start, and
then every API call needs ``Authorization: Bearer <token>``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeyard.errors import InvalidArgument
from pipeyard.server.main import check_binding

TOKEN = "s3cret-token"


def test_refuses_to_start_off_loopback_without_token(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PIPEYARD_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeyard.server.main", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "PIPEYARD_AUTH_TOKEN" in proc.stderr and "0.0.0.0" in proc.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_binding_rule_off_loopback(host: str) -> None:
    with pytest.raises(InvalidArgument, match="PIPEYARD_AUTH_TOKEN"):
        check_binding(host, None)
    check_binding(host, TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_binding_rule_loopback(host: str) -> None:
    check_binding(host, None)


def test_token_required_on_every_api_call(start_server: Any) -> None:
    srv = start_server(env={"PIPEYARD_AUTH_TOKEN": TOKEN}, args=["--workers", "0"])
    with httpx.Client(base_url=srv.url, timeout=10) as anon:
        for path in (
            "/apis/v2beta1/healthz",
            "/apis/v2beta1/runs",
            "/apis/pipeyard/v1/info",
            "/apis/v1alpha1/runs/x/nodes/y/log",
        ):
            resp = anon.get(path)
            assert resp.status_code == 401, path
            assert resp.json()["code"] == 16 and "Bearer" in resp.json()["error_message"]
        assert anon.get("/apis/v2beta1/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert anon.get("/apis/v2beta1/runs", headers={"Authorization": TOKEN}).status_code == 401
        # The UI shell is public: it holds no data and asks for the token itself.
        assert anon.get("/").status_code == 200
    client = srv.client(existing_token=TOKEN)
    exp = client.create_experiment("with-token")
    assert client.get_experiment(experiment_id=exp.experiment_id).display_name == "with-token"
    assert "with-token" in {e.display_name for e in client.list_experiments().experiments}
