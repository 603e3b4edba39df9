"""KFP's own compiled pipelines (../shared/conformance) run through the engine.

Each non-skipped manifest entry must reach the expected state and outputs; a few
entries' checks say more than the state and get assertions of their own below.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeyard.engine.artifacts import local_path
from pipeyard.store import Store
from tests.conformance.harness import Result, open_home_store, prepare_home, run_entry
from tests.conftest import SHARED

CONFORMANCE = SHARED / "conformance"
PIPELINES = CONFORMANCE / "pipelines"


def _entries() -> list[Any]:
    path = CONFORMANCE / "manifest.yaml"
    if not path.is_file():
        return []
    entries = yaml.safe_load(path.read_text())
    return [pytest.param(e, id=e["file"], marks=_marks(e)) for e in entries]


# Entries whose tasks sleep on purpose (long-running.yaml: two `sleep 300`).
SLOW = {"long-running.yaml": 900}


def _marks(entry: dict[str, Any]) -> list[Any]:
    if entry["expect"] == "skip":
        return [pytest.mark.skip(reason=entry.get("skip_reason", "out of scope"))]
    if entry["file"] in SLOW:
        return [pytest.mark.timeout(SLOW[entry["file"]]), pytest.mark.slow]
    return []


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = prepare_home(tmp_path_factory.mktemp("conformance-home"))
    store = open_home_store(settings)
    yield settings, store
    store.close()


def _read(uri: str) -> str:
    return Path(local_path(uri)).read_text()


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=1e-9)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(_same(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


def check_outputs(result: Result, expected: dict[str, Any]) -> None:
    outputs = result.run.outputs
    for name, want in expected.items():
        assert name in outputs, f"root output {name!r} missing; outputs: {outputs}"
        got = outputs[name]
        if isinstance(want, dict) and "artifact_content" in want:
            item = got[0] if isinstance(got, list) else got
            assert _read(item["uri"]) == want["artifact_content"]
        elif isinstance(want, dict) and "artifact_contents" in want:
            items = got if isinstance(got, list) else [got]
            assert [_read(i["uri"]) for i in items] == want["artifact_contents"]
        else:
            assert _same(got, want), f"output {name!r}: expected {want!r}, got {got!r}"


@pytest.mark.parametrize("entry", _entries())
def test_conformance(entry: dict[str, Any], home: tuple[Any, Store], tmp_path: Path) -> None:
    settings, store = home
    result = run_entry(entry, PIPELINES, settings, store, tmp_path)
    expected_state = {"succeeded": "SUCCEEDED", "failed": "FAILED"}[entry["expect"]]
    assert result.run.state == expected_state, (
        f"{entry['file']}: expected {expected_state}, got {result.run.state}: {result.run.error}"
    )
    check_outputs(result, entry.get("outputs") or {})
    extra = EXTRA_CHECKS.get(entry["file"])
    if extra is not None:
        extra(result, tmp_path)


# --------------------------------------------------------------------------- entry checks


def _leaves(result: Result, name: str | None = None) -> list[Any]:
    return [t for t in result.tasks if t.kind in ("CONTAINER", "IMPORTER")
            and (name is None or t.name == name or t.display_name == name)]


def _states(result: Result, name: str) -> list[str]:
    return sorted(t.state for t in _leaves(result, name))


EXTRA_CHECKS: dict[str, Any] = {}
