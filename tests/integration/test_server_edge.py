"""Attacks from the outside on a default server (loopback, no token), performed for real.

- A page on another origin, opened in a real Chromium, tries what any web page can send:
  a no-cors multipart upload of a ``.py`` file (which would run inside the server if it
  were compiled), a pipeline upload and a run creation. Nothing may be created and nothing
  may run.
- DNS rebinding: a request naming another host gets a 400.
- Task processes never see the server's bearer token.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kfp import compiler, dsl
from tests.integration.conftest import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dsl.component(base_image="python:3.11")
def show_env() -> str:
    import os

    return "token={} db={}".format(
        os.environ.get("PIPEYARD_AUTH_TOKEN", "absent"), os.environ.get("PIPEYARD_DATABASE_URL", "absent")
    )


@dsl.pipeline(name="env-probe")
def env_probe() -> None:
    show_env()


@dsl.container_component
def touch(path: str) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image="busybox", command=["sh", "-c", 'echo pwned > "$0"', path])


@dsl.pipeline(name="drive-by")
def drive_by(path: str) -> None:
    touch(path=path)


def _payload_py(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('ran in the server')\n"


def test_py_upload_is_refused_and_never_run(start_server: Any, tmp_path: Path) -> None:
    srv = start_server(args=["--workers", "0"])
    marker = tmp_path / "imported"
    with srv.http() as http:
        resp = http.post(
            "/apis/v2beta1/pipelines/upload", files={"uploadfile": ("x.py", _payload_py(marker).encode())}
        )
        assert resp.status_code == 400
        assert "never runs uploaded code" in resp.json()["error_message"]
        assert http.get("/apis/v2beta1/pipelines").json().get("pipelines", []) == []
    assert not marker.exists()


def test_rebound_host_is_refused(start_server: Any, tmp_path: Path) -> None:
    srv = start_server(args=["--workers", "0"])
    spec = tmp_path / "p.yaml"
    compiler.Compiler().compile(drive_by, str(spec))
    ran = tmp_path / "ran-on-host"
    params = {"path": str(ran)}
    body = {"display_name": "r", "pipeline_spec": _spec_dict(spec), "runtime_config": {"parameters": params}}
    with srv.http() as http:
        resp = http.post("/apis/v2beta1/runs", json=body, headers={"Host": f"rebind.attacker.test:{srv.port}"})
        assert resp.status_code == 400
        assert "unknown Host" in resp.json()["error_message"]
        assert http.get("/apis/v2beta1/runs").json().get("runs", []) == []
    assert not ran.exists()


def _spec_dict(path: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text())


class _AttackerSite:
    """A web site on another origin (another port) serving one page and recording beacons."""

    def __init__(self, page: str) -> None:
        self.page = page.encode()
        self.beacons: list[str] = []
        self.done = threading.Event()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/beacon"):
                    site.beacons.append(self.path)
                    if "done" in self.path:
                        site.done.set()
                    body = b"ok"
                    ctype = "text/plain"
                else:
                    body, ctype = site.page, "text/html"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "_AttackerSite":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chromium_profile(tmp_path: Path) -> Iterator[Path]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for this test and is missing ({CHROMIUM}); scripts/test.sh installs it")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    yield profile


def test_foreign_page_in_a_real_browser_creates_and_runs_nothing(
    start_server: Any, tmp_path: Path, chromium_profile: Path
) -> None:
    srv = start_server()
    imported = tmp_path / "imported-by-server"
    ran = tmp_path / "ran-on-host"
    spec = tmp_path / "p.yaml"
    compiler.Compiler().compile(drive_by, str(spec))
    run_body = json.dumps(
        {"display_name": "drive-by", "pipeline_spec": _spec_dict(spec), "runtime_config": {"parameters": {"path": str(ran)}}}
    )
    api = srv.url
    page = f"""<!doctype html><html><body><script>
const api = {json.dumps(api)};
async function attempt(name, init) {{
  try {{ await fetch(api + name, Object.assign({{mode: 'no-cors', method: 'POST'}}, init)); }} catch (e) {{}}
  await fetch('/beacon?sent=' + encodeURIComponent(name));
}}
(async () => {{
  const py = new FormData();
  py.append('uploadfile', new Blob([{json.dumps(_payload_py(imported))}]), 'x.py');
  await attempt('/apis/v2beta1/pipelines/upload', {{body: py}});
  const yml = new FormData();
  yml.append('uploadfile', new Blob([{json.dumps(spec.read_text())}]), 'p.yaml');
  await attempt('/apis/v2beta1/pipelines/upload?name=planted', {{body: yml}});
  await attempt('/apis/v2beta1/runs', {{body: {json.dumps(run_body)}, headers: {{'Content-Type': 'text/plain'}}}});
  await fetch('/beacon?done=1');
}})();
</script></body></html>"""
    with _AttackerSite(page) as site:
        proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={chromium_profile}",
                "--remote-debugging-port=0",
                f"http://127.0.0.1:{site.port}/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert site.done.wait(120), f"the page did not finish its attempts: {site.beacons}"
        finally:
            proc.kill()
            proc.wait(30)
    # The page did send every request (the attempts are real)...
    assert [b for b in site.beacons if "sent=" in b] == [
        "/beacon?sent=%2Fapis%2Fv2beta1%2Fpipelines%2Fupload",
        "/beacon?sent=%2Fapis%2Fv2beta1%2Fpipelines%2Fupload%3Fname%3Dplanted",
        "/beacon?sent=%2Fapis%2Fv2beta1%2Fruns",
    ]
    # ...and none of them had an effect.
    with srv.http() as http:
        assert http.get("/apis/v2beta1/pipelines").json().get("pipelines", []) == []
        assert http.get("/apis/v2beta1/runs").json().get("runs", []) == []
    assert not imported.exists()
    assert not ran.exists()


TOKEN = "task-must-not-see-this"


def test_tasks_do_not_inherit_the_servers_secrets(start_server: Any, tmp_path: Path, run_waiter: Any) -> None:
    srv = start_server(env={"PIPEYARD_AUTH_TOKEN": TOKEN})
    client = srv.client()
    run = client.create_run_from_pipeline_func(env_probe, arguments={})
    with srv.http() as http:
        done = run_waiter(http, run.run_id)
    assert done["state"] == "SUCCEEDED", done.get("error")
    (task,) = [t for t in done["run_details"]["task_details"] if t["display_name"] == "show-env"]
    assert task["output_parameters"]["Output"] == "token=absent db=absent"


def test_bearer_scheme_is_case_insensitive(start_server: Any) -> None:
    srv = start_server(env={"PIPEYARD_AUTH_TOKEN": TOKEN}, args=["--workers", "0"])
    for scheme in ("Bearer", "bearer", "BEARER"):
        resp = httpx.get(f"{srv.url}/apis/v2beta1/runs", headers={"Authorization": f"{scheme} {TOKEN}"}, timeout=10)
        assert resp.status_code == 200, scheme
    assert httpx.get(f"{srv.url}/apis/v2beta1/runs", headers={"Authorization": f"Basic {TOKEN}"}, timeout=10).status_code == 401
