"""``pipeyard run`` hands the engine views built from the spec it loaded; they must be
the views the engine builds from the stored run (``pipeline_of``), for every pipeline."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from pipeyard.engine.runner import pipeline_of
from pipeyard.entities import Run
from pipeyard.errors import PipeyardError
from pipeyard.ir.loader import load_pipeline_file

SHARED = Path(os.environ.get("PIPEYARD_SHARED_DIR", Path(__file__).resolve().parents[4] / "shared"))


def test_views_from_the_loaded_spec_equal_those_from_the_stored_run() -> None:
    files = sorted((SHARED / "conformance" / "pipelines").glob("**/*.yaml"))
    compared = 0
    for path in files:
        try:
            loaded = load_pipeline_file(path)
        except PipeyardError:
            continue
        stored: Any = SimpleNamespace(pipeline_spec=loaded.spec_dict, platform_spec=loaded.platform_spec)
        assert loaded.view() == pipeline_of(cast(Run, stored)), path
        compared += 1
    assert compared > 20, f"expected the conformance pipelines under {SHARED}"
