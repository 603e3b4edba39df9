"""Artifact content: the media type follows the artifact's type when its name has no
extension, and pipeline-written HTML is always sandboxed."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.entities import Artifact, Run
from pipeyard.server.app import create_app
from pipeyard.store import open_store

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def test_html_and_markdown_artifacts_are_typed_and_sandboxed(tmp_path: Path) -> None:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    settings.ensure_dirs()
    root = Path(settings.pipeline_root)
    (root / "report").write_text("<h1>hi</h1><script>alert(1)</script>")
    (root / "notes").write_text("# Title")
    with open_store(settings.database_url) as store:
        store.create_run(Run("r1", "run", {}, "SUCCEEDED", NOW))
        store.record_task_result(
            _task("r1"),
            [Artifact("a-html", "r1", "t1", "report", str(root / "report"), "system.HTML", NOW),
             Artifact("a-md", "r1", "t1", "notes", str(root / "notes"), "system.Markdown", NOW)],
            [],
        )
        client = TestClient(create_app(settings, store, start_workers=False), base_url="http://127.0.0.1")
        html = client.get("/apis/pipeyard/v1/artifacts/a-html/content")
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert html.headers["content-security-policy"] == "sandbox"
        assert html.headers["x-content-type-options"] == "nosniff"
        md = client.get("/apis/pipeyard/v1/artifacts/a-md/content")
        assert md.headers["content-type"].startswith("text/markdown") and md.text == "# Title"


def _task(run_id: str):  # type: ignore[no-untyped-def]
    from pipeyard.entities import Task

    return Task("t1", run_id, "make", "make", "make", "CONTAINER", "SUCCEEDED", NOW)
