from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.unit.engine.pipeline_runs import EngineHarness, engine_fixture


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineHarness]:
    """One home, store, event loop and fork server for a module's runs."""
    yield from engine_fixture(tmp_path_factory)
