"""KFP's own compiled pipelines (../shared/conformance) run through the engine.

Each non-skipped manifest entry must reach the expected state and outputs; a few
entries' checks say more than the state and get assertions of their own below.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeyard.artifacts.uris import local_path
from pipeyard.store import Store
from tests.conformance.harness import Result, open_home_store, prepare_home, run_entry
from tests.conftest import SHARED

CONFORMANCE = SHARED / "conformance"
PIPELINES = CONFORMANCE / "pipelines"


def _entries() -> list[Any]:
    path = CONFORMANCE / "manifest.yaml"
    if not path.is_file():
        # A missing shared file fails the suite instead of quietly running nothing.
        raise FileNotFoundError(f"the conformance manifest is missing: {path} (set PIPEYARD_SHARED_DIR)")
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
        def again() -> Result:
            return run_entry(entry, PIPELINES, settings, store, tmp_path / "again")

        (tmp_path / "again").mkdir()
        extra(result, again)


# --------------------------------------------------------------------------- entry checks


def _leaves(result: Result, name: str | None = None) -> list[Any]:
    return [t for t in result.tasks if t.kind in ("CONTAINER", "IMPORTER")
            and (name is None or t.name == name or t.display_name == name)]


def _states(result: Result, name: str) -> list[str]:
    return sorted(t.state for t in _leaves(result, name))


def _count(result: Result, name: str, state: str) -> int:
    return sum(1 for t in _leaves(result, name) if t.state == state)


def _artifacts_complex(result: Result, again: Any) -> None:
    # Inner loop over [1,2,3] with y >= 2 in each of 3 outer iterations.
    assert _count(result, "double-2", "SUCCEEDED") == 6
    assert _count(result, "double-2", "SKIPPED") == 3
    assert _count(result, "double", "SUCCEEDED") == 3


def _flip_coin(result: Result, again: Any) -> None:
    printed = [t for t in _leaves(result) if t.name.startswith("print-msg") and t.state == "SUCCEEDED"]
    assert len(printed) == 1, "exactly one nested branch prints"
    coin = _leaves(result, "flip-coin")[0].outputs["parameters"]["Output"]
    ran = [t for t in _leaves(result, None) if t.name.startswith("random-num") and t.state == "SUCCEEDED"]
    assert len(ran) == 1 and ran[0].name == ("random-num" if coin == "heads" else "random-num-2")


def _conditional_consumers(result: Result, again: Any) -> None:
    assert _states(result, "double") == ["SKIPPED", "SUCCEEDED", "SUCCEEDED"]


def _retry(result: Result, again: Any) -> None:
    (flaky,) = _leaves(result, "flaky")
    assert flaky.attempts == 2
    attempts = result.store.list_attempts(flaky.task_id)
    assert [a.state for a in attempts] == ["FAILED", "SUCCEEDED"]
    assert attempts[0].log_path != attempts[1].log_path


def _oneof_parameters(result: Result, again: Any) -> None:
    ran = [t for t in _leaves(result) if t.name in ("print-and-return", "print-and-return-2")
           and t.state == "SUCCEEDED"]
    assert len(ran) == 1
    assert result.run.outputs["Output"] == ran[0].outputs["parameters"]["Output"]


def _exit_handler_after_failure(result: Result, again: Any) -> None:
    states = {t.path: t.state for t in _leaves(result)}
    assert states["exit-handler-1/fail-op"] == "FAILED"
    assert states["print-op"] == "SUCCEEDED", "the exit task runs after the failure"


def _cached_on_second_run(result: Result, again: Any) -> None:
    cacheable = [t for t in _leaves(result) if t.state == "SUCCEEDED"]
    second = again()
    assert second.run.state == "SUCCEEDED"
    assert second.run.outputs == result.run.outputs
    hits = [t for t in _leaves(second) if t.cached]
    assert hits and len(hits) == len([t for t in _leaves(second) if t.state == "SUCCEEDED"])
    assert {t.cached_from_task_id for t in hits} <= {t.task_id for t in cacheable} | {
        t.cached_from_task_id for t in cacheable}


def _loop_limits(spec: dict[str, Any]) -> dict[str, int]:
    """Loop task name -> iteratorPolicy.parallelismLimit, over every DAG of the spec."""
    dags = [spec["root"]] + list(spec.get("components", {}).values())
    return {
        name: task["iteratorPolicy"]["parallelismLimit"]
        for dag in dags for name, task in (dag.get("dag") or {}).get("tasks", {}).items()
        if (task.get("iteratorPolicy") or {}).get("parallelismLimit")
    }


def _parallelism(result: Result, again: Any) -> None:
    """No loop ever has more iterations running at once than its parallelismLimit."""
    limits = _loop_limits(result.run.pipeline_spec)
    assert limits, "the fixture sets parallelism limits"
    for loop, limit in limits.items():
        # Iterations of this loop, wherever the loop sits: ".../for-loop-2[3]".
        own = re.compile(rf"(^|/){re.escape(loop)}\[\d+\]$")
        by_parent: dict[str, list[Any]] = {}
        for t in result.tasks:
            if t.kind == "ITERATION" and own.search(t.path):
                by_parent.setdefault(t.path.rsplit("[", 1)[0], []).append((t.started_at, t.finished_at))
        assert by_parent, f"no iterations of {loop}"
        for spans in by_parent.values():
            for start, _ in spans:
                overlapping = sum(1 for s, e in spans if s <= start < e)
                assert overlapping <= limit, f"{loop}: {overlapping} iterations at once (limit {limit})"


EXTRA_CHECKS: dict[str, Any] = {
    "artifacts_complex.yaml": _artifacts_complex,
    "critical_flip_coin.yaml": _flip_coin,
    "conditional_producer_and_consumers.yaml": _conditional_consumers,
    "local_execution_local_execution_pipeline_with_retry.yaml": _retry,
    "if_else_with_oneof_parameters.yaml": _oneof_parameters,
    "failing_pipeline_with_exit_handler.yaml": _exit_handler_after_failure,
    "local_execution_pipeline_with_caching.yaml": _cached_on_second_run,
    "critical_parameter_cache.yaml": _cached_on_second_run,
    "pipeline_with_parallelfor_parallelism.yaml": _parallelism,
    "pipeline_with_parallelfor_pipeline_param.yaml": _parallelism,
    "parallel_and_nested_parallel_for_secret.yaml": _parallelism,
}
