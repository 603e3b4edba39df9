"""The deployments routes in process (no manager): validation, 404s and the auth rule."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.server.app import create_app
from pipeyard.store import Store, open_store

API = "/apis/pipeyard/v1/deployments"


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Settings, Store]]:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    store = open_store(settings.database_url)
    yield settings, store
    store.close()


def test_create_get_list_delete_without_a_manager(parts: tuple[Settings, Store], tmp_path: Path) -> None:
    settings, store = parts
    model = tmp_path / "model"
    model.write_bytes(pickle.dumps([1]))
    with TestClient(create_app(settings, store, start_workers=False, static_dir=Path("/none")), base_url="http://127.0.0.1") as c:
        assert c.get(API).json() == {"deployments": []}
        created = c.post(API, json={"name": "iris", "model": str(model)})
        assert created.status_code == 200, created.text
        body = created.json()
        assert (body["name"], body["state"], body["framework"], body["model_uri"]) == (
            "iris", "PENDING", "sklearn", str(model)
        )
        assert c.get(f"{API}/iris").json()["created_at"] == body["created_at"]
        assert c.get(f"{API}/iris/logs").text == ""
        assert c.post(API, json={"name": "iris", "model": str(model), "colour": "x"}).status_code == 400
        assert c.delete(f"{API}/iris").status_code == 200
        assert c.get(f"{API}/iris").status_code == 404
        assert c.get(f"{API}/iris/logs").status_code == 404
        assert c.delete(f"{API}/iris").status_code == 404


def test_deployments_follow_the_server_auth_rule(parts: tuple[Settings, Store]) -> None:
    settings, store = parts
    with TestClient(create_app(settings, store, start_workers=False, auth_token="s3cret",
                               static_dir=Path("/none")), base_url="http://127.0.0.1") as c:
        assert c.get(API).status_code == 401
        assert c.get(API, headers={"Authorization": "Bearer s3cret"}).json() == {"deployments": []}
