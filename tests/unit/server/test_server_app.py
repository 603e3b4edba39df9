"""The app in process (no workers): error mapping, static UI fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.server.app import create_app
from pipeyard.store import open_store


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[object]:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    store = open_store(settings.database_url)

    def make(**kw: object) -> TestClient:
        return TestClient(create_app(settings, store, start_workers=False, **kw), base_url="http://127.0.0.1")  # type: ignore[arg-type]

    yield make
    store.close()


def test_errors_have_kfp_shape(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(static_dir=Path("/nonexistent"))
    resp = c.get("/apis/v2beta1/runs/missing")
    assert resp.status_code == 404
    assert resp.json() == {
        "error_message": "run 'missing' not found",
        "code": 5,
        "message": "run 'missing' not found",
        "details": [],
    }
    # A malformed body is KFP's 400 INVALID_ARGUMENT, not FastAPI's 422.
    bad = c.post("/apis/v2beta1/experiments", json={"description": "no name"})
    assert bad.status_code == 400 and "display_name" in bad.json()["error_message"]
    assert c.get("/apis/v2beta1/no-such-thing").status_code == 404


def test_without_a_built_ui_the_root_says_how_to_build_it(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(static_dir=Path("/nonexistent"))
    resp = c.get("/")
    assert resp.status_code == 200 and "npm run build" in resp.text


def test_spa_fallback(make_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<html>app</html>")
    (static / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("secret")
    c = make_client(static_dir=static)
    assert c.get("/").text == "<html>app</html>"
    assert c.get("/runs/details/abc").text == "<html>app</html>"  # client-side route
    js = c.get("/assets/app.js")
    assert js.text == "console.log(1)" and "javascript" in js.headers["content-type"]
    assert "immutable" in js.headers["cache-control"]
    # A path that climbs out of the static folder is just another client-side route:
    # the app's page, never the file beside the folder (and never an error).
    for climb in ("/../secret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"):
        resp = c.get(climb)
        assert (resp.status_code, resp.text) == (200, "<html>app</html>"), climb
        assert resp.headers["content-type"].startswith("text/html"), climb
    assert c.get("/apis/v2beta1/nothing").status_code == 404
