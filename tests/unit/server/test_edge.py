"""The edge policy: which Host names and which browser requests the server answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.server.app import create_app
from pipeyard.server.edge import EdgePolicy
from pipeyard.store import open_store


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8888", "localhost:8888", "LOCALHOST", "[::1]:8888", "127.0.0.1", "localhost."]
)
def test_loopback_names_are_allowed(host: str) -> None:
    assert EdgePolicy.for_binding("127.0.0.1").host_allowed(host)


@pytest.mark.parametrize("host", ["evil.example:8888", "attacker.test", "", "127.0.0.1.evil.test", "10.0.0.5"])
def test_other_names_are_refused_on_loopback(host: str) -> None:
    assert not EdgePolicy.for_binding("127.0.0.1").host_allowed(host)


def test_configured_and_bound_names_are_allowed() -> None:
    policy = EdgePolicy.from_env("10.1.2.3", {"PIPEYARD_ALLOWED_HOSTS": "pipes.lab, other.lab:9000"})
    assert policy.host_allowed("10.1.2.3:8888")
    assert policy.host_allowed("pipes.lab:8888")
    assert policy.host_allowed("other.lab")
    assert not policy.host_allowed("third.lab")


def test_wildcard_binding_and_star_allow_any_name() -> None:
    assert EdgePolicy.for_binding("0.0.0.0").host_allowed("anything.example")
    assert EdgePolicy.for_binding("127.0.0.1", ["*"]).host_allowed("anything.example")


def test_origins() -> None:
    policy = EdgePolicy.for_binding("127.0.0.1", allowed_origins=["https://notebooks.lab/"])
    assert policy.origin_allowed("http://127.0.0.1:8888", "127.0.0.1:8888")
    assert not policy.origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8888")
    assert not policy.origin_allowed("http://evil.example", "127.0.0.1:8888")
    assert not policy.origin_allowed("null", "127.0.0.1:8888")
    assert policy.origin_allowed("https://notebooks.lab", "127.0.0.1:8888")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path)})
    settings.ensure_dirs()
    store = open_store(settings.database_url)
    return TestClient(create_app(settings, store, start_workers=False), base_url="http://127.0.0.1:8888")


EXPERIMENT = {"display_name": "e1"}


def _experiments(client: TestClient) -> list[str]:
    body = client.get("/apis/v2beta1/experiments").json()
    return [e["display_name"] for e in body.get("experiments", [])]


def test_rebound_host_gets_400_and_no_data(client: TestClient) -> None:
    resp = client.get("/apis/v2beta1/experiments", headers={"Host": "rebound.attacker.test:8888"})
    assert resp.status_code == 400
    assert "rebound.attacker.test" in resp.json()["error_message"]
    resp = client.post("/apis/v2beta1/experiments", json=EXPERIMENT, headers={"Host": "rebound.attacker.test"})
    assert resp.status_code == 400
    assert _experiments(client) == []


def test_programmatic_clients_are_unaffected(client: TestClient) -> None:
    # kfp.Client sends no Origin, Referer or Sec-Fetch-* headers.
    assert client.post("/apis/v2beta1/experiments", json=EXPERIMENT).status_code == 200
    assert _experiments(client) == ["e1"]


def test_foreign_origin_cannot_change_state(client: TestClient) -> None:
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page.html"},
        {"Origin": "http://127.0.0.1:9999"},
    ):
        resp = client.post("/apis/v2beta1/experiments", json=EXPERIMENT, headers=headers)
        assert resp.status_code == 403, headers
        assert "refused" in resp.json()["error_message"]
    assert _experiments(client) == []


def test_own_pages_need_json_or_the_custom_header(client: TestClient) -> None:
    own = {"Origin": "http://127.0.0.1:8888", "Sec-Fetch-Site": "same-origin"}
    # A "simple" request (form-encoded or multipart, no custom header) is refused even from
    # a page that claims the right origin: only the UI adds X-Requested-By.
    resp = client.post("/apis/v2beta1/pipelines/upload", files={"uploadfile": ("p.yaml", b"x")}, headers=own)
    assert resp.status_code == 403
    assert "X-Requested-By" in resp.json()["error_message"]
    assert client.post("/apis/v2beta1/experiments", json=EXPERIMENT, headers=own).status_code == 200
    resp = client.post(
        "/apis/v2beta1/experiments",
        content=b'{"display_name": "e2"}',
        headers={**own, "Content-Type": "text/plain", "X-Requested-By": "pipeyard-ui"},
    )
    assert resp.status_code != 403
    assert "e1" in _experiments(client)


def test_reads_stay_open_to_own_and_foreign_pages(client: TestClient) -> None:
    # A foreign page cannot read the answer (no CORS headers), so GETs need no check.
    resp = client.get("/apis/v2beta1/experiments", headers={"Origin": "http://evil.example"})
    assert resp.status_code == 200
    assert "access-control-allow-origin" not in resp.headers
