"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIPEYARD_SHARED_DIR") or REPO.parent / "shared")
CONFORMANCE_PIPELINES = Path(os.environ.get("PIPEYARD_CONFORMANCE_DIR") or SHARED / "conformance" / "pipelines")


@pytest.fixture(scope="session")
def conformance_pipelines() -> Path:
    """KFP's compiled pipelines (the shared conformance set). The suite needs them:
    missing is a failure that says where they were looked for, never a skip."""
    if not CONFORMANCE_PIPELINES.is_dir():
        pytest.fail(f"the conformance pipelines are missing: {CONFORMANCE_PIPELINES} "
                    "(set PIPEYARD_SHARED_DIR or PIPEYARD_CONFORMANCE_DIR)")
    return CONFORMANCE_PIPELINES


@pytest.fixture
def pipeyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PIPEYARD_HOME (database, artifacts, logs) for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("PIPEYARD_HOME", str(home))
    monkeypatch.delenv("PIPEYARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("PIPEYARD_PIPELINE_ROOT", raising=False)
    return home
